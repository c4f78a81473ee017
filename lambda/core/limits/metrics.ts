/**
 * Limiter metrics as CloudWatch Embedded Metric Format fields. The Lambda logger writes one JSON
 * line per call, so merging these into a log line's data makes CloudWatch count the metric with
 * no metric filter and no extra API call; locally they are just readable fields.
 */
export const LIMITS_METRIC_NAMESPACE = 'AiGateway/Limits';

export type LimitsMetric = 'RateLimitFailOpen' | 'LimitsUnavailable';

export function emfCount(name: LimitsMetric, now: number): Record<string, unknown> {
  return {
    metric: name,
    _aws: { Timestamp: now, CloudWatchMetrics: [{ Namespace: LIMITS_METRIC_NAMESPACE, Dimensions: [[]], Metrics: [{ Name: name, Unit: 'Count' }] }] },
    [name]: 1,
  };
}
