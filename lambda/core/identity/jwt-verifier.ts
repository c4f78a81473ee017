/**
 * Verifies OIDC access/ID tokens presented where a virtual key may be sent (ARCHITECTURE §15):
 * signature by a key of the token's configured issuer (JwksSource), `iss`, `aud`, `exp` (required)
 * and `nbf` with 60 s of clock skew, and RS256/ES256 only, so neither `alg: none` nor an HMAC
 * signature made with a public key can pass. What comes out is who the application is (the app
 * claim) and who the end user is (the user claim); mapping the application to a key is the caller's.
 */
import { KeyObject, verify as verifySignature } from 'node:crypto';
import { type JWTPayload, UnsecuredJWT, decodeJwt, decodeProtectedHeader, errors as joseErrors } from 'jose';
import { GatewayError, errors } from '../errors';
import type { JwtIssuerConfig } from './config';
import { JwksSource, type JwksSourceOptions, JwksUnavailableError } from './jwks';

export const JWT_ALGORITHMS = ['RS256', 'ES256'];

/**
 * The signature check per accepted algorithm, with Node's synchronous crypto: jose checks through
 * WebCrypto, whose every call is a hop to the thread pool (about 0.1-0.3 ms on a busy process), which
 * a client sending a fresh token on each request paid every time. jose still picks the key (its
 * JWKS matching, by kid and by the key type and curve the algorithm needs) and validates the claims.
 */
const SIGNATURE_CHECKS: Record<string, (data: Buffer, key: KeyObject, signature: Buffer) => boolean> = {
  RS256: (data, key, signature) => verifySignature('sha256', data, key, signature),
  ES256: (data, key, signature) => verifySignature('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature),
};
/** The unsecured JWS header `{"alg":"none"}`, under which jose validates an already verified payload's claims. */
const UNSECURED_HEADER = 'eyJhbGciOiJub25lIn0';
export const CLOCK_SKEW_SECONDS = 60;
/** Longer tokens are refused before any parsing (real access tokens are a few KB). */
const MAX_TOKEN_CHARS = 16 * 1024;
/** End-user ids longer than this are refused: they become part of a counters item's key. */
export const MAX_USER_ID_CHARS = 256;

export interface JwtIdentity {
  readonly issuer: string;
  /** The app claim's value: matched against a virtual key's `oidcClientId`. */
  readonly appId: string;
  /** The user claim's value, when the token has one. */
  readonly userId?: string;
}

export interface JwtVerifierOptions extends Omit<JwksSourceOptions, 'onFetchError'> {
  /**
   * How long a verified token is remembered (by its exact text), so a client reusing its token pays
   * for the signature check once per interval. Never past the token's own `exp` (plus skew). 0 disables it.
   * @default 5000
   */
  readonly verifiedCacheTtlMs?: number;
  readonly onFetchError?: JwksSourceOptions['onFetchError'];
}

/** `header.payload.signature`, base64url, header a JSON object: what a JWT looks like before any check. */
export function looksLikeJwt(token: string): boolean {
  return token.startsWith('eyJ') && token.length <= MAX_TOKEN_CHARS && /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token);
}

export const tokenError = (message: string) => new GatewayError({ status: 401, type: 'authentication_error', code: 'invalid_token', message });

/** Why a token failed, in words that help its owner and reveal nothing about the gateway's keys. */
function reason(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return 'the token is not meant for this gateway (audience)';
    if (err.claim === 'iss') return 'the token was issued by an issuer this gateway does not trust';
    if (err.claim === 'nbf') return 'the token is not valid yet';
    if (err.claim === 'exp') return 'the token has no expiry';
    return `the token's "${err.claim}" claim is not valid`;
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return `the token's algorithm is not accepted (only ${JWT_ALGORITHMS.join(', ')})`;
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'the token signature does not verify';
  if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSMultipleMatchingKeys)
    return "the token's signing key is not one of the issuer's keys";
  return 'the token is malformed';
}

interface Remembered {
  readonly identity: JwtIdentity;
  readonly until: number;
}

export class JwtVerifier {
  private readonly issuers = new Map<string, { config: JwtIssuerConfig; keys: JwksSource }>();
  private readonly verified = new Map<string, Remembered>();
  /** The Node key of each of the issuers' keys jose selected (keys rotate out with their JWKS). */
  private readonly nodeKeys = new WeakMap<CryptoKey, KeyObject>();
  private readonly cacheTtlMs: number;
  private static readonly MAX_REMEMBERED = 10_000;

  constructor(
    issuers: readonly JwtIssuerConfig[],
    private readonly options: JwtVerifierOptions,
  ) {
    for (const config of issuers) this.issuers.set(config.issuer, { config, keys: new JwksSource(config, options) });
    this.cacheTtlMs = options.verifiedCacheTtlMs ?? 5_000;
  }

