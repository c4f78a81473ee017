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

export const openAiCompatibleProvider = createOpenAiStyleAdapter({
  url: (call, op) => joinUrl(openAiCompatibleBaseUrl(call.provider.config), op),
  headers: (call) => ({ ...(call.apiKey ? { authorization: `Bearer ${call.apiKey}` } : {}), ...call.provider.config.headers }),
  // The field every OpenAI-compatible server knows (vLLM, Ollama, llama.cpp, the hosted presets).
  outputCapField: 'max_tokens',
});
