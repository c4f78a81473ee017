/**
 * The `identity` section of the gateway config (ARCHITECTURE §15, a contract): which OIDC issuers'
 * JWTs the gateway accepts in place of a virtual key, and which claims name the application and
 * the end user. Validated with the rest of the config at start-up.
 */
import { isObject } from '../is-object';

/** One trusted token issuer. */
export interface JwtIssuerConfig {
  /** The exact `iss` claim of its tokens, an https URL (http only on a loopback host, for local runs). */
  readonly issuer: string;
  /** Accepted `aud` value(s): a token must name at least one. */
  readonly audience: string | readonly string[];
  /**
   * Where the issuer's signing keys are. Only this URL (or, by default, the `jwks_uri` of the
   * issuer's own discovery document, on the issuer's origin) is ever fetched.
   * @default - `jwks_uri` from `<issuer>/.well-known/openid-configuration`
   */
  readonly jwksUrl?: string;
  /**
   * Claim naming the calling application; its value selects the virtual key whose `oidcClientId` matches.
   * @default - `azp`, then `client_id`
   */
  readonly appClaim?: string;
  /** Claim naming the end user (recorded as `user_id`, limited by `limits.perUser`). @default 'sub' */
  readonly userClaim?: string;
}

export interface IdentityConfig {
  /** Issuers whose JWTs are accepted where a virtual key may be sent. */
  readonly jwt?: readonly JwtIssuerConfig[];
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * An https URL, or http on a loopback host (a local issuer in development and tests): signing keys
 * fetched in clear text from anywhere else could be swapped on the way.
 */
export function isTrustedKeyUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
}

const ISSUER_FIELDS = ['issuer', 'audience', 'jwksUrl', 'appClaim', 'userClaim'];
const MAX_ISSUERS = 20;

/** Collects the problems of an `identity` section into `problems`, each naming its field. */
export function checkIdentity(v: unknown, problems: string[]): void {
  if (v === undefined) return;
  if (!isObject(v)) return void problems.push('identity must be an object such as { "jwt": [ { "issuer", "audience" } ] }');
  for (const k of Object.keys(v)) if (k !== 'jwt') problems.push(`identity.${k} is not a known identity setting (jwt)`);
  if (v.jwt === undefined) return;
  if (!Array.isArray(v.jwt) || v.jwt.length === 0 || v.jwt.length > MAX_ISSUERS)
    return void problems.push(`identity.jwt must be a list of 1 to ${MAX_ISSUERS} issuers`);
  const seen = new Set<string>();
  for (const [i, entry] of (v.jwt as unknown[]).entries()) {
    const at = `identity.jwt[${i}]`;
    if (!isObject(entry)) {
      problems.push(`${at} must be { "issuer", "audience", "jwksUrl"?, "appClaim"?, "userClaim"? }`);
      continue;
    }
    for (const k of Object.keys(entry)) if (!ISSUER_FIELDS.includes(k)) problems.push(`${at}.${k} is not a known issuer setting (${ISSUER_FIELDS.join(', ')})`);
    if (typeof entry.issuer !== 'string' || !isTrustedKeyUrl(entry.issuer))
      problems.push(`${at}.issuer must be the issuer's https URL, exactly as in its tokens' "iss" claim (http only on 127.0.0.1/localhost)`);
    else if (seen.has(entry.issuer)) problems.push(`${at}.issuer '${entry.issuer}' is listed twice`);
    else seen.add(entry.issuer);
    const aud = entry.audience;
    const audOk =
      (typeof aud === 'string' && aud.length > 0) || (Array.isArray(aud) && aud.length > 0 && aud.every((a) => typeof a === 'string' && a.length > 0));
    if (!audOk) problems.push(`${at}.audience must be a non-empty string or list of strings (the "aud" your tokens carry)`);
    if (entry.jwksUrl !== undefined && (typeof entry.jwksUrl !== 'string' || !isTrustedKeyUrl(entry.jwksUrl)))
      problems.push(`${at}.jwksUrl must be an https URL (http only on 127.0.0.1/localhost)`);
    for (const k of ['appClaim', 'userClaim'] as const)
      if (entry[k] !== undefined && (typeof entry[k] !== 'string' || !(entry[k] as string).length || (entry[k] as string).length > 100))
        problems.push(`${at}.${k} must be a claim name (a non-empty string)`);
  }
}
