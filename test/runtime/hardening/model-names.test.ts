/**
 * Issue 12 item 5: model names are validated where they enter, and the response headers that name
 * the model can never break the settle/log path.
 */
import { join } from 'node:path';
import { type FakeUpstream, openAiChunks, startFakeUpstream, writeSse } from '../../helpers/fake-upstream';
import { type TestGateway, startTestGateway } from '../../helpers/gateway';
import { readLogRecords } from '../logging/log-capture';
import { eventually } from '../limits/harness';

let upstream: FakeUpstream;
let gw: TestGateway;
let key: string;
let keyId: string;

beforeAll(async () => {
  upstream = await startFakeUpstream((_req, res) => writeSse(res, openAiChunks(['hi'], 'm', { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 })));
  gw = await startTestGateway(
    {
      providers: { up: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: { env: 'UP_KEY' } } },
      // A configured target whose model id cannot travel in a response header as it is.
      models: { odd: { targets: [{ provider: 'up', model: 'modèle-✓\u0007' }] } },
    },
    { env: { UP_KEY: 'sk-up' } },
  );
  ({ key, id: keyId } = await gw.createKey({ limits: { tpm: 1_000_000 } }));
});
afterAll(async () => {
  await gw.close();
  await upstream.close();
});

async function recordOf(requestId: string | null) {
  await gw.gateway.flush();
  return readLogRecords(join(gw.dataDir, 'logs')).filter((r) => r.request_id === requestId);
}

const BAD_NAMES: [string, string][] = [
  ['a control character', 'up/gpt-4o\u0001'],
  ['a newline', 'up/gpt\n4o'],
  ['a character outside Latin-1', 'up/gpt-4o-✓'],
  ['an absurd length', `up/${'m'.repeat(5000)}`],
];

describe.each(BAD_NAMES)('5: a model name with %s', (_what, model) => {
  test.each([
    ['/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }], stream: true }],
    ['/v1/embeddings', { model, input: 'hi' }],
    ['/v1/messages', { model, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }], stream: true }],
  ])('5.1: is a 400 on %s before any upstream call, logged once as 400', async (path, body) => {
    const before = upstream.received.length;
    const res = await gw.post(path, body, key);
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toContain('model');
    expect(upstream.received.length).toBe(before);
    const records = await recordOf(res.headers.get('x-request-id'));
    expect(records).toHaveLength(1);
    expect(records[0].status).toBe(400);
  });
});

test('5.2: a served model id that cannot be a header value still streams, settles and logs one 200 record', async () => {
  const res = await gw.post('/v1/chat/completions', { model: 'odd', messages: [{ role: 'user', content: 'hi' }], stream: true }, key);
  expect(res.status).toBe(200);
  const text = await res.text();
  expect(text).toContain('[DONE]');
  // The header carries a safe rendering of the id, never a broken response.
  expect(res.headers.get('x-gateway-model')).toBe('mod\\u00e8le-\\u2713\\u0007');
  // A stream's record is written after its last byte: wait for it.
  const records = await eventually(
    () => recordOf(res.headers.get('x-request-id')),
    (r) => r.length > 0,
  );
  expect(records).toHaveLength(1);
  expect(records[0]).toMatchObject({ status: 200, completion_tokens: 1 });
  const usage = await gw.admin('GET', `/admin/keys/${keyId}/usage`);
  expect(usage.body.usage.inFlight).toBe(0);
});
