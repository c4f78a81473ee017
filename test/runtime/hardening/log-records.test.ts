/**
 * Issue 12 item 9: every request gets exactly one deliverable record, whatever its body holds.
 */
import { join } from 'node:path';
import { type FakeUpstream, json, openAiCompletion, startFakeUpstream } from '../../helpers/fake-upstream';
import { type TestGateway, startTestGateway } from '../../helpers/gateway';
import { readLogRecords } from '../logging/log-capture';
import { RECORD_FIELD_MAX_CHARS } from '../../../lambda/core/record-bounds';
import { DEPTH_MARKER } from '../../../lambda/core/redaction';

let upstream: FakeUpstream;
let gw: TestGateway;
let fullKey: string;

beforeAll(async () => {
  upstream = await startFakeUpstream((_req, res) => json(res, 200, openAiCompletion('ok')));
  gw = await startTestGateway(
    {
      providers: { up: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: { env: 'UP_KEY' } } },
      models: { 'gpt-4o': { targets: [{ provider: 'up', model: 'gpt-4o' }] } },
    },
    { env: { UP_KEY: 'sk-up' } },
  );
  ({ key: fullKey } = await gw.createKey({ logging: 'full' }));
});
afterAll(async () => {
  await gw.close();
  await upstream.close();
});

async function recordsOf(res: Response) {
  await gw.gateway.flush();
  const id = res.headers.get('x-request-id');
  return readLogRecords(join(gw.dataDir, 'logs')).filter((r) => r.request_id === id);
}

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const hi = [{ role: 'user', content: 'hi' }];

test('9.1: a body nested 200,000 levels deep (in a field the gateway strips) is a 400 with exactly one record', async () => {
  const body = `{"model":"gpt-4o","messages":${JSON.stringify(hi)},"api_base":${nested(200_000)}}`;
  const before = upstream.received.length;
  const res = await gw.post('/v1/chat/completions', body, fullKey);
  expect(res.status).toBe(400);
  expect((await res.json()).error.code).toBe('json_too_deep');
  expect(upstream.received.length).toBe(before);
  expect(await recordsOf(res)).toHaveLength(1);
});

test('9.2: an upstream answer nested 100,000 levels deep still leaves exactly one record, its body cut at a depth marker', async () => {
  upstream.handle((_req, res) => {
    const text = JSON.stringify(openAiCompletion('ok')).replace('"logprobs":null', `"logprobs":${nested(100_000)}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end(text);
  });
  const res = await gw.post('/v1/chat/completions', { model: 'gpt-4o', messages: hi }, fullKey);
  await res.text();
  const records = await recordsOf(res);
  expect(records).toHaveLength(1);
  expect(records[0].response_body).toContain(DEPTH_MARKER);
  upstream.handle((_req, r) => json(r, 200, openAiCompletion('ok')));
});

test('9.3: a huge requested model and user agent are cut to their documented sizes in the record', async () => {
  const { key } = await gw.createKey({ logging: 'metadata' });
  const model = 'm'.repeat(2_000_000);
  const res = await gw.post('/v1/chat/completions', { model, messages: hi }, key, { 'user-agent': 'u'.repeat(8000) });
  expect(res.status).toBe(400);
  const [record] = await recordsOf(res);
  expect(record.requested_model!.length).toBeLessThanOrEqual(RECORD_FIELD_MAX_CHARS.requested_model! + 20);
  expect(record.requested_model!.startsWith('mmmm')).toBe(true);
  expect(record.user_agent!.length).toBeLessThanOrEqual(RECORD_FIELD_MAX_CHARS.user_agent! + 20);
  // The whole record fits a Firehose record (1,000 KiB) with room to spare.
  expect(Buffer.byteLength(JSON.stringify(record))).toBeLessThan(100 * 1024);
});

test('9.4: a `__proto__` key the upstream received is in the logged request body too', async () => {
  const body = `{"model":"gpt-4o","messages":${JSON.stringify(hi)},"__proto__":{"polluted":"yes"},"metadata":{"__proto__":{"inner":1}}}`;
  const res = await gw.post('/v1/chat/completions', body, fullKey);
  expect(res.status).toBe(200);
  const sent = upstream.received.at(-1)!.rawBody;
  expect(sent).toContain('"__proto__":{"polluted":"yes"}');
  const [record] = await recordsOf(res);
  expect(record.request_body).toContain('"__proto__":{"polluted":"yes"}');
  expect(record.request_body).toContain('"metadata":{"__proto__":{"inner":1}}');
});
