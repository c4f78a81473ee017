/**
 * A LogSink that also writes one debug line per request to the local server's logger: what was
 * asked, who served it, every upstream attempt (with its already-scrubbed error) and the outcome,
 * so `GATEWAY_LOG_LEVEL=debug` shows why a route fell back without opening the JSONL files.
 * Never the bodies, keys or client headers: only the record's metadata.
 */
import type { AttemptLog, LogSink, RequestLogRecord } from '../core/log-record';
import type { Logger } from '../core/ports';

export function withAccessLog(sink: LogSink, logger: Logger): LogSink {
  return {
    write(record: RequestLogRecord) {
      logger.debug('request', accessLine(record));
      return sink.write(record);
    },
    flush: sink.flush && (() => sink.flush!()),
    close: sink.close && (() => sink.close!()),
  };
}

function accessLine(r: RequestLogRecord): Record<string, unknown> {
  let attempts: AttemptLog[] = [];
  try {
    attempts = JSON.parse(r.attempts) as AttemptLog[];
  } catch {
    /* a malformed attempts field still gets its request line */
  }
  return {
    requestId: r.request_id,
    endpoint: r.endpoint,
    key: r.key_name,
    model: r.requested_model,
    servedBy: r.provider && `${r.provider}/${r.model}`,
    status: r.status,
    errorCode: r.error_code ?? undefined,
    stream: r.stream,
    latencyMs: r.latency_ms,
    attempts,
  };
}
