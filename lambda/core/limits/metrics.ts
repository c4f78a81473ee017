/**
 * Limiter metrics as CloudWatch Embedded Metric Format fields. The Lambda logger writes one JSON
 * line per call, so merging these into a log line's data makes CloudWatch count the metric with
 * no metric filter and no extra API call; locally they are just readable fields.
 */
import { LIMITS_METRIC_NAMESPACE, type LimitsMetric } from '../../contract/metrics';

export { LIMITS_METRIC_NAMESPACE, type LimitsMetric };

/**
 * One count of `name`. With a gateway id the metric carries the `Gateway` dimension (as the request
 * metrics do), so two gateways in one account alarm apart; without one (local) it has none.
 */
export function emfCount(name: LimitsMetric, now: number, gatewayId?: string): Record<string, unknown> {
  return {
    metric: name,
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [{ Namespace: LIMITS_METRIC_NAMESPACE, Dimensions: [gatewayId ? ['Gateway'] : []], Metrics: [{ Name: name, Unit: 'Count' }] }],
    },
    ...(gatewayId ? { Gateway: gatewayId } : {}),
    [name]: 1,
  };
}
