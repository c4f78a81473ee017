/**
 * Google Gemini (Gemini API, v1beta): generateContent / streamGenerateContent?alt=sse, and
 * batchEmbedContents for embeddings. Auth is the `x-goog-api-key` header (never a URL query, so
 * the key stays out of access logs).
 */
import { postUpstream, readUpstreamJson, streamBody } from '../http-call';
import { joinUrl } from '../openai/openai-style';
import { estimateEmbeddingTokens } from '../../core/tokens';
import {
  type ChatRequest,
  type ChatResult,
  type EmbeddingsRequest,
  type EmbeddingsResponse,
  type ProviderAdapter,
  type ProviderCall,
  UpstreamError,
} from '../types';
import { encodeEmbedding, textInputs } from '../translate-common';
import { toGeminiRequest } from './request';
import { fromGeminiResponse } from './response';
import { geminiChunks } from './stream';
import type { GeminiResponse } from './wire';

export const GEMINI_DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';

/** The model id without the `models/` prefix a client may have sent. */
function bareModel(call: ProviderCall): string {
  return call.model.replace(/^models\//, '');
}

/** `{base}/v1beta/models/{model}:{method}`; the model is one path segment, whatever the client sent. */
export function geminiUrl(call: ProviderCall, method: string): string {
  const model = encodeURIComponent(bareModel(call));
  return joinUrl(call.provider.config.baseUrl ?? GEMINI_DEFAULT_BASE_URL, `v1beta/models/${model}:${method}`);
}

function headers(call: ProviderCall): Record<string, string> {
  return { ...(call.apiKey ? { 'x-goog-api-key': call.apiKey } : {}), ...call.provider.config.headers };
}

function malformed(call: ProviderCall, what: string): UpstreamError {
  return new UpstreamError('malformed', `${call.provider.name} returned JSON that is not ${what}`, 502, 'malformed_response');
}

export const geminiProvider: ProviderAdapter = {
  async chat(body: ChatRequest, call: ProviderCall): Promise<ChatResult> {
    const payload = toGeminiRequest(body);
    if (body.stream) {
      const res = await postUpstream(call, `${geminiUrl(call, 'streamGenerateContent')}?alt=sse`, headers(call), payload);
      return { stream: true, chunks: geminiChunks(streamBody(res, call), call) };
    }
    const res = await postUpstream(call, geminiUrl(call, 'generateContent'), headers(call), payload);
    const json = await readUpstreamJson<GeminiResponse>(res, call);
    if (!json || typeof json !== 'object' || (!Array.isArray(json.candidates) && !json.promptFeedback)) throw malformed(call, 'a GenerateContentResponse');
    return { stream: false, response: fromGeminiResponse(json, call.model) };
  },

  async embeddings(body: EmbeddingsRequest, call: ProviderCall): Promise<EmbeddingsResponse> {
    const inputs = textInputs(body, 'Gemini');
    const model = `models/${bareModel(call)}`;
    const requests = inputs.map((text) => ({ model, content: { parts: [{ text }] }, ...(body.dimensions ? { outputDimensionality: body.dimensions } : {}) }));
    const res = await postUpstream(call, geminiUrl(call, 'batchEmbedContents'), headers(call), { requests });
    const json = await readUpstreamJson<{ embeddings?: Array<{ values?: number[] }> }>(res, call);
    if (!Array.isArray(json?.embeddings) || json.embeddings.length !== inputs.length) throw malformed(call, 'a batchEmbedContents answer');
    // Gemini reports no token usage for embeddings: the estimate stands in.
    const tokens = estimateEmbeddingTokens(inputs);
    return {
      object: 'list',
      data: json.embeddings.map((e, index) => ({ object: 'embedding', index, embedding: encodeEmbedding(e.values ?? [], body.encoding_format) })),
      model: call.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  },
};
