/**
 * The response cache (ARCHITECTURE §13). Before `next()`: look the request up (exact, then
 * semantic) in its scope; a hit answers here, in the format and mode the client asked for, and
 * calls no provider. After it: a complete, successful answer is stored, once the response has
 * ended (a stream after its last byte) and only if the stream was read to its end marker: a cut,
 * failed or cancelled answer never is. Concurrent identical JSON misses in this process wait for
 * the first one's answer instead of each calling the provider.
 *
 * The cache never fails a request: a store or embedding failure (or a lookup slower than its
 * timeout) is a bypass, logged in the record's cache_error and counted in CacheErrors.
 */
import { createParser } from 'eventsource-parser';
import { BufferedResponse, jsonResponse } from '../buffered-response';
import { CACHE_CODECS, type CacheCodec } from '../cache/codecs';
import { cacheDirectives } from '../cache/directives';
import { type CacheKeyInput, exactCacheKey, scopeId } from '../cache/key';
import type { CacheEntry } from '../cache/ports';
import type { ResponseCache, SemanticPlan } from '../cache/response-cache';
import type { RouteCache } from '../cache/route-config';
import type { RequestContext } from '../request-context';
import { gatewayHeaders } from '../respond';
import type { GatewayServices } from '../services';
import type { StageFactory } from './stage';

/** What a hit's record may keep of the answer, as the endpoint's handler would have logged it. */
function loggedBody(endpoint: string, body: unknown): unknown {
  if (endpoint !== '/v1/embeddings') return body;
  const b = body as { model?: unknown; data?: unknown[] };
  return { object: 'list', model: b.model, count: Array.isArray(b.data) ? b.data.length : 0 };
}

/** Answer from a stored entry: no provider call, nothing charged but the request itself. */
function serveHit(
  s: GatewayServices,
  ctx: RequestContext,
  codec: CacheCodec,
  entry: CacheEntry,
  status: 'hit' | 'semantic-hit',
  similarity?: number,
): Response {
  ctx.cache = status;
  if (similarity !== undefined) ctx.cacheSimilarity = Number(similarity.toFixed(6));
  ctx.cacheSavedUsd = entry.costUsd ?? 0;
  ctx.provider = entry.provider;
  ctx.model = entry.model;
  ctx.firstTokenAt = s.now();
  // No tokens and no cost against the key's limits and budgets: the limits stage settles zero.
  ctx.deliver({ promptTokens: 0, completionTokens: 0, costUsd: 0 }, loggedBody(entry.endpoint, entry.body));
  const headers = gatewayHeaders(s, ctx);
  if (!ctx.stream || !codec.streams) return jsonResponse(entry.body, 200, headers);
  const raw = ctx.requestBody as { stream_options?: { include_usage?: unknown } } | undefined;
  const events = codec.replay(entry.body, { includeUsage: raw?.stream_options?.include_usage === true });
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      // One event per read, as an upstream stream arrives: a client sees several events, not one blob.
      if (i < events.length) controller.enqueue(events[i++]);
      if (i >= events.length) controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...headers } });
}

/**
 * Collects what a missed request answered, and stores it once both are known: how the response
 * ended (the end hook: status and delivered usage) and the whole answer (the JSON body, or the
 * stream assembled from the events the client was sent, read to its end).
 */
class PendingStore {
  private ended = false;
  private answer: unknown;
  private answered = false;
  private done = false;

  constructor(
    private readonly s: GatewayServices,
    private readonly cache: ResponseCache,
    private readonly ctx: RequestContext,
    private readonly codec: CacheCodec,
    private readonly id: string,
    private readonly routeCache: RouteCache,
    private readonly ttlSeconds: number,
    private readonly semantic: SemanticPlan | undefined,
    /** Releases concurrent identical requests waiting on this one (once). */
    private readonly settleFlight: ((entry: CacheEntry | undefined) => void) | undefined,
  ) {}

  /** The response ended (end hook). */
  end(): void {
    this.ended = true;
    this.tryStore();
  }

  /** The whole answer, or undefined when there is none worth storing (cut, failed, unreplayable). */
  answeredWith(body: unknown): void {
    this.answered = true;
    this.answer = body;
    this.tryStore();
  }

  /** Nothing will be stored (an error, a cancelled stream): release any waiting requests. */
  abandon(): void {
    this.finish(undefined);
  }

