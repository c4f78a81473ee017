/**
 * What one request has learned on its way through the stages (stages/index.ts), as typed fields.
 * Each field is set in one place, named beside it; the log stage turns the whole into exactly one
 * record after the response's end, whatever the response was (JSON, stream, error, client gone).
 *
 * The response's end is one mechanism for every kind of answer: a stage that needs it (settling a
 * reservation, writing the record, later storing a cache entry) registers `onEnd` before calling
 * `next()`, and the hooks run once, innermost stage first, when the response has ended: for a
 * buffered answer or an error when the stages have returned it, for a stream after its last byte
 * (or when the client left). By then `usage` holds what was delivered.
 */
import type { Endpoint, ModelCall } from './endpoint';
import type { ErrorFormat } from './errors';
import type { GuardAction, GuardSet } from './guard/engine';
import type { Identity } from './identity/identify';
import type { KeyRecord } from './keys';
import type { AttemptLog, RequestLogRecord } from './log-record';
import type { ResolvedRoute } from './models';
import type { RouteEvents } from './router';
import type { Logger, Reservation } from './ports';
import { redactSecrets } from './redaction';
import type { PeekedStream } from './stream';
import type { ChatCompletion } from '../apischema/openai';

export interface ClientInfo {
  readonly clientIp?: string;
}

/** What the response delivered, as the provider reported it (or as estimated when it did not). */
export interface DeliveredUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** Null when the serving target has no price. */
  readonly costUsd: number | null;
}

/** How the response ended: its status as the client saw it, and the gateway's error code if it failed. */
export interface ResponseEnd {
  readonly status: number;
  readonly errorCode?: string;
}

/**
 * A stage's transform of the canonical chat answer, applied by the endpoint handler after the
 * router committed to a target and before the answer is encoded in the client's wire format (so
 * one transform serves chat completions, messages and responses, JSON and streams alike).
 */
export interface AnswerFilter {
  /** A whole answer. */
  json(answer: ChatCompletion): Promise<ChatCompletion>;
  /** A stream: wraps the committed chunk stream (lazily: nothing is read here). */
  stream(answer: PeekedStream): PeekedStream;
}

/** Runs once when the response has ended; `ctx` then holds its status, usage and bodies. */
export type EndHook = (ctx: RequestContext) => void | Promise<void>;

export interface RequestContextInit {
  readonly id: string;
  readonly startedAt: number;
  /** The request path (the record's `endpoint`). */
  readonly path: string;
  /** The endpoint the path and method name; absent when none does (the request is answered 404/405). */
  readonly endpoint?: Endpoint;
  /** The client's request. @default - a request with no body, for contexts built outside the app (tests) */
  readonly request?: Request;
  readonly errorFormat?: ErrorFormat;
  readonly userAgent?: string | null;
  readonly clientIp?: string | null;
  /** Where a failing end hook is reported. */
  readonly logger?: Logger;
}

export class RequestContext {
  readonly id: string;
  readonly startedAt: number;
  readonly path: string;
  readonly endpoint?: Endpoint;
  readonly request: Request;
  /** The wire format errors are answered in (OpenAI's, or Anthropic's on /v1/messages). */
  readonly errorFormat: ErrorFormat;
  readonly userAgent: string | null;
  readonly clientIp: string | null;

  /** identify stage (for a revoked or expired key too, so the record names it). */
  key?: KeyRecord;
  /** identify stage: how the caller proved who it is (its key, or a JWT of the key's OIDC application). */
  identity?: Identity;
  /**
   * The end user (ARCHITECTURE §15): the identify stage names the token's user; the parse stage
   * may name it from the request (x-gateway-user, the body's user) on a key that trusts it.
   */
  userId?: string;
  /** parse stage: the JSON body as received (the record's request_body). */
  requestBody?: unknown;
  /** parse stage: the body's `model`, before validation can reject the rest. */
  requestedModel?: string;
  /** parse stage: the client asked for a stream. */
  stream = false;
  /** parse stage: the validated request and what it asks of a model (absent on endpoints that call none). */
  call?: ModelCall;
  /** authorize-model stage: the configured route the model names. */
  route?: ResolvedRoute;
  /** limits stage: the held reservation (its rate-limit headers go on every answer, errors too). */
  reservation?: Reservation;
  /** The router, for every upstream attempt (and every target it passed over). */
  readonly attempts: AttemptLog[] = [];
  /** The router, as it falls back or passes over a cooling target (the request's metrics count these). */
  readonly routeEvents: RouteEvents = { fellBack: false, skippedCooling: false };
  /** The endpoint handler, once a target has answered: who served it. */
  provider?: string;
  model?: string;
  firstTokenAt?: number;
  /** Aborts the upstream call that is serving this request (set by the handler once the router commits). */
  abortUpstream?: (reason?: unknown) => void;
  /** `deliver()`: what the answer consumed and what it said (logged per the key's policy). */
  usage?: DeliveredUsage;
  /**
   * The endpoint handler (callRoute), for attempts a provider may bill although they did not serve
   * (timeouts, cut answers): charged on top of `usage`.
   */
  readonly unserved = { promptTokens: 0, completionTokens: 0, costUsd: 0 };
  responseBody?: unknown;
  /** The cache stage: its result word (§13: hit, semantic-hit, miss, bypass, off); null on endpoints it does not apply to. */
  cache: string | null = null;
  /** The cache stage, on a semantic hit: the cosine similarity of the entry served. */
  cacheSimilarity?: number;
  /** The cache stage, on a hit: what the original answer cost (what serving it from the cache saved). */
  cacheSavedUsd?: number;
  /** The cache stage, when the cache failed and was bypassed: why (store_unavailable, timeout, embedding_failed). */
  cacheError?: string;
  /** input-guard stage: the guard policies that apply to this request (its route's and its key's), for both guard stages. */
  guardSet?: GuardSet;
  /** The guard stages: what they did (policy, rule, where, action), the record's `guard` field. */
  readonly guard: GuardAction[] = [];
  /** `end()`: how the response ended. */
  status = 200;
  errorCode?: string;

