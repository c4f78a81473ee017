/**
 * CloudWatch metrics in CloudWatch's Embedded Metric Format: one JSON line on stdout per request,
 * which Lambda's log delivery turns into metrics with no API call and no SDK. The gateway publishes
 * each request's metrics once, after its record (the log stage): the record's figures, and what the
 * router noted as it happened (a fallback, a cooling target passed over).
 *
 * Dimensions stay low-cardinality: the gateway id, and the provider/model that served the request
 * (only set for answers under 400, so a client cannot create metrics by inventing model names).
 * No key, team or body ever appears in a metric line.
 */
import { METRICS_NAMESPACE, REQUEST_METRICS } from '../contract/metrics';
import type { MetricsPublisher, RequestMetrics } from '../core/ports';

export { METRICS_NAMESPACE };

export interface EmfMetricsOptions {
  /** Value of the `Gateway` dimension, set by the construct (several gateways per account stay apart). */
  readonly gatewayId: string;
  /** @default METRICS_NAMESPACE */
  readonly namespace?: string;
  /** Where lines go. @default process.stdout */
  readonly writeLine?: (line: string) => void;
}

/** The EMF document for one request. */
export function emfLine(m: RequestMetrics, gatewayId: string, namespace = METRICS_NAMESPACE, now = Date.now()): string {
  const record = m.record;
  const served = record.status < 400 && record.provider && record.model ? `${record.provider}/${record.model}` : 'none';
  return JSON.stringify({
    _aws: { Timestamp: now, CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [['Gateway'], ['Gateway', 'Model']], Metrics: REQUEST_METRICS }] },
    Gateway: gatewayId,
    Model: served,
    Requests: 1,
    Errors: record.status >= 500 ? 1 : 0,
    Tokens: record.total_tokens ?? 0,
    CostUsd: record.cost_usd ?? 0,
    LatencyMs: record.latency_ms,
    Fallbacks: m.fellBack ? 1 : 0,
    // Requests that passed over an unhealthy target: a provider in trouble shows here before errors do.
    CooldownSkips: m.skippedCooling ? 1 : 0,
    // The response cache (§13), as its stage noted it on the request: hits exact or semantic; a miss
    // is a lookup that found nothing; an error a bypassed failure.
    CacheHits: record.cache === 'hit' || record.cache === 'semantic-hit' ? 1 : 0,
    CacheMisses: record.cache === 'miss' ? 1 : 0,
    CacheSavedUsd: record.cache_saved_usd ?? 0,
    CacheErrors: record.cache_error ? 1 : 0,
  });
}

export class EmfMetrics implements MetricsPublisher {
  private readonly writeLine: (line: string) => void;

  constructor(private readonly opts: EmfMetricsOptions) {
    this.writeLine = opts.writeLine ?? ((line) => void process.stdout.write(line + '\n'));
  }

  publish(m: RequestMetrics): void {
    this.writeLine(emfLine(m, this.opts.gatewayId, this.opts.namespace));
  }
}