  private tryStore(): void {
    if (this.done || !this.ended || !this.answered) return;
    const { ctx } = this;
    if (ctx.status !== 200 || this.answer === undefined || !ctx.usage || !ctx.provider) {
      this.finish(undefined);
      return;
    }
    const usage = this.codec.usage(this.answer) ?? { promptTokens: ctx.usage.promptTokens, completionTokens: ctx.usage.completionTokens };
    const body = this.codec.withUsage(this.answer, usage);
    const now = this.s.now();
    const entry: CacheEntry = {
      id: this.id,
      endpoint: ctx.path,
      body,
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      costUsd: ctx.usage.costUsd,
      provider: ctx.provider,
      model: ctx.model ?? '',
      requestedModel: ctx.call?.model ?? '',
      keyId: ctx.key?.id ?? '',
      team: ctx.key?.team ?? null,
      createdAt: now,
      expiresAt: Math.floor(now / 1000) + this.ttlSeconds,
    };
    this.cache.store(entry, this.semantic, this.codec.callsTools(body), this.routeCache.config.semantic?.embeddingModel);
    this.finish(entry);
  }

  private finish(entry: CacheEntry | undefined): void {
    if (this.done) return;
    this.done = true;
    this.settleFlight?.(entry);
  }
}

/** The stream as the client reads it, assembled on the side; the answer is complete only if read to its end. */
function observeStream(res: Response, codec: CacheCodec, pending: PendingStore): Response {
  const source = res.body;
  if (!source) {
    pending.answeredWith(undefined);
    return res;
  }
  const assembler = codec.assembler();
  const parser = createParser({ onEvent: (e) => assembler.event(e) });
  const decoder = new TextDecoder();
  const reader = source.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (err) {
        pending.abandon();
        throw err;
      }
      if (r.done) {
        parser.feed(decoder.decode());
        pending.answeredWith(assembler.result());
        controller.close();
        return;
      }
      parser.feed(decoder.decode(r.value, { stream: true }));
      controller.enqueue(r.value);
    },
    async cancel(reason) {
      pending.abandon();
      await reader.cancel(reason);
    },
  });
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

/** A JSON answer's body as the client receives it. */
async function jsonBodyOf(res: Response): Promise<unknown> {
  if (res.status !== 200) return undefined;
  const text = res instanceof BufferedResponse ? res.buffered.toString('utf8') : await res.clone().text();
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const cacheStage: StageFactory = (s) => async (ctx, next) => {
  const codec = CACHE_CODECS[ctx.path];
  const { call, route, key } = ctx;
  if (!codec || !call || !route || !key) return next();
  const routeCache = s.cacheConfigs.for(route);
  const cache = s.cache;
  if (routeCache.config.mode === 'off' || !cache) {
    ctx.cache = 'off';
    return next();
  }
  const directives = cacheDirectives(ctx.request.headers, routeCache.config.ttlSeconds);
  if (!directives.lookup && !directives.store) {
    ctx.cache = 'bypass';
    return next();
  }
  const keyInput: CacheKeyInput = {
    endpoint: ctx.path,
    body: ctx.requestBody as Record<string, unknown>,
    // The guard policies that apply shape the answer (an output policy withholds or redacts it): an
    // entry is only ever served to requests under the same policies.
    routeFingerprint: ctx.guardSet?.policies.length
      ? `${routeCache.fingerprint}|guard:${ctx.guardSet.policies.map((p) => p.name).join(',')}`
      : routeCache.fingerprint,
    scope: scopeId(routeCache.config.scope, key),
    headers: ctx.request.headers,
  };
  const id = exactCacheKey(keyInput);
  let semantic: SemanticPlan | undefined;
  if (directives.lookup) {
    const found = await cache.lookup({ id, key: keyInput, config: routeCache.config, mayFollow: !ctx.stream });
    if (found.status === 'hit') return serveHit(s, ctx, codec, found.entry, 'hit');
    if (found.status === 'semantic-hit') return serveHit(s, ctx, codec, found.entry, 'semantic-hit', found.similarity);
    // An identical request is already asking upstream (it may have started while this one looked
    // up): its answer serves this one too. Streams do not wait: their first byte would come late.
    const flight = found.flight ?? (ctx.stream ? undefined : cache.flights.following(id));
    if (flight) {
      const entry = await flight.result;
      if (entry) return serveHit(s, ctx, codec, entry, 'hit');
    }
    ctx.cache = found.status;
    if (found.error) ctx.cacheError = found.error;
    semantic = found.semantic;
  } else {
    ctx.cache = 'bypass';
    semantic = cache.semanticPlan({ key: keyInput, config: routeCache.config });
  }
  if (!directives.store) return next();
  const settleFlight = cache.flights.following(id) ? undefined : cache.flights.lead(id);
  const pending = new PendingStore(s, cache, ctx, codec, id, routeCache, directives.ttlSeconds, semantic, settleFlight);
  ctx.onEnd(() => pending.end());
  let res: Response;
  try {
    res = await next();
  } catch (err) {
    pending.abandon();
    throw err;
  }
  // A whole answer is a BufferedResponse (the JSON path builds nothing else); anything else is read as a stream if it is one.
  if (res instanceof BufferedResponse || res.headers.get('content-type')?.startsWith('text/event-stream') !== true) {
    pending.answeredWith(await jsonBodyOf(res));
    return res;
  }
  return observeStream(res, codec, pending);
};
