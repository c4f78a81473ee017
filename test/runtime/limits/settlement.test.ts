/** Reserve → settle → release against dynalite: real usage settles, failures release, nothing stays in flight. */
import { json, openAiChunks } from '../../helpers/fake-upstream';
import { PROMPT, PROMPT_ESTIMATE, answer, chat, eventually, gate, startLimitsHarness, usage, type LimitsHarness } from './harness';
import { DEFAULT_OUTPUT_RESERVATION } from '../../../lambda/core/handlers/chat-completions';
import { estimateTextTokens } from '../../../lambda/core/tokens';
import { join } from 'node:path';
import { readLogRecords } from '../logging/log-capture';

async function logRecord(requestId: string | null) {
  await h.gw.gateway.flush();
  return readLogRecords(join(h.gw.dataDir, 'logs')).find((r) => r.request_id === requestId);
}

let h: LimitsHarness;
beforeAll(async () => (h = await startLimitsHarness()));
afterAll(() => h.close());

const RATE_HEADERS = [
  'x-ratelimit-limit-requests',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-reset-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-tokens',
];
const expectRateHeaders = (r: Response) => {
  for (const name of RATE_HEADERS) expect(r.headers.get(name)).not.toBeNull();
};

test('JSON: the reservation settles to the provider-reported usage and its cost', async () => {
  const { key, id } = await h.gw.createKey({ limits: { rpm: 100, tpm: 100_000, budgetUsd: { amount: 10, period: 'day' } } });
  h.upstream.handle((_req, res) => answer(res, { prompt_tokens: 123, completion_tokens: 45 }));
  const res = await chat(h.gw, key, { model: 'priced' });
  expect(res.status).toBe(200);
  expectRateHeaders(res);
  // Headers reflect the settled usage, not the reservation.
  expect(res.headers.get('x-ratelimit-remaining-tokens')).toBe(String(100_000 - 168));
  const u = await usage(h.gw, id);
  expect(u.tpm.used).toBe(168);
  expect(u.tokensPerDay.used).toBe(168);
  expect(u.budgetUsd.spentUsd).toBeCloseTo(0.168, 9); // 168 tokens at $0.001
  expect(u.inFlight).toBe(0);
  // The same real cost is what the request log records.
  const record = await logRecord(res.headers.get('x-request-id'));
  expect(record).toMatchObject({ prompt_tokens: 123, completion_tokens: 45, cost_usd: 0.168 });
});

test('embeddings: reserved at the input estimate and its price, settled to the reported usage', async () => {
  const { key, id } = await h.gw.createKey({ limits: { tpm: 100_000, budgetUsd: { amount: 1, period: 'month' } } });
  h.upstream.handle((_req, res) =>
    json(res, 200, {
      object: 'list',
      model: 'priced-model',
      data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }],
      usage: { prompt_tokens: 42, total_tokens: 42 },
    }),
  );
  const res = await h.gw.post('/v1/embeddings', { model: 'priced', input: 'hello embeddings' }, key);
  expect(res.status).toBe(200);
  const u = await usage(h.gw, id);
  expect(u.tpm.used).toBe(42);
  expect(u.budgetUsd.spentUsd).toBeCloseTo(0.042, 9);
  expect(u.inFlight).toBe(0);
});

test('streaming: usage is requested upstream, hidden from a client that did not ask, and settles the reservation', async () => {
  const { key, id } = await h.gw.createKey({ limits: { tpm: 100_000 } });
  h.upstream.handle((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const c of openAiChunks(['Hel', 'lo'], 'gpt-4o', { prompt_tokens: 31, completion_tokens: 2, total_tokens: 33 }))
      res.write(`data: ${JSON.stringify(c)}\n\n`);
    res.end('data: [DONE]\n\n');
  });
  const res = await chat(h.gw, key, { stream: true });
  expect(res.status).toBe(200);
  expect(res.headers.get('x-ratelimit-limit-tokens')).toBe('100000');
  const text = await res.text();
  expect(text).not.toContain('"usage"');
  expect(text).toContain('[DONE]');
  expect(h.upstream.received.at(-1)!.body.stream_options).toEqual({ include_usage: true });
  const u = await eventually(
    () => usage(h.gw, id),
    (x) => x.inFlight === 0,
  );
  expect(u.tpm.used).toBe(33);
});

