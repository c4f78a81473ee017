/**
 * The Athena saved queries over the request log (for the constructs' Athena workgroup), built from
 * the record schema: every column goes through `col()`, typed by RequestLogRecord, so renaming a
 * field breaks the build here rather than a query at run time.
 *
 * Delivery is at-least-once (a Firehose retry can land a record twice), so every query reads the
 * log through a de-duplicating CTE that keeps one row per request_id.
 * The questions match the local CLI: `ai-gateway usage` = spend by key per day.
 *
 * For lib/ (the request-log construct): `logQueries({ database, table })` gives the named queries'
 * name, description and SQL; the partition column defaults to `dt` (the S3 prefix dt=YYYY-MM-DD/).
 */
import { LOG_RECORD_FIELDS, type RequestLogRecord } from './log-schema';

export interface LogQueryTarget {
  /** Glue database name. */
  readonly database: string;
  /** Glue table name. */
  readonly table: string;
  /** Partition column holding YYYY-MM-DD (S3 prefix dt=…). @default 'dt' */
  readonly partitionColumn?: string;
  /** Days looked back (partition pruning keeps scans cheap). @default 30 */
  readonly days?: number;
}

export interface LogQuery {
  /** Stable name, usable as a saved query name. */
  readonly name: string;
  readonly description: string;
  readonly sql: string;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** A column of the record, checked against the schema, quoted (some names, e.g. stream, are words SQL knows). */
export function col(name: keyof RequestLogRecord): string {
  if (!LOG_RECORD_FIELDS.some((f) => f.name === name)) throw new Error(`'${name}' is not a log record field`);
  return quoteIdent(name);
}

/** Columns the queries read: everything but the bodies (Athena bills by bytes scanned). */
const QUERY_COLUMNS = LOG_RECORD_FIELDS.map((f) => f.name).filter((n) => n !== 'request_body' && n !== 'response_body');

/** The de-duplicated log as a CTE named `requests`: one row per request_id (the earliest delivered). */
export function dedupedRequests(target: LogQueryTarget): string {
  const part = quoteIdent(target.partitionColumn ?? 'dt');
  const days = Math.max(1, Math.floor(target.days ?? 30));
  const source = `${quoteIdent(target.database)}.${quoteIdent(target.table)}`;
  return `WITH requests AS (
  SELECT ${QUERY_COLUMNS.map(col).join(', ')}
  FROM (
    SELECT *, row_number() OVER (PARTITION BY ${col('request_id')} ORDER BY ${col('ts')}) AS copy_no
    FROM ${source}
    WHERE ${part} >= CAST(current_date - interval '${days}' day AS varchar)
  )
  WHERE copy_no = 1
)`;
}

export function logQueries(target: LogQueryTarget): LogQuery[] {
  const requests = dedupedRequests(target);
  const day = `substr(${col('ts')}, 1, 10)`;
  const usageTotals = [
    `sum(${col('prompt_tokens')}) AS prompt_tokens`,
    `sum(${col('completion_tokens')}) AS completion_tokens`,
    `sum(${col('total_tokens')}) AS total_tokens`,
    `round(sum(${col('cost_usd')}), 6) AS cost_usd`,
  ].join(',\n  ');
  return [
    {
      name: 'spend-by-key-per-day',
      description: 'Requests, tokens and USD spend per virtual key per day',
      sql: `${requests}
SELECT ${day} AS "day", ${col('key_id')}, ${col('key_name')}, ${col('team')},
  count(*) AS requests,
  count_if(${col('status')} >= 400) AS errors,
  ${usageTotals}
FROM requests
WHERE ${col('key_id')} IS NOT NULL
GROUP BY 1, 2, 3, 4
ORDER BY "day" DESC, cost_usd DESC`,
    },
    {
      name: 'spend-by-user',
      description: 'Requests, tokens and USD spend per end user (user_id: JWT user claim or trusted x-gateway-user) and key, over the period',
      sql: `${requests}
SELECT ${col('user_id')}, ${col('key_id')}, ${col('key_name')}, ${col('team')},
  count(*) AS requests,
  count_if(${col('status')} >= 400) AS errors,
  ${usageTotals}
FROM requests
WHERE ${col('user_id')} IS NOT NULL
GROUP BY 1, 2, 3, 4
ORDER BY cost_usd DESC`,
    },
    {
      name: 'top-models-by-tokens',
      description: 'Provider models ranked by tokens served, with requests and spend',
      sql: `${requests}
SELECT ${col('provider')}, ${col('model')},
  count(*) AS requests,
  ${usageTotals}
FROM requests
WHERE ${col('model')} IS NOT NULL
GROUP BY 1, 2
ORDER BY total_tokens DESC
LIMIT 50`,
    },
    {
      name: 'error-rate-by-provider',
      description: 'Upstream attempts and failed attempts per provider (every attempt counts, fallbacks included; client cancels excluded)',
      sql: `${requests}
SELECT provider,
  count(*) AS attempts,
  count_if(failed) AS failed_attempts,
  round(1.0 * count_if(failed) / count(*), 4) AS error_rate
FROM (
  SELECT json_extract_scalar(attempt, '$.provider') AS provider,
    try_cast(json_extract_scalar(attempt, '$.status') AS integer) AS status,
    coalesce(try_cast(json_extract_scalar(attempt, '$.status') AS integer) >= 400, true) AS failed
  FROM requests
  CROSS JOIN UNNEST(CAST(json_parse(${col('attempts')}) AS array(json))) AS t(attempt)
)
WHERE coalesce(status, 0) <> 499
GROUP BY 1
ORDER BY error_rate DESC`,
    },
    {
      name: 'p95-latency-by-model',
      description: 'p50/p95 total latency and p95 time to first token of successful requests, per provider model',
      sql: `${requests}
SELECT ${col('provider')}, ${col('model')}, ${col('stream')},
  count(*) AS requests,
  approx_percentile(${col('latency_ms')}, 0.5) AS p50_latency_ms,
  approx_percentile(${col('latency_ms')}, 0.95) AS p95_latency_ms,
  approx_percentile(${col('ttft_ms')}, 0.95) AS p95_ttft_ms
FROM requests
WHERE ${col('status')} = 200 AND ${col('model')} IS NOT NULL
GROUP BY 1, 2, 3
ORDER BY p95_latency_ms DESC`,
    },
    {
      name: 'fallback-rate',
      description: 'Per requested model: share of served requests that a target other than the first one served, and share that needed more than one attempt',
      sql: `${requests}
SELECT requested_model,
  count(*) AS served,
  count_if(fell_back) AS fell_back,
  round(1.0 * count_if(fell_back) / count(*), 4) AS fallback_rate,
  round(1.0 * count_if(attempt_count > 1) / count(*), 4) AS multi_attempt_rate
FROM (
  SELECT ${col('requested_model')} AS requested_model,
    json_extract_scalar(${col('attempts')}, '$[0].provider') <> ${col('provider')} OR json_extract_scalar(${col('attempts')}, '$[0].model') <> ${col('model')} AS fell_back,
    json_array_length(json_parse(${col('attempts')})) AS attempt_count
  FROM requests
  WHERE ${col('provider')} IS NOT NULL
)
GROUP BY 1
ORDER BY fallback_rate DESC`,
    },
  ];
}
