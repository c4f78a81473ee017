/**
 * The OpenAI-compatible family: any server that speaks OpenAI's API at a base URL. Presets give
 * the well-known hosted ones a default base URL, so configuring one is a single line:
 * `{ "type": "openai-compatible", "preset": "groq", "apiKey": { "env": "GROQ_API_KEY" } }`.
 */
import { UpstreamError } from '../types';
import { createOpenAiStyleAdapter, joinUrl } from '../openai/openai-style';

export const OPENAI_COMPATIBLE_PRESETS: Readonly<Record<string, string>> = {
  mistral: 'https://api.mistral.ai/v1',
  groq: 'https://api.groq.com/openai/v1',
  together: 'https://api.together.xyz/v1',
  deepseek: 'https://api.deepseek.com/v1',
  xai: 'https://api.x.ai/v1',
  fireworks: 'https://api.fireworks.ai/inference/v1',
  openrouter: 'https://openrouter.ai/api/v1',
  perplexity: 'https://api.perplexity.ai',
  ollama: 'http://127.0.0.1:11434/v1',
  vllm: 'http://127.0.0.1:8000/v1',
  lmstudio: 'http://127.0.0.1:1234/v1',
};

export function openAiCompatibleBaseUrl(config: { baseUrl?: string; preset?: string }): string {
  if (config.baseUrl) return config.baseUrl;
  const preset = config.preset && OPENAI_COMPATIBLE_PRESETS[config.preset];
  if (!preset) throw new UpstreamError('http', `unknown openai-compatible preset '${config.preset}'`, 500, 'config');
  return preset;
}

export const openAiCompatibleProvider = createOpenAiStyleAdapter({
  url: (call, op) => joinUrl(openAiCompatibleBaseUrl(call.provider.config), op),
  headers: (call) => ({ ...(call.apiKey ? { authorization: `Bearer ${call.apiKey}` } : {}), ...call.provider.config.headers }),
});
