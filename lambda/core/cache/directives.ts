/**
 * A request's own cache directives (ARCHITECTURE §13): `x-gateway-cache: no-cache` (skip the
 * lookup, store the answer), `no-store` (neither), and `x-gateway-cache-ttl: <seconds>`, which may
 * shorten the configured TTL but never lengthen it. A malformed directive is the client's mistake
 * and gets a 400 naming the header, rather than being silently ignored.
 */
import { errors } from '../errors';

export const CACHE_HEADER = 'x-gateway-cache';
export const CACHE_TTL_HEADER = 'x-gateway-cache-ttl';
export const CACHE_SIMILARITY_HEADER = 'x-gateway-cache-similarity';

export interface CacheDirectives {
  /** Look for a stored answer. */
  readonly lookup: boolean;
  /** Store this request's answer. */
  readonly store: boolean;
  /** Seconds the stored answer lives: the configured TTL, or the request's shorter one. */
  readonly ttlSeconds: number;
}

/** Parse the directives against the route's configured TTL. Throws a 400 GatewayError on a malformed value. */
export function cacheDirectives(headers: Headers, configuredTtlSeconds: number): CacheDirectives {
  const raw = headers.get(CACHE_HEADER)?.trim().toLowerCase();
  let lookup = true;
  let store = true;
  if (raw) {
    if (raw === 'no-cache') lookup = false;
    else if (raw === 'no-store') lookup = store = false;
    else throw errors.badRequest(`${CACHE_HEADER} must be "no-cache" (skip the lookup, store the answer) or "no-store" (neither)`, CACHE_HEADER);
  }
  let ttlSeconds = configuredTtlSeconds;
  const ttl = headers.get(CACHE_TTL_HEADER)?.trim();
  if (ttl) {
    if (!/^\d{1,10}$/.test(ttl) || Number(ttl) < 1)
      throw errors.badRequest(`${CACHE_TTL_HEADER} must be a whole number of seconds >= 1 (at most the configured ${configuredTtlSeconds})`, CACHE_TTL_HEADER);
    ttlSeconds = Math.min(Number(ttl), configuredTtlSeconds);
  }
  return { lookup, store, ttlSeconds };
}
