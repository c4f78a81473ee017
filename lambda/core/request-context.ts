/** Per-request state the pipeline accumulates, turned into exactly one log record when the response ends. */
import type { KeyRecord } from './keys';
import type { Identity } from './identity/identify';
import type { AttemptLog, RequestLogRecord } from './log-record';
import type { GatewayError } from './errors';
import { redactSecrets } from './redaction';

export interface ClientInfo {
  readonly clientIp?: string;
}

export class RequestContext {
  key?: KeyRecord;
  requestedModel?: string;
  provider?: string;
  model?: string;
  status = 200;
  errorCode?: string;
  stream = false;
  readonly attempts: AttemptLog[] = [];
  /** Aborts the upstream call that is serving this request (set by the router once it commits). */
  abortUpstream?: (reason?: unknown) => void;
  firstTokenAt?: number;
  promptTokens?: number;
  completionTokens?: number;
  costUsd?: number | null;
  /** What `reserve` set aside: the estimate charged for an attempt the provider received but that did not serve. */
  reserved?: { readonly promptTokens: number; readonly outputTokens: number };
  /** Usage charged for attempts a provider may bill although they did not serve (timeouts, cut answers). */
  readonly unserved = { promptTokens: 0, completionTokens: 0, costUsd: 0 };
  cache: string | null = null;
  guard: unknown[] = [];
  /** How the caller proved who it is (its key, or a JWT of the key's OIDC application). */
  identity?: Identity;
  /** The end user (ARCHITECTURE §15), once identified. */
  userId?: string;
  requestBody?: unknown;
  responseBody?: unknown;
  private finished = false;

  constructor(
    readonly id: string,
    readonly startedAt: number,
    readonly endpoint: string,
    readonly userAgent: string | null,
    readonly clientIp: string | null,
  ) {}

  fail(err: GatewayError): void {
    this.status = err.status;
    this.errorCode = err.code;
  }

  /** True the first time only: guarantees one record per request whatever path ends it. */
  markFinished(): boolean {
    if (this.finished) return false;
    this.finished = true;
    return true;
  }

  toRecord(now: number, bodies: { request: string | null; response: string | null }): RequestLogRecord {
    // What the providers may bill: the serving attempt's usage plus the charge for attempts that did not serve.
    const charged = this.unserved.promptTokens + this.unserved.completionTokens > 0;
    const prompt = charged ? (this.promptTokens ?? 0) + this.unserved.promptTokens : (this.promptTokens ?? null);
    const completion = charged ? (this.completionTokens ?? 0) + this.unserved.completionTokens : (this.completionTokens ?? null);
    const cost = charged && this.costUsd !== null ? Number(((this.costUsd ?? 0) + this.unserved.costUsd).toFixed(8)) : (this.costUsd ?? null);
    return {
      request_id: this.id,
      ts: new Date(this.startedAt).toISOString(),
      key_id: this.key?.id ?? null,
      key_name: this.key?.name ?? null,
      team: this.key?.team ?? null,
      endpoint: this.endpoint,
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
