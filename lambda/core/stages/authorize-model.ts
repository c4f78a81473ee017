/** The route the requested model names (404 when none), and whether this key may use it (403): ctx.route. */
import { errors } from '../errors';
import { modelAllowed } from '../keys';
import type { StageFactory } from './stage';

export const authorizeModelStage: StageFactory = (s) => (ctx, next) => {
  const call = ctx.call;
  if (!call) return next();
  // Authorized before it is resolved: a scoped key gets the same 403 for names it may not call,
  // configured or not, so the 404-vs-403 difference cannot list route names.
  if (ctx.key && !modelAllowed(ctx.key, call.model)) throw errors.modelNotAllowed(call.model);
  ctx.route = s.catalog.route(call.model);
  return next();
};
