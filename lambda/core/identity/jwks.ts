/**
 * One issuer's signing keys: fetched from the configured JWKS URL (or the `jwks_uri` of the
 * issuer's own discovery document) and nowhere else, kept in memory, and fetched again only
 *   - when a token names a key id the cached set lacks (key rotation): each unknown `kid` is looked
 *     for once per `refreshIntervalMs`, and the network is asked at most once per `minFetchGapMs`,
 *     so a flood of tokens with unknown kids costs a fetch a second at most, not one each;
 *   - in the background once the set is older than `maxAgeMs` (a removed key stops working).
 * A fetch that fails leaves the cached keys in place, so tokens they signed keep working; a token
 * that no cached key can verify while the JWKS is unreachable is answered 503 (fail closed).
 */
import { type JSONWebKeySet, type JWK, type JWSHeaderParameters, type LocalJWKSet, createLocalJWKSet, errors as joseErrors } from 'jose';
import { type JwtIssuerConfig, isTrustedKeyUrl } from './config';

export interface JwksSourceOptions {
  readonly fetch: typeof fetch;
  readonly now: () => number;
  /** How long a key id found missing is not looked for again. @default 30000 */
  readonly refreshIntervalMs?: number;
  /** Least time between two fetches of one issuer's keys (successful or not); also the retry gap after a failure. @default 1000 */
  readonly minFetchGapMs?: number;
  /** Age after which the keys are fetched again in the background. @default 600000 */
  readonly maxAgeMs?: number;
  /** Time allowed for one fetch. @default 5000 */
  readonly timeoutMs?: number;
  /** Where a failed fetch is reported. */
  readonly onFetchError?: (issuer: string, err: unknown) => void;
}

/** The keys cannot be fetched and none cached matches the token: the caller answers 503. */
export class JwksUnavailableError extends Error {
  constructor(
    readonly issuer: string,
    /** Seconds until this source will try the network again. */
    readonly retryAfterSeconds: number,
    cause: unknown,
  ) {
    super(`signing keys of ${issuer} are unavailable: ${String((cause as Error)?.message ?? cause)}`);
    this.name = 'JwksUnavailableError';
  }
}

/** Key types that can verify RS256/ES256; anything else in a set (oct, OKP, encryption keys) is dropped. */
const usableKey = (k: JWK) => (k.kty === 'RSA' || k.kty === 'EC') && (k.use === undefined || k.use === 'sig');

/** Discovery documents and key sets are small; a larger answer is refused rather than parsed. */
const MAX_DOCUMENT_BYTES = 512 * 1024;
const MAX_MISSED_KIDS = 1_000;

export class JwksSource {
  private keys?: LocalJWKSet;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private lastError: unknown;
  private inflight?: Promise<void>;
  private jwksUrl?: string;
  private readonly refreshIntervalMs: number;
  private readonly maxAgeMs: number;
  private readonly minFetchGapMs: number;
  /** Key ids looked for and not found, with when: each is looked for at most once per refreshIntervalMs. */
  private readonly missedKids = new Map<string, number>();
  /** How many times the network was asked (for tests and metrics). */
  fetches = 0;

  constructor(
    private readonly issuer: JwtIssuerConfig,
    private readonly options: JwksSourceOptions,
  ) {
    this.jwksUrl = issuer.jwksUrl;
    this.refreshIntervalMs = options.refreshIntervalMs ?? 30_000;
    this.maxAgeMs = options.maxAgeMs ?? 600_000;
    this.minFetchGapMs = options.minFetchGapMs ?? 1_000;
  }

