/**
 * Property-style robustness: hundreds of random JSON bodies, headers, methods and paths against
 * the real local gateway never produce a 5xx from the gateway itself, every error is in the
 * documented OpenAI shape, every stream is well-formed, and the process neither crashes nor
 * records an unhandled error. The seed is fixed (override with FC_SEED) so a failure reproduces.
 */
import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { type FakeUpstream, json, openAiChunks, openAiCompletion, startFakeUpstream, writeSse } from '../helpers/fake-upstream';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { isOpenAiErrorBody } from '../helpers/openai-error';

const SEED = Number(process.env.FC_SEED ?? 20261124);

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A request with any method, path, headers and bytes (fetch would refuse some of these). */
function rawRequest(base: string, method: string, path: string, headers: Record<string, string>, body?: Uint8Array): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Check one gateway answer against the contract; returns a description of the violation, if any. */
function violation(method: string, path: string, res: RawResponse): string | undefined {
  const where = `${method} ${path} → ${res.status}: ${res.body.toString('utf8').slice(0, 300)}`;
  if (res.status >= 500) return `gateway answered 5xx: ${where}`;
  // Every answer from the API (not Node's parser-level rejections) names its request.
  const parserLevel =
    /not valid HTTP\/1\.1|headers are too large|"Malformed request\."/.test(res.body.toString('utf8')) || (method === 'HEAD' && res.status === 400);
  let isHealth = false;
  try {
    isHealth = new URL('http://localhost' + path).pathname.replace(/\/+$/, '') === '/health'; // as the server resolves it
  } catch {
    /* not a URL: the server answers 400 */
  }
  if (!isHealth && !parserLevel && !res.headers['x-request-id']) return `no x-request-id: ${where}`;
  if (method === 'HEAD') return undefined;
  const type = String(res.headers['content-type'] ?? '');
  if (res.status >= 400) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body.toString('utf8'));
    } catch {
      return `error body is not JSON: ${where}`;
    }
    if (path.startsWith('/v1/messages')) {
      const p = parsed as { type?: unknown; error?: { type?: unknown; message?: unknown } };
      if (p.type !== 'error' || typeof p.error?.type !== 'string' || typeof p.error?.message !== 'string') return `not Anthropic's error shape: ${where}`;
    } else if (!isOpenAiErrorBody(parsed)) return `not the OpenAI error shape: ${where}`;
    if (!type.startsWith('application/json')) return `error without a JSON content type: ${where}`;
    return undefined;
  }
  if (type.startsWith('text/event-stream')) {
    const events = res.body
      .toString('utf8')
      .split('\n\n')
      .filter((e) => e.trim());
    for (const e of events.slice(0, -1)) {
      const data = e.replace(/^(event: .*\n)?data: /, '');
      try {
        JSON.parse(data);
      } catch {
        return `stream event is not JSON: ${e.slice(0, 200)} in ${where}`;
      }
    }
    const last = events.at(-1) ?? '';
    if (last !== 'data: [DONE]' && !/"error"/.test(last) && !/message_stop/.test(last))
      return `stream ended neither with [DONE] nor with an error event: ${where}`;
  }
  return undefined;
}

// ---- arbitraries -------------------------------------------------------------------------------

