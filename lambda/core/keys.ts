/**
 * Virtual keys: generation, hashing, the key record, and verification with a short cache.
 * Only the SHA-256 hash of a key is ever stored; the plaintext exists once, in the create/rotate answer.
 */
import { createHash, hash as oneShotHash, randomBytes, randomUUID } from 'node:crypto';
import { GatewayError, errors } from './errors';
import { RefreshingCache } from './refreshing-cache';
import { globMatches } from './glob';

export const KEY_PREFIX = 'sk-gw-';

export type LoggingPolicy = 'full' | 'metadata' | 'redacted';

export interface BudgetLimit {
  readonly amount: number;
  readonly period: 'day' | 'month';
}

export interface KeyLimits {
  readonly rpm?: number;
  readonly tpm?: number;
  readonly tokensPerDay?: number;
  readonly budgetUsd?: BudgetLimit;
  /**
   * Limits applied to each end user of the key separately (the JWT's user claim, or the trusted
   * `x-gateway-user` header / body `user`), on top of the key's own.
   */
  readonly perUser?: UserLimits;
}

/** The limits one end user of a key may consume (no nesting). */
export type UserLimits = Omit<KeyLimits, 'perUser'>;

export interface KeyRecord {
  readonly id: string;
  readonly name: string;
  readonly team?: string;
  readonly createdAt: string;
  readonly updatedAt?: string;
  readonly expiresAt?: string;
  readonly revokedAt?: string;
  readonly rotatedAt?: string;
  /** Allowed model globs; absent or empty means every configured model. */
  readonly models?: readonly string[];
  readonly limits?: KeyLimits;
  readonly logging: LoggingPolicy;
  readonly metadata?: Readonly<Record<string, string>>;
  /** The key's last four characters, so people can tell keys apart. Not a secret. */
  readonly hint: string;
  /**
   * The OIDC application (a JWT's app claim, e.g. `azp`) whose tokens act as this key. Unique
   * across keys. Absent: the key is used only by its plaintext.
   */
  readonly oidcClientId?: string;
  /** Whether the `x-gateway-user` header (else the body's `user`) names the end user on plain-key requests. */
  readonly trustUserHeader?: boolean;
  /** A prompt guard policy (a name in the config's `guards`) applied to this key's requests, on top of the route's. */
  readonly guard?: string;
}

/** Another key is already bound to this OIDC application (admin answers 409). */
export class OidcClientTakenError extends Error {
  constructor(
    readonly clientId: string,
    readonly ownerId: string,
  ) {
    super(`the OIDC client '${clientId}' is already bound to key ${ownerId}`);
    this.name = 'OidcClientTakenError';
  }
}

/** How a key can be presented: its plaintext, a JWT of its OIDC application, or both. */
export type KeyUsage = 'key' | 'jwt';
export function keyUsableWith(record: KeyRecord): KeyUsage[] {
  return record.oidcClientId ? ['key', 'jwt'] : ['key'];
}

/** What the store returns for a hash lookup. */
export interface HashLookup {
  readonly record: KeyRecord;
  /** Set on a hash that was rotated out: it works until then (grace period), and not after. */
  readonly validUntil?: string;
}

/** The key store port. DynamoDB implements it (also against dynalite locally). */
export interface KeyStore {
  create(record: KeyRecord, keyHash: string): Promise<void>;
  /** The key a hash belongs to, if the hash is the key's current one or a rotated-out one still in grace. */
  lookup(keyHash: string): Promise<HashLookup | undefined>;
  get(id: string): Promise<KeyRecord | undefined>;
  list(): Promise<KeyRecord[]>;
  update(id: string, patch: Partial<KeyRecord>): Promise<KeyRecord | undefined>;
  /**
   * The key bound to this OIDC application, if its record still names it (the record is the source
   * of truth; a stale pointer finds nothing).
   */
  lookupByOidcClient(clientId: string): Promise<KeyRecord | undefined>;
  /** Point the key at a new hash; the old hash stays valid until `oldValidUntil` (or is invalid at once). */
  rotate(id: string, newHash: string, oldHash: string | undefined, oldValidUntil: string | undefined, hint: string): Promise<KeyRecord | undefined>;
}

export function generateKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

/** One-shot hashing where the runtime has it (Node 20.12+): a third of createHash's cost, on every request. */
const sha256Hex: (text: string) => string =
  typeof oneShotHash === 'function' ? (text) => oneShotHash('sha256', text, 'hex') : (text) => createHash('sha256').update(text).digest('hex');

export function hashKey(key: string): string {
  return sha256Hex(key);
}

export function newKeyId(): string {
  return 'key_' + randomUUID().replace(/-/g, '').slice(0, 20);
}

export function keyHint(key: string): string {
  return key.slice(-4);
}

/** Headers other SDKs put a key in (Anthropic, Azure OpenAI, Gemini), after `Authorization: Bearer`. */
const KEY_HEADERS = ['x-api-key', 'api-key', 'x-goog-api-key'] as const;

