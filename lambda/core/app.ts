/**
 * The gateway core: a transport-agnostic fetch-style app (Request → Response). The Node http
 * server and the Lambda streaming handler are thin adapters around `gateway.fetch`.
 *
 * Pipeline: request id → authenticate → parse/validate → resolve + authorize model → reserve
 * limits → router (targets, retries, fallback) → provider adapter → respond (JSON or SSE) →
 * settle + log after the last byte.
 */
import { randomUUID } from 'node:crypto';
import type { GatewayConfig } from './config';
import { DEFAULT_MAX_BODY_BYTES, readJsonObject } from './body';
import { type ErrorFormat, GatewayError, errors, renderError, toGatewayError } from './errors';
import { KeyVerifier, type KeyRecord, type KeyStore, extractPresentedKey, modelAllowed } from './keys';
import type { LogSink } from './log-record';
import { ModelCatalog, type ResolvedTarget } from './models';
import { type Limiter, type Logger, type Reservation, type SecretSource, silentLogger, unlimited } from './ports';
import { PriceTable } from './pricing';
import { type ClientInfo, RequestContext } from './request-context';
import { Router, type RouterDeps, realSleep } from './router';
import { encodeSseData } from './sse';
import { peekFirstContent } from './stream';
import { estimateEmbeddingTokens, estimatePromptTokens, estimateTextTokens } from './tokens';
import { upstreamToGatewayError } from './upstream-errors';
import { validateChatRequest, validateEmbeddingsRequest } from './validate';
import { builtinProviders, type ProviderRegistry } from '../providers/registry';
import {
  type ChatCompletionChunk,
  type ChatRequest,
  type ProviderAdapter,
  type ProviderCall,
  UpstreamError,
} from '../providers/types';
import { bodiesForPolicy } from './logging-policy';

/** Output tokens reserved when the client sets no max_tokens (settled to real usage afterwards). */
export const DEFAULT_OUTPUT_RESERVATION = 4096;

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
}

export interface Gateway {
  fetch(req: Request, client?: ClientInfo): Promise<Response>;
  readonly verifier: KeyVerifier;
  readonly catalog: ModelCatalog;
  /** Wait for pending log writes (Lambda calls this before the invocation ends). */
  flush(): Promise<void>;
}

type Handler = (req: Request, ctx: RequestContext) => Promise<Response>;

