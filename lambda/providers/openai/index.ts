/** OpenAI (api.openai.com or a config-set baseUrl). */
import { createOpenAiStyleAdapter, joinUrl } from './openai-style';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

export const openAiProvider = createOpenAiStyleAdapter({
  url: (call, op) => joinUrl(call.provider.config.baseUrl ?? OPENAI_DEFAULT_BASE_URL, op),
  headers: (call) => ({ ...(call.apiKey ? { authorization: `Bearer ${call.apiKey}` } : {}), ...call.provider.config.headers }),
});