  /** Network fetches made for one issuer's keys (discovery and JWKS). */
  fetchesFor(issuer: string): number {
    return this.issuers.get(issuer)?.keys.fetches ?? 0;
  }

  /** Throws a 401 GatewayError for any token that fails a check, a 503 when its keys cannot be fetched. */
  async verify(token: string): Promise<JwtIdentity> {
    const now = this.options.now();
    const hit = this.verified.get(token);
    if (hit && now < hit.until) return hit.identity;
    if (hit) this.verified.delete(token);

    if (!looksLikeJwt(token)) throw tokenError('The bearer token is neither a virtual key nor a well-formed JWT.');
    let claimedIssuer: unknown;
    try {
      claimedIssuer = decodeJwt(token).iss;
    } catch {
      throw tokenError('The bearer token is neither a virtual key nor a well-formed JWT.');
    }
    // Picking the issuer by the unverified claim is safe: jwtVerify below checks `iss` against it.
    const issuer = typeof claimedIssuer === 'string' ? this.issuers.get(claimedIssuer) : undefined;
    if (!issuer) throw tokenError('The token was issued by an issuer this gateway does not trust.');

    let payload: JWTPayload;
    try {
      payload = await this.verifySigned(token, issuer, now);
    } catch (err) {
      if (err instanceof JwksUnavailableError)
        throw errors.unavailable(
          "The gateway cannot fetch the token issuer's signing keys right now. Retry shortly.",
          err.retryAfterSeconds,
          'identity_provider_unavailable',
        );
      throw tokenError(`Invalid token: ${reason(err)}.`);
    }

    const identity = this.identityOf(issuer.config, payload);
    this.remember(token, identity, now, payload.exp!);
    return identity;
  }

  /** The signature by one of the issuer's keys, then `iss`, `aud`, `exp` (required) and `nbf` by jose's claim validation. */
  private async verifySigned(token: string, issuer: { config: JwtIssuerConfig; keys: JwksSource }, now: number): Promise<JWTPayload> {
    const header = decodeProtectedHeader(token);
    const check = typeof header.alg === 'string' && JWT_ALGORITHMS.includes(header.alg) ? SIGNATURE_CHECKS[header.alg] : undefined;
    if (!check) throw new joseErrors.JOSEAlgNotAllowed('"alg" (Algorithm) Header Parameter value not allowed');
    // Extensions this verifier does not implement are refused, as jose refuses an unrecognised `crit`.
    if (header.crit !== undefined || header.b64 !== undefined) throw new joseErrors.JWSInvalid('unsupported JWS header parameters');
    const cryptoKey = (await issuer.keys.resolve(header)) as CryptoKey;
    let key = this.nodeKeys.get(cryptoKey);
    if (!key) this.nodeKeys.set(cryptoKey, (key = KeyObject.from(cryptoKey)));
    const firstDot = token.indexOf('.');
    const lastDot = token.lastIndexOf('.');
    let valid = false;
    try {
      valid = check(Buffer.from(token.slice(0, lastDot)), key, Buffer.from(token.slice(lastDot + 1), 'base64url'));
    } catch {
      valid = false; // a signature of the wrong shape for its key
    }
    if (!valid) throw new joseErrors.JWSSignatureVerificationFailed();
    const { payload } = UnsecuredJWT.decode(`${UNSECURED_HEADER}.${token.slice(firstDot + 1, lastDot)}.`, {
      issuer: issuer.config.issuer,
      audience: issuer.config.audience as string | string[],
      clockTolerance: CLOCK_SKEW_SECONDS,
      currentDate: new Date(now),
      requiredClaims: ['exp'],
    });
    return payload;
  }

  private identityOf(config: JwtIssuerConfig, payload: JWTPayload): JwtIdentity {
    const app = config.appClaim ? payload[config.appClaim] : (payload.azp ?? payload.client_id);
    if (typeof app !== 'string' || !app || app.length > MAX_USER_ID_CHARS)
      throw tokenError(`Invalid token: it names no application (claim ${config.appClaim ? `"${config.appClaim}"` : '"azp" or "client_id"'}).`);
    const user = payload[config.userClaim ?? 'sub'];
    if (user !== undefined && (typeof user !== 'string' || !user || user.length > MAX_USER_ID_CHARS))
      throw tokenError(`Invalid token: its user claim "${config.userClaim ?? 'sub'}" must be a string of 1 to ${MAX_USER_ID_CHARS} characters.`);
    return { issuer: config.issuer, appId: app, userId: user };
  }

  private remember(token: string, identity: JwtIdentity, now: number, exp: number): void {
    if (this.cacheTtlMs <= 0) return;
    const until = Math.min(now + this.cacheTtlMs, (exp + CLOCK_SKEW_SECONDS) * 1000);
    if (this.verified.size >= JwtVerifier.MAX_REMEMBERED) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(token, { identity, until });
  }
}
