/** /v1/messages (Anthropic format) goes through the same limiter: settle with real usage, refusals in Anthropic's error shape. */
import { answer, startLimitsHarness, usage, type LimitsHarness } from './harness';

let h: LimitsHarness;
beforeAll(async () => {
  h = await startLimitsHarness();
  h.upstream.handle((_req, res) => answer(res, { prompt_tokens: 20, completion_tokens: 9 }));
});
afterAll(() => h.close());

const message = (gwKey: string) =>
  h.gw.post('/v1/messages', { model: 'gpt-4o', max_tokens: 50, messages: [{ role: 'user', content: 'hello' }] }, undefined, {
    'x-api-key': gwKey,
    'anthropic-version': '2023-06-01',
  });

test('settles to the real usage, then refuses with an Anthropic rate_limit_error, Retry-After and the headers', async () => {
  const { key, id } = await h.gw.createKey({ limits: { rpm: 1, tpm: 10_000 } });
  const ok = await message(key);
  expect(ok.status).toBe(200);
  expect(ok.headers.get('x-ratelimit-limit-tokens')).toBe('10000');
  expect((await usage(h.gw, id)).tpm.used).toBe(29);
  const refused = await message(key);
  expect(refused.status).toBe(429);
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
  const body = await refused.json();
  expect(body.type).toBe('error');
  expect(body.error.type).toBe('rate_limit_error');
  expect(body.error.message).toContain('requests per minute');
});
