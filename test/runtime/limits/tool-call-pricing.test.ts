/**
 * Per-call fees of built-in (server-side) tools: list prices by who bills the provider's tools
 * (OpenAI, xAI, Anthropic), none for providers without one (Azure OpenAI's search is billed by
 * Bing grounding), overridable per model in config; an unpriced model stays null; the config
 * validates the per-call prices.
 */
import { ConfigError, type ProviderConfig, validateConfig } from '../../../lambda/core/config';
import { PriceTable, TOOL_CALL_USD, billedExtrasOf, toolBillerOf } from '../../../lambda/core/pricing';

const providers: Record<string, ProviderConfig> = {
  openai: { type: 'openai' },
  azure: { type: 'azure-openai', baseUrl: 'https://example.openai.azure.com' },
  grok: { type: 'openai-compatible', preset: 'xai' },
  'grok-direct': { type: 'openai-compatible', baseUrl: 'https://api.x.ai/v1' },
  anthropic: { type: 'anthropic' },
  bedrock: { type: 'bedrock', region: 'us-east-1' },
  vllm: { type: 'openai-compatible', baseUrl: 'http://127.0.0.1:8000/v1', responsesApi: 'native' },
};
const prices = new PriceTable({}, providers);
const tokens = { prompt_tokens: 1_000, completion_tokens: 100 };
const tokenCost = (provider: string, model: string) => prices.cost(provider, model, tokens)!;

test('who bills the built-in tools of each provider type', () => {
  expect(Object.fromEntries(Object.entries(providers).map(([n, p]) => [n, toolBillerOf(p)]))).toEqual({
    openai: 'openai',
    azure: undefined,
    grok: 'xai',
    'grok-direct': 'xai',
    anthropic: 'anthropic',
    bedrock: 'anthropic',
    vllm: undefined,
  });
});

test('the list prices: OpenAI $10 / $25 (preview, non-reasoning) / $2.50 per 1k, xAI $5 / $2.50 per 1k, Anthropic $10 per 1k', () => {
  expect(TOOL_CALL_USD).toEqual({
    openai: { web_search: 0.01, web_search_preview: 0.025, file_search: 0.0025 },
    xai: { web_search: 0.005, file_search: 0.0025 },
    anthropic: { web_search: 0.01 },
  });
});

test.each([
  ['openai', 'gpt-4o', { webSearches: 3 }, 3 * 0.01],
  ['openai', 'gpt-4o', { webSearchPreviews: 2 }, 2 * 0.025],
  ['openai', 'gpt-5', { webSearches: 1, fileSearches: 4 }, 0.01 + 4 * 0.0025],
  ['grok', 'grok-4', { webSearches: 2, fileSearches: 1 }, 2 * 0.005 + 0.0025],
  ['grok-direct', 'grok-4', { webSearches: 1 }, 0.005],
  ['anthropic', 'claude-sonnet-4-5', { webSearches: 2 }, 2 * 0.01],
  ['bedrock', 'us.anthropic.claude-sonnet-4-20250514-v1:0', { webSearches: 1 }, 0.01],
])('%s/%s: the calls at the provider list price, on top of the tokens', (provider, model, calls, fees) => {
  expect(prices.cost(provider, model, { ...tokens, ...calls })).toBeCloseTo(tokenCost(provider, model) + fees, 10);
});

test('a provider with no list price for its tools (Azure OpenAI, a vLLM server) and a kind a provider does not bill add nothing to the tokens', () => {
  expect(prices.cost('azure', 'gpt-4o', { ...tokens, webSearches: 5, fileSearches: 5 })).toBeCloseTo(tokenCost('azure', 'gpt-4o'), 10);
  expect(prices.cost('vllm', 'gpt-4o', { ...tokens, webSearches: 5 })).toBeCloseTo(tokenCost('vllm', 'gpt-4o'), 10);
  expect(prices.cost('anthropic', 'claude-sonnet-4-5', { ...tokens, fileSearches: 5 })).toBeCloseTo(tokenCost('anthropic', 'claude-sonnet-4-5'), 10);
});