const anyJson = fc.jsonValue({ maxDepth: 3 });
/** A model string that never asks the mock provider to fail on purpose (`-fail-NNN`). */
const modelName = fc.oneof(
  fc.constantFrom('mock-model', 'gpt-4o', 'mock/anything', 'openai/gpt-4o-mini', 'nope', 'mock/', '/mock-model', ''),
  fc.string({ maxLength: 40 }).map((s) => s.replace(/-fail-\d{3}$/, '')),
);
const role = fc.oneof(fc.constantFrom('system', 'developer', 'user', 'assistant', 'tool', 'function'), fc.string({ maxLength: 10 }), anyJson);
const contentPart = fc.oneof(
  fc.record({ type: fc.constant('text'), text: fc.oneof(fc.string({ maxLength: 60 }), anyJson) }),
  fc.record({
    type: fc.constant('image_url'),
    image_url: fc.oneof(fc.record({ url: fc.constantFrom('data:image/png;base64,iVBORw0KGgo=', 'https://example.com/cat.png') }), anyJson),
  }),
  fc.record({ type: fc.string({ maxLength: 12 }) }, { requiredKeys: [] }),
  anyJson,
);
const message = fc.record(
  {
    role,
    content: fc.oneof(fc.string({ maxLength: 80 }), fc.array(contentPart, { maxLength: 4 }), fc.constant(null), anyJson),
    name: fc.oneof(fc.string({ maxLength: 10 }), anyJson),
    tool_call_id: fc.string({ maxLength: 10 }),
    tool_calls: fc.oneof(
      fc.array(fc.record({ id: fc.string(), type: fc.constant('function'), function: fc.record({ name: fc.string(), arguments: fc.string() }) }), {
        maxLength: 2,
      }),
      anyJson,
    ),
  },
  { requiredKeys: ['role'] },
);
const tool = fc.oneof(
  fc.record({
    type: fc.constant('function'),
    function: fc.record({ name: fc.string({ minLength: 1, maxLength: 12 }), parameters: anyJson, description: fc.string() }, { requiredKeys: ['name'] }),
  }),
  anyJson,
);
const numberish = fc.oneof(fc.integer({ min: -5, max: 1_000_000 }), fc.double({ noNaN: false }), anyJson);
/** Anything at all in every field: mostly rejected, which is the point. */
const wildChatBody = fc.record(
  {
    model: fc.oneof(modelName, anyJson),
    messages: fc.oneof(fc.array(message, { minLength: 1, maxLength: 4 }), anyJson),
    stream: fc.oneof(fc.boolean(), anyJson),
    stream_options: fc.oneof(fc.record({ include_usage: fc.oneof(fc.boolean(), anyJson) }, { requiredKeys: [] }), anyJson),
    tools: fc.oneof(fc.array(tool, { maxLength: 3 }), anyJson),
    tool_choice: fc.oneof(
      fc.constantFrom('auto', 'none', 'required'),
      fc.record({ type: fc.constant('function'), function: fc.record({ name: fc.string() }, { requiredKeys: [] }) }, { requiredKeys: [] }),
      anyJson,
    ),
    max_tokens: numberish,
    max_completion_tokens: numberish,
    temperature: numberish,
    top_p: numberish,
    n: numberish,
    stop: fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 4 }), anyJson),
    response_format: anyJson,
    user: anyJson,
    api_base: fc.constant('http://127.0.0.1:9/v1'),
  },
  { requiredKeys: [] },
);
const validPart = fc.oneof(
  fc.record({ type: fc.constant('text'), text: fc.string({ maxLength: 60 }) }),
  fc.record({
    type: fc.constant('image_url'),
    image_url: fc.record(
      { url: fc.constantFrom('data:image/png;base64,iVBORw0KGgo=', 'https://example.com/cat.png'), detail: fc.constantFrom('low', 'high', 'auto') },
      { requiredKeys: ['url'] },
    ),
  }),
);
const validMessage = fc.record({
  role: fc.constantFrom('system', 'user', 'assistant'),
  content: fc.oneof(fc.string({ maxLength: 80 }), fc.array(validPart, { minLength: 1, maxLength: 3 })),
});
const validTool = fc.record({
  type: fc.constant('function'),
  function: fc.record({ name: fc.stringMatching(/^[a-z_]{1,12}$/), parameters: fc.constant({ type: 'object', properties: {} }) }),
});
/** A request a real client would send. */
const validChatBody = fc.record(
  {
    model: fc.constantFrom('mock-model', 'gpt-4o', 'mock/anything', 'openai/gpt-4o-mini', 'no-such-model'),
    messages: fc.array(validMessage, { minLength: 1, maxLength: 3 }),
    stream: fc.boolean(),
    stream_options: fc.record({ include_usage: fc.boolean() }),
    tools: fc.array(validTool, { minLength: 1, maxLength: 2 }),
    tool_choice: fc.constantFrom('auto', 'none', 'required'),
    max_tokens: fc.integer({ min: 1, max: 500 }),
    temperature: fc.double({ min: 0, max: 2, noNaN: true }),
  },
  { requiredKeys: ['model', 'messages'] },
);
const CHAT_FIELDS = [
  'model',
  'messages',
  'stream',
  'stream_options',
  'tools',
  'tool_choice',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'n',
  'stop',
  'user',
];
/** A valid request with one field, or one field of one message, replaced by anything. */
const mutatedChatBody = fc.oneof(
  fc.tuple(validChatBody, fc.constantFrom(...CHAT_FIELDS), anyJson).map(([b, f, v]) => ({ ...b, [f]: v })),
  fc.tuple(validChatBody, fc.constantFrom('role', 'content', 'name', 'tool_calls', 'tool_call_id'), anyJson).map(([b, f, v]) => ({
    ...b,
    messages: [{ ...b.messages[0], [f]: v }, ...b.messages.slice(1)],
  })),
  fc.tuple(validChatBody, fc.array(contentPart, { minLength: 1, maxLength: 3 })).map(([b, parts]) => ({ ...b, messages: [{ role: 'user', content: parts }] })),
  fc
    .tuple(validChatBody, fc.array(tool, { minLength: 1, maxLength: 2 }), fc.oneof(fc.constantFrom('auto', 'none', 'required'), anyJson))
    .map(([b, tools, choice]) => ({ ...b, tools, tool_choice: choice })),
);
const chatBody = fc.oneof({ weight: 3, arbitrary: validChatBody }, { weight: 5, arbitrary: mutatedChatBody }, { weight: 2, arbitrary: wildChatBody });
const embeddingsBody = fc.record(
  {
    model: fc.oneof(modelName, anyJson),
    input: fc.oneof(
      fc.string({ maxLength: 50 }),
      fc.array(fc.string({ maxLength: 20 }), { maxLength: 5 }),
      fc.array(fc.array(fc.integer(), { maxLength: 5 }), { maxLength: 3 }),
      anyJson,
    ),
    dimensions: fc.oneof(fc.integer({ min: -3, max: 4096 }), anyJson),
    encoding_format: fc.oneof(fc.constantFrom('float', 'base64'), anyJson),
  },
  { requiredKeys: [] },
);

