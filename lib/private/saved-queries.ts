/**
 * The saved Athena queries over the request log. Delivery is at-least-once (a retried Firehose
 * batch may land twice), so every query first keeps one row per request_id. Each query reads the
 * last 30 days of partitions (`dt`), so partition projection prunes the scan.
 */
export interface SavedQuery {
  /** Short key (property name in RequestLog.namedQueries). */
  readonly key: string;
  readonly name: string;
  readonly description: string;
  readonly sql: string;
}

const DAYS = 30;

/** One row per request over the last DAYS days of partitions. */
function deduplicated(table: string): string {
  return `WITH logs AS (
  SELECT * FROM (
    SELECT *, row_number() OVER (PARTITION BY request_id ORDER BY ts) AS rn
    FROM ${table}
    WHERE dt >= date_format(current_date - interval '${DAYS}' day, '%Y-%m-%d')
  ) WHERE rn = 1
)`;
}

export function savedQueries(table: string): SavedQuery[] {
  const logs = deduplicated(table);
  return [
    {
      key: 'spendByKeyPerDay',
      name: 'ai-gateway: spend by key per day',
      description: `USD cost, tokens and requests per virtual key and day (last ${DAYS} days)`,
      sql: `${logs}
SELECT substr(ts, 1, 10) AS day, key_id, key_name, team,
       round(sum(coalesce(cost_usd, 0)), 6) AS spend_usd,
       sum(coalesce(total_tokens, 0)) AS tokens,
       count(*) AS requests
FROM logs
WHERE key_id IS NOT NULL
GROUP BY 1, 2, 3, 4
ORDER BY day DESC, spend_usd DESC`,
    },
    {
      key: 'topModelsByTokens',
      name: 'ai-gateway: top models by tokens',
      description: `Provider models ranked by total tokens served (last ${DAYS} days)`,
      sql: `${logs}
SELECT provider, model,
       sum(coalesce(prompt_tokens, 0)) AS prompt_tokens,
       sum(coalesce(completion_tokens, 0)) AS completion_tokens,
       sum(coalesce(total_tokens, 0)) AS total_tokens,
       round(sum(coalesce(cost_usd, 0)), 4) AS spend_usd,
       count(*) AS requests
FROM logs
WHERE model IS NOT NULL
GROUP BY 1, 2
ORDER BY total_tokens DESC
LIMIT 25`,
    },
    {
      key: 'errorRateByProvider',
      name: 'ai-gateway: error rate by provider',
      description: `Upstream attempts per provider and the share that failed (429, 5xx, timeouts, connection errors; last ${DAYS} days)`,
      sql: `${logs},
attempts AS (
  SELECT json_extract_scalar(a, '$.provider') AS provider,
         TRY_CAST(json_extract_scalar(a, '$.status') AS integer) AS status
  FROM logs
  CROSS JOIN UNNEST(CAST(json_parse(attempts) AS array(json))) AS t(a)
)
SELECT provider,
       count(*) AS attempts,
       count_if(status IS NULL OR status = 429 OR status >= 500) AS errors,
       round(100.0 * count_if(status IS NULL OR status = 429 OR status >= 500) / count(*), 2) AS error_rate_pct
FROM attempts
GROUP BY 1
ORDER BY error_rate_pct DESC`,
    },
    {
      key: 'p95LatencyByModel',
      name: 'ai-gateway: p95 latency by model',
      description: `p50/p95 total latency and time to first token of successful requests per model (last ${DAYS} days)`,
      sql: `${logs}
SELECT requested_model, provider, model,
       approx_percentile(latency_ms, 0.5) AS p50_latency_ms,
       approx_percentile(latency_ms, 0.95) AS p95_latency_ms,
       approx_percentile(ttft_ms, 0.95) AS p95_ttft_ms,
       count(*) AS requests
FROM logs
WHERE status = 200 AND model IS NOT NULL
GROUP BY 1, 2, 3
ORDER BY p95_latency_ms DESC`,
    },
    {
      key: 'fallbackRate',
      name: 'ai-gateway: fallback rate',
      description: `Share of requests per configured model that needed more than one upstream attempt, and how many of those still succeeded (last ${DAYS} days)`,
      sql: `${logs}
SELECT requested_model,
       count(*) AS requests,
       count_if(json_array_length(json_parse(attempts)) > 1) AS with_fallback,
       round(100.0 * count_if(json_array_length(json_parse(attempts)) > 1) / count(*), 2) AS fallback_rate_pct,
       count_if(json_array_length(json_parse(attempts)) > 1 AND status < 400) AS rescued
FROM logs
WHERE requested_model IS NOT NULL
GROUP BY 1
ORDER BY fallback_rate_pct DESC`,
    },
  ];
}
