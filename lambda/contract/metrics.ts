/**
 * What the gateway's CloudWatch metrics are called: namespaces, names and units, shared by the
 * runtime that emits them (EMF lines) and the constructs that alarm and chart them.
 */

/** The per-request metrics (one EMF document per request), dimensions `Gateway` and `Gateway, Model`. */
export const METRICS_NAMESPACE = 'AiGateway';

/** The per-request metrics and their units. */
export const REQUEST_METRICS = [
  { Name: 'Requests', Unit: 'Count' },
  { Name: 'Errors', Unit: 'Count' },
  { Name: 'Tokens', Unit: 'Count' },
  { Name: 'CostUsd', Unit: 'None' },
  { Name: 'LatencyMs', Unit: 'Milliseconds' },
  { Name: 'Fallbacks', Unit: 'Count' },
  { Name: 'CooldownSkips', Unit: 'Count' },
  // The response cache (§13): hits (exact or semantic), misses, what the hits saved, lookups that failed and were bypassed.
  { Name: 'CacheHits', Unit: 'Count' },
  { Name: 'CacheMisses', Unit: 'Count' },
  { Name: 'CacheSavedUsd', Unit: 'None' },
  { Name: 'CacheErrors', Unit: 'Count' },
] as const;

export type RequestMetric = (typeof REQUEST_METRICS)[number]['Name'];

/** The limiter's own metrics (counted where they happen), dimension `Gateway`. */
export const LIMITS_METRIC_NAMESPACE = 'AiGateway/Limits';

/** UsageOverReservation: a provider reported more usage than the request reserved (a limit or budget may overshoot by it). */
export type LimitsMetric = 'RateLimitFailOpen' | 'LimitsUnavailable' | 'UsageOverReservation';
