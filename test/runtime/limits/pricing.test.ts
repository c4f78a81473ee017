/** The price table: main models of each provider, versioned ids, Bedrock ids, config overrides. */
import { PriceTable } from '../../../lambda/core/pricing';

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
])('%s %s costs $%d / $%d per million tokens', (provider, model, input, output) => {
  expect(prices.priceFor(provider, model)).toEqual({ input, output });
});

test('a different model is never priced as its namesake', () => {
  expect(prices.priceFor('openai', 'gpt-4.5-preview')).toBeUndefined();
  expect(prices.priceFor('openai', 'gpt-4o-mini-2024-07-18')).toEqual({ input: 0.15, output: 0.6 });
  expect(prices.cost('x', 'my-unknown-model', { prompt_tokens: 10, completion_tokens: 10 })).toBeNull();
});

test('cost from usage, and config overrides by model or provider/model', () => {
  expect(prices.cost('openai', 'gpt-4o', { prompt_tokens: 1_000, completion_tokens: 500 })).toBeCloseTo(0.0075, 10);
  const custom = new PriceTable({ 'azure/my-gpt4o-deployment': { input: 1, output: 1 }, 'gpt-4o': { input: 2, output: 8 } });
  expect(custom.priceFor('azure', 'my-gpt4o-deployment')).toEqual({ input: 1, output: 1 });
  expect(custom.priceFor('openai', 'gpt-4o-2024-11-20')).toEqual({ input: 2, output: 8 });
});
