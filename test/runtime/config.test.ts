/**
 * The config contract (ARCHITECTURE §4): one validator whose errors name the bad field, and
 * the local loading order GATEWAY_CONFIG → ./gateway.config.json → built-in default.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, defaultConfig, validateConfig } from '../../lambda/core/config';
import { loadConfig } from '../../lambda/adapters/local-gateway';
import { OPENAI_COMPATIBLE_PRESETS } from '../../lambda/providers/openai-compatible';

const MOCK = { mock: { type: 'mock' } };

function problemsOf(input: unknown): string[] {
  try {
    validateConfig(input);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected the config to be rejected');
}

describe('validateConfig', () => {
  test('accepts the documented example', () => {
    const cfg = {
      providers: {
        openai: { type: 'openai', apiKey: { env: 'OPENAI_API_KEY' } },
        anthropic: { type: 'anthropic', apiKey: { secret: 'prod/anthropic' } },
        bedrock: { type: 'bedrock', region: 'us-east-1' },
        ollama: { type: 'openai-compatible', baseUrl: 'http://127.0.0.1:11434/v1' },
        groq: { type: 'openai-compatible', preset: 'groq', apiKey: { env: 'GROQ_API_KEY' } },
        mock: { type: 'mock' },
      },
      models: {
        'gpt-4o': {
          strategy: 'fallback',
          targets: [
            { provider: 'openai', model: 'gpt-4o' },
            { provider: 'anthropic', model: 'claude-sonnet-4-5' },
          ],
        },
        lb: {
          strategy: 'loadbalance',
          targets: [
            { provider: 'mock', model: 'a', weight: 2 },
            { provider: 'ollama', model: 'b' },
          ],
        },
      },
    };
    expect(validateConfig(cfg)).toBe(cfg);
  });

  test.each<[string, unknown, RegExp]>([
    ['not an object', 'providers', /config must be a JSON object/],
    ['no providers', { models: {} }, /^providers must be an object with at least one provider/],
    ['empty providers', { providers: {} }, /^providers must be an object/],
    ['unknown top-level field', { providers: MOCK, modles: {} }, /^modles is not a known top-level field/],
    ['unknown provider type', { providers: { x: { type: 'openia' } } }, /^providers\.x\.type must be one of .*\(got "openia"\)/],
    ['provider name with a slash', { providers: { 'a/b': { type: 'mock' } } }, /^providers\.a\/b: a provider name may not contain '\/'/],
    [
      'apiKey as a string',
      { providers: { o: { type: 'openai', apiKey: 'sk-live' } } },
      /^providers\.o\.apiKey must be \{ "env": NAME \} or \{ "secret": NAME_OR_ARN \}/,
    ],
    ['apiKey with both sources', { providers: { o: { type: 'openai', apiKey: { env: 'A', secret: 'B' } } } }, /^providers\.o\.apiKey must be/],
    ['baseUrl not a URL', { providers: { o: { type: 'openai', baseUrl: 'api.openai.com' } } }, /^providers\.o\.baseUrl must be an http\(s\) URL/],
    ['baseUrl with another scheme', { providers: { o: { type: 'openai', baseUrl: 'file:///etc/passwd' } } }, /^providers\.o\.baseUrl must be an http\(s\) URL/],
    [
      'openai-compatible without baseUrl or preset',
      { providers: { c: { type: 'openai-compatible' } } },
      /^providers\.c \(openai-compatible\) needs a baseUrl or a preset/,
    ],
    ['azure-openai without baseUrl', { providers: { az: { type: 'azure-openai', apiKey: { env: 'AZ' } } } }, /^providers\.az \(azure-openai\) needs a baseUrl/],
    [
      'unknown openai-compatible preset',
      { providers: { c: { type: 'openai-compatible', preset: 'qroq' } } },
      /^providers\.c\.preset 'qroq' is not a known preset \(.*groq.*\)/,
    ],
    [
      'a prototype name as preset',
      { providers: { c: { type: 'openai-compatible', preset: 'toString' } } },
      /^providers\.c\.preset 'toString' is not a known preset/,
    ],
    ['preset on another type', { providers: { o: { type: 'openai', preset: 'groq' } } }, /^providers\.o\.preset is only for type openai-compatible/],
    ['responsesApi not a choice', { providers: { o: { type: 'openai', responsesApi: 'yes' } } }, /^providers\.o\.responsesApi must be 'native' or 'translate'/],
    [
      'responsesApi on a type without a Responses API',
      { providers: { a: { type: 'anthropic', responsesApi: 'native' } } },
      /^providers\.a\.responsesApi is only for types openai, azure-openai, openai-compatible/,
    ],
    ['headers not strings', { providers: { o: { type: 'openai', headers: { 'x-n': 1 } } } }, /^providers\.o\.headers must map strings to strings/],
    ['route without targets', { providers: MOCK, models: { m: {} } }, /^models\.m\.targets must be a non-empty list/],
    [
      'route with unknown strategy',
      { providers: MOCK, models: { m: { strategy: 'random', targets: [{ provider: 'mock', model: 'x' }] } } },
      /^models\.m\.strategy must be "fallback" or "loadbalance"/,
    ],
    [
      'target with an undefined provider',
      { providers: MOCK, models: { m: { targets: [{ provider: 'nope', model: 'x' }] } } },
      /^models\.m\.targets\[0\]\.provider 'nope' is not defined in providers/,
    ],
    [
      'target without model',
      { providers: MOCK, models: { m: { targets: [{ provider: 'mock', model: 'x' }, { provider: 'mock' }] } } },
      /^models\.m\.targets\[1\]\.model must be a non-empty string/,
    ],
    [
      'negative weight',
      { providers: MOCK, models: { m: { targets: [{ provider: 'mock', model: 'x', weight: -1 }] } } },
      /^models\.m\.targets\[0\]\.weight must be a number >= 0/,
    ],
    [
      'unknown timeout',
      { providers: MOCK, models: { m: { targets: [{ provider: 'mock', model: 'x' }], timeouts: { connectMs: 5 } } } },
      /^models\.m\.timeouts\.connectMs is not a known timeout/,
    ],
    [
      'retry attempts 0',
      { providers: MOCK, models: { m: { targets: [{ provider: 'mock', model: 'x' }], retry: { attempts: 0 } } } },
      /^models\.m\.retry\.attempts must be an integer >= 1/,
    ],
    [
      'pricing not numbers',
      { providers: MOCK, pricing: { 'gpt-4o': { input: '2.5', output: 10 } } },
      /^pricing\.gpt-4o must be \{ "input": USD_PER_MTOK, "output": USD_PER_MTOK \}/,
    ],
    ['key cache TTL too long', { providers: MOCK, settings: { keyCacheTtlMs: 600_000 } }, /^settings\.keyCacheTtlMs must be between 0 and 60000/],
    ['max body not positive', { providers: MOCK, settings: { maxBodyBytes: 0 } }, /^settings\.maxBodyBytes must be a positive number/],
    ['fail mode', { providers: MOCK, settings: { rateLimitFailMode: 'maybe' } }, /^settings\.rateLimitFailMode must be "open" or "closed"/],
  ])('rejects %s, naming the field', (_name, input, problem) => {
    const problems = problemsOf(input);
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(problem)]));
  });

  test('collects every problem at once and lists them in the message', () => {
    try {
      validateConfig({ providers: { a: { type: 'nope' }, b: { type: 'openai', baseUrl: 'x' } }, models: { m: { targets: [{ provider: 'zz', model: 'q' }] } } });
      throw new Error('not rejected');
    } catch (err) {
      const e = err as ConfigError;
      expect(e.problems).toHaveLength(3);
      expect(e.message).toMatch(/^Invalid gateway config:/);
      for (const p of ['providers.a.type', 'providers.b.baseUrl', 'models.m.targets[0].provider']) expect(e.message).toContain(p);
    }
  });

  test('every known preset is accepted', () => {
    for (const preset of Object.keys(OPENAI_COMPATIBLE_PRESETS))
      expect(() => validateConfig({ providers: { p: { type: 'openai-compatible', preset } } })).not.toThrow();
  });
});

describe('defaultConfig', () => {
  test('with no credentials: only the mock provider, and a mock-model route', () => {
    const cfg = defaultConfig({});
    expect(Object.keys(cfg.providers)).toEqual(['mock']);
    expect(cfg.models).toEqual({ 'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] } });
    expect(() => validateConfig(cfg)).not.toThrow();
  });

  test('OPENAI_API_KEY / ANTHROPIC_API_KEY add those providers, reading the key from the environment (never copying it)', () => {
    const cfg = defaultConfig({ OPENAI_API_KEY: 'sk-a', ANTHROPIC_API_KEY: 'sk-ant-b' });
    expect(cfg.providers.openai).toEqual({ type: 'openai', apiKey: { env: 'OPENAI_API_KEY' } });
    expect(cfg.providers.anthropic).toEqual({ type: 'anthropic', apiKey: { env: 'ANTHROPIC_API_KEY' } });
    expect(JSON.stringify(cfg)).not.toMatch(/sk-a|sk-ant-b/);
    expect(() => validateConfig(cfg)).not.toThrow();
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, value: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
    return path;
  };

  test('GATEWAY_CONFIG wins over ./gateway.config.json (relative to the working directory)', () => {
    write('gateway.config.json', { providers: { local: { type: 'mock' } } });
    write('other.json', { providers: { chosen: { type: 'mock' } } });
    const { config, source } = loadConfig({ GATEWAY_CONFIG: 'other.json' }, dir);
    expect(Object.keys(config.providers)).toEqual(['chosen']);
    expect(source).toBe(join(dir, 'other.json'));
  });

  test('./gateway.config.json is used when GATEWAY_CONFIG is unset', () => {
    write('gateway.config.json', { providers: { local: { type: 'mock' } } });
    const { config, source } = loadConfig({}, dir);
    expect(Object.keys(config.providers)).toEqual(['local']);
    expect(source).toBe(join(dir, 'gateway.config.json'));
  });

  test('no file: the built-in default, saying which providers it enabled', () => {
    const { config, source } = loadConfig({ OPENAI_API_KEY: 'sk-x' }, dir);
    expect(Object.keys(config.providers).sort()).toEqual(['mock', 'openai']);
    expect(source).toMatch(/built-in default \(mock provider, openai\)/);
  });

  test('GATEWAY_CONFIG pointing at a missing file is an error, not a silent default', () => {
    expect(() => loadConfig({ GATEWAY_CONFIG: 'missing.json' }, dir)).toThrow(/GATEWAY_CONFIG points at .*missing\.json, which does not exist/);
  });

  test('a file that is not JSON is an error naming the file', () => {
    write('gateway.config.json', '{ "providers": ');
    expect(() => loadConfig({}, dir)).toThrow(/gateway\.config\.json is not valid JSON/);
  });

  test('a file that fails validation is an error naming the bad field', () => {
    write('gateway.config.json', { providers: { c: { type: 'openai-compatible', preset: 'nope' } } });
    expect(() => loadConfig({}, dir)).toThrow(/providers\.c\.preset 'nope' is not a known preset/);
  });
});