  private readonly endHooks: EndHook[] = [];
  private readonly answerFilters: AnswerFilter[] = [];
  private ending?: Promise<void>;
  private endsWithBody = false;
  private readonly logger?: Logger;

  constructor(init: RequestContextInit) {
    this.id = init.id;
    this.startedAt = init.startedAt;
    this.path = init.path;
    this.endpoint = init.endpoint;
    this.request = init.request ?? new Request('http://gateway.invalid' + init.path);
    this.errorFormat = init.errorFormat ?? 'openai';
    this.userAgent = init.userAgent ?? null;
    this.clientIp = init.clientIp ?? null;
    this.logger = init.logger;
  }

  /** Run `hook` once when the response has ended. Hooks run innermost first: register before calling `next()`. */
  onEnd(hook: EndHook): void {
    this.endHooks.push(hook);
  }

  /** Transform the canonical answer before it is encoded (see AnswerFilter). Filters apply innermost stage first: register before calling `next()`. */
  filterAnswer(filter: AnswerFilter): void {
    this.answerFilters.push(filter);
  }

  /** A whole answer through the registered filters. */
  async filteredJson(answer: ChatCompletion): Promise<ChatCompletion> {
    for (let i = this.answerFilters.length - 1; i >= 0; i--) answer = await this.answerFilters[i].json(answer);
    return answer;
  }

  /** A stream through the registered filters. */
  filteredStream(answer: PeekedStream): PeekedStream {
    for (let i = this.answerFilters.length - 1; i >= 0; i--) answer = this.answerFilters[i].stream(answer);
    return answer;
  }

  /**
   * The response's body reports its end (a stream, after its last byte or when the client left),
   * not the stages returning it. Called by whoever builds such a body, as it builds it.
   */
  endWithBody(): void {
    this.endsWithBody = true;
  }

  /** Whether the end is the body's to report (see endWithBody). */
  get endReportedByBody(): boolean {
    return this.endsWithBody;
  }

  /** Record what the answer delivered: its usage and its body. */
  deliver(usage: DeliveredUsage, responseBody: unknown): void {
    this.usage = usage;
    this.responseBody = responseBody;
  }

  /**
   * The response has ended: note how, then run the end hooks once (the first call wins). A hook
   * that throws is logged and the others still run, so the record is never lost.
   */
  end(how: ResponseEnd): Promise<void> {
    if (this.ending) return this.ending;
    this.status = how.status;
    if (how.errorCode) this.errorCode = how.errorCode;
    this.ending = this.runEndHooks();
    return this.ending;
  }

  /** Whether the response has ended. */
  get ended(): boolean {
    return this.ending !== undefined;
  }

  private async runEndHooks(): Promise<void> {
    for (let i = this.endHooks.length - 1; i >= 0; i--) {
      try {
        await this.endHooks[i](this);
      } catch (err) {
        this.logger?.error('a stage failed at the end of the response', { error: String(err), requestId: this.id });
      }
    }
  }

  toRecord(now: number, bodies: { request: string | null; response: string | null }): RequestLogRecord {
    // What the providers may bill: the serving attempt's usage plus the charge for attempts that did not serve.
    const charged = this.unserved.promptTokens + this.unserved.completionTokens > 0;
    const usage = this.usage;
    const prompt = charged ? (usage?.promptTokens ?? 0) + this.unserved.promptTokens : (usage?.promptTokens ?? null);
    const completion = charged ? (usage?.completionTokens ?? 0) + this.unserved.completionTokens : (usage?.completionTokens ?? null);
    const cost = charged && usage?.costUsd !== null ? Number(((usage?.costUsd ?? 0) + this.unserved.costUsd).toFixed(8)) : (usage?.costUsd ?? null);
    return {
      request_id: this.id,
      ts: new Date(this.startedAt).toISOString(),
      key_id: this.key?.id ?? null,
      key_name: this.key?.name ?? null,
      team: this.key?.team ?? null,
      endpoint: this.path,
      requested_model: this.requestedModel ?? null,
      provider: this.provider ?? null,
      model: this.model ?? null,
      status: this.status,
      error_code: this.errorCode ?? null,
      stream: this.stream,
      // Upstream error texts are the provider's words: a provider echoing a credential must not put it in the log.
      attempts: JSON.stringify(this.attempts.map((a) => (a.error ? { ...a, error: redactSecrets(a.error) } : a))),
      latency_ms: now - this.startedAt,
      ttft_ms: this.firstTokenAt !== undefined ? this.firstTokenAt - this.startedAt : null,
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt !== null || completion !== null ? (prompt ?? 0) + (completion ?? 0) : null,
      cost_usd: cost,
      cache: this.cache,
      cache_similarity: this.cacheSimilarity ?? null,
      cache_saved_usd: this.cacheSavedUsd ?? null,
      cache_error: this.cacheError ?? null,
      guard: this.guard.length ? JSON.stringify(this.guard) : null,
      user_id: this.userId ?? null,
      client_ip: this.clientIp,
      user_agent: this.userAgent,
      request_body: bodies.request,
      response_body: bodies.response,
      body_ref: null,
    };
  }
}