test('streaming: a client that asked for usage still gets the usage chunk', async () => {
  const { key } = await h.gw.createKey({ limits: { tpm: 100_000 } });
  const res = await chat(h.gw, key, { stream: true, stream_options: { include_usage: true } });
  expect(await res.text()).toContain('"prompt_tokens":31');
});

test('upstream failure: the reservation is released and the error carries the rate-limit headers', async () => {
  const { key, id } = await h.gw.createKey({ limits: { rpm: 100, tpm: 100_000 } });
  h.upstream.handle((_req, res) => json(res, 500, { error: { message: 'boom', type: 'server_error' } }));
  const res = await chat(h.gw, key);
  expect(res.status).toBeGreaterThanOrEqual(500);
  expectRateHeaders(res);
  const u = await usage(h.gw, id);
  expect(u.tpm.used).toBe(0);
  expect(u.inFlight).toBe(0);
  // The request itself still counts against requests per minute.
  expect(u.rpm.used).toBe(1);
});

test('client disconnect mid-stream: the reservation shrinks to what was consumed and nothing stays in flight', async () => {
  const { key, id } = await h.gw.createKey({ limits: { tpm: 100_000 } });
  const hold = gate();
  h.upstream.handle(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const c of openAiChunks(['abcd'.repeat(10)]).slice(0, 2)) res.write(`data: ${JSON.stringify(c)}\n\n`);
    await hold.opened;
    res.end();
  });
  const res = await h.gw.post('/v1/chat/completions', { model: 'gpt-4o', messages: PROMPT, stream: true }, key, {});
  const reader = res.body!.getReader();
  await reader.read(); // the first content chunk arrived
  const during = await usage(h.gw, id);
  expect(during.inFlight).toBe(1);
  expect(during.tpm.used).toBe(PROMPT_ESTIMATE + DEFAULT_OUTPUT_RESERVATION);
  await reader.cancel();
  const u = await eventually(
    () => usage(h.gw, id),
    (x) => x.inFlight === 0,
  );
  hold.open();
  expect(u.inFlight).toBe(0);
  // Prompt estimate plus the delivered text's estimate: the unused output cap was released.
  expect(u.tpm.used).toBe(PROMPT_ESTIMATE + estimateTextTokens('abcd'.repeat(10)));
});

test('rate-limit headers also on an answer that ends before the reservation (bad request)', async () => {
  const { key } = await h.gw.createKey({ limits: { rpm: 5, tpm: 5000 } });
  h.upstream.handle((_req, res) => answer(res, { prompt_tokens: 1, completion_tokens: 1 }));
  await chat(h.gw, key);
  const bad = await h.gw.post('/v1/chat/completions', { model: 'gpt-4o', messages: 'nope' }, key);
  expect(bad.status).toBe(400);
  expect(bad.headers.get('x-ratelimit-limit-requests')).toBe('5');
  expect(bad.headers.get('x-ratelimit-remaining-requests')).toBe('4');
});

test('a key without limits gets no rate-limit headers', async () => {
  const { key } = await h.gw.createKey({});
  const res = await chat(h.gw, key);
  expect(res.status).toBe(200);
  expect(res.headers.get('x-ratelimit-limit-requests')).toBeNull();
});

test('the output reservation is the cap per choice times n', async () => {
  const { key, id } = await h.gw.createKey({ limits: { tpm: 100_000 } });
  const hold = gate();
  h.upstream.handle(async (_req, res) => {
    await hold.opened;
    answer(res, { prompt_tokens: 10, completion_tokens: 30 });
  });
  const pending = chat(h.gw, key, { max_tokens: 100, n: 3 });
  const during = await eventually(
    () => usage(h.gw, id),
    (x) => x.inFlight === 1,
  );
  expect(during.tpm.used).toBe(PROMPT_ESTIMATE + 300);
  hold.open();
  expect((await pending).status).toBe(200);
  expect((await usage(h.gw, id)).tpm.used).toBe(40);
});
