/** What the official openai client sees when a limit or a budget refuses (it reads the same headers and codes as from OpenAI). */
import OpenAI from 'openai';
import { answer, startLimitsHarness, type LimitsHarness, PROMPT } from './harness';

let h: LimitsHarness;
beforeAll(async () => {
  h = await startLimitsHarness();
  h.upstream.handle((_req, res) => answer(res, { prompt_tokens: 200, completion_tokens: 100 }));
});
afterAll(() => h.close());

const client = (key: string) => new OpenAI({ baseURL: `${h.gw.url}/v1`, apiKey: key, maxRetries: 0 });
const ask = (c: OpenAI, model = 'gpt-4o') => c.chat.completions.create({ model, messages: PROMPT as OpenAI.ChatCompletionMessageParam[], max_tokens: 100 });

test('a rate limit surfaces as RateLimitError with code rate_limit_exceeded, Retry-After and the rate-limit headers', async () => {
  const { key } = await h.gw.createKey({ limits: { rpm: 1, tpm: 100_000 } });
  const c = client(key);
  const { response } = await ask(c).withResponse();
  expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('0');
  const err = await ask(c).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OpenAI.RateLimitError);
  const e = err as InstanceType<typeof OpenAI.RateLimitError>;
  expect(e.status).toBe(429);
  expect(e.code).toBe('rate_limit_exceeded');
  expect(Number(e.headers?.get('retry-after'))).toBeGreaterThan(0);
  expect(e.headers?.get('x-ratelimit-limit-requests')).toBe('1');
});

test('an exhausted budget surfaces as RateLimitError with code insufficient_quota', async () => {
  const { key } = await h.gw.createKey({ limits: { budgetUsd: { amount: 0.2, period: 'month' } } });
  const c = client(key);
  await ask(c, 'priced'); // $0.30 real: over the budget after the fact
  const err = await ask(c, 'priced').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OpenAI.RateLimitError);
  expect((err as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('insufficient_quota');
  expect((err as Error).message).toContain('monthly budget');
});
