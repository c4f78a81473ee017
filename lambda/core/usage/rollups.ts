/**
 * Per-day usage rollups (ARCHITECTURE §16): what the usage page and `GET /v1/usage` read, so that
 * 90 days of a busy key load with one query and no Athena on the request path.
 *
 * One rollup row per key per UTC day, grouped by the key's scope (its team, or the key alone when
 * it has no team), so a key's page and its team's page are each one query. Each served request
 * adds itself to its row with one write after its record is built, off the answer's critical path.
 */
import type { RequestLogRecord } from '../log-record';

/** How many recent requests each row keeps (metadata only). Older ones are overwritten in turn. */
export const RECENT_SLOTS = 10;

/** A request as the usage page lists it: metadata only, never a body. */
export interface RecentRequest {
  readonly id: string;
  readonly ts: string;
  readonly endpoint: string;
  readonly model: string | null;
  readonly status: number;
  readonly latencyMs: number;
  readonly tokens: number;
  readonly costUsd: number;
  readonly cache: string | null;
  readonly stream: boolean;
}

/** Per-model totals inside a row. */
export interface ModelTotals {
  requests: number;
  tokens: number;
  costUsd: number;
}

/** One key's usage on one UTC day. */
export interface UsageRow {
  readonly day: string;
  readonly keyId: string;
  readonly keyName: string;
  readonly team: string | null;
  readonly requests: number;
  readonly errors: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costUsd: number;
  readonly cacheHits: number;
  readonly cacheSavedUsd: number;
  readonly models: Readonly<Record<string, ModelTotals>>;
  readonly recent: readonly RecentRequest[];
}

/** Which rows a query reads: a key's own, a team's, or (admin) all of them; days are inclusive YYYY-MM-DD. */
export interface UsageQuery {
  readonly fromDay: string;
  readonly toDay: string;
  readonly keyId?: string;
  /** The scope to read: a team name, or null for a key without a team (then keyId is required). */
  readonly team?: string | null;
}

/** The rollup store port. DynamoDB implements it (also against dynalite locally). */
export interface UsageRollups {
  /** Add a batch of finished requests to their row: one write. */
  add(batch: RowBatch): Promise<void>;
  /** Rows matching the query; with neither keyId nor team, every row (admin). */
  query(q: UsageQuery): Promise<UsageRow[]>;
}

/** Requests of one row (one key, one day) added together in one write. */
export interface RowBatch {
  readonly day: string;
  readonly keyId: string;
  keyName: string;
  team: string | null;
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  costNanoUsd: number;
  cacheHits: number;
  cacheSavedNanoUsd: number;
  readonly models: Map<string, { requests: number; tokens: number; costNanoUsd: number }>;
  /** The batch's newest requests, at most RECENT_SLOTS, oldest first. */
  readonly recent: RecentRequest[];
}

/** The row a record belongs to: one per key per UTC day. */
export const rowIdOf = (inc: RowIncrement) => `${inc.keyId}|${inc.day}`;

/** A batch holding one request. */
export function newBatch(inc: RowIncrement): RowBatch {
  return {
    day: inc.day,
    keyId: inc.keyId,
    keyName: inc.keyName,
    team: inc.team,
    requests: 0,
    errors: 0,
    promptTokens: 0,
    completionTokens: 0,
    costNanoUsd: 0,
    cacheHits: 0,
    cacheSavedNanoUsd: 0,
    models: new Map(),
    recent: [],
  };
}

/** Add one request to its row's batch. */
export function addToBatch(batch: RowBatch, inc: RowIncrement): void {
  batch.keyName = inc.keyName;
  batch.team = inc.team;
  batch.requests += inc.requests;
  batch.errors += inc.errors;
  batch.promptTokens += inc.promptTokens;
  batch.completionTokens += inc.completionTokens;
  batch.costNanoUsd += inc.costNanoUsd;
  batch.cacheHits += inc.cacheHits;
  batch.cacheSavedNanoUsd += inc.cacheSavedNanoUsd;
  const m = batch.models.get(inc.model) ?? { requests: 0, tokens: 0, costNanoUsd: 0 };
  m.requests += 1;
  m.tokens += inc.promptTokens + inc.completionTokens;
  m.costNanoUsd += inc.costNanoUsd;
  batch.models.set(inc.model, m);
  batch.recent.push(inc.recent);
  if (batch.recent.length > RECENT_SLOTS) batch.recent.shift();
}

/** The increments one record makes to its row. */
export interface RowIncrement {
  readonly day: string;
  readonly keyId: string;
  readonly keyName: string;
  readonly team: string | null;
  readonly requests: 1;
  readonly errors: 0 | 1;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costNanoUsd: number;
  readonly cacheHits: 0 | 1;
  readonly cacheSavedNanoUsd: number;
  /** The model that served, from config (never a client-chosen name: a row's size stays bounded). */
  readonly model: string;
  readonly recent: RecentRequest;
}

export const NANO_PER_USD = 1e9;
const nano = (usd: number | null | undefined) => (typeof usd === 'number' && Number.isFinite(usd) && usd > 0 ? Math.round(usd * NANO_PER_USD) : 0);
const count = (n: number | null | undefined) => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.round(n) : 0);

/** The row increment for a record, or undefined for a request that no key made. */
export function incrementOf(record: RequestLogRecord): RowIncrement | undefined {
  if (!record.key_id) return undefined;
  const hit = record.cache === 'hit' || record.cache === 'semantic-hit';
  // Only a served request names a configured model; anything else is grouped under "(none)".
  const model = record.provider && record.model ? `${record.provider}/${record.model}` : '(none)';
  const tokens = count(record.prompt_tokens) + count(record.completion_tokens);
  return {
    day: record.ts.slice(0, 10),
    keyId: record.key_id,
    keyName: record.key_name ?? record.key_id,
    team: record.team,
    requests: 1,
    errors: record.status >= 400 ? 1 : 0,
    promptTokens: count(record.prompt_tokens),
    completionTokens: count(record.completion_tokens),
    costNanoUsd: nano(record.cost_usd),
    cacheHits: hit ? 1 : 0,
    cacheSavedNanoUsd: nano(record.cache_saved_usd),
    model,
    recent: {
      id: record.request_id,
      ts: record.ts,
      endpoint: record.endpoint,
      model: record.model ?? record.requested_model,
      status: record.status,
      latencyMs: count(record.latency_ms),
      tokens,
      costUsd: record.cost_usd ?? 0,
      cache: record.cache,
      stream: record.stream,
    },
  };
}

/** The UTC day (YYYY-MM-DD) `days - 1` days before `now`'s, and `now`'s own: the inclusive range of the last N days. */
export function dayRange(now: number, days: number): { fromDay: string; toDay: string } {
  const toDay = new Date(now).toISOString().slice(0, 10);
  const fromDay = new Date(now - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  return { fromDay, toDay };
}