/** Pick the presented key from any of the accepted headers; all paths get the same checks. */
export function extractPresentedKey(headers: Headers): string | undefined {
  const auth = headers.get('authorization');
  if (auth) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1].trim();
  }
  for (const h of KEY_HEADERS) {
    const v = headers.get(h);
    if (v?.trim()) return v.trim();
  }
  return undefined;
}

export function modelAllowed(record: KeyRecord, model: string): boolean {
  if (!record.models || record.models.length === 0) return true;
  return record.models.some((g) => globMatches(g, model));
}

/**
 * The error for a key that exists but may not be used (revoked, expired). It carries the record so
 * the request's log record can name the key: an audit trail of a revoked key still in use matters.
 */
export class KeyRejectedError extends GatewayError {
  constructor(
    rejection: GatewayError,
    readonly keyRecord: KeyRecord,
  ) {
    super({ ...rejection, message: rejection.message });
  }
}

export function rejectedKeyRecord(err: unknown): KeyRecord | undefined {
  return err instanceof KeyRejectedError ? err.keyRecord : undefined;
}

interface CacheEntry {
  readonly record: KeyRecord;
  readonly validUntil?: number;
  /** record.expiresAt parsed once per load, not once per request. */
  readonly expiresAt?: number;
}

export interface KeyVerifierOptions {
  /** How long a verified key is trusted without reading the store. Bounds revocation delay. */
  readonly cacheTtlMs: number;
  readonly now: () => number;
  /** Largest number of cached keys (oldest evicted first). @default 10000 */
  readonly maxEntries?: number;
  /** Where a failed background re-read is reported (the request itself was served from the cache). */
  readonly onRefreshError?: (err: unknown) => void;
}

/**
 * Verifies presented keys. Positive results are cached: never served once `cacheTtlMs` has passed
 * since they were read (the revocation bound), and re-read in the background from 80% of it, so
 * a key in steady use never makes a request wait for the store. Negative results are never
 * cached, so a freshly created key works at once. Expiry and grace windows are checked on every
 * use from the cached record, so they take effect to the millisecond.
 */
export class KeyVerifier {
  private readonly cache: RefreshingCache<string, CacheEntry | undefined>;

  constructor(
    private readonly store: KeyStore,
    private readonly options: KeyVerifierOptions,
  ) {
    this.cache = new RefreshingCache({
      maxAgeMs: options.cacheTtlMs,
      now: options.now,
      maxEntries: options.maxEntries,
      onRefreshError: options.onRefreshError,
    });
  }

  async verify(presented: string | undefined): Promise<KeyRecord> {
    if (!presented) throw errors.missingKey();
    // Cheap shape check first: wrong prefix or absurd length never reaches the store.
    if (!presented.startsWith(KEY_PREFIX) || presented.length > 200) throw errors.invalidKey();
    const hash = hashKey(presented);
    return this.usable(await this.cache.get(hash, () => this.load(hash)), errors.invalidKey);
  }

  /**
   * The key bound to an OIDC application (a verified JWT's app claim), cached like keys by hash
   * and under the same revocation bound. No bound key is a 401: the token proves who called,
   * but no key says what they may do.
   */
  async verifyOidcClient(clientId: string): Promise<KeyRecord> {
    // Hash keys are hex: the prefix keeps the two kinds of entry apart in one cache.
    const entry = await this.cache.get(`oidc:${clientId}`, () => this.loadOidcClient(clientId));
    return this.usable(
      entry,
      () =>
        new GatewayError({
          status: 401,
          type: 'authentication_error',
          code: 'invalid_token',
          message: `No virtual key is bound to the token's application '${clientId}'. Ask your gateway administrator to set it as a key's oidcClientId.`,
        }),
    );
  }

  private async loadOidcClient(clientId: string): Promise<CacheEntry | undefined> {
    const record = await this.store.lookupByOidcClient(clientId);
    return record ? { record, expiresAt: record.expiresAt ? Date.parse(record.expiresAt) : undefined } : undefined;
  }

  private usable(entry: CacheEntry | undefined, unknown: () => GatewayError): KeyRecord {
    if (!entry) throw unknown();
    const now = this.options.now();
    if (entry.validUntil !== undefined && now >= entry.validUntil) throw errors.invalidKey();
    const r = entry.record;
    if (r.revokedAt) throw new KeyRejectedError(errors.revokedKey(), r);
    if (entry.expiresAt !== undefined && now >= entry.expiresAt) throw new KeyRejectedError(errors.expiredKey(), r);
    return r;
  }

  /** Forget a key in this process at once (after revoke/rotate/patch through this process's admin API). */
  invalidate(keyId: string): void {
    this.cache.invalidateWhere((e) => e?.record.id === keyId);
  }

  private async load(hash: string): Promise<CacheEntry | undefined> {
    const lookup = await this.store.lookup(hash);
    if (!lookup) return undefined;
    const { record } = lookup;
    return {
      record,
      validUntil: lookup.validUntil ? Date.parse(lookup.validUntil) : undefined,
      expiresAt: record.expiresAt ? Date.parse(record.expiresAt) : undefined,
    };
  }
}
