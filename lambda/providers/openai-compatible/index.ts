/**
 * The OpenAI-compatible family: any server that speaks OpenAI's API at a base URL. Presets give
 * the well-known hosted ones a default base URL, so configuring one is a single line:
 * `{ "type": "openai-compatible", "preset": "groq", "apiKey": { "env": "GROQ_API_KEY" } }`.
 */
import { UpstreamError } from '../types';
import { createOpenAiStyleAdapter, joinUrl } from '../openai/openai-style';
import { OPENAI_COMPATIBLE_PRESETS } from '../../core/openai-compatible-presets';

export { OPENAI_COMPATIBLE_PRESETS };

export function openAiCompatibleBaseUrl(config: { baseUrl?: string; preset?: string }): string {
  if (config.baseUrl) return config.baseUrl;
  const preset = config.preset && OPENAI_COMPATIBLE_PRESETS[config.preset];
  if (!preset) throw new UpstreamError('http', `unknown openai-compatible preset '${config.preset}'`, 500, 'config');
  return preset;
}

/**
 * Presets whose servers serve OpenAI's Responses API (`{baseUrl}/responses`), statelessly as the
 * gateway uses it: /v1/responses goes to them natively. Every other openai-compatible server
 * (other presets, a bare baseUrl) gets it translated to chat completions, which they all serve.
 */
export const RESPONSES_PRESETS: ReadonlySet<string> = new Set(['xai']);

export const openAiCompatibleProvider = createOpenAiStyleAdapter({
  url: (call, op) => joinUrl(openAiCompatibleBaseUrl(call.provider.config), op),
  headers: (call) => ({ ...(call.apiKey ? { authorization: `Bearer ${call.apiKey}` } : {}), ...call.provider.config.headers }),
  // The field every OpenAI-compatible server knows (vLLM, Ollama, llama.cpp, the hosted presets).
  outputCapField: 'max_tokens',
  responses: {
    url: (call) => joinUrl(openAiCompatibleBaseUrl(call.provider.config), 'responses'),
    serves: (provider) => provider.config.preset !== undefined && RESPONSES_PRESETS.has(provider.config.preset),
  },
});
