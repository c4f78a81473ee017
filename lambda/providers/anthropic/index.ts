/**
 * Anthropic (Messages API). Canonical requests are translated; a /v1/messages request carries its
 * original body (ANTHROPIC_NATIVE_REQUEST) and is sent as is, with only model and stream set by
 * the gateway.
 */
import { postUpstream, readUpstreamJson, streamBody } from '../http-call';
import { joinUrl } from '../openai/openai-style';
import { type ChatRequest, type ChatResult, type ProviderAdapter, type ProviderCall, UpstreamError } from '../types';
import { answerFromResponseTool, chunksFromResponseTool, responseToolOf } from '../structured-output';
import { toAnthropicRequest } from './request';
import { fromAnthropicAnswer } from './response';
import { anthropicChunks } from './stream';
import { ANTHROPIC_API_VERSION, type AnthropicRequest, type AnthropicResponse, anthropicBetaOf, nativeAnthropicRequest } from './wire';

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

function upstreamRequest(body: ChatRequest, call: ProviderCall): AnthropicRequest {
  const native = nativeAnthropicRequest(body);
  if (!native) return toAnthropicRequest(body, call.model);
  const out: AnthropicRequest = { ...native, model: call.model };
  if (body.stream) out.stream = true;
  else delete out.stream;
  return out;
}

/** The fields of a Messages request that /v1/messages/count_tokens takes. */
const COUNTED_FIELDS = ['model', 'messages', 'system', 'tools', 'tool_choice', 'thinking', 'mcp_servers'] as const;

export const anthropicProvider: ProviderAdapter = {
  async countTokens(body: ChatRequest, call: ProviderCall): Promise<number> {
    const full: Record<string, unknown> = upstreamRequest({ ...body, stream: false }, call);
    const counted = Object.fromEntries(COUNTED_FIELDS.filter((f) => full[f] !== undefined).map((f) => [f, full[f]]));
    const url = joinUrl(call.provider.config.baseUrl ?? ANTHROPIC_DEFAULT_BASE_URL, 'v1/messages/count_tokens');
    const res = await postUpstream(call, url, anthropicHeaders(call, anthropicBetaOf(body)), counted);
    const json = await readUpstreamJson<{ input_tokens?: unknown }>(res, call);
    if (typeof json?.input_tokens !== 'number')
      throw new UpstreamError('malformed', `${call.provider.name} returned a token count without input_tokens`, 502, 'malformed_response');
    return json.input_tokens;
  },
  async chat(body: ChatRequest, call: ProviderCall): Promise<ChatResult> {
    const res = await postUpstream(call, anthropicUrl(call), anthropicHeaders(call, anthropicBetaOf(body)), upstreamRequest(body, call));
    // A /v1/messages request goes as sent; a canonical one may carry response_format as a tool.
    const responseTool = nativeAnthropicRequest(body) ? undefined : responseToolOf(body);
    if (body.stream) return { stream: true, chunks: chunksFromResponseTool(anthropicChunks(streamBody(res, call), call), responseTool) };
    return {
      stream: false,
      response: answerFromResponseTool(fromAnthropicAnswer(await readUpstreamJson<AnthropicResponse>(res, call), call.provider.name), responseTool),
    };
  },
};
