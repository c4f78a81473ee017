/** The price table: main models of each provider, versioned ids, Bedrock ids, config overrides, the prompt cache's prices. */
import { ANTHROPIC_WEB_SEARCH_USD, PriceTable, billedExtrasOf } from '../../../lambda/core/pricing';

const prices = new PriceTable();

test.each([
  ['openai', 'gpt-4o-2024-08-06', 2.5, 10],
  ['openai', 'gpt-4o-mini', 0.15, 0.6],
  ['azure', 'gpt-4.1', 2, 8],
  ['openai', 'o3-mini-2025-01-31', 1.1, 4.4],
  ['anthropic', 'claude-sonnet-4-5-20250929', 3, 15],
  ['anthropic', 'claude-3-5-haiku-latest', 0.8, 4],
  ['bedrock', 'us.anthropic.claude-sonnet-4-20250514-v1:0', 3, 15],
  ['bedrock', 'amazon.nova-pro-v1:0', 0.8, 3.2],
  ['bedrock', 'meta.llama3-3-70b-instruct-v1:0', 0.72, 0.72],
  ['gemini', 'gemini-2.5-flash', 0.3, 2.5],
  ['gemini', 'gemini-2.5-flash-lite', 0.1, 0.4],
  ['mistral', 'mistral-large-latest', 2, 6],
  ['groq', 'llama-3.3-70b-versatile', 0.59, 0.79],
  ['groq', 'openai/gpt-oss-120b', 0.15, 0.75],
  ['deepseek', 'deepseek-chat', 0.28, 0.42],
  ['bedrock', 'jp.anthropic.claude-sonnet-4-5-20250929-v1:0', 3, 15],
  ['bedrock', 'au.anthropic.claude-haiku-4-5-20251001-v1:0', 1, 5],
  ['openai', 'gpt-4-0613', 30, 60],
  ['gemini', 'gemini-1.5-pro-002', 1.25, 5],
  ['vertex', 'claude-3-5-sonnet@20240620', 3, 15],
])('%s %s costs $%d / $%d per million tokens', (provider, model, input, output) => {
  expect(prices.priceFor(provider, model)).toMatchObject({ input, output });
});

test.each([
  ['openai', 'o1-pro'],
  ['openai', 'o1-pro-2025-03-19'],
  ['openai', 'gpt-5-pro'],
  ['openai', 'gpt-4o-audio-preview'],
  ['anthropic', 'claude-opus-4-6'],
  ['gemini', 'gemini-2.5-pro-preview-tts'],
  ['bedrock', 'amazon.nova-pro-premium-v1:0'],
])('%s %s is a different model from any priced name: unpriced, never a cheaper sibling', (provider, model) => {
  expect(prices.priceFor(provider, model)).toBeUndefined();
  expect(prices.cost(provider, model, { prompt_tokens: 1000, completion_tokens: 1000 })).toBeNull();
});

test('Anthropic prompt-cache reads cost a tenth of input, 5-minute writes a quarter more, web searches a cent each', () => {
  const usage = { prompt_tokens: 10_000, completion_tokens: 1_000, cacheReadTokens: 6_000, cacheWriteTokens: 3_000 };
  // claude-sonnet-4-5: $3 input, $15 output; 1,000 uncached + 6,000 read at $0.30 + 3,000 written at $3.75.
  expect(prices.cost('anthropic', 'claude-sonnet-4-5-20250929', usage)).toBeCloseTo((1_000 * 3 + 6_000 * 0.3 + 3_000 * 3.75 + 1_000 * 15) / 1e6, 10);
  expect(prices.cost('anthropic', 'claude-sonnet-4-5', { prompt_tokens: 100, completion_tokens: 0, webSearches: 3 })).toBeCloseTo(
    (100 * 3) / 1e6 + 3 * ANTHROPIC_WEB_SEARCH_USD,
    10,
  );
  // The cache's share can never exceed the prompt it is part of (a malformed usage is not a credit).
  expect(prices.cost('anthropic', 'claude-sonnet-4-5', { prompt_tokens: 100, completion_tokens: 0, cacheReadTokens: 500, cacheWriteTokens: 500 })).toBeCloseTo(
    (100 * 0.3) / 1e6,
    10,
  );
});

test("OpenAI's cached prompt tokens at the model's cached-input price; a model without one prices them as input", () => {
  expect(prices.cost('openai', 'gpt-5', { prompt_tokens: 2_000, completion_tokens: 0, cacheReadTokens: 1_000 })).toBeCloseTo(
    (1_000 * 1.25 + 1_000 * 0.125) / 1e6,
    10,
  );
  expect(prices.cost('mistral', 'mistral-large', { prompt_tokens: 2_000, completion_tokens: 0, cacheReadTokens: 1_000 })).toBeCloseTo((2_000 * 2) / 1e6, 10);
  expect(
    new PriceTable({ 'my-model': { input: 1, output: 1, cacheRead: 0.5 } }).cost('x', 'my-model', {
      prompt_tokens: 10,
      completion_tokens: 0,
      cacheReadTokens: 10,
    }),
  ).toBeCloseTo((10 * 0.5) / 1e6, 10);
});

test('the billed extras are read from a canonical usage: cached tokens, cache writes, web searches; junk is ignored', () => {
  expect(
    billedExtrasOf({
      prompt_tokens: 10,
      completion_tokens: 1,
      total_tokens: 11,
      prompt_tokens_details: { cached_tokens: 4 },
      cache_creation_input_tokens: 5,
      server_tool_use: { web_search_requests: 2 },
    }),
  ).toEqual({ cacheReadTokens: 4, cacheWriteTokens: 5, webSearches: 2 });
  expect(
    billedExtrasOf({ prompt_tokens: 1, completion_tokens: 1, total_tokens: 2, prompt_tokens_details: { cached_tokens: -3 }, cache_creation_input_tokens: 'x' }),
  ).toEqual({});
  expect(billedExtrasOf(undefined)).toEqual({});
});

test('a different model is never priced as its namesake', () => {
  expect(prices.priceFor('openai', 'gpt-4.5-preview')).toBeUndefined();
  expect(prices.priceFor('openai', 'gpt-4o-mini-2024-07-18')).toMatchObject({ input: 0.15, output: 0.6 });
  expect(prices.cost('x', 'my-unknown-model', { prompt_tokens: 10, completion_tokens: 10 })).toBeNull();
});

test('cost from usage, and config overrides by model or provider/model', () => {
  expect(prices.cost('openai', 'gpt-4o', { prompt_tokens: 1_000, completion_tokens: 500 })).toBeCloseTo(0.0075, 10);
  const custom = new PriceTable({ 'azure/my-gpt4o-deployment': { input: 1, output: 1 }, 'gpt-4o': { input: 2, output: 8 } });
  expect(custom.priceFor('azure', 'my-gpt4o-deployment')).toEqual({ input: 1, output: 1 });
  expect(custom.priceFor('openai', 'gpt-4o-2024-11-20')).toEqual({ input: 2, output: 8 });
});
