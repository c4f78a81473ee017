/**
 * The gateway core: a transport-agnostic fetch-style app (Request → Response). The Node http
 * server and the Lambda streaming handler are thin adapters around `gateway.fetch`.
 *
 * Pipeline (pipeline.ts): request id → authenticate → parse/validate → resolve + authorize model
 * → reserve limits → router (targets, retries, fallback) → provider adapter → respond (JSON or
 * SSE) → settle + log after the last byte. Errors are rendered here, in one place.
 */
import { BufferedResponse, jsonResponse } from './buffered-response';
import { randomUUID } from 'node:crypto';
import { pathOf } from './url-path';
import { type ErrorFormat, GatewayError, errors, renderError, toGatewayError } from './errors';
import type { KeyVerifier } from './keys';
import type { LimitsReader } from './usage/usage-api';
import type { ModelCatalog } from './models';
import { type GatewayDeps, createPipeline } from './pipeline';
import { type ClientInfo, RequestContext } from './request-context';
import { chatCompletionsHandler } from './handlers/chat-completions';
import { embeddingsHandler } from './handlers/embeddings';
import { modelsHandler } from './handlers/models';
import { messagesHandler } from './handlers/messages';
import { countTokensHandler } from './handlers/count-tokens';
import { modelHandler } from './handlers/model';
import { responsesHandlers } from './handlers/responses';
import type { Handler } from './handlers/types';
import { type UsageApi, createUsageApi } from './usage/usage-api';
import { isUiPath, serveUi } from './usage/ui-assets';

export type { GatewayDeps } from './pipeline';

export interface Gateway {
  fetch(req: Request, client?: ClientInfo): Promise<Response>;
  readonly verifier: KeyVerifier;
  readonly catalog: ModelCatalog;
  /** Wait for pending log writes (Lambda calls this before the invocation ends). */
  flush(): Promise<void>;
}

export function createGateway(deps: GatewayDeps): Gateway {
  const p = createPipeline(deps);
  const newId = deps.newRequestId ?? (() => 'req_' + randomUUID().replace(/-/g, ''));

  const responses = responsesHandlers(p);
  const routes: Record<string, Partial<Record<string, Handler>>> = {
    '/v1/chat/completions': { POST: chatCompletionsHandler(p) },
    '/v1/embeddings': { POST: embeddingsHandler(p) },
    '/v1/models': { GET: modelsHandler(p) },
    '/v1/models/{id}': { GET: modelHandler(p) },
    '/v1/messages': { POST: messagesHandler(p) },
    '/v1/messages/count_tokens': { POST: countTokensHandler(p) },
    '/v1/responses': { POST: responses.create },
    '/v1/responses/{id}': { GET: responses.get, DELETE: responses.remove },
    '/v1/responses/{id}/input_items': { GET: responses.inputItems },
  };

  const usageApi: UsageApi | undefined = deps.usageRollups
    ? createUsageApi({
        rollups: deps.usageRollups,
        keyStore: deps.keyStore,
        verifier: p.verifier,
        limits: deps.limiter && 'usage' in deps.limiter ? (deps.limiter as unknown as LimitsReader) : undefined,
        now: p.now,
      })
    : undefined;

  /** `GET /v1/usage`: the presented key's usage, or (admin credential) any key's or team's. Not an LLM call: no record. */
  async function usage(req: Request): Promise<Response> {
    const requestId = newId();
    try {
      if (!usageApi) throw errors.notFound(req.method, '/v1/usage');
      if (req.method !== 'GET') throw errors.methodNotAllowed(req.method, '/v1/usage');
      const params = new URL(req.url, 'http://gateway').searchParams;
      const view = (await deps.isUsageAdmin?.(req)) ? await usageApi.forAdmin(params) : await usageApi.forKey(req, params);
      return jsonResponse(view, 200, { 'x-request-id': requestId, 'cache-control': 'no-store' });
    } catch (err) {
      if (!(err instanceof GatewayError)) p.logger.error('usage request failed', { error: err instanceof Error ? err.stack : String(err), requestId });
      return renderError(toGatewayError(err), 'openai', { 'x-request-id': requestId, 'cache-control': 'no-store' });
    }
  }

  /** The route template a path matches: exact paths first, then the ones with an id (a model id may hold '/'). */
  function templateOf(path: string): string {
    if (routes[path]) return path;
    if (/^\/v1\/responses\/[^/]+\/input_items$/.test(path)) return '/v1/responses/{id}/input_items';
    if (/^\/v1\/responses\/[^/]+$/.test(path)) return '/v1/responses/{id}';
    if (path.startsWith('/v1/models/') && path.length > '/v1/models/'.length) return '/v1/models/{id}';
    return path;
  }

  async function handle(req: Request, client?: ClientInfo): Promise<Response> {
    const path = pathOf(req.url).replace(/\/+$/, '') || '/';
    if (path === '/health' && (req.method === 'GET' || req.method === 'HEAD')) {
      return jsonResponse({ status: 'ok' }, 200);
    }
    if (isUiPath(pathOf(req.url)) && deps.uiAssets && (req.method === 'GET' || req.method === 'HEAD')) return serveUi(pathOf(req.url), deps.uiAssets);
    if (path === '/v1/usage') return usage(req);
    const format: ErrorFormat = path.startsWith('/v1/messages') ? 'anthropic' : 'openai';
    // The log record names the route, not the id in it.
    const template = templateOf(path);
    const ctx = new RequestContext(newId(), p.now(), template, req.headers.get('user-agent'), client?.clientIp ?? null);
    try {
      const methods = routes[template];
      const handler = methods?.[req.method];
      if (!handler) throw methods ? errors.methodNotAllowed(req.method, path) : errors.notFound(req.method, path);
      const res = await handler(req, ctx);
      // Streams finish (settle + log) after their last byte; everything else finishes now.
      if (res instanceof BufferedResponse || !res.headers.get('content-type')?.startsWith('text/event-stream')) {
        ctx.status = res.status;
        p.finish(ctx);
      }
      return res;
    } catch (err) {
      const gw = toGatewayError(err);
      if (!(err instanceof GatewayError)) p.logger.error('unhandled error', { error: err instanceof Error ? err.stack : String(err), requestId: ctx.id });
      ctx.fail(gw);
      p.finish(ctx);
      const extra = (err as { reservationHeaders?: Record<string, string> }).reservationHeaders ?? {};
      return renderError(gw, format, { ...p.gatewayHeaders(ctx), ...extra });
    }
  }

  return { fetch: handle, verifier: p.verifier, catalog: p.catalog, flush: p.flush };
}
