/**
 * The prompt guard beside the response cache: the real local gateway (dynalite, exact cache in a
 * team scope), a fake OpenAI upstream on 127.0.0.1 that counts its calls, and the official openai
 * client. An answer cached for one key is never served to a key whose own guard policy would have
 * checked it differently: the policies that apply are part of the cache key.
 */
import OpenAI from 'openai';
import type { GatewayConfig } from '../../../lambda/core/config';
import { type FakeUpstream, json, openAiCompletion, startFakeUpstream } from '../../helpers/fake-upstream';
import { type TestGateway, startTestGateway } from '../../helpers/gateway';

const config = (upstreamUrl: string): GatewayConfig => ({
  providers: { up: { type: 'openai', baseUrl: `${upstreamUrl}/v1`, apiKey: { env: 'UP_KEY' } } },
  models: { chat: { targets: [{ provider: 'up', model: 'gpt-4o' }] } },
  guards: { 'no-codenames': { output: { deny: [{ id: 'bluebird', pattern: '\\bbluebird\\b', flags: 'i' }] } } },
  cache: { mode: 'exact', scope: 'team' },
});

describe('prompt guard and response cache', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let plain: OpenAI;
  let guarded: OpenAI;

  beforeAll(async () => {
    upstream = await startFakeUpstream((_r, res) => json(res, 200, openAiCompletion('The project is called Bluebird.')));
    gw = await startTestGateway(config(upstream.url), { env: { UP_KEY: 'sk-up' } });
    const client = async (body: Record<string, unknown>) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: (await gw.createKey(body)).key, maxRetries: 0 });
    plain = await client({ name: 'plain', team: 'alpha' });
    guarded = await client({ name: 'guarded', team: 'alpha', guard: 'no-codenames' });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  test("a key's own output policy is not bypassed by an answer its team cached without it", async () => {
    const ask = (c: OpenAI) =>
      c.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'What is the project called?' }] }).withResponse();
    const first = await ask(plain);
    expect(first.data.choices[0].message.content).toBe('The project is called Bluebird.');
    const again = await ask(plain);
    expect(again.response.headers.get('x-gateway-cache')).toBe('hit');
    expect(upstream.received).toHaveLength(1);
    // Same team, same request, but this key's policy applies: its own lookup, and the answer is checked.
    const checked = await ask(guarded);
    expect(checked.response.headers.get('x-gateway-cache')).toBe('miss');
    expect(upstream.received).toHaveLength(2);
    expect(checked.data.choices[0]).toMatchObject({ finish_reason: 'content_filter', message: { content: null } });
    // Its withheld answer is what its later requests get from the cache.
    const cached = await ask(guarded);
    expect(cached.response.headers.get('x-gateway-cache')).toBe('hit');
    expect(cached.data.choices[0].finish_reason).toBe('content_filter');
    expect(upstream.received).toHaveLength(2);
  });
});
