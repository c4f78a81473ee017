/**
 * The provider port: what the core asks of a provider, and what a provider may declare it can do.
 * Providers (lambda/providers/) implement it; the core never imports them. The composition roots
 * (the local server, the Lambda entry) hand the registry of implementations to the core.
 *
 * The canonical format is OpenAI's chat completions (apischema/openai): every provider translates
 * a canonical request into its own wire format and its answer back. A provider that speaks a
 * client's format natively declares it (`speaks`); the endpoint then hands it the client's own
 * body beside the canonical one, and the provider's own answer comes back beside its canonical view.
 */
import type { AnthropicRequest, AnthropicResponse, AnthropicStreamEvent } from '../apischema/anthropic';
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, EmbeddingsRequest, EmbeddingsResponse, ServerToolUse } from '../apischema/openai';
import type { ResponseObject, ResponseStreamEvent, ResponsesRequest } from '../apischema/responses';
import type { ProviderConfig, ProviderType } from './config';

/** A provider entry from config, resolved: its name and settings. */
export interface ResolvedProvider {
  readonly name: string;
  readonly config: ProviderConfig;
}

/** Everything a provider needs for one upstream call. The URL comes only from `provider.config`. */
export interface ProviderCall {
  readonly provider: ResolvedProvider;
  /** The upstream model id (already mapped from the public model name). */
  readonly model: string;
  /** The provider credential, resolved from env/Secrets Manager. Never from the client. */
  readonly apiKey?: string;
  /** Aborted on client disconnect, timeout, or when the router gives up on this attempt. */
  readonly signal: AbortSignal;
  /** Injected fetch (tests and the Node/Lambda adapters may share one). Must not follow redirects. */
  readonly fetch: typeof fetch;
}

/** Client formats (besides the canonical chat completions) a provider may take as the client sent them. */
export type NativeFormat = 'messages' | 'responses';

/**
 * A client's own body, for a provider that speaks its format: sent upstream as it is, with only
 * the model and `stream` set by the gateway.
 */
export interface NativeMessagesRequest {
  readonly format: 'messages';
  /** The validated /v1/messages body (steering fields removed). */
  readonly body: AnthropicRequest;
  /** The client's `anthropic-beta` header, forwarded to the providers that speak the format. */
  readonly beta?: string;
}

/**
 * A /v1/responses body for a provider that speaks the Responses format (the OpenAI family), as the
 * gateway sends it upstream: the client's own fields, with the conversation the gateway rebuilt
 * from `previous_response_id` in full in `input`, no `previous_response_id`, and `store: false`
 * (the gateway keeps responses itself; its ids are the ones clients see). The provider sets only
 * the model and `stream`.
 */
export interface NativeResponsesRequest {
  readonly format: 'responses';
  readonly body: ResponsesRequest;
}

export type NativeRequest = NativeMessagesRequest | NativeResponsesRequest;

/**
 * The upstream's own Messages-format answer behind the canonical objects a native call produced.
 * Looked up by the canonical object itself: a completion or chunk a stage rewrote (a guard's
 * redaction) is a new object with no native answer, so it is encoded from its canonical form and
 * the rewrite is what the client sees.
 */
export interface NativeMessagesAnswer {
  readonly format: 'messages';
  /** The upstream's message behind this completion. */
  message(of: ChatCompletion): AnthropicResponse | undefined;
  /**
   * The upstream's events behind this chunk (on the first chunk they produced). Every event is
   * behind a chunk as soon as it arrives: one with no canonical meaning (a block's end, a ping) has
   * an empty chunk of its own.
   */
  events(of: ChatCompletionChunk): readonly AnthropicStreamEvent[] | undefined;
}

/** The upstream's own Responses-format answer behind the canonical objects of a native call (as NativeMessagesAnswer). */
export interface NativeResponsesAnswer {
  readonly format: 'responses';
  /** The upstream's response object behind this completion. */
  response(of: ChatCompletion): ResponseObject | undefined;
  /**
   * The upstream's stream events behind this chunk (on the first chunk they produced), sequence
   * numbers as it sent them. Every event is behind a chunk as soon as it arrives: one with no
   * canonical meaning (an item's end, a built-in tool's progress) has an empty chunk of its own.
   */
  events(of: ChatCompletionChunk): readonly ResponseStreamEvent[] | undefined;
}

export type NativeAnswer = NativeMessagesAnswer | NativeResponsesAnswer;

export type ChatResult =
  | { readonly stream: false; readonly response: ChatCompletion; readonly native?: NativeAnswer }
  | { readonly stream: true; readonly chunks: AsyncIterable<ChatCompletionChunk>; readonly native?: NativeAnswer };

/**
 * Why an upstream attempt failed. `kind` lets the router decide whether to retry or fall back
 * (network/timeout/http 429/5xx) or answer at once (http 400).
 */
export type UpstreamFailureKind = 'http' | 'timeout' | 'network' | 'malformed' | 'in_band' | 'cut';

export class UpstreamError extends Error {
  constructor(
    readonly kind: UpstreamFailureKind,
    message: string,
    readonly status?: number,
    /** Provider's own error type/code when it gave one (e.g. 'rate_limit_exceeded', 'overloaded_error'). */
    readonly upstreamCode?: string,
    /** Parsed Retry-After, in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }

  /**
   * Server tool calls (web searches, …) the attempt had completed when it failed: the provider
   * bills those whatever became of the answer, so a failed attempt is charged for them.
   */
  serverToolUse?: ServerToolUse;
}

/** A request the target cannot serve as asked: the client's 400, answered at once (never a fallback). */
export function clientFault(message: string, code = 'invalid_request'): UpstreamError {
  return new UpstreamError('http', message, 400, code);
}

export interface ProviderAdapter {
  /**
   * Whether this provider takes `format`'s bodies natively for `model` at `provider` (Anthropic and
   * Claude on Bedrock: messages; OpenAI, Azure OpenAI and the openai-compatible presets whose
   * servers serve it: responses). Absent: it speaks only the canonical format.
   */
  speaks?(format: NativeFormat, model: string, provider: ResolvedProvider): boolean;
  /**
   * Chat completions in canonical (OpenAI) format; `body.stream` selects a stream result. `native`
   * is the client's own body, given only when `speaks` said yes for its format and this model.
   */
  chat(body: ChatRequest, call: ProviderCall, native?: NativeRequest): Promise<ChatResult>;
  /** Embeddings, when the provider offers them. */
  embeddings?(body: EmbeddingsRequest, call: ProviderCall): Promise<EmbeddingsResponse>;
  /** The provider's own count of a request's input tokens, when it offers one (Anthropic's count_tokens). */
  countTokens?(body: ChatRequest, call: ProviderCall, native?: NativeRequest): Promise<number>;
}

/** Provider type → its adapter, handed to the core by the composition root. */
export type ProviderRegistry = Partial<Record<ProviderType, ProviderAdapter>>;
