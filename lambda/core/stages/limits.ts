/**
 * Limits and budgets (ARCHITECTURE §8): reserve the request's estimate before calling on, settle
 * with what was delivered at the response's end (a stream's last byte included), or release when
 * nothing was delivered. The reservation's rate-limit headers go on the answer (respond.ts).
 */
import type { ModelCall } from '../endpoint';
import type { ResolvedRoute } from '../models';
import type { Reservation } from '../ports';
import type { RequestContext } from '../request-context';
import type { GatewayServices } from '../services';
import type { StageFactory } from './stage';

/**
 * Reserve the estimated tokens, and their cost at the most expensive of the route's targets: any
 * of them may end up serving (a fallback), and a budget must not be overspent by the difference.
 * Settling charges the real usage at the price of the target that served. Any target without a
 * price is named, so a budgeted key is refused rather than spending uncounted.
 */
function reserve(s: GatewayServices, ctx: RequestContext, call: ModelCall, route: ResolvedRoute): Promise<Reservation> {
  const estimate = { prompt_tokens: call.promptTokens, completion_tokens: call.outputTokens };
  let costUsd = 0;
  let unpricedTarget: string | undefined;
  for (const t of route.targets) {
    if (!s.prices.priceFor(t.provider.name, t.model)) unpricedTarget ??= `${t.provider.name}/${t.model}`;
    costUsd = Math.max(costUsd, s.prices.cost(t.provider.name, t.model, estimate) ?? 0);
  }
  return s.limiter.reserve(ctx.key!, { tokens: call.promptTokens + call.outputTokens, costUsd, unpricedTarget }, ctx.id, ctx.userId);
}

/**
 * Settle with what the providers may bill (the delivered usage plus the charge for attempts that
 * reached a provider without serving), else release. Never throws.
 */
async function settleOrRelease(s: GatewayServices, ctx: RequestContext, reservation: Reservation): Promise<void> {
  try {
    const { usage, unserved } = ctx;
    const unservedTokens = unserved.promptTokens + unserved.completionTokens;
    if (usage || unservedTokens > 0) {
      await s.limiter.settle(reservation, {
        tokens: (usage ? usage.promptTokens + usage.completionTokens : 0) + unservedTokens,
        costUsd: (usage?.costUsd ?? 0) + unserved.costUsd,
      });
    } else await s.limiter.release(reservation);
  } catch (err) {
    s.logger.error('settling a reservation failed', { error: String(err), requestId: ctx.id });
  }
}

export const limitsStage: StageFactory = (s) => async (ctx, next) => {
  const { call, route, key } = ctx;
  if (!call || !route || !key || ctx.endpoint?.spends === false) return next();
  const reservation = await reserve(s, ctx, call, route);
  ctx.reservation = reservation;
  ctx.onEnd(() => settleOrRelease(s, ctx, reservation));
  return next();
};
