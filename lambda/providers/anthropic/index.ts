/**
 * Anthropic (Messages API). It speaks the Messages format natively: a /v1/messages request's own
 * body is sent as is, with only model and stream set by the gateway, and its answer comes back
 * beside the canonical view. Canonical requests (every other endpoint) are translated.
 */
import { postUpstream, readUpstreamJson, streamBody } from '../http-call';
import { joinUrl } from '../openai/openai-style';
import {
  type ChatRequest,
  type ChatResult,
  type NativeMessagesRequest,
  type NativeRequest,
  type ProviderAdapter,
  type ProviderCall,
  UpstreamError,
} from '../types';
import { answerFromResponseTool, chunksFromResponseTool, responseToolOf } from '../structured-output';
import { toAnthropicRequest } from './request';
import { fromAnthropicAnswer } from './response';
import { anthropicChunks } from './stream';
import { MessagesAnswer } from './native-answer';
import { ANTHROPIC_API_VERSION, type AnthropicRequest, type AnthropicResponse } from './wire';

export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';

export function anthropicUrl(call: ProviderCall): string {
  return joinUrl(call.provider.config.baseUrl ?? ANTHROPIC_DEFAULT_BASE_URL, 'v1/messages');
}

export function anthropicHeaders(call: ProviderCall, beta?: string): Record<string, string> {
  return {
    'anthropic-version': ANTHROPIC_API_VERSION,
    ...(beta ? { 'anthropic-beta': beta } : {}),
    ...(call.apiKey ? { 'x-api-key': call.apiKey } : {}),
    ...call.provider.config.headers,
  };
}

/** The client's Messages body, when the call brought one (Anthropic speaks no other native format). */
const messagesBody = (native: NativeRequest | undefined): NativeMessagesRequest | undefined => (native?.format === 'messages' ? native : undefined);

function upstreamRequest(body: ChatRequest, call: ProviderCall, native: NativeMessagesRequest | undefined): AnthropicRequest {
  if (!native) return toAnthropicRequest(body, call.model);
  const out: AnthropicRequest = { ...native.body, model: call.model };
  if (body.stream) out.stream = true;
  else delete out.stream;
  return out;
}

/** The fields of a Messages request that /v1/messages/count_tokens takes. */
const COUNTED_FIELDS = ['model', 'messages', 'system', 'tools', 'tool_choice', 'thinking', 'mcp_servers'] as const;

export const anthropicProvider: ProviderAdapter = {
  speaks: (format) => format === 'messages',
  async countTokens(body: ChatRequest, call: ProviderCall, nativeRequest?: NativeRequest): Promise<number> {
    const native = messagesBody(nativeRequest);
    const full: Record<string, unknown> = upstreamRequest({ ...body, stream: false }, call, native);
    const counted = Object.fromEntries(COUNTED_FIELDS.filter((f) => full[f] !== undefined).map((f) => [f, full[f]]));
    const url = joinUrl(call.provider.config.baseUrl ?? ANTHROPIC_DEFAULT_BASE_URL, 'v1/messages/count_tokens');
    const res = await postUpstream(call, url, anthropicHeaders(call, native?.beta), counted);
    const json = await readUpstreamJson<{ input_tokens?: unknown }>(res, call);
    if (typeof json?.input_tokens !== 'number')
      throw new UpstreamError('malformed', `${call.provider.name} returned a token count without input_tokens`, 502, 'malformed_response');
    return json.input_tokens;
  },
  async chat(body: ChatRequest, call: ProviderCall, nativeRequest?: NativeRequest): Promise<ChatResult> {
    const native = messagesBody(nativeRequest);
    const res = await postUpstream(call, anthropicUrl(call), anthropicHeaders(call, native?.beta), upstreamRequest(body, call, native));
    if (native) {
      // Sent as the client wrote it; the answer goes back the same way, beside its canonical view.
      const answer = new MessagesAnswer();
      if (body.stream) return { stream: true, chunks: anthropicChunks(streamBody(res, call), call, answer), native: answer };
      const message = await readUpstreamJson<AnthropicResponse>(res, call);
      return { stream: false, response: answer.noteMessage(fromAnthropicAnswer(message, call.provider.name), message), native: answer };
    }
    // A canonical request may carry response_format as a tool.
    const responseTool = responseToolOf(body);
    if (body.stream) return { stream: true, chunks: chunksFromResponseTool(anthropicChunks(streamBody(res, call), call), responseTool) };
    return {
      stream: false,
      response: answerFromResponseTool(fromAnthropicAnswer(await readUpstreamJson<AnthropicResponse>(res, call), call.provider.name), responseTool),
    };
  },
};
