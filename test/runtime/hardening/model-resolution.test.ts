/**
 * Issue 12 item 14 (all but the Lambda deadline): model names resolve only to what config names,
 * the mock's embeddings answer in proportion to the request, and a scoped key cannot tell
 * configured route names it may not call from names that do not exist.
 */
import { type FakeUpstream, json, openAiCompletion, startFakeUpstream } from '../../helpers/fake-upstream';
import { type TestGateway, startTestGateway } from '../../helpers/gateway';

let upstream: FakeUpstream;
let gw: TestGateway;
let key: string;

beforeAll(async () => {
  upstream = await startFakeUpstream((_req, res) => json(res, 200, openAiCompletion('ok')));
  gw = await startTestGateway(
    {
      providers: {
        azure: { type: 'azure-openai', baseUrl: `${upstream.url}/azure`, apiKey: { env: 'K' }, deployments: { mine: 'dep-mine' } },
        up: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: { env: 'K' } },
        mock: { type: 'mock' },
      },
      models: {
        'gpt-4o': { targets: [{ provider: 'up', model: 'gpt-4o' }] },
        'secret-route': { targets: [{ provider: 'up', model: 'gpt-4o' }] },
        embed: { targets: [{ provider: 'mock', model: 'mock-embed' }] },
      },
    },
    { env: { K: 'sk-provider' } },
  );
  ({ key } = await gw.createKey());
});
afterAll(async () => {
  await gw.close();
  await upstream.close();
});

const hi = [{ role: 'user', content: 'hi' }];

test.each(['azure/..', 'azure/../../v1/chat', 'azure/.', 'up/../x', 'constructor/x', '__proto__/x', 'toString/x', 'hasOwnProperty/x', 'azure/constructor'])(
  '14.1: %s resolves to nothing (404) or only to its own deployment, never another path or a prototype property',
  async (model) => {
    const before = upstream.received.length;
    const res = await gw.post('/v1/chat/completions', { model, messages: hi }, key);
    const sent = upstream.received.slice(before);
    if (model === 'azure/constructor') {
      // A deployment named like a prototype property is just that name, in its own path segment.
      expect(sent.map((r) => r.path.split('?')[0])).toEqual(['/azure/openai/deployments/constructor/chat/completions']);
      return;
    }
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe('model_not_found');
    expect(sent).toEqual([]);
  },
);

test('14.2: the mock’s embeddings answer in proportion to the input, not megabytes for a tiny request', async () => {
  const res = await gw.post('/v1/embeddings', { model: 'embed', input: 'a', dimensions: 65536 }, key);
  expect(res.status).toBe(200);
  const text = await res.text();
  expect(text.length).toBeLessThan(64 * 1024);
  // A list of numbers is one token-array input, not one embedding per number.
  const tokens = await gw.post('/v1/embeddings', { model: 'embed', input: Array.from({ length: 5000 }, (_, i) => i) }, key);
  expect((await tokens.json()).data).toHaveLength(1);
});

test('14.3: a scoped key gets the same 403 for a configured route it may not call and for a name that does not exist', async () => {
  const { key: scoped } = await gw.createKey({ models: ['gpt-*'] });
  const answers = [];
  for (const model of ['secret-route', 'no-such-route']) {
    const res = await gw.post('/v1/chat/completions', { model, messages: hi }, scoped);
    const body = await res.json();
    answers.push({ status: res.status, code: body.error.code, type: body.error.type });
  }
  expect(answers[0]).toEqual({ status: 403, code: 'model_not_allowed', type: 'permission_error' });
  expect(answers[1]).toEqual(answers[0]);
  // Within its globs, a missing name is still a 404.
  const missing = await gw.post('/v1/chat/completions', { model: 'gpt-nope', messages: hi }, scoped);
  expect(missing.status).toBe(404);
});
