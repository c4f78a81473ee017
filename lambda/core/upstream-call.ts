/**
 * Calling the route's targets for an endpoint handler: the router picks and retries targets, each
 * attempt gets its provider adapter and credential here, and a provider failure after every target
 * becomes the client's GatewayError.
 */
import { GatewayError, errors } from './errors';
import type { ResolvedTarget } from './models';
import type { RequestContext } from './request-context';
import type { SecretSource } from './ports';
import type { GatewayServices } from './services';
import type { ProviderRegistry } from './provider';
import { type PeekedStream, peekFirstContent } from './stream';
import { providerMayBill, upstreamToGatewayError } from './upstream-errors';
import { billedExtrasOf } from './pricing';
import type { ChatCompletion, ChatRequest } from '../apischema/openai';
import { type NativeAnswer, type NativeRequest, type ProviderAdapter, type ProviderCall, UpstreamError } from './provider';
import { scrubbingAdapter } from './upstream-scrub';

/** What one upstream attempt gets from the router: its abort signal, and the hook to call when the upstream's headers arrive. */
export interface UpstreamAttempt {
  readonly signal: AbortSignal;
  readonly firstByte: () => void;
}

/**
 * What one chat attempt produced: a whole JSON answer, or a stream that has sent real content; with
 * the upstream's own answer behind it when the call went natively.
 */
export type ChatAttempt =
  | { readonly kind: 'json'; readonly response: ChatCompletion; readonly native?: NativeAnswer }
  | { readonly kind: 'stream'; readonly peeked: PeekedStream; readonly native?: NativeAnswer };

/** The client's own body for this target, when its provider speaks that format natively for the target's model. */
export function nativeFor(s: GatewayServices, target: ResolvedTarget, native: NativeRequest | undefined): NativeRequest | undefined {
  if (!native) return undefined;
  return s.providers[target.provider.config.type]?.speaks?.(native.format, target.model, target.provider) ? native : undefined;
}

/** What reaching a provider needs: its adapter, its credential, the upstream fetch. */
export interface ProviderAccess {
  readonly providers: ProviderRegistry;
  readonly secrets: SecretSource;
  readonly upstreamFetch: typeof fetch;
}

/** Adapter and call context for one attempt; the credential comes from config only. */
export async function providerCall(
  s: ProviderAccess,
  target: ResolvedTarget,
  { signal, firstByte }: UpstreamAttempt,
): Promise<{ adapter: ProviderAdapter; call: ProviderCall }> {
  const adapter = s.providers[target.provider.config.type];
  if (!adapter) throw new UpstreamError('http', `provider type '${target.provider.config.type}' is not available in this build`, 501, 'provider_unavailable');
  let apiKey: string | undefined;
  const ref = target.provider.config.apiKey;
  if (ref) {
    try {
      apiKey = await s.secrets.get(ref);
    } catch (err) {
      // Treated like an unreachable provider, so a fallback target can still serve. The secret
      // source's reason names the variable or secret to set (never a value): it is the fix.
      const reason = err instanceof Error ? err.message : 'it could not be read';
      throw new UpstreamError('network', `provider '${target.provider.name}' has no credential: ${reason}`, 502, 'provider_credentials_unavailable');
    }
  }
  // The router's "headers arrived" hook stops a JSON call's first-byte timer.
  const upstreamFetch = s.upstreamFetch;
  const timedFetch: typeof fetch = async (input, init) => {
    const res = await upstreamFetch(input, init);
    firstByte();
    return res;
  };
  // Everything the adapter throws (HTTP errors, in-band stream errors, malformed answers) is scrubbed of the credential here, once.
  return { adapter: scrubbingAdapter(adapter, apiKey), call: { provider: target.provider, model: target.model, apiKey, signal, fetch: timedFetch } };
}

/**
 * A failed attempt the provider may still bill (it received the request: a timeout, the client
 * leaving, a cut answer) is charged at its best estimate when the request holds a reservation: the
 * prompt, plus the reserved output cap for a JSON call (a stream attempt fails before any content,
 * so it delivered none). Server tool calls the attempt completed before failing are charged
 * whatever the failure: the provider ran them.
 */
