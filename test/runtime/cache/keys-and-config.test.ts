/**
 * The cache contract's pure parts (ARCHITECTURE §13): the config schema and its errors, the
 * request's cache directives, the exact key (what is in it and what is not), scopes baked into
 * the key, and the semantic text and partition.
 */
import { ConfigError, validateConfig } from '../../../lambda/core/config';
import { resolveCacheConfig } from '../../../lambda/core/cache/config';
import { cacheDirectives } from '../../../lambda/core/cache/directives';
import { type CacheKeyInput, exactCacheKey, routeFingerprint, scopeId, semanticParts, stableJson } from '../../../lambda/core/cache/key';
import { GatewayError } from '../../../lambda/core/errors';

const MOCK = { mock: { type: 'mock' } };
const MODELS = { chat: { targets: [{ provider: 'mock', model: 'm' }] }, embed: { targets: [{ provider: 'mock', model: 'e' }] } };

function problemsOf(input: unknown): string[] {
  try {
    validateConfig(input);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected the config to be rejected');
}

describe('cache config', () => {
  test('accepts the documented example at the top level and on a route', () => {
    const cache = { mode: 'semantic', ttlSeconds: 3600, scope: 'team', semantic: { embeddingModel: 'embed', threshold: 0.95, maxMessages: 4 } };
    expect(() => validateConfig({ providers: MOCK, models: { ...MODELS, chat: { ...MODELS.chat, cache: { mode: 'exact' } } }, cache })).not.toThrow();
  });

  test('every bad field is named, all at once', () => {
    const problems = problemsOf({
      providers: MOCK,
      models: { ...MODELS, chat: { ...MODELS.chat, cache: { mode: 'sometimes' } } },
      cache: { mode: 'semantic', ttlSeconds: 2_592_001, scope: 'org', lookupTimeoutMs: 0, colour: 'red' },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^models\.chat\.cache\.mode must be one of "off", "exact", "semantic" \(got "sometimes"\)/),
        expect.stringMatching(/^cache\.ttlSeconds must be a whole number of seconds from 1 to 2592000/),
        expect.stringMatching(/^cache\.scope must be one of "key", "team", "gateway"/),
        expect.stringMatching(/^cache\.lookupTimeoutMs must be/),
        expect.stringMatching(/^cache\.colour is not a known cache setting/),
        expect.stringMatching(/^cache\.semantic is required for mode "semantic"/),
      ]),
    );
  });

  test('the semantic embedding model must be a configured route, the threshold a cosine in (0, 1]', () => {
    const problems = problemsOf({
      providers: MOCK,
      models: MODELS,
      cache: { mode: 'semantic', semantic: { embeddingModel: 'nope', threshold: 1.5, maxMessages: 0 } },
    });
    expect(problems).toEqual([
      "cache.semantic.embeddingModel 'nope' is not a configured model (or a provider/model name)",
      'cache.semantic.threshold must be a cosine similarity above 0 and at most 1',
      'cache.semantic.maxMessages must be an integer >= 1',
    ]);
  });

  test('the maximum TTL (30 days) is accepted; defaults fill in; no config is off', () => {
    expect(() => validateConfig({ providers: MOCK, cache: { mode: 'exact', ttlSeconds: 2_592_000 } })).not.toThrow();
    expect(resolveCacheConfig({ mode: 'semantic', semantic: { embeddingModel: 'embed' } })).toEqual({
      mode: 'semantic',
      ttlSeconds: 3600,
      scope: 'team',
      lookupTimeoutMs: 500,
      semantic: { embeddingModel: 'embed', threshold: 0.95, maxMessages: 4 },
    });
    expect(resolveCacheConfig(undefined).mode).toBe('off');
  });
});

