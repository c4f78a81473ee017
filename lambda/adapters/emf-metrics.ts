/**
 * CloudWatch metrics from the request log, in CloudWatch's Embedded Metric Format: one JSON line
 * on stdout per request, which Lambda's log delivery turns into metrics with no API call and no
 * SDK. Wraps the real log sink, so every record is counted exactly where it is logged.
 *
 * Dimensions stay low-cardinality: the gateway id, and the provider/model that served the request
 * (only set for answers under 400, so a client cannot create metrics by inventing model names).
 * No key, team or body ever appears in a metric line.
 */
import { METRICS_NAMESPACE, REQUEST_METRICS } from '../contract/metrics';
import type { LogSink, RequestLogRecord } from '../core/log-record';
import { SKIPPED_PREFIX } from '../core/router';

export { METRICS_NAMESPACE };

export interface EmfMetricsOptions {
  /** Value of the `Gateway` dimension, set by the construct (several gateways per account stay apart). */
  readonly gatewayId: string;
  /** @default METRICS_NAMESPACE */
  readonly namespace?: string;
  /** Where lines go. @default process.stdout */
  readonly writeLine?: (line: string) => void;
}

type LoggedAttempt = { provider?: unknown; model?: unknown; error?: unknown };

/** The record's attempts log (a JSON array of AttemptLog); empty when it cannot be read. */
function attemptsOf(attempts: string): LoggedAttempt[] {
  try {
    const parsed: unknown = JSON.parse(attempts);
    return Array.isArray(parsed) ? (parsed as LoggedAttempt[]).filter((a) => typeof a === 'object' && a !== null) : [];
  } catch {
    return [];
  }
}

/** A target passed over because it was cooling down or another request was probing it (router.ts). */
const isSkip = (a: LoggedAttempt) => typeof a.error === 'string' && a.error.startsWith(SKIPPED_PREFIX);

/**
 * A fallback: a target other than the route's first was tried or served (the router only moves on
 * after a failure, or past a cooling target). Retries of one target, and a stream of one target cut
 * after its first byte (logged as a second entry for the same target), are not fallbacks.
 */
function fellBack(attempts: readonly LoggedAttempt[]): boolean {
  const first = attempts[0];
  return attempts.some((a) => a.provider !== first.provider || a.model !== first.model);
}

/** The EMF document for one record. */
export function emfLine(record: RequestLogRecord, gatewayId: string, namespace = METRICS_NAMESPACE, now = Date.now()): string {
  const served = record.status < 400 && record.provider && record.model ? `${record.provider}/${record.model}` : 'none';
  const attempts = attemptsOf(record.attempts);
  return JSON.stringify({
    _aws: { Timestamp: now, CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [['Gateway'], ['Gateway', 'Model']], Metrics: REQUEST_METRICS }] },
    Gateway: gatewayId,
    Model: served,
    Requests: 1,
    Errors: record.status >= 500 ? 1 : 0,
    Tokens: record.total_tokens ?? 0,
    CostUsd: record.cost_usd ?? 0,
    LatencyMs: record.latency_ms,
    Fallbacks: fellBack(attempts) ? 1 : 0,
    // Requests that passed over an unhealthy target: a provider in trouble shows here before errors do.
    CooldownSkips: attempts.some(isSkip) ? 1 : 0,
    // The response cache (§13): hits exact or semantic; a miss is a lookup that found nothing; an error a bypassed failure.
    CacheHits: record.cache === 'hit' || record.cache === 'semantic-hit' ? 1 : 0,
    CacheMisses: record.cache === 'miss' ? 1 : 0,
    CacheSavedUsd: record.cache_saved_usd ?? 0,
    CacheErrors: record.cache_error ? 1 : 0,
  });
}

export class EmfMetricsSink implements LogSink {
  private readonly writeLine: (line: string) => void;

  constructor(
    private readonly inner: LogSink,
    private readonly opts: EmfMetricsOptions,
  ) {
    this.writeLine = opts.writeLine ?? ((line) => void process.stdout.write(line + '\n'));
  }

  write(record: RequestLogRecord): void | Promise<void> {
    try {
      this.writeLine(emfLine(record, this.opts.gatewayId, this.opts.namespace));
    } catch {
      // Metrics are best effort; the record itself must still be logged.
    }
    return this.inner.write(record);
  }

  flush(): Promise<void> {
    return this.inner.flush?.() ?? Promise.resolve();
  }
}
