/**
 * Every commented config in examples/ loads the way `npm start` loads a config file (comments
 * allowed) and passes the real config schema, and says what its name promises. The no-credential
 * one is also served: each of its models answers through the local gateway with no key set.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../lambda/adapters/local-gateway';
import { parseJsonc, stripJsonComments } from '../../lambda/adapters/jsonc';
import { type GatewayConfig, type RouteTarget, isTargetGroup } from '../../lambda/core/config';
import { startTestGateway } from '../helpers/gateway';

const DIR = join(__dirname, '../../examples');
const load = (file: string): GatewayConfig => loadConfig({ GATEWAY_CONFIG: join(DIR, file) }).config;
const targetsOf = (config: GatewayConfig, model: string) => config.models![model].targets.filter((t): t is RouteTarget => !isTargetGroup(t));
const providerTypes = (config: GatewayConfig) => Object.values(config.providers).map((p) => p.type);

test('the examples folder holds the four documented configs, each with comments', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.jsonc'));
  expect(files.sort()).toEqual(['azure-load-balanced.jsonc', 'bedrock-only.jsonc', 'local-mock.jsonc', 'openai-anthropic-fallback.jsonc']);
});

test('local-mock: only the mock provider, and every model served with no credential at all', async () => {
  const config = load('local-mock.jsonc');
  expect(providerTypes(config)).toEqual(['mock']);
  const gw = await startTestGateway(config); // env: {} — no provider key anywhere
  try {
    const { key } = await gw.createKey();
    for (const model of Object.keys(config.models!).filter((m) => !m.includes('embedding'))) {
      const res = await gw.post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }] }, key);
      expect({ model, status: res.status }).toEqual({ model, status: 200 });
    }
    const emb = await gw.post('/v1/embeddings', { model: 'text-embedding-3-small', input: 'hi' }, key);
    expect(emb.status).toBe(200);
  } finally {
    await gw.close();
  }
});

test('openai-anthropic-fallback: OpenAI first, Anthropic second, keys from the environment', () => {
  const config = load('openai-anthropic-fallback.jsonc');
  expect(config.models!['gpt-4o'].strategy ?? 'fallback').toBe('fallback');
  expect(targetsOf(config, 'gpt-4o').map((t) => config.providers[t.provider].type)).toEqual(['openai', 'anthropic']);
  expect(Object.values(config.providers).map((p) => p.apiKey)).toEqual([{ env: 'OPENAI_API_KEY' }, { env: 'ANTHROPIC_API_KEY' }]);
});

test('bedrock-only: every provider is Bedrock, none has a key, and a route falls back across regions', () => {
  const config = load('bedrock-only.jsonc');
  expect(new Set(providerTypes(config))).toEqual(new Set(['bedrock']));
  expect(Object.values(config.providers).every((p) => p.apiKey === undefined && p.region)).toBe(true);
  const regions = targetsOf(config, 'claude-sonnet').map((t) => config.providers[t.provider].region);
  expect(new Set(regions).size).toBe(2);
});

test('azure-load-balanced: gpt-4o is load-balanced 3:1 over two Azure OpenAI resources with their deployments', () => {
  const config = load('azure-load-balanced.jsonc');
  expect(config.models!['gpt-4o'].strategy).toBe('loadbalance');
  const targets = targetsOf(config, 'gpt-4o');
  expect(targets.map((t) => t.weight)).toEqual([3, 1]);
  const providers = targets.map((t) => config.providers[t.provider]);
  expect(providers.map((p) => p.type)).toEqual(['azure-openai', 'azure-openai']);
  expect(new Set(providers.map((p) => p.baseUrl)).size).toBe(2);
  for (const p of providers) expect(p.deployments?.['gpt-4o']).toBeTruthy();
});

describe('config files may carry comments', () => {
  test('line and block comments go; text inside strings stays, URLs included', () => {
    const text = '{\n  // a comment\n  "url": "https://x.example/v1", /* inline */ "s": "a // b /* c */"\n}';
    expect(parseJsonc(text)).toEqual({ url: 'https://x.example/v1', s: 'a // b /* c */' });
  });

  test('escaped quotes do not end a string early; positions are kept for error messages', () => {
    const text = '{ "q": "say \\"// not a comment\\"" } // end';
    expect(parseJsonc(text)).toEqual({ q: 'say "// not a comment"' });
    expect(stripJsonComments(text)).toHaveLength(text.length);
  });

  test('a syntax error still names the file', () => {
    expect(() => loadConfig({ GATEWAY_CONFIG: join(__dirname, 'examples.test.ts') })).toThrow(/examples\.test\.ts is not valid JSON/);
  });
});
