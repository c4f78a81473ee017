/**
 * Table layouts shared by the runtime and the CDK constructs, so both agree on key names.
 *
 * Keys table (partition key `pk`, string):
 *   `key#<id>`    the key record (never the key or its hash)
 *   `hash#<sha>`  hash → key id, with `validUntil` on a hash rotated out under a grace period
 *   `oidc#<client id>`  OIDC application → key id (a JWT's app claim selects the key); the
 *                 record's own `oidcClientId` decides, so a stale pointer grants nothing
 * Counters table (partition key `pk`, string; TTL attribute `expiresAt`, epoch seconds). Besides
 * the limit counters it holds the stored Responses API responses, `response#<keyId>#<responseId>`
 * (gzipped JSON in `body`), which expire by the same TTL.
 * Cache table (partition key `pk`, string: the exact cache key; TTL attribute `expiresAt`, epoch seconds).
 * Usage table (partition key `pk`, sort key `sk`, strings; TTL attribute `expiresAt`): per-key
 *   per-day rollups, `pk` = `team#<team>` or `key#<id>`, `sk` = `<YYYY-MM-DD>#<keyId>`.
 */
export const KEYS_TABLE = { partitionKey: 'pk' } as const;
export const COUNTERS_TABLE = { partitionKey: 'pk', ttlAttribute: 'expiresAt' } as const;
export const CACHE_TABLE = { partitionKey: 'pk', ttlAttribute: 'expiresAt' } as const;
export const USAGE_TABLE = { partitionKey: 'pk', sortKey: 'sk', ttlAttribute: 'expiresAt' } as const;
