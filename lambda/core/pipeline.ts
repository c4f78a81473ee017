/**
 * The pipeline steps every endpoint shares: authenticate, authorize the model, reserve and settle
 * limits, call a provider through the router, and write exactly one log record at the end.
 * Endpoint handlers (handlers/) compose these; none of them repeats error shaping or try/catch.
 */
import type { GatewayConfig } from './config';
import { DEFAULT_MAX_BODY_BYTES, readJsonObject } from './body';
import { jsonResponse } from './buffered-response';
import { GatewayError, errors } from './errors';
import { KeyVerifier, type KeyRecord, type KeyStore, extractPresentedKey, modelAllowed, rejectedKeyRecord } from './keys';
import type { LogSink, RequestLogRecord } from './log-record';
import { boundRecordFields } from './record-bounds';
import { ModelCatalog, type ResolvedRoute, type ResolvedTarget } from './models';
import { type Limiter, type Logger, type Reservation, type SecretSource, silentLogger, unlimited } from './ports';
import { PriceTable } from './pricing';
import { type Identity, Identifier, endUserOf } from './identity/identify';
import { JwtVerifier } from './identity/jwt-verifier';
import type { RequestContext } from './request-context';
import { CooldownTracker } from './cooldown';
import { Router, type RouterDeps, realSleep } from './router';
import { providerMayBill, upstreamToGatewayError } from './upstream-errors';
import { builtinProviders, type ProviderRegistry } from '../providers/registry';
import { type ChatCompletion, type ChatRequest, type ProviderAdapter, type ProviderCall, UpstreamError } from '../providers/types';
import { type PeekedStream, peekFirstContent } from './stream';
import { bodiesForPolicy } from './logging-policy';
import { headerSafeRecord } from './header-value';
import type { UsageRollups } from './usage/rollups';
import type { UiAssets } from './usage/ui-assets';
import type { ResponseStore } from './response-store';

export interface GatewayDeps {
  readonly config: GatewayConfig;
  readonly keyStore: KeyStore;
  readonly secrets: SecretSource;
  readonly logSink: LogSink;
  readonly limiter?: Limiter;
  readonly providers?: ProviderRegistry;
  /** fetch used for upstream calls. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly sleep?: RouterDeps['sleep'];
  readonly logger?: Logger;
  readonly newRequestId?: () => string;
  /** Per-day usage rollups behind `GET /v1/usage` and the usage page; absent, those answer 404. */
  readonly usageRollups?: UsageRollups;
  /** Whether a request carries an admin credential for `GET /v1/usage` (the usage page's admin sign-in). */
  readonly isUsageAdmin?: (req: Request) => boolean | Promise<boolean>;
  /** The usage page's built files; absent, `/ui` answers 404. */
  readonly uiAssets?: UiAssets;
  /** Where /v1/responses keeps stored responses. Without one, every response is answered with `store: false`. */
  readonly responseStore?: ResponseStore;
}

export type Pipeline = ReturnType<typeof createPipeline>;

/** What one upstream attempt gets from the router: its abort signal, and the hook to call when the upstream's headers arrive. */
export interface UpstreamAttempt {
  readonly signal: AbortSignal;
  readonly firstByte: () => void;
}

/** What one chat attempt produced: a whole JSON answer, or a stream that has sent real content. */
export type ChatAttempt = { readonly kind: 'json'; readonly response: ChatCompletion } | { readonly kind: 'stream'; readonly peeked: PeekedStream };