const anthropicBlock = fc.oneof(
  fc.record({ type: fc.constant('text'), text: fc.oneof(fc.string({ maxLength: 40 }), anyJson) }),
  fc.record({
    type: fc.constant('image'),
    source: fc.oneof(fc.record({ type: fc.constant('base64'), media_type: fc.constant('image/png'), data: fc.constant('iVBORw0KGgo=') }), anyJson),
  }),
  fc.record({ type: fc.constant('tool_use'), id: fc.string(), name: fc.string(), input: anyJson }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('tool_result'), tool_use_id: fc.string(), content: fc.oneof(fc.string(), anyJson) }, { requiredKeys: ['type'] }),
  anyJson,
);
const validAnthropicBody = fc.record(
  {
    model: fc.constantFrom('mock-model', 'gpt-4o', 'mock/anything', 'no-such-model'),
    max_tokens: fc.integer({ min: 1, max: 400 }),
    messages: fc.array(
      fc.record({
        role: fc.constantFrom('user', 'assistant'),
        content: fc.oneof(fc.string({ maxLength: 60 }), fc.array(anthropicBlock, { minLength: 1, maxLength: 3 })),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    system: fc.oneof(fc.string({ maxLength: 40 }), fc.array(fc.record({ type: fc.constant('text'), text: fc.string() }), { maxLength: 2 })),
    stream: fc.boolean(),
    tools: fc.array(fc.record({ name: fc.stringMatching(/^[a-z_]{1,10}$/), input_schema: fc.constant({ type: 'object' }) }), { maxLength: 2 }),
    tool_choice: fc.oneof(fc.record({ type: fc.constantFrom('auto', 'any', 'none') }), fc.record({ type: fc.constant('tool'), name: fc.string() })),
    temperature: fc.double({ min: 0, max: 1, noNaN: true }),
    stop_sequences: fc.array(fc.string(), { maxLength: 3 }),
  },
  { requiredKeys: ['model', 'max_tokens', 'messages'] },
);
const ANTHROPIC_FIELDS = [
  'model',
  'max_tokens',
  'messages',
  'system',
  'stream',
  'tools',
  'tool_choice',
  'temperature',
  'stop_sequences',
  'metadata',
  'thinking',
];
const anthropicBody = fc.oneof(
  validAnthropicBody,
  fc.tuple(validAnthropicBody, fc.constantFrom(...ANTHROPIC_FIELDS), anyJson).map(([b, f, v]) => ({ ...b, [f]: v })),
  fc
    .tuple(validAnthropicBody, fc.constantFrom('role', 'content'), anyJson)
    .map(([b, f, v]) => ({ ...b, messages: [{ ...b.messages[0], [f]: v }, ...b.messages.slice(1)] })),
);
/** Create/patch bodies for the admin API: plausible fields with anything as values. */
const adminBody = fc.record(
  {
    name: fc.oneof(fc.string({ maxLength: 30 }), anyJson),
    team: fc.oneof(fc.string({ maxLength: 10 }), anyJson),
    models: fc.oneof(fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }), anyJson),
    limits: fc.oneof(
      fc.record(
        {
          rpm: numberish,
          tpm: numberish,
          tokensPerDay: numberish,
          budgetUsd: fc.oneof(fc.record({ amount: numberish, period: fc.oneof(fc.constantFrom('day', 'month'), anyJson) }), anyJson),
        },
        { requiredKeys: [] },
      ),
      anyJson,
    ),
    expiresAt: fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      anyJson,
    ),
    logging: fc.oneof(fc.constantFrom('full', 'metadata', 'redacted'), anyJson),
    metadata: fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }), anyJson),
    gracePeriodSeconds: numberish,
  },
  { requiredKeys: [] },
);

const TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split('');
const headerName = fc
  .string({ unit: fc.constantFrom(...TOKEN_CHARS), minLength: 1, maxLength: 20 })
  .filter((h) => !['content-length', 'transfer-encoding', 'host', 'connection', 'expect', 'upgrade'].includes(h.toLowerCase()));
const headerValue = fc
  .string({
    unit: fc.constantFrom(...' !"#$%&()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~'.split('')),
    maxLength: 60,
  })
  .map((v) => v.trim());
const PATH_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-._~/%?=&+:@!$'()*,;".split('');
const path = fc.oneof(
  fc.constantFrom(
    '/v1/chat/completions',
    '/v1/embeddings',
    '/v1/models',
    '/health',
    '/v1/messages',
    '/admin/keys',
    '/admin/keys/x/rotate',
    '/',
    '/v1',
    '/v1/chat/completions/',
    '//v1/models',
    '/v1/../admin/keys',
    '/%2e%2e/admin/keys',
    '/v1/models?x=%zz',
  ),
  fc
    .tuple(fc.constantFrom('/', '/v1/', '/admin/', '/v1/chat/', '/health/'), fc.string({ unit: fc.constantFrom(...PATH_CHARS), maxLength: 30 }))
    .map(([a, b]) => a + b),
);
const method = fc.oneof(
  fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'PROPFIND', 'TRACE', 'QUERY'),
  fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('')), minLength: 1, maxLength: 8 }),
);
const KEY_HEADERS = ['authorization', 'x-api-key', 'api-key', 'x-goog-api-key'] as const;

