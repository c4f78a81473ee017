/**
 * openai-compatible presets: one line of config (`preset` + key) reaches the vendor's documented base
 * URL. The gateway's upstream fetch is wrapped to record the URL it was asked for, then served by a
 * fake on 127.0.0.1 (no test leaves the machine).
 */
import OpenAI from 'openai';
import { json, openAiCompletion, startFakeUpstream, type FakeUpstream } from '../../helpers/fake-upstream';
import { startTestGateway, type TestGateway } from '../../helpers/gateway';

const EXPECTED: Record<string, string> = {
  mistral: 'https://api.mistral.ai/v1/chat/completions',
  groq: 'https://api.groq.com/openai/v1/chat/completions',
  together: 'https://api.together.xyz/v1/chat/completions',
  deepseek: 'https://api.deepseek.com/v1/chat/completions',
  xai: 'https://api.x.ai/v1/chat/completions',
  fireworks: 'https://api.fireworks.ai/inference/v1/chat/completions',
  openrouter: 'https://openrouter.ai/api/v1/chat/completions',
  perplexity: 'https://api.perplexity.ai/chat/completions',
  ollama: 'http://127.0.0.1:11434/v1/chat/completions',
  vllm: 'http://127.0.0.1:8000/v1/chat/completions',
  lmstudio: 'http://127.0.0.1:1234/v1/chat/completions',
};

describe('openai-compatible presets', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let client: OpenAI;
  const asked: Array<{ url: string; auth: string | null }> = [];

  beforeAll(async () => {
    upstream = await startFakeUpstream((_r, res) => json(res, 200, openAiCompletion('ok')));
    const recordingFetch: typeof fetch = async (input, init) => {
      const url = String(input);
      asked.push({ url, auth: new Headers(init?.headers).get('authorization') });
      const u = new URL(url);
      return fetch(upstream.url + u.pathname + u.search, init);
    };
    const providers = Object.fromEntries(
      Object.keys(EXPECTED).map((preset) => [preset, { type: 'openai-compatible' as const, preset, apiKey: { env: 'VENDOR_KEY' } }]),
    );
    gw = await startTestGateway({ providers }, { env: { VENDOR_KEY: 'vendor-secret-key-123456' }, overrides: { fetch: recordingFetch } });
    const { key } = await gw.createKey({ name: 'presets' });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  test.each(Object.entries(EXPECTED))('%s: one-line config calls %s with the bearer key', async (preset, url) => {
    const out = await client.chat.completions.create({ model: `${preset}/some-model`, messages: [{ role: 'user', content: 'hi' }] });
    expect(out.choices[0].message.content).toBe('ok');
    expect(asked.at(-1)).toEqual({ url, auth: 'Bearer vendor-secret-key-123456' });
    expect(upstream.received.at(-1)!.body.model).toBe('some-model');
  });
});
