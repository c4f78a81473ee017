/**
 * Done-means of issue 4: many concurrent requests at a key whose token limit admits only a
 * fraction of them. Every reservation is held until all requests were either admitted or refused,
 * so the test sees the counter at its fullest.
 */
import { PROMPT_ESTIMATE, answer, chat, gate, startLimitsHarness, usage, type LimitsHarness } from './harness';

let h: LimitsHarness;
beforeAll(async () => (h = await startLimitsHarness()));
afterAll(() => h.close());

const REQUESTS = 48;
const MAX_TOKENS = 100;
const RESERVATION = PROMPT_ESTIMATE + MAX_TOKENS;
const TPM = 1000;

test(`${REQUESTS} concurrent requests: admitted tokens never exceed the limit plus one reservation; the rest get 429 with Retry-After`, async () => {
  const { key, id } = await h.gw.createKey({ limits: { tpm: TPM } });
  const hold = gate();
  let admitted = 0;
  h.upstream.handle(async (_req, res) => {
    admitted++;
    await hold.opened;
    answer(res, { prompt_tokens: 10, completion_tokens: 5 });
  });

  const pending = Array.from({ length: REQUESTS }, () => chat(h.gw, key, { max_tokens: MAX_TOKENS }));
  const refused: Response[] = [];
  // Refusals come back while the admitted requests are still held upstream.
  const settledRefusals = pending.map((p) => p.then((r) => (r.status === 429 ? void refused.push(r) : undefined)));
  const whileHeld = async () => {
    while (admitted + refused.length < REQUESTS) await new Promise((r) => setTimeout(r, 5));
  };
  await whileHeld();
  const held = await usage(h.gw, id);
  expect(held.inFlight).toBe(admitted);
  expect(held.tpm.used).toBe(admitted * RESERVATION);
  expect(admitted * RESERVATION).toBeLessThanOrEqual(TPM + RESERVATION);
  expect(admitted).toBeGreaterThan(0);
  expect(admitted).toBeLessThan(REQUESTS / 2);
  hold.open();
  const responses = await Promise.all(pending);
  await Promise.all(settledRefusals);

  const ok = responses.filter((r) => r.status === 200);
  expect(ok.length).toBe(admitted);
  expect(refused.length).toBe(REQUESTS - admitted);
  for (const r of refused) {
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(r.headers.get('x-ratelimit-limit-tokens')).toBe(String(TPM));
    expect(r.headers.get('x-gateway-limit')).toBe('key:tpm');
    const body = await r.json();
    expect(body.error.code).toBe('rate_limit_exceeded');
    expect(body.error.message).toMatch(/tokens per minute \(tpm\)/);
  }
  // Every reservation settled to the real usage (15 tokens each), nothing left in flight.
  const after = await usage(h.gw, id);
  expect(after.inFlight).toBe(0);
  expect(after.tpm.used).toBe(admitted * 15);
  expect(after.rpm.used).toBe(admitted);
});

test('two gateway instances (separate limiters, separate caches) sharing one table never over-admit together', async () => {
  const { createDynamoLimiter } = await import('../../../lambda/stores/dynamo-limiter');
  const instances = [0, 1].map(() => createDynamoLimiter({ client: h.gw.dynamo, tableName: h.gw.tables.counters, now: h.clock.now }));
  const { record, id } = await h.gw.createKey({ limits: { tpm: 10_000, rpm: 1_000 } });
  const NEED = 700;
  const attempts = Array.from({ length: 60 }, (_, i) =>
    instances[i % 2].reserve(record, { tokens: NEED, costUsd: 0 }, `req_multi_${i}`).then(
      () => 'admitted' as const,
      (err) => (err.status === 429 ? ('refused' as const) : Promise.reject(err)),
    ),
  );
  const outcomes = await Promise.all(attempts);
  const admitted = outcomes.filter((o) => o === 'admitted').length;
  expect(admitted * NEED).toBeLessThanOrEqual(10_000 + NEED);
  expect(admitted).toBe(Math.floor(10_000 / NEED)); // and no fewer: a refusal only when there was no room
  const u = await usage(h.gw, id);
  expect(u.tpm.used).toBe(admitted * NEED);
  expect(u.inFlight).toBe(admitted);
});
