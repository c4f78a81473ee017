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
import type { RequestLogRecord } from '../core/log-record';
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

/**
 * The guard's metrics, one EMF document per policy that acted on the request: `GuardBlocks` (the
 * request or answer was blocked) and `GuardRedactions` (something was redacted), by `GuardPolicy`.
 * Policy names come from the config, so the dimension stays low-cardinality.
 */
export function guardEmfLines(record: RequestLogRecord, gatewayId: string, namespace = METRICS_NAMESPACE, now = Date.now()): string[] {
  if (!record.guard) return [];
  let actions: { policy?: unknown; action?: unknown }[];
  try {
    const parsed: unknown = JSON.parse(record.guard);
    actions = Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
  const byPolicy = new Map<string, { blocks: number; redactions: number }>();
  for (const a of actions) {
    if (typeof a?.policy !== 'string') continue;
    const m = byPolicy.get(a.policy) ?? { blocks: 0, redactions: 0 };
    if (a.action === 'block') m.blocks = 1;
    if (a.action === 'redact') m.redactions = 1;
    byPolicy.set(a.policy, m);
  }
  return [...byPolicy].map(([policy, m]) =>
    JSON.stringify({
      _aws: { Timestamp: now, CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [['Gateway', 'GuardPolicy']], Metrics: GUARD_METRICS }] },
      Gateway: gatewayId,
      GuardPolicy: policy,
      GuardBlocks: m.blocks,
      GuardRedactions: m.redactions,
    }),
  );
}

const GUARD_METRICS = [
  { Name: 'GuardBlocks', Unit: 'Count' },
  { Name: 'GuardRedactions', Unit: 'Count' },
];

export class EmfMetrics implements MetricsPublisher {
  private readonly writeLine: (line: string) => void;

  constructor(private readonly opts: EmfMetricsOptions) {
    this.writeLine = opts.writeLine ?? ((line) => void process.stdout.write(line + '\n'));
  }

  publish(m: RequestMetrics): void {
    this.writeLine(emfLine(m, this.opts.gatewayId, this.opts.namespace));
    for (const line of guardEmfLines(m.record, this.opts.gatewayId, this.opts.namespace)) this.writeLine(line);
  }
}
