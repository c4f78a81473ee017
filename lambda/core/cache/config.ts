/**
 * The response cache's config (ARCHITECTURE §13, a contract): a top-level `cache` applying to
 * every route, which a route's own `cache` replaces as a whole (no field-by-field merge: what a
 * route says is all that applies to it).
 */
import { isObject } from '../is-object';

export const CACHE_MODES = ['off', 'exact', 'semantic'] as const;
export type CacheMode = (typeof CACHE_MODES)[number];

export const CACHE_SCOPES = ['key', 'team', 'gateway'] as const;
export type CacheScope = (typeof CACHE_SCOPES)[number];

/** Longest an entry may live: 30 days. */
export const MAX_CACHE_TTL_SECONDS = 2_592_000;
export const DEFAULT_CACHE_TTL_SECONDS = 3600;
export const DEFAULT_SEMANTIC_THRESHOLD = 0.95;
export const DEFAULT_SEMANTIC_MAX_MESSAGES = 4;
/**
 * The longest a request waits on the cache before it is served uncached: the store read, and for a
 * semantic lookup the embedding call and the vector query together.
 */
export const DEFAULT_CACHE_LOOKUP_TIMEOUT_MS = 500;
export const MAX_CACHE_LOOKUP_TIMEOUT_MS = 5000;

export interface SemanticCacheConfig {
  /** A configured model name that serves /v1/embeddings; the last user message's text is embedded with it. */
  readonly embeddingModel: string;
  /** Cosine similarity at or above which an entry is served. @default 0.95 */
  readonly threshold?: number;
  /** Conversations longer than this many messages are looked up exactly only. @default 4 */
  readonly maxMessages?: number;
}

export interface CacheConfig {
  /** `exact`, or `semantic` (exact first, then semantic). @default 'off' */
  readonly mode?: CacheMode;
  /** How long an entry lives; a request's `x-gateway-cache-ttl` may only shorten it. At most 2592000 (30 days). @default 3600 */
  readonly ttlSeconds?: number;
  /** Who shares entries: one key, one team (a key without a team is its own scope), or the whole gateway. @default 'team' */
  readonly scope?: CacheScope;
  /** Required for mode `semantic`. */
  readonly semantic?: SemanticCacheConfig;
  /** The longest a lookup may delay a request before it is served uncached. @default 500 */
  readonly lookupTimeoutMs?: number;
}

/** A route's effective cache settings, defaults filled in. */
export interface ResolvedCacheConfig {
  readonly mode: CacheMode;
  readonly ttlSeconds: number;
  readonly scope: CacheScope;
  readonly lookupTimeoutMs: number;
  readonly semantic?: Required<SemanticCacheConfig>;
}

export const CACHE_OFF: ResolvedCacheConfig = {
  mode: 'off',
  ttlSeconds: DEFAULT_CACHE_TTL_SECONDS,
  scope: 'team',
  lookupTimeoutMs: DEFAULT_CACHE_LOOKUP_TIMEOUT_MS,
};

/** Defaults filled in; `undefined` (no cache config anywhere) is off. */
export function resolveCacheConfig(c: CacheConfig | undefined): ResolvedCacheConfig {
  if (!c) return CACHE_OFF;
  return {
    mode: c.mode ?? 'off',
    ttlSeconds: c.ttlSeconds ?? DEFAULT_CACHE_TTL_SECONDS,
    scope: c.scope ?? 'team',
    lookupTimeoutMs: c.lookupTimeoutMs ?? DEFAULT_CACHE_LOOKUP_TIMEOUT_MS,
    ...(c.semantic
      ? {
          semantic: {
            embeddingModel: c.semantic.embeddingModel,
            threshold: c.semantic.threshold ?? DEFAULT_SEMANTIC_THRESHOLD,
            maxMessages: c.semantic.maxMessages ?? DEFAULT_SEMANTIC_MAX_MESSAGES,
          },
        }
      : {}),
  };
}

const KNOWN = ['mode', 'ttlSeconds', 'scope', 'semantic', 'lookupTimeoutMs'];
const KNOWN_SEMANTIC = ['embeddingModel', 'threshold', 'maxMessages'];

/**
 * Problems with one `cache` object (top level or a route's), each naming its field. `models` is the
 * config's routes, so `semantic.embeddingModel` can be checked to name one.
 */
export function checkCacheConfig(v: unknown, at: string, models: unknown, problems: string[]): void {
  if (v === undefined) return;
  if (!isObject(v)) return void problems.push(`${at} must be an object such as { "mode": "exact" }`);
  for (const k of Object.keys(v)) if (!KNOWN.includes(k)) problems.push(`${at}.${k} is not a known cache setting (${KNOWN.join(', ')})`);
  if (v.mode !== undefined && !CACHE_MODES.includes(v.mode as CacheMode))
    problems.push(`${at}.mode must be one of ${CACHE_MODES.map((m) => `"${m}"`).join(', ')} (got ${JSON.stringify(v.mode)})`);
  if (v.ttlSeconds !== undefined && !(Number.isInteger(v.ttlSeconds) && (v.ttlSeconds as number) >= 1 && (v.ttlSeconds as number) <= MAX_CACHE_TTL_SECONDS))
    problems.push(`${at}.ttlSeconds must be a whole number of seconds from 1 to ${MAX_CACHE_TTL_SECONDS} (30 days)`);
  if (v.scope !== undefined && !CACHE_SCOPES.includes(v.scope as CacheScope))
    problems.push(`${at}.scope must be one of ${CACHE_SCOPES.map((m) => `"${m}"`).join(', ')} (got ${JSON.stringify(v.scope)})`);
  if (v.lookupTimeoutMs !== undefined && !(typeof v.lookupTimeoutMs === 'number' && v.lookupTimeoutMs >= 1 && v.lookupTimeoutMs <= MAX_CACHE_LOOKUP_TIMEOUT_MS))
    problems.push(`${at}.lookupTimeoutMs must be a number of milliseconds from 1 to ${MAX_CACHE_LOOKUP_TIMEOUT_MS}`);
  if (v.mode === 'semantic' && v.semantic === undefined)
    problems.push(`${at}.semantic is required for mode "semantic": { "embeddingModel": "<a model that serves /v1/embeddings>" }`);
  const s = v.semantic;
  if (s === undefined) return;
  if (!isObject(s)) return void problems.push(`${at}.semantic must be an object with "embeddingModel"`);
  for (const k of Object.keys(s)) if (!KNOWN_SEMANTIC.includes(k)) problems.push(`${at}.semantic.${k} is not a known setting (${KNOWN_SEMANTIC.join(', ')})`);
  if (typeof s.embeddingModel !== 'string' || !s.embeddingModel) problems.push(`${at}.semantic.embeddingModel must name a configured model`);
  else if (!s.embeddingModel.includes('/') && !(isObject(models) && Object.hasOwn(models, s.embeddingModel)))
    problems.push(`${at}.semantic.embeddingModel '${s.embeddingModel}' is not a configured model (or a provider/model name)`);
  if (s.threshold !== undefined && !(typeof s.threshold === 'number' && s.threshold > 0 && s.threshold <= 1))
    problems.push(`${at}.semantic.threshold must be a cosine similarity above 0 and at most 1`);
  if (s.maxMessages !== undefined && !(Number.isInteger(s.maxMessages) && (s.maxMessages as number) >= 1))
    problems.push(`${at}.semantic.maxMessages must be an integer >= 1`);
}
