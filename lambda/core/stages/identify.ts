/** Who is calling: the presented virtual key or a JWT of a configured issuer, verified (ctx.key, ctx.identity, the token's end user). */
import { GatewayError, errors } from '../errors';
import type { Identity } from '../identity/identify';
import { extractPresentedKey, rejectedKeyRecord } from '../keys';
import type { StageFactory } from './stage';

export const identifyStage: StageFactory = (s) => async (ctx, next) => {
  let identity: Identity;
  try {
    identity = await s.identifier.identify(extractPresentedKey(ctx.request.headers));
  } catch (err) {
    if (err instanceof GatewayError) {
      ctx.key = rejectedKeyRecord(err); // revoked/expired: the log record still names the key
      throw err;
    }
    // The key store is unreachable: fail closed, never let an unverified request through.
    s.logger.error('key store unavailable', { error: String(err) });
    throw errors.unavailable('The gateway cannot verify API keys right now. Retry shortly.', 1, 'key_store_unavailable');
  }
  ctx.key = identity.key;
  ctx.identity = identity;
  ctx.userId = identity.userId;
  return next();
};
