/**
 * Outermost stage: exactly one log record per request, written after the response's end, for every
 * kind of answer (JSON, stream, error, client gone), and the request's metrics published once with
 * it; and the one place errors are rendered in the client's wire format. Its end hook is registered first, so it runs last: the record sees what
 * every other stage did at the end (settled usage, cache and guard results).
 */
import { GatewayError, renderError, toGatewayError } from '../errors';
import type { RequestLogRecord } from '../log-record';
import { bodiesForPolicy } from '../logging-policy';
import { boundRecordFields } from '../record-bounds';
import type { MetricsPublisher, RequestMetrics } from '../ports';
import { gatewayHeaders } from '../respond';
import type { StageFactory } from './stage';

/** Metrics are best effort: a publisher that fails never costs the request its record. */
function publishMetrics(metrics: MetricsPublisher, m: RequestMetrics): void {
  try {
    metrics.publish(m);
  } catch {
    /* best effort */
  }
}

export const logStage: StageFactory = (s) => async (ctx, next) => {
  ctx.onEnd(() => {
    try {
      const t = s.now();
      let record: RequestLogRecord;
      try {
        record = ctx.toRecord(t, bodiesForPolicy(ctx.key?.logging ?? 'metadata', ctx.requestBody, ctx.responseBody));
      } catch (err) {
        // Whatever a body holds, the request still gets its record: without the bodies then.
        s.logger.error('logging the bodies failed; the record is written without them', { error: String(err), requestId: ctx.id });
        record = ctx.toRecord(t, { request: null, response: null });
      }
      const bounded = boundRecordFields(record);
      s.logWriter.write(bounded);
      if (s.metrics) publishMetrics(s.metrics, { record: bounded, ...ctx.routeEvents });
    } catch (err) {
      s.logger.error('building the log record failed', { error: String(err), requestId: ctx.id });
    }
  });
  let res: Response;
  try {
    res = await next();
  } catch (err) {
    const gw = toGatewayError(err);
    if (!(err instanceof GatewayError)) s.logger.error('unhandled error', { error: err instanceof Error ? err.stack : String(err), requestId: ctx.id });
    await ctx.end({ status: gw.status, errorCode: gw.code });
    return renderError(gw, ctx.errorFormat, gatewayHeaders(s, ctx));
  }
  // A whole answer has ended once it is here (a handler may have ended it already); a stream ends at its last byte.
  if (!ctx.endReportedByBody) await ctx.end({ status: res.status });
  return res;
};