  /** The key resolver handed to `jwtVerify`: the cached key for the token's `kid`, refreshing as described above. */
  readonly resolve = async (header: JWSHeaderParameters): Promise<CryptoKey> => {
    const now = this.options.now();
    if (!this.keys) await this.refresh(now);
    else if (now - this.fetchedAt > this.maxAgeMs && now - this.lastAttemptAt >= this.minFetchGapMs) void this.refresh(now).catch(() => undefined);
    try {
      return await this.keys!(header);
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSNoMatchingKey)) throw err;
      // An unknown key id: the issuer may have rotated. Each kid is looked for once per interval,
      // and the network is asked at most once per gap, never once per token.
      const kid = String(header.kid ?? '');
      const lookedAt = this.missedKids.get(kid);
      if ((lookedAt !== undefined && now - lookedAt < this.refreshIntervalMs) || now - this.lastAttemptAt < this.minFetchGapMs) {
        if (this.lastError !== undefined) throw new JwksUnavailableError(this.issuer.issuer, this.secondsUntilRetry(now), this.lastError);
        throw err;
      }
      this.noteMissedKid(kid, now);
      await this.refresh(now);
      return this.keys!(header);
    }
  };

  private noteMissedKid(kid: string, now: number): void {
    this.missedKids.delete(kid);
    if (this.missedKids.size >= MAX_MISSED_KIDS) this.missedKids.delete(this.missedKids.keys().next().value as string);
    this.missedKids.set(kid, now);
  }

  private secondsUntilRetry(now: number): number {
    return Math.max(1, Math.ceil((this.lastAttemptAt + this.minFetchGapMs - now) / 1000));
  }

  /** One fetch at a time; a failure (or a failure too recent to retry) becomes JwksUnavailableError. */
  private async refresh(now: number): Promise<void> {
    if (!this.inflight) {
      if (this.lastError !== undefined && now - this.lastAttemptAt < this.minFetchGapMs)
        throw new JwksUnavailableError(this.issuer.issuer, this.secondsUntilRetry(now), this.lastError);
      this.lastAttemptAt = now;
      this.inflight = this.load().then(
        (set) => {
          this.keys = createLocalJWKSet(set);
          this.fetchedAt = this.options.now();
          this.lastError = undefined;
        },
        (err) => {
          this.lastError = err;
          this.options.onFetchError?.(this.issuer.issuer, err);
          throw err;
        },
      );
      void this.inflight.then(
        () => (this.inflight = undefined),
        () => (this.inflight = undefined),
      );
    }
    try {
      await this.inflight;
    } catch (err) {
      throw new JwksUnavailableError(this.issuer.issuer, this.secondsUntilRetry(this.options.now()), err);
    }
  }

  private async load(): Promise<JSONWebKeySet> {
    this.jwksUrl ??= await this.discoverJwksUrl();
    const body = await this.getJson(this.jwksUrl);
    const keys = (body as { keys?: unknown }).keys;
    if (!Array.isArray(keys)) throw new Error(`${this.jwksUrl} is not a JSON Web Key Set (no "keys" list)`);
    return { keys: (keys as JWK[]).filter((k) => typeof k === 'object' && k !== null && usableKey(k)) };
  }

  /**
   * The `jwks_uri` of the issuer's OpenID discovery document. It must name the issuer itself and
   * point at the issuer's own origin, so the keys come from where the config says they do.
   */
  private async discoverJwksUrl(): Promise<string> {
    const issuer = this.issuer.issuer;
    const doc = (await this.getJson(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`)) as { issuer?: unknown; jwks_uri?: unknown };
    if (doc.issuer !== issuer) throw new Error(`the discovery document of ${issuer} names another issuer`);
    const uri = doc.jwks_uri;
    if (typeof uri !== 'string' || !isTrustedKeyUrl(uri) || new URL(uri).origin !== new URL(issuer).origin)
      throw new Error(`the discovery document of ${issuer} has no jwks_uri on the issuer's origin; set "jwksUrl" in the config`);
    return uri;
  }

  private async getJson(url: string): Promise<unknown> {
    this.fetches++;
    const res = await this.options.fetch(url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
    });
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (!res.ok || declared > MAX_DOCUMENT_BYTES) {
      await res.body?.cancel().catch(() => undefined);
      throw new Error(res.ok ? `${url} answered more than ${MAX_DOCUMENT_BYTES} bytes` : `${url} answered ${res.status}`);
    }
    const text = await res.text();
    if (text.length > MAX_DOCUMENT_BYTES) throw new Error(`${url} answered more than ${MAX_DOCUMENT_BYTES} bytes`);
    return JSON.parse(text) as unknown;
  }
}
