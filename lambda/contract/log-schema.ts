/**
 * The request log record (ARCHITECTURE §9), defined once. The local JSONL sink, the Firehose sink
 * and the Glue table columns (lib/) all derive from LOG_RECORD_FIELDS; the Athena saved queries
 * (log-queries.ts) are built from it too. Fields may be added, never renamed.
 * Nested values (attempts, guard) are JSON strings so Athena sees plain columns.
 *
 * Delivery is at-least-once: a record may arrive twice (a retried Firehose batch that had landed),
 * never zero times (sinks fall back to a marked log line). request_id is the de-duplication key.
 * Records are JSON lines; on S3 they sit under dt=YYYY-MM-DD/ (partition column `dt`).
 */
export type LogFieldType = 'string' | 'bigint' | 'double' | 'boolean';

export interface LogFieldSpec {
  readonly name: keyof RequestLogRecord;
  /** Athena/Glue column type. */
  readonly type: LogFieldType;
  readonly description: string;
}

export interface AttemptLog {
  provider: string;
  model: string;
  status: number | null;
  latency_ms: number;
  error?: string;
}

export interface RequestLogRecord {
  request_id: string;
  ts: string;
  key_id: string | null;
  key_name: string | null;
  team: string | null;
  endpoint: string;
  requested_model: string | null;
  provider: string | null;
  model: string | null;
  status: number;
  error_code: string | null;
  stream: boolean;
  attempts: string;
  latency_ms: number;
  ttft_ms: number | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  cost_usd: number | null;
  cache: string | null;
  cache_similarity: number | null;
  cache_saved_usd: number | null;
  cache_error: string | null;
  guard: string | null;
  user_id: string | null;
  client_ip: string | null;
  user_agent: string | null;
  request_body: string | null;
  response_body: string | null;
  body_ref: string | null;
}

export const LOG_RECORD_FIELDS: readonly LogFieldSpec[] = [
  { name: 'request_id', type: 'string', description: 'Gateway request id (x-request-id); the de-duplication key' },
  { name: 'ts', type: 'string', description: 'Request start time, ISO-8601 UTC' },
  { name: 'key_id', type: 'string', description: 'Virtual key id (null when authentication failed)' },
  { name: 'key_name', type: 'string', description: 'Virtual key name' },
  { name: 'team', type: 'string', description: 'Team of the virtual key' },
  { name: 'endpoint', type: 'string', description: 'Route, e.g. /v1/chat/completions' },
  { name: 'requested_model', type: 'string', description: 'Model the client asked for' },
  { name: 'provider', type: 'string', description: 'Provider that served the request' },
  { name: 'model', type: 'string', description: 'Upstream model that served the request' },
  { name: 'status', type: 'bigint', description: 'HTTP status returned to the client (499 = client cancelled)' },
  { name: 'error_code', type: 'string', description: 'Gateway error code, when the request failed' },
  { name: 'stream', type: 'boolean', description: 'Whether the client asked for a stream' },
  { name: 'attempts', type: 'string', description: 'JSON list of upstream attempts: provider, model, status, latency_ms, error' },
  { name: 'latency_ms', type: 'bigint', description: 'Time from request to last byte' },
  { name: 'ttft_ms', type: 'bigint', description: 'Time to first token (streams) or to the response (JSON)' },
  { name: 'prompt_tokens', type: 'bigint', description: 'Prompt tokens (provider usage)' },
  { name: 'completion_tokens', type: 'bigint', description: 'Completion tokens (provider usage)' },
  { name: 'total_tokens', type: 'bigint', description: 'Total tokens' },
  { name: 'cost_usd', type: 'double', description: 'Cost in USD computed from usage and the pricing table' },
  { name: 'cache', type: 'string', description: 'Cache result: hit, semantic-hit, miss, bypass, off (null on endpoints without a cache)' },
  { name: 'cache_similarity', type: 'double', description: 'Cosine similarity of the entry served on a semantic hit' },
  { name: 'cache_saved_usd', type: 'double', description: 'On a cache hit: what the original answer cost (cost_usd is 0)' },
  { name: 'cache_error', type: 'string', description: 'Why the cache was bypassed when it failed (store_unavailable, timeout, embedding_failed)' },
  { name: 'guard', type: 'string', description: 'JSON list of prompt guard actions' },
  {
    name: 'user_id',
    type: 'string',
    description: "End user: the JWT's user claim, or on keys with trustUserHeader the x-gateway-user header (else the body's user)",
  },
  { name: 'client_ip', type: 'string', description: 'Client IP address' },
  { name: 'user_agent', type: 'string', description: 'Client user agent' },
  { name: 'request_body', type: 'string', description: 'Request body per the key logging policy (null for metadata)' },
  { name: 'response_body', type: 'string', description: 'Response body per the key logging policy (null for metadata)' },
  {
    name: 'body_ref',
    type: 'string',
    description:
      'Object (s3://… or file://…) holding the full request_body and response_body as JSON when they made the record too large to deliver inline; the inline bodies are then previews',
  },
];
