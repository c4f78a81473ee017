/**
 * Only the gateway talks to upstreams, and only to the URL from config (ARCHITECTURE §4/§5):
 * nothing a client sends (body fields, headers, query, model names) changes where a request goes
 * or which credential it carries, and upstream redirects are not followed. A second loopback
 * server plays the attacker's host and must receive nothing at all.
 */
import { type FakeUpstream, json, openAiChunks, openAiCompletion, startFakeUpstream, writeSse } from '../helpers/fake-upstream';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { expectOpenAiError } from '../helpers/openai-error';

const OPENAI_KEY = 'sk-provider-openai-000000000000';
const COMPAT_KEY = 'sk-provider-compat-111111111111';
const ANTHROPIC_KEY = 'sk-ant-provider-22222222222222';
const GEMINI_KEY = 'AIza-provider-gemini-3333333333';
const AZURE_KEY = 'f00dfeed4444444444444444444444';

describe('no request can choose the upstream or its credential', () => {
  let upstream: FakeUpstream;
  let attacker: FakeUpstream;
  let gw: TestGateway;
  let key: string;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    attacker = await startFakeUpstream((_r, res) => json(res, 200, openAiCompletion('you have been steered')));
    gw = await startTestGateway(
      {
        providers: {
          openai: { type: 'openai', baseUrl: `${upstream.url}/openai/v1`, apiKey: { env: 'OPENAI_KEY' } },
          compat: { type: 'openai-compatible', baseUrl: `${upstream.url}/compat/v1`, apiKey: { env: 'COMPAT_KEY' } },
          anthropic: { type: 'anthropic', baseUrl: `${upstream.url}/anthropic`, apiKey: { env: 'ANTHROPIC_KEY' } },
          gemini: { type: 'gemini', baseUrl: `${upstream.url}/gemini`, apiKey: { env: 'GEMINI_KEY' } },
          azure: { type: 'azure-openai', baseUrl: `${upstream.url}/azure`, apiKey: { env: 'AZURE_KEY' } },
        },
        models: {
          'gpt-4o': { targets: [{ provider: 'openai', model: 'gpt-4o' }] },
          local: { targets: [{ provider: 'compat', model: 'llama' }] },
          claude: { targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
          gemini: { targets: [{ provider: 'gemini', model: 'gemini-2.0-flash' }] },
        },
      },
      { env: { OPENAI_KEY, COMPAT_KEY, ANTHROPIC_KEY, GEMINI_KEY, AZURE_KEY } },
    );
    ({ key } = await gw.createKey({ name: 'steer' }));
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
    await attacker.close();
  });
  beforeEach(() => {
    upstream.received.length = 0;
    upstream.handle((_r, res) => json(res, 200, openAiCompletion('ok')));
  });
  afterEach(() => {
    // The invariant every test here rests on.
    expect(attacker.received).toEqual([]);
  });

  const attackerHost = () => new URL(attacker.url).host;
  /** Every header a client might use to steer a gateway (Portkey, LiteLLM, proxies) or smuggle a credential. */
  const steeringHeaders = () => ({
    'x-portkey-custom-host': `${attacker.url}/v1`,
    'x-portkey-provider': 'openai',
    'x-portkey-api-key': 'pk-client',
    'x-portkey-config': JSON.stringify({ custom_host: attacker.url }),
    'x-base-url': `${attacker.url}/v1`,
    'x-api-base': `${attacker.url}/v1`,
    'x-forwarded-host': attackerHost(),
    'x-forwarded-proto': 'http',
    forwarded: `host=${attackerHost()}`,
    'x-original-url': attacker.url,
    'x-provider-api-key': 'sk-client-own-provider-key',
    'openai-organization': 'org-client',
    'api-key': 'sk-client-own-azure-key',
    'x-goog-api-key': 'AIza-client-own-gemini-key',
    cookie: 'session=client',
  });
  const steeringBody = () => ({
    api_base: `${attacker.url}/v1`,
    base_url: `${attacker.url}/v1`,
    baseURL: `${attacker.url}/v1`,
    api_key: 'sk-client-own-provider-key',
    apiKey: 'sk-client-own-provider-key',
    api_version: '2099-01-01',
    custom_llm_provider: 'openai',
  });
  const CLIENT_SECRETS = ['sk-client-own-provider-key', 'sk-client-own-azure-key', 'AIza-client-own-gemini-key', 'pk-client', 'session=client'];

  /** The upstream got exactly the configured credential and nothing the client tried to pass along. */
  function expectOnlyConfiguredCredential(expected: Record<string, string>) {
    expect(upstream.received).toHaveLength(1);
    const got = upstream.received[0];
    for (const [h, v] of Object.entries(expected)) expect(got.headers[h]).toBe(v);
    const seen = JSON.stringify(got.headers) + got.rawBody;
    expect(seen).not.toContain(key.slice(6));
    for (const s of CLIENT_SECRETS) expect(seen).not.toContain(s);
    expect(seen).not.toContain(attackerHost());
    expect(got.headers.host).toBe(new URL(upstream.url).host);
    for (const h of Object.keys(got.headers)) expect(h).not.toMatch(/^x-portkey|^x-base-url|^x-api-base|^x-forwarded|^forwarded|^cookie|^openai-organization/);
  }

  test('chat: steering body fields and headers are ignored; the upstream gets the config URL and key only', async () => {
    const res = await gw.post(
      '/v1/chat/completions?api_base=' + encodeURIComponent(attacker.url),
      { ...steeringBody(), model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] },
      key,
      steeringHeaders(),
    );
    expect(res.status).toBe(200);
    expect((await res.json()).choices[0].message.content).toBe('ok');
    expect(upstream.received[0].path).toBe('/openai/v1/chat/completions');
    expectOnlyConfiguredCredential({ authorization: `Bearer ${OPENAI_KEY}` });
    for (const f of Object.keys(steeringBody())) expect(upstream.received[0].body).not.toHaveProperty(f);
  });

  test('streaming chat: the same holds', async () => {
    upstream.handle((_r, res) => writeSse(res, openAiChunks(['o', 'k'])));
    const res = await gw.post(
      '/v1/chat/completions',
      { ...steeringBody(), model: 'local', stream: true, messages: [{ role: 'user', content: 'hi' }] },
      key,
      steeringHeaders(),
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('data: [DONE]');
    expect(upstream.received[0].path).toBe('/compat/v1/chat/completions');
    expectOnlyConfiguredCredential({ authorization: `Bearer ${COMPAT_KEY}` });
  });

  test('embeddings: the same holds', async () => {
    upstream.handle((_r, res) =>
      json(res, 200, { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1] }], model: 'e', usage: { prompt_tokens: 1, total_tokens: 1 } }),
    );
    const res = await gw.post('/v1/embeddings', { ...steeringBody(), model: 'openai/text-embedding-3-small', input: 'x' }, key, steeringHeaders());
    expect(res.status).toBe(200);
    expect(upstream.received[0].path).toBe('/openai/v1/embeddings');
    expectOnlyConfiguredCredential({ authorization: `Bearer ${OPENAI_KEY}` });
  });

  test('the virtual key in x-api-key never reaches an upstream that itself authenticates with x-api-key (anthropic)', async () => {
    upstream.handle((_r, res) => json(res, 500, { type: 'error', error: { type: 'api_error', message: 'nope' } }));
    const res = await fetch(gw.url + '/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key, ...steeringHeaders() },
      body: JSON.stringify({ ...steeringBody(), model: 'claude', messages: [{ role: 'user', content: 'hi' }] }),
    });
    await res.text();
    expect(upstream.received[0].path).toBe('/anthropic/v1/messages');
    expectOnlyConfiguredCredential({ 'x-api-key': ANTHROPIC_KEY });
  });

  test('the virtual key in api-key never reaches an upstream that itself authenticates with api-key (azure-openai)', async () => {
    const steer = steeringHeaders() as Record<string, string>;
    delete steer['api-key'];
    const res = await fetch(gw.url + '/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'api-key': key, ...steer },
      body: JSON.stringify({ ...steeringBody(), model: 'azure/gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    expect(upstream.received[0].path).toBe('/azure/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21');
    expectOnlyConfiguredCredential({ 'api-key': AZURE_KEY });
    expect(upstream.received[0].headers.authorization).toBeUndefined();
  });

  test.each([
    ['claude', '/anthropic/v1/messages', { 'x-api-key': ANTHROPIC_KEY }],
    ['gpt-4o', '/openai/v1/chat/completions', { authorization: `Bearer ${OPENAI_KEY}` }],
  ])('/v1/messages to %s: steering headers and body fields are ignored, only the configured key is sent', async (model, path, credential) => {
    upstream.handle((_r, res) => json(res, 500, { error: { message: 'nope' } }));
    const res = await fetch(gw.url + '/v1/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key, ...steeringHeaders() },
      body: JSON.stringify({ ...steeringBody(), model, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
    });
    await res.text();
    expect(upstream.received[0].path).toBe(path);
    expectOnlyConfiguredCredential(credential);
  });

  test('a client x-goog-api-key never reaches gemini; the configured key does', async () => {
    upstream.handle((_r, res) => json(res, 500, { error: { code: 500, message: 'nope', status: 'INTERNAL' } }));
    const res = await fetch(gw.url + '/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...steeringHeaders() },
      body: JSON.stringify({ ...steeringBody(), model: 'gemini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    await res.text();
    expect(upstream.received).toHaveLength(1);
    expect(upstream.received[0].path.startsWith('/gemini/')).toBe(true);
    const got = upstream.received[0];
    expect(got.headers['x-goog-api-key'] ?? new URL(got.path, 'http://x').searchParams.get('key')).toBe(GEMINI_KEY);
    expect(JSON.stringify(got.headers) + got.rawBody + got.path).not.toContain('AIza-client-own-gemini-key');
  });

  test.each([
    ['a URL as the model of a configured provider', `openai/${'http://ATTACKER/v1'}`],
    ['an @-host model', 'openai/@ATTACKER'],
  ])('%s goes into the body, never the URL', async (_name, modelTemplate) => {
    const model = modelTemplate.replace('ATTACKER', attackerHost());
    const res = await gw.post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }] }, key);
    expect(res.status).toBe(200);
    const got = upstream.received[0];
    expect(got.path).toMatch(/^\/(openai|compat)\/v1\/chat\/completions$/);
    expect(got.body.model).toBe(model.slice(model.indexOf('/') + 1));
  });

  test.each(['compat/../../../v1', 'gemini/../x', 'azure/..', 'azure/./x'])(
    'a model with a . or .. path segment (%s) resolves to nothing: 404, no upstream call',
    async (model) => {
      const res = await gw.post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }] }, key);
      await expectOpenAiError(res, 404, 'model_not_found');
      expect(upstream.received).toHaveLength(0);
    },
  );

  test.each([
    ['gemini', 'v1/evil?key=x#'],
    ['azure', 'evil/x?api-version=1#'],
  ])('%s: a traversing model stays one encoded path segment under the configured base', async (provider, model) => {
    upstream.handle((_r, res) => json(res, 500, { error: { message: 'nope' } }));
    const res = await gw.post('/v1/chat/completions', { model: `${provider}/${model}`, messages: [{ role: 'user', content: 'hi' }] }, key);
    await res.text();
    expect(upstream.received).toHaveLength(1);
    const got = upstream.received[0];
    expect(got.path.startsWith(`/${provider}/`)).toBe(true);
    expect(got.path).toContain(encodeURIComponent(model));
    expect(got.path).not.toMatch(/\/\.\.\//);
  });

  test('a model naming the attacker as a provider is an unknown model (404)', async () => {
    const res = await gw.post('/v1/chat/completions', { model: `${attacker.url}/gpt-4o`, messages: [{ role: 'user', content: 'hi' }] }, key);
    await expectOpenAiError(res, 404, 'model_not_found');
    expect(upstream.received).toHaveLength(0);
  });

  test('the Host header does not shape anything the gateway calls', async () => {
    const res = await gw.post('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, key, { host: attackerHost() });
    expect(res.status).toBe(200);
    expect(upstream.received[0].headers.host).toBe(new URL(upstream.url).host);
  });

  describe.each([301, 302, 303, 307, 308])('an upstream %d redirect to another host', (status) => {
    beforeEach(() => {
      upstream.handle((_r, res) => void res.writeHead(status, { location: `${attacker.url}/v1/chat/completions` }).end());
    });

    test('chat JSON: not followed; 502 in the error shape, naming no URL', async () => {
      const res = await gw.post('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, key);
      const err = await expectOpenAiError(res, 502);
      expect(err.message).toMatch(/redirect/);
      expect(err.message).not.toContain(attacker.url);
      expect(upstream.received).toHaveLength(1);
    });

    test('chat stream: not followed', async () => {
      const res = await gw.post('/v1/chat/completions', { model: 'local', stream: true, messages: [{ role: 'user', content: 'hi' }] }, key);
      await expectOpenAiError(res, 502);
    });

    test('embeddings: not followed', async () => {
      const res = await gw.post('/v1/embeddings', { model: 'gpt-4o', input: 'x' }, key);
      await expectOpenAiError(res, 502);
    });
  });
});
