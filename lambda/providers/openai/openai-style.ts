/**
 * The shared base for every provider that speaks OpenAI's wire format (OpenAI, Azure OpenAI,
 * and the openai-compatible family). A provider only says where to send a request and how to
 * authenticate; request and response bodies are already canonical.
 */
import { STEERING_FIELDS } from '../../core/validate';
import { readSseEvents } from '../../core/sse';
import { fetchFailure } from '../http-errors';
import { postUpstream, readUpstreamJson, streamBody } from '../http-call';
import { type ResponsesEndpoint, responsesChat } from './responses/call';
import { parseEventJson } from '../translate-common';
import {
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatRequest,
  type ChatResult,
  type EmbeddingsRequest,
  type EmbeddingsResponse,
  type NativeRequest,
  type ProviderAdapter,
  type ProviderCall,
  type ResolvedProvider,
  UpstreamError,
} from '../types';

export interface OpenAiStyleEndpoint {
  /** Full URL for an operation, derived only from config. */
  url(call: ProviderCall, operation: 'chat/completions' | 'embeddings'): string;
  /** Auth and static headers. */
  headers(call: ProviderCall): Record<string, string>;
  /** Model field to send upstream (Azure puts the deployment in the URL instead). */
  bodyModel?(call: ProviderCall): string | undefined;
  /** Whether the upstream understands `stream_options.include_usage` (most do). @default true */
  supportsStreamUsage?: boolean;
  /**
   * The field that caps output upstream. OpenAI and Azure take `max_completion_tokens` (reasoning
   * models refuse `max_tokens`); many OpenAI-compatible servers know only `max_tokens`.
   * @default 'max_completion_tokens'
   */
  outputCapField?: 'max_tokens' | 'max_completion_tokens';
  /**
   * Where the provider takes Responses API calls, when it does: /v1/responses bodies then go there
   * natively (the provider `speaks('responses')`) instead of being translated to chat completions.
   * `headers` defaults to the endpoint's own; `serves` (default: every provider of the type) says
   * which configured providers of the type have a server that serves the Responses API.
   */
  responses?: Omit<ResponsesEndpoint, 'headers'> & Partial<Pick<ResponsesEndpoint, 'headers'>> & { serves?(provider: ResolvedProvider): boolean };
}

function upstreamBody<T extends { model: string }>(body: T, call: ProviderCall, endpoint: OpenAiStyleEndpoint): Record<string, unknown> {
  const out: Record<string, unknown> = { ...body };
  // Defence in depth: the core already drops these (core/validate.ts); never forward them.
  for (const f of STEERING_FIELDS) delete out[f];
  if (endpoint.outputCapField === 'max_tokens' && out.max_completion_tokens != null && out.max_tokens == null) {
    out.max_tokens = out.max_completion_tokens;
    delete out.max_completion_tokens;
  }
  const model = endpoint.bodyModel ? endpoint.bodyModel(call) : call.model;
  if (model === undefined) delete out.model;
  else out.model = model;
  return out;
}

function post(call: ProviderCall, endpoint: OpenAiStyleEndpoint, op: 'chat/completions' | 'embeddings', body: unknown): Promise<Response> {
  return postUpstream(call, endpoint.url(call, op), endpoint.headers(call), body);
}

/** Canonical chunks from an OpenAI-format SSE stream. An in-band error or a missing [DONE] throws. */
export async function* openAiChunks(body: ReadableStream<Uint8Array>, call: ProviderCall): AsyncGenerator<ChatCompletionChunk> {
  let done = false;
  try {
    for await (const ev of readSseEvents(body)) {
      if (ev.data === '[DONE]') {
        done = true;
        break;
      }
      const parsed = parseEventJson<ChatCompletionChunk & { error?: { message?: string; type?: string; code?: string } }>(ev.data, call.provider.name);
      if (parsed.error || ev.event === 'error') {
        const e = parsed.error ?? {};
        throw new UpstreamError('in_band', `${call.provider.name}: ${e.message ?? 'error event in stream'}`, 502, e.type ?? e.code);
      }
      yield parsed;
    }
  } catch (err) {
    if (err instanceof UpstreamError) throw err;
    throw fetchFailure(err, call.signal, call.provider.name);
  }
  if (!done) throw new UpstreamError('cut', `${call.provider.name} ended the stream without [DONE]`, 502, 'stream_cut');
}

/** Whether `provider` takes /v1/responses natively: its config's `responsesApi`, else the type's default. */
function servesResponses(provider: ResolvedProvider, endpoint: OpenAiStyleEndpoint): boolean {
  const chosen = provider.config.responsesApi;
  if (chosen) return chosen === 'native';
  return endpoint.responses?.serves?.(provider) ?? true;
}

export function createOpenAiStyleAdapter(endpoint: OpenAiStyleEndpoint): ProviderAdapter {
  const responses: ResponsesEndpoint | undefined = endpoint.responses && { headers: endpoint.headers, ...endpoint.responses };
  return {
    ...(responses
      ? { speaks: (format: string, _model: string, provider: ResolvedProvider) => format === 'responses' && servesResponses(provider, endpoint) }
      : {}),
    async chat(body: ChatRequest, call: ProviderCall, native?: NativeRequest): Promise<ChatResult> {
      if (native?.format === 'responses' && responses) return responsesChat(body, native, call, responses);
      const payload = upstreamBody(body, call, endpoint);
      if (body.stream) {
        // Always ask for usage so limits settle on real tokens; the core hides the extra chunk
        // from clients that did not ask for it.
        if (endpoint.supportsStreamUsage !== false) payload.stream_options = { ...(body.stream_options ?? {}), include_usage: true };
        const res = await post(call, endpoint, 'chat/completions', payload);
        return { stream: true, chunks: openAiChunks(streamBody(res, call), call) };
      }
      const res = await post(call, endpoint, 'chat/completions', payload);
      const json = await readUpstreamJson<ChatCompletion>(res, call);
      if (!json || typeof json !== 'object' || !Array.isArray(json.choices))
        throw new UpstreamError('malformed', `${call.provider.name} returned JSON that is not a chat completion`, 502, 'malformed_response');
      return { stream: false, response: json };
    },
    async embeddings(body: EmbeddingsRequest, call: ProviderCall): Promise<EmbeddingsResponse> {
      const res = await post(call, endpoint, 'embeddings', upstreamBody(body, call, endpoint));
      const json = await readUpstreamJson<EmbeddingsResponse>(res, call);
      if (!json || !Array.isArray(json.data))
        throw new UpstreamError('malformed', `${call.provider.name} returned JSON that is not an embeddings list`, 502, 'malformed_response');
      return json;
    },
  };
}

/** Join a base URL and a path without doubling or dropping slashes. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
