/** OpenAI (api.openai.com or a config-set baseUrl): chat completions and embeddings, and the Responses API natively. */
import { createOpenAiStyleAdapter, joinUrl } from './openai-style';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

export const openAiProvider = createOpenAiStyleAdapter({
  url: (call, op) => joinUrl(call.provider.config.baseUrl ?? OPENAI_DEFAULT_BASE_URL, op),
  headers: (call) => ({ ...(call.apiKey ? { authorization: `Bearer ${call.apiKey}` } : {}), ...call.provider.config.headers }),
  // /v1/responses goes to OpenAI's own Responses API, natively.
  responses: { url: (call) => joinUrl(call.provider.config.baseUrl ?? OPENAI_DEFAULT_BASE_URL, 'responses') },
});
