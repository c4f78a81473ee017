import OpenAI from 'openai';
import { json, openAiChunks, openAiCompletion, startFakeUpstream, type FakeUpstream, writeSse } from '../helpers/fake-upstream';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

const PROVIDER_KEY = 'sk-real-provider-key-0123456789';

describe('official openai client through the local gateway', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let client: OpenAI;
  let key: string;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    gw = await startTestGateway(
      {
        providers: { openai: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: { env: 'OPENAI_KEY' } }, mock: { type: 'mock' } },
        models: { 'gpt-4o': { targets: [{ provider: 'openai', model: 'gpt-4o-2024-08-06' }] }, 'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] } },
      },
      { env: { OPENAI_KEY: PROVIDER_KEY } },
    );
    ({ key } = await gw.createKey({ name: 'sdk' }));
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  test('chat JSON: answer passes through and the upstream gets the provider key, never the virtual key', async () => {
    upstream.handle((_req, res) => json(res, 200, openAiCompletion('Hello!')));
    const out = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(out.choices[0].message.content).toBe('Hello!');
    const got = upstream.received.at(-1)!;
    expect(got.path).toBe('/v1/chat/completions');
    expect(got.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    expect(got.rawBody).not.toContain(key);
    expect(got.body.model).toBe('gpt-4o-2024-08-06');
  });

  test('chat streaming: chunks reach the client, usage chunk hidden when not asked for', async () => {
    upstream.handle((_req, res) => writeSse(res, openAiChunks(['Hel', 'lo'], 'gpt-4o', { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 })));
    const stream = await client.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const parts: string[] = [];
    let sawUsage = false;
    for await (const chunk of stream) {
      parts.push(chunk.choices[0]?.delta?.content ?? '');
      if (chunk.usage) sawUsage = true;
    }
    expect(parts.join('')).toBe('Hello');
    expect(sawUsage).toBe(false);
    expect(upstream.received.at(-1)!.body.stream_options).toEqual({ include_usage: true });
  });

  test('mock provider works with no credentials', async () => {
    const out = await client.chat.completions.create({ model: 'mock-model', messages: [{ role: 'user', content: 'ping' }] });
    expect(out.choices[0].message.content).toContain('ping');
  });
});