function chargeUnserved(s: GatewayServices, ctx: RequestContext, target: ResolvedTarget, err: UpstreamError): void {
  const call = ctx.call;
  if (!ctx.reservation || !call) return;
  const mayBill = providerMayBill(err);
  if (!mayBill && !err.serverToolUse) return;
  const prompt = mayBill ? call.promptTokens : 0;
  const completion = mayBill && !ctx.stream ? call.outputTokens : 0;
  const tools = billedExtrasOf(err.serverToolUse && { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, server_tool_use: err.serverToolUse });
  ctx.unserved.promptTokens += prompt;
  ctx.unserved.completionTokens += completion;
  ctx.unserved.costUsd += s.prices.cost(target.provider.name, target.model, { prompt_tokens: prompt, completion_tokens: completion, ...tools }) ?? 0;
}

/**
 * Run the request's route (ctx.route, set by the authorize-model stage). Notes who served it on
 * ctx; a provider failure after every target becomes the client's error.
 */
export async function callRoute<T>(
  s: GatewayServices,
  ctx: RequestContext,
  attempt: (target: ResolvedTarget, upstream: UpstreamAttempt) => Promise<T>,
): Promise<{ value: T; target: ResolvedTarget }> {
  const route = ctx.route;
  if (!route) throw new Error('callRoute needs the authorize-model stage to have resolved the route');
  try {
    // The attempt's own signal and hook go straight to it: a side table keyed by the signal kept
    // each attempt's whole closure reachable past its end as far as the young-generation GC could tell.
    const out = await s.router.execute(
      route,
      ctx.request.signal,
      ctx.attempts,
      ctx.stream,
      ({ target, signal, firstByte }) => attempt(target, { signal, firstByte }),
      (target, err) => chargeUnserved(s, ctx, target, err),
      ctx.routeEvents,
    );
    ctx.abortUpstream = out.abort;
    ctx.provider = out.target.provider.name;
    ctx.model = out.target.model;
    ctx.firstTokenAt = s.now();
    return out;
  } catch (err) {
    if (err instanceof UpstreamError) throw upstreamToGatewayError(err);
    throw err;
  }
}

/**
 * callRoute for chat answers: the committed answer goes through the stages' answer filters (the
 * output guard) before the handler encodes it. A filter that fails on a whole answer (a guardrail
 * service down) fails closed with 503, and the answer the provider already produced is still charged.
 */
export async function callChatRoute(
  s: GatewayServices,
  ctx: RequestContext,
  attempt: (target: ResolvedTarget, upstream: UpstreamAttempt) => Promise<ChatAttempt>,
): Promise<{ value: ChatAttempt; target: ResolvedTarget }> {
  const { value, target } = await callRoute(s, ctx, attempt);
  if (value.kind === 'stream') return { value: { ...value, peeked: ctx.filteredStream(value.peeked) }, target };
  try {
    return { value: { ...value, response: await ctx.filteredJson(value.response) }, target };
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    const usage = value.response.usage;
    const prompt = usage?.prompt_tokens ?? ctx.call?.promptTokens ?? 0;
    const completion = usage?.completion_tokens ?? ctx.call?.outputTokens ?? 0;
    ctx.unserved.promptTokens += prompt;
    ctx.unserved.completionTokens += completion;
    ctx.unserved.costUsd += s.prices.cost(target.provider.name, target.model, { prompt_tokens: prompt, completion_tokens: completion }) ?? 0;
    s.logger.error('checking an answer failed', { error: String(err), requestId: ctx.id });
    throw errors.unavailable('The gateway could not run its guardrail check on this answer. Retry shortly.', 1, 'guardrail_unavailable');
  }
}

/**
 * One chat attempt (chat completions and messages): a stream commits to its target only once it has
 * sent real content, so errors before that can still fall back. `native` (see nativeFor) goes to
 * the provider as the client's own body.
 */
export async function chatAttempt(
  s: GatewayServices,
  body: ChatRequest,
  target: ResolvedTarget,
  upstream: UpstreamAttempt,
  native?: NativeRequest,
): Promise<ChatAttempt> {
  const { adapter, call } = await providerCall(s, target, upstream);
  const result = await adapter.chat({ ...body, model: target.model }, call, native);
  if (!result.stream) return { kind: 'json', response: result.response, native: result.native };
  return { kind: 'stream', peeked: await peekFirstContent(result.chunks), native: result.native };
}
