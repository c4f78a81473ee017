/**
 * Named base URLs of the openai-compatible family. A plain table with no imports, so the config
 * validator (also used by the constructs at synth time) can reject an unknown preset at start-up
 * without pulling provider runtime code in.
 */
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