describe('robustness under random input (fast-check)', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let key: string;
  const statuses = new Map<number, number>();
  const processErrors: unknown[] = [];
  const onProcessError = (err: unknown) => processErrors.push(err);

  beforeAll(async () => {
    process.on('unhandledRejection', onProcessError);
    process.on('uncaughtException', onProcessError);
    upstream = await startFakeUpstream((req, res) => {
      if (req.body?.stream === true) writeSse(res, openAiChunks(['a', 'b'], 'gpt-4o', { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 }));
      else if (req.path.endsWith('/embeddings'))
        json(res, 200, {
          object: 'list',
          data: [{ object: 'embedding', index: 0, embedding: [0.5] }],
          model: 'e',
          usage: { prompt_tokens: 1, total_tokens: 1 },
        });
      else json(res, 200, openAiCompletion('ok'));
    });
    gw = await startTestGateway(
      {
        providers: { mock: { type: 'mock' }, openai: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: { env: 'K' } } },
        models: { 'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] }, 'gpt-4o': { targets: [{ provider: 'openai', model: 'gpt-4o' }] } },
      },
      { env: { K: 'sk-upstream-key' } },
    );
    ({ key } = await gw.createKey({ name: 'fuzz' }));
  });
  afterAll(async () => {
    process.off('unhandledRejection', onProcessError);
    process.off('uncaughtException', onProcessError);
    await gw.close();
    await upstream.close();
  });

  const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);

  async function check(method: string, p: string, headers: Record<string, string>, body?: Uint8Array): Promise<void> {
    const res = await rawRequest(gw.url, method, p, headers, body);
    count(res.status);
    const v = violation(method, p, res);
    if (v) throw new Error(v);
  }

  test('random chat bodies (400 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(chatBody, fc.constantFrom(...KEY_HEADERS), async (body, where) => {
        const headers = { 'content-type': 'application/json', [where]: where === 'authorization' ? `Bearer ${key}` : key };
        await check('POST', '/v1/chat/completions', headers, Buffer.from(JSON.stringify(body)));
      }),
      { numRuns: 400, seed: SEED },
    );
    // The generator reached every outcome, not just one kind of rejection.
    expect(statuses.get(200)).toBeGreaterThan(20);
    expect(statuses.get(400)).toBeGreaterThan(20);
    expect(statuses.get(404)).toBeGreaterThan(5);
  });

  test('random embeddings bodies (200 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(embeddingsBody, async (body) => {
        await check('POST', '/v1/embeddings', { authorization: `Bearer ${key}` }, Buffer.from(JSON.stringify(body)));
      }),
      { numRuns: 200, seed: SEED },
    );
  });

  test('random bytes as a body, with or without a key (200 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 300 }),
        fc.boolean(),
        fc.constantFrom('/v1/chat/completions', '/v1/embeddings', '/admin/keys'),
        async (bytes, withKey, p) => {
          await check('POST', p, withKey ? { authorization: `Bearer ${p.startsWith('/admin') ? 'test-admin-token' : key}` } : {}, bytes);
        },
      ),
      { numRuns: 200, seed: SEED },
    );
  });

  test('random Anthropic Messages bodies on /v1/messages (300 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(anthropicBody, fc.constantFrom('x-api-key', 'authorization'), async (body, where) => {
        const headers = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', [where]: where === 'authorization' ? `Bearer ${key}` : key };
        await check('POST', '/v1/messages', headers, Buffer.from(JSON.stringify(body)));
      }),
      { numRuns: 300, seed: SEED },
    );
  });

  test('random admin bodies: create, patch, rotate (300 runs)', async () => {
    const admin = { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' };
    const { id } = await gw.createKey({ name: 'patch-target' });
    await fc.assert(
      fc.asyncProperty(adminBody, fc.constantFrom('POST /admin/keys', `PATCH /admin/keys/${id}`, `POST /admin/keys/${id}/rotate`), async (body, route) => {
        const [m, p] = route.split(' ');
        await check(m, p, admin, Buffer.from(JSON.stringify(body)));
      }),
      { numRuns: 300, seed: SEED },
    );
  });

  test('random methods, paths and headers (400 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(
        method,
        path,
        fc.dictionary(headerName, headerValue, { maxKeys: 8 }),
        fc.option(fc.constantFrom(...KEY_HEADERS)),
        fc.option(
          fc.oneof(
            fc.uint8Array({ maxLength: 200 }),
            chatBody.map((b) => Buffer.from(JSON.stringify(b))),
          ),
        ),
        async (m, p, headers, keyHeader, body) => {
          const h: Record<string, string> = { ...headers };
          if (keyHeader) h[keyHeader] = keyHeader === 'authorization' ? `Bearer ${key}` : key;
          await check(m, p, h, m === 'GET' || m === 'HEAD' ? undefined : (body ?? undefined));
        },
      ),
      { numRuns: 400, seed: SEED },
    );
  });

  test('the process is still healthy and recorded no unhandled error', async () => {
    const res = await fetch(gw.url + '/health');
    expect(res.status).toBe(200);
    expect(processErrors).toEqual([]);
    expect([...statuses.keys()].filter((s) => s >= 500)).toEqual([]);
  });
});