test('config overrides per model (by name or provider/model) replace the list price of that kind only', () => {
  const custom = new PriceTable(
    {
      'gpt-4o': { input: 2.5, output: 10, webSearchCall: 0.02 },
      'azure/my-gpt4o': { input: 2.5, output: 10, webSearchCall: 0.014, fileSearchCall: 0.003 },
      'grok-4': { input: 3, output: 15, fileSearchCall: 0 },
    },
    providers,
  );
  const base = (p: string, m: string) => custom.cost(p, m, tokens)!;
  expect(custom.cost('openai', 'gpt-4o-2024-08-06', { ...tokens, webSearches: 2, webSearchPreviews: 1, fileSearches: 1 })).toBeCloseTo(
    base('openai', 'gpt-4o-2024-08-06') + 2 * 0.02 + 0.025 + 0.0025,
    10,
  );
  expect(custom.cost('azure', 'my-gpt4o', { ...tokens, webSearches: 1, fileSearches: 2 })).toBeCloseTo(base('azure', 'my-gpt4o') + 0.014 + 2 * 0.003, 10);
  expect(custom.cost('grok', 'grok-4', { ...tokens, webSearches: 1, fileSearches: 3 })).toBeCloseTo(base('grok', 'grok-4') + 0.005, 10);
  expect(custom.toolCallPrice('azure', 'gpt-4.1', 'web_search')).toBeUndefined();
  expect(custom.toolCallPrice('openai', 'gpt-4.1', 'web_search')).toBe(0.01);
});

test('a table told of no providers takes a provider to be of the type it is named after', () => {
  const bare = new PriceTable();
  expect(bare.toolCallPrice('openai', 'gpt-4o', 'web_search')).toBe(0.01);
  expect(bare.toolCallPrice('anthropic', 'claude-sonnet-4-5', 'web_search')).toBe(0.01);
  expect(bare.toolCallPrice('my-proxy', 'gpt-4o', 'web_search')).toBeUndefined();
  // A configured provider is what its config says, whatever its name.
  expect(new PriceTable({}, { openai: { type: 'azure-openai' } }).toolCallPrice('openai', 'gpt-4o', 'web_search')).toBeUndefined();
});

test('an unpriced model stays null, tool calls or not', () => {
  expect(prices.cost('openai', 'gpt-9-experimental', { ...tokens, webSearches: 3 })).toBeNull();
  expect(prices.cost('grok', 'grok-99', { ...tokens, fileSearches: 1 })).toBeNull();
});

test('the billed calls are read from a canonical usage by kind; junk is ignored', () => {
  expect(
    billedExtrasOf({
      ...tokens,
      total_tokens: 1_100,
      server_tool_use: { web_search_requests: 2, web_search_preview_requests: 1, file_search_requests: 3, code_interpreter_requests: 9 },
    }),
  ).toEqual({ webSearches: 2, webSearchPreviews: 1, fileSearches: 3 });
  expect(billedExtrasOf({ ...tokens, total_tokens: 1_100, server_tool_use: { web_search_requests: -1, file_search_requests: 'x' } })).toEqual({});
  expect(billedExtrasOf({ ...tokens, total_tokens: 1_100, server_tool_use: null })).toEqual({});
});

describe('config: per-call prices', () => {
  const problemsOf = (pricing: unknown): string[] => {
    try {
      validateConfig({ providers: { mock: { type: 'mock' } }, pricing });
      return [];
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).problems;
    }
  };

  test('non-negative numbers in USD per call are accepted', () => {
    expect(problemsOf({ 'gpt-4o': { input: 2.5, output: 10, webSearchCall: 0.01, webSearchPreviewCall: 0.025, fileSearchCall: 0 } })).toEqual([]);
  });

  test.each([
    [{ webSearchCall: -0.01 }, /^pricing\.gpt-4o\.webSearchCall must be a price in USD per call \(≥ 0\)/],
    [{ fileSearchCall: '0.0025' }, /^pricing\.gpt-4o\.fileSearchCall must be a price in USD per call/],
    [{ webSearchPreviewCall: Number.POSITIVE_INFINITY }, /^pricing\.gpt-4o\.webSearchPreviewCall must be a price in USD per call/],
    [{ cacheRead: -1 }, /^pricing\.gpt-4o\.cacheRead must be a price in USD per million tokens/],
    [
      { webSearchCalls: 0.01 },
      /^pricing\.gpt-4o\.webSearchCalls is not a known price \(input, output, cacheRead, cacheWrite, webSearchCall, webSearchPreviewCall, fileSearchCall\)/,
    ],
  ])('%j is rejected, naming the field', (extra, problem) => {
    expect(problemsOf({ 'gpt-4o': { input: 2.5, output: 10, ...extra } })).toEqual([expect.stringMatching(problem)]);
  });
});