export function createGateway(deps: GatewayDeps): Gateway {
  const now = deps.now ?? Date.now;
  const logger = deps.logger ?? silentLogger;
  const limiter = deps.limiter ?? unlimited;
  const providers: ProviderRegistry = { ...builtinProviders, ...deps.providers };
  const upstreamFetch = deps.fetch ?? globalThis.fetch;
  const settings = deps.config.settings ?? {};
  const maxBody = settings.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const catalog = new ModelCatalog(deps.config);
  const prices = new PriceTable(deps.config.pricing);
  const verifier = new KeyVerifier(deps.keyStore, { cacheTtlMs: settings.keyCacheTtlMs ?? 5_000, now });
  const router = new Router({ now, random: deps.random ?? Math.random, sleep: deps.sleep ?? realSleep });
  const newId = deps.newRequestId ?? (() => 'req_' + randomUUID().replace(/-/g, ''));
  const pending = new Set<Promise<unknown>>();

  // ---- finishing: one log record per request, after the last byte ----
  function finish(ctx: RequestContext): void {
    if (!ctx.markFinished()) return;
    try {
      const bodies = bodiesForPolicy(ctx.key?.logging ?? 'metadata', ctx.requestBody, ctx.responseBody);
      const record = ctx.toRecord(now(), bodies);
      const p = Promise.resolve(deps.logSink.write(record)).catch((err) => logger.error('log sink failed', { error: String(err), requestId: ctx.id }));
      pending.add(p);
      p.finally(() => pending.delete(p));
    } catch (err) {
      logger.error('building the log record failed', { error: String(err), requestId: ctx.id });
    }
  }

  async function authenticate(req: Request, ctx: RequestContext): Promise<KeyRecord> {
    let key: KeyRecord;
    try {
      key = await verifier.verify(extractPresentedKey(req.headers));
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      // The key store is unreachable: fail closed, never let an unverified request through.
      logger.error('key store unavailable', { error: String(err) });
      throw errors.unavailable('The gateway cannot verify API keys right now. Retry shortly.', 1, 'key_store_unavailable');
    }
    ctx.key = key;
    return key;
  }

  function authorizeModel(key: KeyRecord, model: string) {
    if (!modelAllowed(key, model)) throw errors.modelNotAllowed(model);
  }

  async function providerCall(target: ResolvedTarget, signal: AbortSignal): Promise<{ adapter: ProviderAdapter; call: ProviderCall }> {
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
    return { adapter, call: { provider: target.provider, model: target.model, apiKey, signal, fetch: upstreamFetch } };
  }

  function gatewayHeaders(ctx: RequestContext, reservation?: Reservation): Record<string, string> {
    return {
      'x-request-id': ctx.id,
      ...(ctx.provider ? { 'x-gateway-provider': ctx.provider, 'x-gateway-model': ctx.model ?? '' } : {}),
      'x-gateway-cache': ctx.cache ?? 'miss',
      ...reservation?.headers,
    };
  }

  async function settleOrRelease(reservation: Reservation, ctx: RequestContext, ok: boolean) {
    try {
      if (ok || ctx.promptTokens !== undefined) {
        await limiter.settle(reservation, { tokens: (ctx.promptTokens ?? 0) + (ctx.completionTokens ?? 0), costUsd: ctx.costUsd ?? 0 });
      } else {
        await limiter.release(reservation);
      }
    } catch (err) {
      logger.error('settling a reservation failed', { error: String(err), requestId: ctx.id });
    }
  }

  function recordUsage(ctx: RequestContext, target: ResolvedTarget, prompt: number, completion: number) {
    ctx.promptTokens = prompt;
    ctx.completionTokens = completion;
    ctx.costUsd = prices.cost(target.provider.name, target.model, { prompt_tokens: prompt, completion_tokens: completion });
  }

  // ---- /v1/chat/completions ----
  const chatCompletions: Handler = async (req, ctx) => {
    const key = await authenticate(req, ctx);
    const raw = await readJsonObject(req, maxBody);
    ctx.requestBody = raw;
    if (typeof raw.model === 'string') ctx.requestedModel = raw.model;
    ctx.stream = raw.stream === true;
    const body = validateChatRequest(raw);
    const route = catalog.route(body.model);
    authorizeModel(key, body.model);

    const promptEstimate = estimatePromptTokens(body);
    const outputCap = body.max_completion_tokens ?? body.max_tokens ?? DEFAULT_OUTPUT_RESERVATION;
    const first = route.targets[0];
    const estimateCost = prices.cost(first.provider.name, first.model, { prompt_tokens: promptEstimate, completion_tokens: outputCap }) ?? 0;
    const reservation = await limiter.reserve(key, { tokens: promptEstimate + outputCap, costUsd: estimateCost }, ctx.id);

    const clientWantsUsage = body.stream_options?.include_usage === true;
    let outcome;
    try {
      outcome = await router.execute(route, req.signal, ctx.attempts, ctx.stream, async ({ target, signal }) => {
        const { adapter, call } = await providerCall(target, signal);
        const result = await adapter.chat({ ...body, model: target.model } as ChatRequest, call);
        if (!result.stream) return { kind: 'json' as const, response: result.response };
        return { kind: 'stream' as const, peeked: await peekFirstContent(result.chunks), signal };
      });
    } catch (err) {
      await settleOrRelease(reservation, ctx, false);
      if (err instanceof UpstreamError) throw Object.assign(upstreamToGatewayError(err), { reservationHeaders: reservation.headers });
      throw err;
    }
    const target = outcome.target;
    ctx.provider = target.provider.name;
    ctx.model = target.model;
    ctx.firstTokenAt = now();

    if (outcome.value.kind === 'json') {
      const response = outcome.value.response;
      const usage = response.usage;
      const completionFallback = estimateTextTokens(JSON.stringify(response.choices.map((c) => c.message)));
      recordUsage(ctx, target, usage?.prompt_tokens ?? promptEstimate, usage?.completion_tokens ?? completionFallback);
      ctx.responseBody = response;
      await settleOrRelease(reservation, ctx, true);
      return new Response(JSON.stringify(response), { status: 200, headers: { 'content-type': 'application/json', ...gatewayHeaders(ctx, reservation) } });
    }

    // ---- streaming: status is committed now, after the first content event ----
    const { peeked } = outcome.value;
    const queue: ChatCompletionChunk[] = [...peeked.buffered];
    let upstreamDone = peeked.ended;
    let deliveredText = 0;
    let usageSeen: { prompt_tokens: number; completion_tokens: number } | undefined;
    const collected: string[] = [];

    const endWith = async (status: number, errorCode?: string) => {
      ctx.status = status;
      if (errorCode) ctx.errorCode = errorCode;
      if (usageSeen) recordUsage(ctx, target, usageSeen.prompt_tokens, usageSeen.completion_tokens);
      else recordUsage(ctx, target, promptEstimate, Math.ceil(deliveredText / 4));
      ctx.responseBody = collected.join('');
      await settleOrRelease(reservation, ctx, true);
      finish(ctx);
    };

    const nextChunk = async (): Promise<ChatCompletionChunk | undefined> => {
      if (queue.length) return queue.shift();
      if (upstreamDone) return undefined;
      const r = await peeked.rest.next();
      if (r.done) {
        upstreamDone = true;
        return undefined;
      }
      return r.value;
    };

    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          for (;;) {
            const chunk = await nextChunk();
            if (!chunk) {
              controller.enqueue(encodeSseData('[DONE]'));
              controller.close();
              await endWith(200);
              return;
            }
            if (chunk.usage) usageSeen = chunk.usage;
            // The gateway always asks upstream for usage; hide that extra chunk from clients that did not.
            if (!clientWantsUsage && chunk.choices.length === 0 && chunk.usage) continue;
            if (!clientWantsUsage && chunk.usage) chunk.usage = undefined;
            for (const c of chunk.choices) {
              if (typeof c.delta?.content === 'string') {
                deliveredText += c.delta.content.length;
                collected.push(c.delta.content);
              }
              if (c.delta?.tool_calls) deliveredText += JSON.stringify(c.delta.tool_calls).length;
            }
            controller.enqueue(encodeSseData(chunk));
            return;
          }
        } catch (err) {
          // A stream that fails after its first byte ends with an in-band error and no [DONE]:
          // it must never look complete.
          const gw = err instanceof UpstreamError ? upstreamToGatewayError(err) : toGatewayError(err);
          if (err instanceof UpstreamError) ctx.attempts.push({ provider: target.provider.name, model: target.model, status: err.status ?? null, latency_ms: now() - ctx.startedAt, error: `${err.kind}: ${err.message}`.slice(0, 500) });
          else logger.error('stream failed', { error: String(err), requestId: ctx.id });
          controller.enqueue(encodeSseData({ error: { message: gw.message, type: gw.type, code: gw.code, param: null } }));
          controller.close();
          await endWith(gw.status, gw.code);
        }
      },
      async cancel() {
        // The client went away: stop the upstream call and record what was delivered.
        await peeked.rest.return?.(undefined).catch(() => undefined);
        await endWith(499, 'client_cancelled');
      },
    });
    return new Response(stream, {
      status: 200,
      headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', ...gatewayHeaders(ctx, reservation) },
    });
  };

  // ---- /v1/embeddings ----
  const embeddings: Handler = async (req, ctx) => {
    const key = await authenticate(req, ctx);
    const raw = await readJsonObject(req, maxBody);
    ctx.requestBody = raw;
    if (typeof raw.model === 'string') ctx.requestedModel = raw.model;
    const body = validateEmbeddingsRequest(raw);
    const route = catalog.route(body.model);
    authorizeModel(key, body.model);
    const estimate = estimateEmbeddingTokens(body.input);
    const reservation = await limiter.reserve(key, { tokens: estimate, costUsd: 0 }, ctx.id);
    let outcome;
    try {
      outcome = await router.execute(route, req.signal, ctx.attempts, false, async ({ target, signal }) => {
        const { adapter, call } = await providerCall(target, signal);
        if (!adapter.embeddings) throw new UpstreamError('http', `provider '${target.provider.name}' does not offer embeddings`, 400, 'embeddings_unsupported');
        return adapter.embeddings({ ...body, model: target.model }, call);
      });
    } catch (err) {
      await settleOrRelease(reservation, ctx, false);
      if (err instanceof UpstreamError) throw Object.assign(upstreamToGatewayError(err), { reservationHeaders: reservation.headers });
      throw err;
    }
    ctx.provider = outcome.target.provider.name;
    ctx.model = outcome.target.model;
    ctx.firstTokenAt = now();
    recordUsage(ctx, outcome.target, outcome.value.usage?.prompt_tokens ?? estimate, 0);
    ctx.responseBody = { object: 'list', model: outcome.value.model, count: outcome.value.data.length };
    await settleOrRelease(reservation, ctx, true);
    return new Response(JSON.stringify(outcome.value), { status: 200, headers: { 'content-type': 'application/json', ...gatewayHeaders(ctx, reservation) } });
  };

  // ---- /v1/models ----
  const models: Handler = async (req, ctx) => {
    const key = await authenticate(req, ctx);
    const data = catalog
      .names()
      .filter((name) => modelAllowed(key, name))
      .map((id) => ({ id, object: 'model', created: 0, owned_by: catalog.route(id).targets[0].provider.name }));
    return new Response(JSON.stringify({ object: 'list', data }), { status: 200, headers: { 'content-type': 'application/json', 'x-request-id': ctx.id } });
  };

  const routes: Record<string, Partial<Record<string, Handler>>> = {
    '/v1/chat/completions': { POST: chatCompletions },
    '/v1/embeddings': { POST: embeddings },
    '/v1/models': { GET: models },
  };

  async function handle(req: Request, client?: ClientInfo): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/health' && (req.method === 'GET' || req.method === 'HEAD')) {
      return new Response(JSON.stringify({ status: 'ok' }), { status: 200, headers: { 'content-type': 'application/json' } });
    }
    const format: ErrorFormat = path.startsWith('/v1/messages') ? 'anthropic' : 'openai';
    const ctx = new RequestContext(newId(), now(), path, req.headers.get('user-agent'), client?.clientIp ?? null);
    try {
      const methods = routes[path];
      const handler = methods?.[req.method];
      if (!handler) throw methods ? errors.methodNotAllowed(req.method, path) : errors.notFound(req.method, path);
      const res = await handler(req, ctx);
      if (!ctx.stream || !res.body || res.headers.get('content-type')?.startsWith('application/json')) {
        ctx.status = res.status;
        finish(ctx);
      }
      return res;
    } catch (err) {
      const gw = toGatewayError(err);
      if (!(err instanceof GatewayError)) logger.error('unhandled error', { error: err instanceof Error ? err.stack : String(err), requestId: ctx.id });
      ctx.fail(gw);
      finish(ctx);
      const extra = (err as { reservationHeaders?: Record<string, string> }).reservationHeaders ?? {};
      return renderError(gw, format, { ...gatewayHeaders(ctx), ...extra });
    }
  }

  return {
    fetch: handle,
    verifier,
    catalog,
    async flush() {
      await Promise.allSettled([...pending]);
      await deps.logSink.flush?.();
    },
  };
}