describe('cache directives (request headers)', () => {
  const h = (init: Record<string, string>) => new Headers(init);

  test('none: look up and store with the configured TTL', () => {
    expect(cacheDirectives(h({}), 3600)).toEqual({ lookup: true, store: true, ttlSeconds: 3600 });
  });

  test('no-cache skips the lookup but stores; no-store does neither', () => {
    expect(cacheDirectives(h({ 'x-gateway-cache': 'no-cache' }), 60)).toMatchObject({ lookup: false, store: true });
    expect(cacheDirectives(h({ 'x-gateway-cache': 'No-Store' }), 60)).toMatchObject({ lookup: false, store: false });
  });

  test('x-gateway-cache-ttl shortens the TTL but never lengthens it', () => {
    expect(cacheDirectives(h({ 'x-gateway-cache-ttl': '30' }), 60).ttlSeconds).toBe(30);
    expect(cacheDirectives(h({ 'x-gateway-cache-ttl': '9999' }), 60).ttlSeconds).toBe(60);
  });

  test('a malformed directive is a 400 naming the header', () => {
    for (const [name, value] of [
      ['x-gateway-cache', 'sometimes'],
      ['x-gateway-cache-ttl', '-5'],
      ['x-gateway-cache-ttl', '1.5'],
      ['x-gateway-cache-ttl', '0'],
    ]) {
      let thrown: unknown;
      try {
        cacheDirectives(h({ [name]: value }), 60);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(GatewayError);
      expect(thrown).toMatchObject({ status: 400, param: name });
    }
  });
});

describe('exact cache key', () => {
  const base: CacheKeyInput = {
    endpoint: '/v1/chat/completions',
    scope: 'team:alpha',
    routeFingerprint: routeFingerprint(MODELS.chat),
    body: { model: 'chat', messages: [{ role: 'user', content: 'hello' }], temperature: 0 },
  };
  const key = (patch: Partial<CacheKeyInput> = {}, body: Record<string, unknown> = {}) =>
    exactCacheKey({ ...base, ...patch, body: { ...base.body, ...body, ...(patch.body ?? {}) } });

  test('is a stable hex digest, independent of the order of the fields', () => {
    expect(key()).toMatch(/^[0-9a-f]{64}$/);
    expect(exactCacheKey({ ...base, body: { temperature: 0, messages: base.body.messages, model: 'chat' } })).toBe(key());
  });

  test.each([
    ['messages', { messages: [{ role: 'user', content: 'hello!' }] }],
    ['model (route)', { model: 'other' }],
    ['tools', { tools: [{ type: 'function', function: { name: 'f' } }] }],
    ['tool_choice', { tool_choice: 'required' }],
    ['response_format', { response_format: { type: 'json_object' } }],
    ['temperature', { temperature: 1 }],
    ['top_p', { top_p: 0.5 }],
    ['max_tokens', { max_tokens: 5 }],
    ['max_completion_tokens', { max_completion_tokens: 5 }],
    ['stop', { stop: ['x'] }],
    ['seed', { seed: 7 }],
    ['n', { n: 2 }],
    ['a field the gateway does not know', { some_new_parameter: true }],
  ])('covers %s', (_name, body) => {
    expect(key({}, body)).not.toBe(key());
  });

  test.each([
    ['stream', { stream: true }],
    ['stream_options', { stream: true, stream_options: { include_usage: true } }],
    ['user', { user: 'end-user-42' }],
    ['metadata', { metadata: { trace: 'abc' } }],
  ])('ignores %s', (_name, body) => {
    expect(key({}, body)).toBe(key());
  });

  test('covers the endpoint, the route configuration and the anthropic-beta header', () => {
    expect(key({ endpoint: '/v1/messages' })).not.toBe(key());
    expect(key({ routeFingerprint: routeFingerprint({ targets: [{ provider: 'mock', model: 'm2' }] }) })).not.toBe(key());
    expect(key({ headers: new Headers({ 'anthropic-beta': 'x' }) })).not.toBe(key({ headers: new Headers() }));
    expect(key({ headers: new Headers({ 'x-unrelated': 'x' }) })).toBe(key());
  });

  test('scopes are baked into the key: team by default, a key without a team is its own scope', () => {
    expect(scopeId('team', { id: 'k1', team: 'alpha' })).toBe('team:alpha');
    expect(scopeId('team', { id: 'k1' })).toBe('key:k1');
    expect(scopeId('key', { id: 'k1', team: 'alpha' })).toBe('key:k1');
    expect(scopeId('gateway', { id: 'k1', team: 'alpha' })).toBe('gateway');
    const scopes = ['team:alpha', 'team:beta', 'key:k1', 'key:k2', 'gateway'].map((scope) => key({ scope }));
    expect(new Set(scopes).size).toBe(scopes.length);
  });

  test('stableJson sorts keys at every depth and keeps array order', () => {
    expect(stableJson({ b: [2, 1], a: { d: 1, c: null } })).toBe('{"a":{"c":null,"d":1},"b":[2,1]}');
  });
});

describe('semantic parts', () => {
  const input = (endpoint: string, body: Record<string, unknown>, scope = 'team:alpha'): CacheKeyInput => ({ endpoint, scope, routeFingerprint: 'r', body });
  const chat = (messages: unknown[], extra: Record<string, unknown> = {}) => input('/v1/chat/completions', { model: 'chat', messages, ...extra });

  test('embeds the last user message; the partition is the everything-else', () => {
    const a = semanticParts(
      chat([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Summarize this contract' },
      ]),
      4,
    );
    const b = semanticParts(
      chat([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Give me a summary of this contract' },
      ]),
      4,
    );
    expect(a?.text).toBe('Summarize this contract');
    expect(b?.text).toBe('Give me a summary of this contract');
    expect(a?.partition).toBe(b?.partition);
  });

  test('a different system prompt, earlier turn, parameter, tool, route or scope is another partition', () => {
    const msgs = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
    ];
    const p = semanticParts(chat(msgs), 4)!.partition;
    expect(semanticParts(chat([{ role: 'system', content: 'Be long.' }, msgs[1]]), 4)!.partition).not.toBe(p);
    expect(semanticParts(chat([{ role: 'user', content: 'earlier' }, { role: 'assistant', content: 'ok' }, msgs[1]]), 4)!.partition).not.toBe(p);
    expect(semanticParts(chat(msgs, { temperature: 1 }), 4)!.partition).not.toBe(p);
    expect(semanticParts(chat(msgs, { tools: [{ type: 'function', function: { name: 'f' } }] }), 4)!.partition).not.toBe(p);
    expect(semanticParts(chat(msgs, { model: 'other' }), 4)!.partition).not.toBe(p);
    expect(semanticParts({ ...chat(msgs), scope: 'team:beta' }, 4)!.partition).not.toBe(p);
    expect(semanticParts(chat(msgs, { stream: true, user: 'u' }), 4)!.partition).toBe(p);
  });

  test('exact only: too many messages, a last message that is not user text, embeddings', () => {
    const five = Array.from({ length: 5 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `m${i}` }));
    expect(semanticParts(chat(five), 4)).toBeUndefined();
    expect(semanticParts(chat(five), 5)?.text).toBe('m4');
    expect(semanticParts(chat([{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }]), 4)).toBeUndefined();
    expect(semanticParts(chat([{ role: 'tool', content: 'result', tool_call_id: 'c' }]), 4)).toBeUndefined();
    expect(semanticParts(chat([{ role: 'user', content: '   ' }]), 4)).toBeUndefined();
    expect(semanticParts(input('/v1/embeddings', { model: 'embed', input: 'hello' }), 4)).toBeUndefined();
  });

  test('text parts are joined; messages and responses formats are understood', () => {
    expect(
      semanticParts(
        chat([
          {
            role: 'user',
            content: [
              { type: 'text', text: 'a' },
              { type: 'text', text: 'b' },
            ],
          },
        ]),
        4,
      )?.text,
    ).toBe('a\nb');
    expect(
      semanticParts(input('/v1/messages', { model: 'c', max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'text', text: 'hey' }] }] }), 4)?.text,
    ).toBe('hey');
    expect(semanticParts(input('/v1/responses', { model: 'c', input: 'hello there' }), 4)?.text).toBe('hello there');
    expect(
      semanticParts(input('/v1/responses', { model: 'c', input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'yo' }] }] }), 4)?.text,
    ).toBe('yo');
  });
});
