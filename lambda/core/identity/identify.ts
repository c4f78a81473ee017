/**
 * Who is calling (ARCHITECTURE §15): the credential sent where a virtual key may be sent is either
 * a virtual key (`sk-gw-…`) or, when issuers are configured, a JWT whose application selects the
 * key bound to it. Either way the result is a key record (whose models, limits, guard, cache scope
 * and logging apply) and, when known, the end user.
 */
import { errors } from '../errors';
import { KEY_PREFIX, type KeyRecord, type KeyVerifier } from '../keys';
import { type JwtVerifier, MAX_USER_ID_CHARS, looksLikeJwt } from './jwt-verifier';

export interface Identity {
  readonly key: KeyRecord;
  /** How the caller proved it: the key's plaintext or a JWT of its OIDC application. */
  readonly via: 'key' | 'jwt';
  /** The end user named by the token's user claim (JWT only; plain keys name theirs in the request, see endUserOf). */
  readonly userId?: string;
}

export class Identifier {
  constructor(
    private readonly keys: KeyVerifier,
    private readonly jwt?: JwtVerifier,
  ) {}

  /** Throws the 401/403/503 GatewayError that refuses the credential. */
  async identify(presented: string | undefined): Promise<Identity> {
    if (this.jwt && presented && !presented.startsWith(KEY_PREFIX) && looksLikeJwt(presented)) {
      const token = await this.jwt.verify(presented);
      return { key: await this.keys.verifyOidcClient(token.appId), via: 'jwt', userId: token.userId };
    }
    return { key: await this.keys.verify(presented), via: 'key' };
  }
}

export const END_USER_HEADER = 'x-gateway-user';

/**
 * The end user of a request: the token's user for a JWT; for a plain key that trusts its caller
 * (`trustUserHeader`), the `x-gateway-user` header, else the body's `user` field; otherwise none
 * (a caller cannot put itself under someone else's per-user limits, or escape its own).
 */
export function endUserOf(identity: Identity, headers: Headers, body: Record<string, unknown> | undefined): string | undefined {
  if (identity.via === 'jwt') return identity.userId;
  if (!identity.key.trustUserHeader) return undefined;
  const header = headers.get(END_USER_HEADER);
  if (header !== null) return checkUserId(header.trim(), END_USER_HEADER);
  const user = body?.user;
  return typeof user === 'string' ? checkUserId(user, 'user') : undefined;
}

function checkUserId(user: string, param: string): string {
  if (!user || user.length > MAX_USER_ID_CHARS)
    throw errors.badRequest(`The end user ('${param}') must be 1 to ${MAX_USER_ID_CHARS} characters.`, param, 'invalid_user');
  return user;
}
