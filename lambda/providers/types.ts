/**
 * The provider interface. The gateway's canonical format is OpenAI's chat completions
 * format: every provider translates a canonical request into its own wire format and its
 * answer (JSON or stream) back into canonical responses/chunks. The core never sees a
 * provider's wire format, so adding a provider touches only its own folder.
 */
import type { ProviderConfig } from '../core/config';

export type JsonObject = Record<string, unknown>;

export interface ChatMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool' | 'function';
  content?: string | null | ContentPart[];
  name?: string;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
  [extra: string]: unknown;
}

export type ContentPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string; detail?: string } }
  | { type: string; [extra: string]: unknown };

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ToolDefinition {
  type: 'function';
  function: { name: string; description?: string; parameters?: JsonObject; strict?: boolean };
}

/** OpenAI chat completions request (the fields the gateway understands; others pass through). */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  stop?: string | string[] | null;
  n?: number | null;
  tools?: ToolDefinition[];
  tool_choice?: 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };
  user?: string;
  [extra: string]: unknown;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  [extra: string]: unknown;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call' | null;

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: { role: 'assistant'; content: string | null; tool_calls?: ToolCall[]; refusal?: string | null; [extra: string]: unknown };
    finish_reason: FinishReason;
    logprobs?: unknown;
  }>;
  usage?: Usage;
  system_fingerprint?: string | null;
  [extra: string]: unknown;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    delta: {
      role?: 'assistant';
      content?: string | null;
      tool_calls?: Array<{ index: number; id?: string; type?: 'function'; function?: { name?: string; arguments?: string } }>;
      refusal?: string | null;
      [extra: string]: unknown;
    };
    finish_reason: FinishReason;
    logprobs?: unknown;
  }>;
  usage?: Usage | null;
  [extra: string]: unknown;
}

export interface EmbeddingsRequest {
  model: string;
  input: string | string[] | number[] | number[][];
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
  [extra: string]: unknown;
}

export interface EmbeddingsResponse {
  object: 'list';
  data: Array<{ object: 'embedding'; index: number; embedding: number[] | string }>;
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

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

export type ChatResult =
  | { readonly stream: false; readonly response: ChatCompletion }
  | { readonly stream: true; readonly chunks: AsyncIterable<ChatCompletionChunk> };

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
}

export interface ProviderAdapter {
  /** Chat completions in canonical (OpenAI) format; `body.stream` selects a stream result. */
  chat(body: ChatRequest, call: ProviderCall): Promise<ChatResult>;
  /** Embeddings, when the provider offers them. */
  embeddings?(body: EmbeddingsRequest, call: ProviderCall): Promise<EmbeddingsResponse>;
  /** The provider's own count of a request's input tokens, when it offers one (Anthropic's count_tokens). */
  countTokens?(body: ChatRequest, call: ProviderCall): Promise<number>;
}
