/**
 * GET /v1/models/{id} (the openai SDK's models.retrieve) and POST /v1/messages/count_tokens (the
 * Anthropic SDK's messages.countTokens) against the local gateway: the provider's own count where
 * it has one (a fake Anthropic), the estimator elsewhere, and what a key may not see is a 404.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { type FakeUpstream, json, startFakeUpstream } from '../helpers/fake-upstream';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

const ANTHROPIC_KEY = 'sk-ant-api03-upstream-secret-abcdef012345';

describe('model lookup and token counting', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let openai: OpenAI;
  let anthropic: Anthropic;
  let narrow: OpenAI;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    gw = await startTestGateway(
      {
        providers: { mock: { type: 'mock' }, anthropic: { type: 'anthropic', baseUrl: upstream.url, apiKey: { env: 'ANTHROPIC_KEY' } } },
        models: {
          'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] },
          claude: { targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
        },
      },
      { env: { ANTHROPIC_KEY } },
    );
    const { key } = await gw.createKey({ name: 'lookup' });
    openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: gw.url, apiKey: key, maxRetries: 0 });
    narrow = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: (await gw.createKey({ name: 'narrow', models: ['mock-*'] })).key, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  test('models.retrieve finds a configured model, and a provider/model address', async () => {
    expect(await openai.models.retrieve('claude')).toEqual({ id: 'claude', object: 'model', created: 0, owned_by: 'anthropic' });
    expect((await openai.models.retrieve('anthropic/claude-opus-4-1')).owned_by).toBe('anthropic');
  });

  test('an unknown model, and a model the key may not call, are 404s in OpenAI shape', async () => {
    await expect(openai.models.retrieve('nope')).rejects.toMatchObject({ status: 404, error: { code: 'model_not_found' } });
    await expect(narrow.models.retrieve('claude')).rejects.toMatchObject({ status: 404, error: { code: 'model_not_found' } });
    expect((await narrow.models.retrieve('mock-model')).id).toBe('mock-model');
  });

  test("countTokens on an Anthropic route is Anthropic's own count, asked with the provider key and without max_tokens", async () => {
    upstream.handle((_req, res) => json(res, 200, { input_tokens: 1234 }));
    const out = await anthropic.messages.countTokens({ model: 'claude', system: 'Be brief.', messages: [{ role: 'user', content: 'hello there' }] });
    expect(out.input_tokens).toBe(1234);
    const sent = upstream.received.at(-1)!;
    expect(sent.path).toBe('/v1/messages/count_tokens');
    expect(sent.headers['x-api-key']).toBe(ANTHROPIC_KEY);
    expect(sent.body).toEqual({ model: 'claude-sonnet-4-5', system: 'Be brief.', messages: [{ role: 'user', content: 'hello there' }] });
  });

  test('countTokens elsewhere is the estimator, and says so', async () => {
    const raw = await anthropic.messages.countTokens({ model: 'mock-model', messages: [{ role: 'user', content: 'hello there' }] }).asResponse();
    expect(raw.headers.get('x-gateway-token-count')).toBe('estimate');
    expect(((await raw.json()) as { input_tokens: number }).input_tokens).toBeGreaterThan(0);
  });

  test('when the provider cannot count, the estimate answers instead of an error', async () => {
    upstream.handle((_req, res) => json(res, 500, { type: 'error', error: { type: 'api_error', message: 'down' } }));
    const raw = await anthropic.messages.countTokens({ model: 'claude', messages: [{ role: 'user', content: 'hello' }] }).asResponse();
    expect(raw.status).toBe(200);
    expect(raw.headers.get('x-gateway-token-count')).toBe('estimate');
  });

  test('a malformed count request is a 400 in Anthropic shape', async () => {
    await expect(anthropic.messages.countTokens({ model: 'claude', messages: [] })).rejects.toMatchObject({
      status: 400,
      error: { type: 'error', error: { type: 'invalid_request_error' } },
    });
  });
});
