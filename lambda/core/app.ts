/**
 * The gateway core: a transport-agnostic fetch-style app (Request → Response). The Node http
 * server and the Lambda streaming handler are thin adapters around `gateway.fetch`.
 *
 * Every endpoint (handlers/) runs inside the one list of stages (stages/index.ts): log, identify,
 * parse, authorize the model, limits, … then the endpoint's handler, which calls the router and
 * the provider adapters. Errors are rendered by the log stage, in one place.
 */
import { jsonResponse } from './buffered-response';
import type { ResponseCache } from './cache/response-cache';
import type { Endpoint } from './endpoint';
import { type ErrorFormat, GatewayError, errors, renderError, toGatewayError } from './errors';
import { ENDPOINTS, type EndpointFactory } from './handlers';
import type { KeyVerifier } from './keys';
import type { ModelCatalog } from './models';
import { type ClientInfo, RequestContext } from './request-context';
import { newRequestId } from './request-id';
import { type GatewayDeps, createServices } from './services';
import { STAGES, type StageFactory, compose } from './stages';
import { logStage } from './stages/log';
import type { Innermost } from './stages/stage';
import { pathOf } from './url-path';
import { isUiPath, serveUi } from './usage/ui-assets';
import { type LimitsReader, type UsageApi, createUsageApi } from './usage/usage-api';

export type { GatewayDeps } from './services';

export interface GatewayOptions {
  /** The stage list every endpoint runs in, outermost first. @default STAGES */
  readonly stages?: readonly StageFactory[];
  /** The endpoints. @default ENDPOINTS */
  readonly endpoints?: readonly EndpointFactory[];
}

export interface Gateway {
  fetch(req: Request, client?: ClientInfo): Promise<Response>;
  readonly verifier: KeyVerifier;
  readonly catalog: ModelCatalog;
  /** The response cache, when the gateway has a store for it (the local admin API purges through it). */
  readonly cache?: ResponseCache;
  /** Wait for pending log writes and cache stores (Lambda calls this before the invocation ends). */
  flush(): Promise<void>;
}

/**
 * Matchers for the paths with an id: `{id}` is one path segment, `{id*}` the rest of the path (a
 * model id may hold '/'). Longest template first, so `/v1/responses/{id}/input_items` wins.
 */
function routeTemplates(paths: readonly string[]): { template: string; pattern: RegExp }[] {
  return paths
    .filter((p) => p.includes('{'))
    .sort((a, b) => b.length - a.length)
    .map((template) => {
      const source = template
        .split(/(\{id\*?\})/)
        .map((part) => (part === '{id}' ? '[^/]+' : part === '{id*}' ? '.+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('');
      return { template, pattern: new RegExp(`^${source}$`) };
    });
}

/** Errors of a path no endpoint serves: Anthropic's shape under /v1/messages, OpenAI's elsewhere. */
const unroutedErrorFormat = (path: string): ErrorFormat => (path.startsWith('/v1/messages') ? 'anthropic' : 'openai');

export function createGateway(deps: GatewayDeps & GatewayOptions): Gateway {
  const s = createServices(deps);
  const newId = deps.newRequestId ?? newRequestId;
  const stages = (deps.stages ?? STAGES).map((make) => make(s));

  /** path (or template) → method → the endpoint with its stages composed around it (once, not per request). */
  const routes = new Map<string, Map<string, { endpoint: Endpoint; run: Innermost }>>();
  for (const make of deps.endpoints ?? ENDPOINTS) {
    for (const endpoint of [make(s)].flat()) {
      const run = compose(stages, (ctx) => endpoint.handle(ctx, ctx.call));
      if (!routes.has(endpoint.path)) routes.set(endpoint.path, new Map());
      routes.get(endpoint.path)!.set(endpoint.method, { endpoint, run });
    }
  }
  const templates = routeTemplates([...routes.keys()]);
  // A path or method no endpoint serves is still logged, before any key check (404/405, as always).
  const rawPath = (ctx: RequestContext) => pathOf(ctx.request.url).replace(/\/+$/, '') || '/';
  const notFound = compose([logStage(s)], (ctx) => {
    throw errors.notFound(ctx.request.method, rawPath(ctx));
  });
  const methodNotAllowed = compose([logStage(s)], (ctx) => {
    throw errors.methodNotAllowed(ctx.request.method, rawPath(ctx));
  });

  const usageApi: UsageApi | undefined = deps.usageRollups
    ? createUsageApi({
        rollups: deps.usageRollups,
        keyStore: deps.keyStore,
        verifier: s.verifier,
        limits: deps.limiter && 'usage' in deps.limiter ? (deps.limiter as unknown as LimitsReader) : undefined,
        now: s.now,
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
      if (!(err instanceof GatewayError)) s.logger.error('usage request failed', { error: err instanceof Error ? err.stack : String(err), requestId });
      return renderError(toGatewayError(err), 'openai', { 'x-request-id': requestId, 'cache-control': 'no-store' });
    }
  }

  async function handle(req: Request, client?: ClientInfo): Promise<Response> {
    const path = pathOf(req.url).replace(/\/+$/, '') || '/';
    if (path === '/health' && (req.method === 'GET' || req.method === 'HEAD')) {
      return jsonResponse({ status: 'ok' }, 200);
    }
    if (isUiPath(pathOf(req.url)) && deps.uiAssets && (req.method === 'GET' || req.method === 'HEAD')) return serveUi(pathOf(req.url), deps.uiAssets);
    if (path === '/v1/usage') return usage(req);
    // The log record names the route, not the id in it.
    const template = routes.has(path) ? path : (templates.find((t) => t.pattern.test(path))?.template ?? path);
    const methods = routes.get(template);
    const route = methods?.get(req.method);
    const ctx = new RequestContext({
      id: newId(),
      startedAt: s.now(),
      path: template.replace('{id*}', '{id}'),
      endpoint: route?.endpoint,
      request: req,
      errorFormat: route ? (route.endpoint.errorFormat ?? 'openai') : unroutedErrorFormat(path),
      userAgent: req.headers.get('user-agent'),
      clientIp: client?.clientIp ?? null,
      logger: s.logger,
    });
    return (route?.run ?? (methods ? methodNotAllowed : notFound))(ctx);
  }

  const flush = async () => {
    await s.cache?.flush();
    await s.logWriter.flush();
  };
  return { fetch: handle, verifier: s.verifier, catalog: s.catalog, cache: s.cache, flush };
}
