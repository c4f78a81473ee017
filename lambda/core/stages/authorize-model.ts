/** The route the requested model names (404 when none), and whether this key may use it (403): ctx.route. */
import { errors } from '../errors';
import { modelAllowed } from '../keys';
import type { StageFactory } from './stage';

export const authorizeModelStage: StageFactory = (s) => async (ctx, next) => {
  const call = ctx.call;
  if (!call) return next();
  const route = s.catalog.route(call.model);
  if (ctx.key && !modelAllowed(ctx.key, call.model)) throw errors.modelNotAllowed(call.model);
  ctx.route = route;
  return next();
};
