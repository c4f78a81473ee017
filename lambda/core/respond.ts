/** Answers built by endpoint handlers: the gateway's response headers, and a whole (JSON) answer. */
import { jsonResponse } from './buffered-response';
import { CACHE_HEADER, CACHE_SIMILARITY_HEADER } from './cache/directives';
import { headerSafeRecord } from './header-value';
import type { ResolvedTarget } from './models';
import type { RequestContext } from './request-context';
import type { GatewayServices } from './services';
import { billedExtrasOf } from './pricing';
import type { Usage } from '../apischema/openai';

/**
 * The headers every model answer and every error carries: the request id, who served it, the
 * cache result, and the key's rate-limit headers (from its reservation, which settling refreshes;
 * before one, from what this process last saw of the key's counters).
 */
export function gatewayHeaders(s: GatewayServices, ctx: RequestContext): Record<string, string> {
  // The served model comes from config (or the validated request): escaped, so writing it can never throw.
  return headerSafeRecord({
    'x-request-id': ctx.id,
    ...(ctx.provider ? { 'x-gateway-provider': ctx.provider, 'x-gateway-model': ctx.model ?? '' } : {}),
    [CACHE_HEADER]: ctx.cache ?? 'off',
    ...(ctx.cacheSimilarity !== undefined ? { [CACHE_SIMILARITY_HEADER]: ctx.cacheSimilarity.toFixed(4) } : {}),
    ...(ctx.reservation ? ctx.reservation.headers : ctx.key && s.limiter.peekHeaders ? s.limiter.peekHeaders(ctx.key) : {}),
  });
}

/** Note what `target` delivered, priced at that target (`billed`: the provider's usage, for its cache and server-tool parts). */
export function deliver(
  s: GatewayServices,
  ctx: RequestContext,
  target: ResolvedTarget,
  prompt: number,
  completion: number,
  logged: unknown,
  billed?: Usage | null,
): void {
  const costUsd = s.prices.cost(target.provider.name, target.model, { prompt_tokens: prompt, completion_tokens: completion, ...billedExtrasOf(billed) });
  ctx.deliver({ promptTokens: prompt, completionTokens: completion, costUsd }, logged);
}

/**
 * A whole answer: its usage is known now, so the response ends here (settling, the record) and the
 * headers then show the settled counters. `logged` is what the record may keep of it.
 */
export async function respondJson(
  s: GatewayServices,
  ctx: RequestContext,
  target: ResolvedTarget,
  usage: { readonly prompt: number; readonly completion: number; readonly billed?: Usage | null },
  logged: unknown,
  body: unknown,
): Promise<Response> {
  deliver(s, ctx, target, usage.prompt, usage.completion, logged, usage.billed);
  await ctx.end({ status: 200 });
  return jsonResponse(body, 200, gatewayHeaders(s, ctx));
}