export function createPipeline(deps: GatewayDeps) {
  const now = deps.now ?? Date.now;
  const logger = deps.logger ?? silentLogger;
  const limiter = deps.limiter ?? unlimited;
  const providers: ProviderRegistry = { ...builtinProviders, ...deps.providers };
  const upstreamFetch = deps.fetch ?? globalThis.fetch;
  const settings = deps.config.settings ?? {};
  const maxBodyBytes = settings.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const catalog = new ModelCatalog(deps.config);
  const prices = new PriceTable(deps.config.pricing);
  const verifier = new KeyVerifier(deps.keyStore, {
    cacheTtlMs: settings.keyCacheTtlMs ?? 5_000,
    now,
    // The request was answered from the cached record; a later one retries the read.
    onRefreshError: (err) => logger.warn('re-reading a cached key failed', { error: String(err) }),
  });
  const jwt = deps.config.identity?.jwt?.length
    ? new JwtVerifier(deps.config.identity.jwt, {
        // Signing keys come from the configured issuers only, over the platform's own fetch.
        fetch: globalThis.fetch,
        now,
        verifiedCacheTtlMs: settings.keyCacheTtlMs ?? 5_000,
        onFetchError: (issuer, err) => logger.warn('fetching signing keys failed', { issuer, error: String(err) }),
      })
    : undefined;
  const identifier = new Identifier(verifier, jwt);
  const router = new Router({
    now,
    random: deps.random ?? Math.random,
    sleep: deps.sleep ?? realSleep,
    cooldowns: new CooldownTracker(now),
    refreshCredential: (target) => {
      const ref = target.provider.config.apiKey;
      if (!ref) return false;
      deps.secrets.refresh?.(ref);
      return true;
    },
  });
  const pending = new Set<Promise<unknown>>();

  /** One log record per request, after the last byte; never throws into the request path. */
  function finish(ctx: RequestContext): void {
    if (!ctx.markFinished()) return;
    try {
      const t = now();
      let record: RequestLogRecord;
      try {
        record = ctx.toRecord(t, bodiesForPolicy(ctx.key?.logging ?? 'metadata', ctx.requestBody, ctx.responseBody));
      } catch (err) {
        // Whatever a body holds, the request still gets its record: without the bodies then.
        logger.error('logging the bodies failed; the record is written without them', { error: String(err), requestId: ctx.id });
        record = ctx.toRecord(t, { request: null, response: null });
      }
      const written = deps.logSink.write(boundRecordFields(record));
      // A sink that writes synchronously (the local file) leaves nothing to track.
      if (written) {
        const p = written.catch((err) => logger.error('log sink failed', { error: String(err), requestId: ctx.id }));
        pending.add(p);
        void p.finally(() => pending.delete(p));
      }
    } catch (err) {
      logger.error('building the log record failed', { error: String(err), requestId: ctx.id });
    }
  }

  async function authenticate(req: Request, ctx: RequestContext): Promise<KeyRecord> {
    let identity: Identity;
    try {
      identity = await identifier.identify(extractPresentedKey(req.headers));
    } catch (err) {
      if (err instanceof GatewayError) {
        ctx.key = rejectedKeyRecord(err); // revoked/expired: the log record still names the key
        throw err;
      }
      // The key store is unreachable: fail closed, never let an unverified request through.
      logger.error('key store unavailable', { error: String(err) });
      throw errors.unavailable('The gateway cannot verify API keys right now. Retry shortly.', 1, 'key_store_unavailable');
    }
    ctx.key = identity.key;
    ctx.identity = identity;
    ctx.userId = identity.userId;
    return identity.key;
  }

  /** The request's JSON object, noted in `ctx` for the log before validation can reject it. */
  async function readBody(req: Request, ctx: RequestContext): Promise<Record<string, unknown>> {
    const raw = await readJsonObject(req, maxBodyBytes);
    ctx.requestBody = raw;
    if (typeof raw.model === 'string') ctx.requestedModel = raw.model;
    if (ctx.identity) ctx.userId = endUserOf(ctx.identity, req.headers, raw);
    return raw;
  }

  function authorizeModel(key: KeyRecord, model: string): void {
    if (!modelAllowed(key, model)) throw errors.modelNotAllowed(model);
  }

  /** Adapter and call context for one attempt; the credential comes from config only. */
  async function providerCall(target: ResolvedTarget, { signal, firstByte }: UpstreamAttempt): Promise<{ adapter: ProviderAdapter; call: ProviderCall }> {
    const adapter = providers[target.provider.config.type];
    if (!adapter) throw new UpstreamError('http', `provider type '${target.provider.config.type}' is not available in this build`, 501, 'provider_unavailable');
    let apiKey: string | undefined;
    const ref = target.provider.config.apiKey;
    if (ref) {
      try {
        apiKey = await deps.secrets.get(ref);
      } catch {
        // Treated like an unreachable provider, so a fallback target can still serve.
        throw new UpstreamError('network', `credential for provider '${target.provider.name}' is unavailable`, 502, 'provider_credentials_unavailable');
      }
    }
    // The router's "headers arrived" hook stops a JSON call's first-byte timer.
    const timedFetch: typeof fetch = async (input, init) => {
      const res = await upstreamFetch(input, init);
      firstByte();
      return res;
    };
    return { adapter, call: { provider: target.provider, model: target.model, apiKey, signal, fetch: timedFetch } };
  }

  function gatewayHeaders(ctx: RequestContext, reservation?: Reservation): Record<string, string> {
    // The served model comes from config (or the validated request): escaped, so writing it can never throw.
    return headerSafeRecord({
      'x-request-id': ctx.id,
      ...(ctx.provider ? { 'x-gateway-provider': ctx.provider, 'x-gateway-model': ctx.model ?? '' } : {}),
      'x-gateway-cache': ctx.cache ?? 'miss',
      // Answers that end before a reservation still carry the key's rate-limit headers (last known).
      ...(reservation ? reservation.headers : ctx.key && limiter.peekHeaders ? limiter.peekHeaders(ctx.key) : {}),
    });
  }

  /**
   * Settle with what the providers may bill (the served usage plus the charge for attempts that
   * reached a provider without serving), else release. Never throws.
   */
  async function settleOrRelease(reservation: Reservation, ctx: RequestContext, ok: boolean): Promise<void> {
    try {
      const unserved = ctx.unserved;
      if (ok || ctx.promptTokens !== undefined || unserved.promptTokens + unserved.completionTokens > 0) {
        await limiter.settle(reservation, {
          tokens: (ctx.promptTokens ?? 0) + (ctx.completionTokens ?? 0) + unserved.promptTokens + unserved.completionTokens,
          costUsd: (ctx.costUsd ?? 0) + unserved.costUsd,
        });
      } else {
        await limiter.release(reservation);
      }
    } catch (err) {
      logger.error('settling a reservation failed', { error: String(err), requestId: ctx.id });
    }
  }

  /**
   * Reserve the estimated tokens, and their cost at the most expensive of the route's targets: any
   * of them may end up serving (a fallback), and a budget must not be overspent by the difference.
   * Settling charges the real usage at the price of the target that served. Any target without a
   * price is named, so a budgeted key is refused rather than spending uncounted.
   */
  function reserve(ctx: RequestContext, key: KeyRecord, route: ResolvedRoute, promptTokens: number, outputTokens: number): Promise<Reservation> {
    const estimate = { prompt_tokens: promptTokens, completion_tokens: outputTokens };
    ctx.reserved = { promptTokens, outputTokens };
    let costUsd = 0;
    let unpricedTarget: string | undefined;
    for (const t of route.targets) {
      if (!prices.priceFor(t.provider.name, t.model)) unpricedTarget ??= `${t.provider.name}/${t.model}`;
      costUsd = Math.max(costUsd, prices.cost(t.provider.name, t.model, estimate) ?? 0);
    }
    return limiter.reserve(key, { tokens: promptTokens + outputTokens, costUsd, unpricedTarget }, ctx.id, ctx.userId);
  }

  function recordUsage(ctx: RequestContext, target: ResolvedTarget, prompt: number, completion: number): void {
    ctx.promptTokens = prompt;
    ctx.completionTokens = completion;
    ctx.costUsd = prices.cost(target.provider.name, target.model, { prompt_tokens: prompt, completion_tokens: completion });
  }

  /**
   * A failed attempt the provider may still bill (it received the request: a timeout, the client
   * leaving, a cut answer) is charged at its best estimate: the prompt, plus the reserved output
   * cap for a JSON call (a stream attempt fails before any content, so it delivered none).
   */
  function chargeUnserved(ctx: RequestContext, target: ResolvedTarget, err: UpstreamError): void {
    if (!ctx.reserved || !providerMayBill(err)) return;
    const prompt = ctx.reserved.promptTokens;
    const completion = ctx.stream ? 0 : ctx.reserved.outputTokens;
    ctx.unserved.promptTokens += prompt;
    ctx.unserved.completionTokens += completion;
    ctx.unserved.costUsd += prices.cost(target.provider.name, target.model, { prompt_tokens: prompt, completion_tokens: completion }) ?? 0;
  }

  /**
   * Run the route under a held reservation. On failure the reservation is settled to what the
   * providers may bill (else released) and the provider's failure becomes the client's error
   * (carrying the rate-limit headers).
   */
  async function callRoute<T>(
    ctx: RequestContext,
    reservation: Reservation,
    route: ResolvedRoute,
    signal: AbortSignal,
    attempt: (target: ResolvedTarget, upstream: UpstreamAttempt) => Promise<T>,
  ): Promise<{ value: T; target: ResolvedTarget }> {
    try {
      // The attempt's own signal and hook go straight to it: a side table keyed by the signal kept
      // each attempt's whole closure reachable past its end as far as the young-generation GC could tell.
      const out = await router.execute(
        route,
        signal,
        ctx.attempts,
        ctx.stream,
        ({ target, signal: s, firstByte }) => attempt(target, { signal: s, firstByte }),
        (target, err) => chargeUnserved(ctx, target, err),
      );
      ctx.abortUpstream = out.abort;
      ctx.provider = out.target.provider.name;
      ctx.model = out.target.model;
      ctx.firstTokenAt = now();
      return out;
    } catch (err) {
      await settleOrRelease(reservation, ctx, false);
      if (err instanceof UpstreamError) throw Object.assign(upstreamToGatewayError(err), { reservationHeaders: reservation.headers });
      throw err;
    }
  }

  /** One chat attempt (chat completions and messages): a stream commits to its target only once it has sent real content, so errors before that can still fall back. */
  async function chatAttempt(body: ChatRequest, target: ResolvedTarget, upstream: UpstreamAttempt): Promise<ChatAttempt> {
    const { adapter, call } = await providerCall(target, upstream);
    const result = await adapter.chat({ ...body, model: target.model }, call);
    if (!result.stream) return { kind: 'json', response: result.response };
    return { kind: 'stream', peeked: await peekFirstContent(result.chunks) };
  }

  /** A whole (non-streamed) answer: record its usage, settle the reservation, respond with `body`. */
  async function respondJson(
    ctx: RequestContext,
    reservation: Reservation,
    target: ResolvedTarget,
    prompt: number,
    completion: number,
    logged: unknown,
    body: unknown,
  ): Promise<Response> {
    recordUsage(ctx, target, prompt, completion);
    ctx.responseBody = logged;
    await settleOrRelease(reservation, ctx, true);
    return jsonResponse(body, 200, gatewayHeaders(ctx, reservation));
  }

  return {
    deps,
    now,
    logger,
    catalog,
    verifier,
    finish,
    authenticate,
    readBody,
    authorizeModel,
    reserve,
    providerCall,
    gatewayHeaders,
    settleOrRelease,
    recordUsage,
    callRoute,
    chatAttempt,
    respondJson,
    async flush(): Promise<void> {
      await Promise.allSettled([...pending]);
      await deps.logSink.flush?.();
    },
  };
}
