/**
 * One audit record per request, for every outcome, against the real local gateway (dynalite,
 * Node http, the file sink) and a real HTTP fake upstream: tokens, cost, attempts and latency
 * fields are checked against what the upstream reported and what the test measured.
 */
import { DEFAULT_OUTPUT_RESERVATION } from '../../../lambda/core/handlers/chat-completions';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatewayConfig } from '../../../lambda/core/config';
import { GatewayError } from '../../../lambda/core/errors';
import { LOG_RECORD_FIELDS, type RequestLogRecord } from '../../../lambda/core/log-record';
import type { Limiter } from '../../../lambda/core/ports';
import { json, openAiChunks, openAiCompletion, startFakeUpstream, type FakeUpstream, writeSse } from '../../helpers/fake-upstream';
import { startTestGateway, type TestGateway } from '../../helpers/gateway';
import { AwaitableFileSink } from './log-capture';

const PROVIDER_KEY = 'sk-upstream-' + 'Q9w8E7r6T5y4U3i2O1p0';

const config = (upstreamUrl: string): GatewayConfig => ({
  providers: { up: { type: 'openai-compatible', baseUrl: `${upstreamUrl}/v1`, apiKey: { env: 'UP_KEY' } }, mock: { type: 'mock' } },
  models: {
    'gpt-4o': { targets: [{ provider: 'up', model: 'gpt-4o' }] },
    'with-fallback': {
      targets: [
        { provider: 'mock', model: 'mock-fail-500' },
        { provider: 'up', model: 'gpt-4o' },
      ],
    },
    'all-fail': {
      targets: [
        { provider: 'mock', model: 'mock-fail-502' },
        { provider: 'mock', model: 'mock-fail-500' },
      ],
    },
    'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] },
    'gpt-4o-impatient': { targets: [{ provider: 'up', model: 'gpt-4o' }], timeouts: { totalMs: 50, idleMs: 50 } },
  },
  settings: { maxBodyBytes: 64 * 1024 },
});

/** Every schema field is present and has its declared type (or null). */
function expectSchema(rec: RequestLogRecord) {
  expect(Object.keys(rec).sort()).toEqual(LOG_RECORD_FIELDS.map((f) => f.name).sort());
  for (const f of LOG_RECORD_FIELDS) {
    const v = rec[f.name];
    if (v === null) continue;
    if (f.type === 'string') expect(typeof v).toBe('string');
    if (f.type === 'boolean') expect(typeof v).toBe('boolean');
    if (f.type === 'double') expect(typeof v).toBe('number');
    if (f.type === 'bigint') expect(Number.isInteger(v)).toBe(true);
  }
  expect(JSON.parse(rec.attempts)).toEqual(expect.any(Array));
  expect(rec.latency_ms).toBeGreaterThanOrEqual(0);
}

const attemptsOf = (rec: RequestLogRecord) =>
  JSON.parse(rec.attempts) as { provider: string; model: string; status: number | null; latency_ms: number; error?: string }[];

async function startWith(options: Parameters<typeof startTestGateway>[1], upstream: FakeUpstream) {
  const dataDir = mkdtempSync(join(tmpdir(), 'gw-log-'));
  const sink = new AwaitableFileSink(join(dataDir, 'logs'));
  const started = await startTestGateway(config(upstream.url), { dataDir, env: { UP_KEY: PROVIDER_KEY }, overrides: { logSink: sink }, ...options });
  const gw: TestGateway = {
    ...started,
    async close() {
      await started.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return { gw, sink };
}

describe('audit record per outcome', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let sink: AwaitableFileSink;
  let key: string;
  let keyId: string;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    ({ gw, sink } = await startWith({}, upstream));
    ({ key, id: keyId } = await gw.createKey({ name: 'audit-app', team: 'payments', logging: 'full' }));
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  const recordOf = (res: Response) => sink.recordFor(res.headers.get('x-request-id')!);

  test('success, JSON: usage, cost, one attempt, latency covering the upstream delay, bodies per policy', async () => {
    upstream.handle(
      (_req, res) =>
        void setTimeout(() => json(res, 200, openAiCompletion('Hello!', 'gpt-4o', { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 })), 40),
    );
    const started = Date.now();
    const res = await gw.post('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi there' }] }, key, {
      'user-agent': 'audit-test/1.0',
    });
    expect(res.status).toBe(200);
    await res.json();
    const rec = await recordOf(res);
    expectSchema(rec);
    expect(rec).toMatchObject({
      key_id: keyId,
      key_name: 'audit-app',
      team: 'payments',
      endpoint: '/v1/chat/completions',
      requested_model: 'gpt-4o',
      provider: 'up',
      model: 'gpt-4o',
      status: 200,
      error_code: null,
      stream: false,
      prompt_tokens: 11,
      completion_tokens: 7,
      total_tokens: 18,
      cost_usd: (11 * 2.5 + 7 * 10) / 1e6,
      client_ip: expect.stringMatching(/127\.0\.0\.1/),
      user_agent: 'audit-test/1.0',
      body_ref: null,
    });
    const [attempt] = attemptsOf(rec);
    expect(attemptsOf(rec)).toHaveLength(1);
    expect(attempt).toMatchObject({ provider: 'up', model: 'gpt-4o', status: 200 });
    expect(attempt.latency_ms).toBeGreaterThanOrEqual(35);
    expect(rec.latency_ms).toBeGreaterThanOrEqual(attempt.latency_ms);
    expect(rec.ttft_ms).not.toBeNull();
    expect(rec.ttft_ms!).toBeGreaterThanOrEqual(35);
    // The first token comes before the end: a relation between the record's own fields.
    expect(rec.latency_ms - rec.ttft_ms!).toBeGreaterThanOrEqual(0);
    expect(Date.parse(rec.ts)).toBeGreaterThanOrEqual(started - 5);
    expect(JSON.parse(rec.request_body!).messages[0].content).toBe('hi there');
    expect(JSON.parse(rec.response_body!).choices[0].message.content).toBe('Hello!');
  });

  test('success, stream: usage from the stream, stream flag, text delivered, ttft before the last byte', async () => {
    upstream.handle((_req, res) => writeSse(res, openAiChunks(['Hel', 'lo'], 'gpt-4o', { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 })));
    const res = await gw.post('/v1/chat/completions', { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] }, key);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('[DONE]');
    const rec = await recordOf(res);
    expectSchema(rec);
    expect(rec).toMatchObject({
      status: 200,
      stream: true,
      provider: 'up',
      prompt_tokens: 3,
      completion_tokens: 2,
      total_tokens: 5,
      cost_usd: (3 * 2.5 + 2 * 10) / 1e6,
      response_body: 'Hello',
    });
    expect(attemptsOf(rec)).toEqual([expect.objectContaining({ provider: 'up', status: 200 })]);
    // The first token comes before the end: a relation between the record's own fields.
    expect(rec.latency_ms - rec.ttft_ms!).toBeGreaterThanOrEqual(0);
  });

  test('upstream failure, then fallback: both attempts recorded, the serving target named', async () => {
    upstream.handle((_req, res) => json(res, 200, openAiCompletion('from fallback', 'gpt-4o', { prompt_tokens: 20, completion_tokens: 10, total_tokens: 30 })));
    const res = await gw.post('/v1/chat/completions', { model: 'with-fallback', messages: [{ role: 'user', content: 'hi' }] }, key);
    expect(res.status).toBe(200);
    const rec = await recordOf(res);
    expectSchema(rec);
    expect(rec).toMatchObject({
      status: 200,
      requested_model: 'with-fallback',
      provider: 'up',
      model: 'gpt-4o',
      prompt_tokens: 20,
      completion_tokens: 10,
      cost_usd: (20 * 2.5 + 10 * 10) / 1e6,
    });
    const attempts = attemptsOf(rec);
    expect(attempts).toEqual([
      expect.objectContaining({ provider: 'mock', model: 'mock-fail-500', status: 500, error: expect.stringContaining('HTTP 500') }),
      expect.objectContaining({ provider: 'up', model: 'gpt-4o', status: 200 }),
    ]);
    expect(attempts.every((a) => a.latency_ms >= 0 && a.latency_ms <= rec.latency_ms)).toBe(true);
  });

  test('upstream failure on every target: an error record with each attempt, no usage, no cost', async () => {
    const res = await gw.post('/v1/chat/completions', { model: 'all-fail', messages: [{ role: 'user', content: 'hi' }] }, key);
    expect(res.status).toBeGreaterThanOrEqual(500);
    const rec = await recordOf(res);
    expectSchema(rec);
    expect(rec).toMatchObject({
      status: res.status,
      error_code: (await res.json()).error.code,
      key_id: keyId,
      provider: null,
      prompt_tokens: null,
      completion_tokens: null,
      cost_usd: null,
    });
    expect(attemptsOf(rec).map((a) => [a.model, a.status])).toEqual([
      ['mock-fail-502', 502],
      ['mock-fail-500', 500],
    ]);
  });

  test('401 missing key and 401 unknown key: recorded without key fields and without the presented key', async () => {
    const missing = await gw.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] });
    const bogusKey = 'sk-gw-' + 'x'.repeat(43);
    const unknown = await gw.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] }, bogusKey);
    for (const [res, code] of [
      [missing, 'missing_api_key'],
      [unknown, 'invalid_api_key'],
    ] as const) {
      expect(res.status).toBe(401);
      const rec = await recordOf(res);
      expectSchema(rec);
      expect(rec).toMatchObject({
        status: 401,
        error_code: code,
        key_id: null,
        key_name: null,
        team: null,
        request_body: null,
        response_body: null,
        attempts: '[]',
      });
      expect(JSON.stringify(rec)).not.toContain(bogusKey);
    }
  });

  test('403 model not allowed: recorded with the key and the model asked for', async () => {
    const limited = await gw.createKey({ name: 'mock-only', models: ['mock-*'] });
    const res = await gw.post('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, limited.key);
    expect(res.status).toBe(403);
    const rec = await recordOf(res);
    expect(rec).toMatchObject({ status: 403, error_code: 'model_not_allowed', key_id: limited.id, requested_model: 'gpt-4o', attempts: '[]', provider: null });
  });

  test('403 revoked key: recorded under the key it names', async () => {
    const doomed = await gw.createKey({ name: 'doomed' });
    expect((await gw.admin('POST', `/admin/keys/${doomed.id}/revoke`)).status).toBe(200);
    const res = await gw.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] }, doomed.key);
    expect(res.status).toBe(403);
    expect(await recordOf(res)).toMatchObject({ status: 403, error_code: 'key_revoked', key_id: doomed.id });
  });

  test('400 invalid request and 400 malformed JSON: recorded with the key', async () => {
    const invalid = await gw.post('/v1/chat/completions', { model: 'gpt-4o', messages: 'not a list' }, key);
    const malformed = await gw.post('/v1/chat/completions', '{"model": "gpt-4o", ', key);
    for (const res of [invalid, malformed]) {
      expect(res.status).toBe(400);
      const rec = await recordOf(res);
      expectSchema(rec);
      expect(rec).toMatchObject({ status: 400, error_code: (await res.json()).error.code, key_id: keyId, attempts: '[]' });
    }
  });

  test('404 unknown model and unknown route, 413 body too large: recorded', async () => {
    const unknownModel = await gw.post('/v1/chat/completions', { model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }, key);
    const unknownRoute = await gw.post('/v1/nowhere', {}, key);
    const tooLarge = await gw.post('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(100 * 1024) }] }, key);
    expect([unknownModel.status, unknownRoute.status, tooLarge.status]).toEqual([404, 404, 413]);
    expect(await recordOf(unknownModel)).toMatchObject({ status: 404, requested_model: 'no-such-model', key_id: keyId });
    expect(await recordOf(unknownRoute)).toMatchObject({ status: 404, endpoint: '/v1/nowhere' });
    expect(await recordOf(tooLarge)).toMatchObject({ status: 413, key_id: keyId, request_body: null });
  });

  test('a client that disconnects mid-stream still gets a record: 499 client_cancelled with the tokens delivered so far', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((r) => (upstreamClosed = r));
    upstream.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const c of openAiChunks(['The answer is forty', ' and counting'], 'gpt-4o').slice(0, 3)) res.write(`data: ${JSON.stringify(c)}\n\n`);
      res.on('close', upstreamClosed); // never ends by itself
    });
    const controller = new AbortController();
    const res = await fetch(gw.url + '/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'count' }] }),
      signal: controller.signal,
    });
    const id = res.headers.get('x-request-id')!;
    const reader = res.body!.getReader();
    let seen = '';
    while (!seen.includes(' and counting')) seen += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const rec = await sink.recordFor(id);
    await closed; // the upstream call was stopped too
    expectSchema(rec);
    expect(rec).toMatchObject({ status: 499, error_code: 'client_cancelled', stream: true, provider: 'up', response_body: 'The answer is forty and counting' });
    // No usage chunk arrived before the cut: completion tokens are estimated from the text delivered.
    expect(rec.completion_tokens).toBeGreaterThan(0);
    expect(rec.completion_tokens).toBeLessThanOrEqual('The answer is forty and counting'.length);
    expect(rec.prompt_tokens).toBeGreaterThan(0);
    expect(rec.cost_usd).toBeCloseTo((rec.prompt_tokens! * 2.5 + rec.completion_tokens! * 10) / 1e6, 12);
  });

  test('a client that gives up on a JSON call still gets a record: 499 client_cancelled', async () => {
    let arrived!: () => void;
    const upstreamGotIt = new Promise<void>((r) => (arrived = r));
    upstream.handle(() => arrived()); // never answers
    const controller = new AbortController();
    const pending = fetch(gw.url + '/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'slow' }] }),
      signal: controller.signal,
    }).catch(() => undefined);
    await upstreamGotIt;
    controller.abort();
    await pending;
    // No response to read the request id from: wait for the record itself.
    const rec = await sink.waitFor((r) => r.status === 499 && !r.stream);
    expect(rec).toMatchObject({
      status: 499,
      error_code: 'client_cancelled',
      stream: false,
      key_id: keyId,
      requested_model: 'gpt-4o',
      // The provider received the request, so it is charged: the reserved output cap (README "Reserve → settle → release").
      completion_tokens: DEFAULT_OUTPUT_RESERVATION,
    });
    expect(attemptsOf(rec)).toEqual([expect.objectContaining({ provider: 'up', status: 499 })]);
  });

  test('an upstream that times out: 504 record with the timed-out attempt', async () => {
    upstream.handle(() => undefined); // never answers
    const res = await gw.post('/v1/chat/completions', { model: 'gpt-4o-impatient', messages: [{ role: 'user', content: 'hi' }] }, key);
    expect(res.status).toBe(504);
    const rec = await recordOf(res);
    // Timed out after the provider received it: charged the reserved output cap.
    expect(rec).toMatchObject({ status: 504, error_code: 'upstream_timeout', key_id: keyId, provider: null, completion_tokens: DEFAULT_OUTPUT_RESERVATION });
    const [attempt] = attemptsOf(rec);
    expect(attempt).toMatchObject({ provider: 'up', model: 'gpt-4o', error: expect.stringMatching(/timeout/) });
    expect(attempt.latency_ms).toBeGreaterThanOrEqual(45);
  });

  test('a stream that stalls after its first words: the record keeps what was delivered and says how it ended', async () => {
    upstream.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const c of openAiChunks(['Half an', ' answer'], 'gpt-4o').slice(0, 3)) res.write(`data: ${JSON.stringify(c)}\n\n`);
      // …and then silence, past the route's idle limit.
    });
    const res = await gw.post('/v1/chat/completions', { model: 'gpt-4o-impatient', stream: true, messages: [{ role: 'user', content: 'hi' }] }, key);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain('[DONE]');
    const rec = await recordOf(res);
    expect(rec.status).toBeGreaterThanOrEqual(500);
    expect(rec).toMatchObject({ stream: true, provider: 'up', response_body: 'Half an answer', error_code: expect.any(String) });
    expect(rec.completion_tokens).toBeGreaterThan(0);
    expect(text).toContain(rec.error_code!);
  });

  test("bodies follow the key's logging policy: 'redacted' scrubs personal data, 'metadata' keeps none", async () => {
    upstream.handle((_req, res) => json(res, 200, openAiCompletion('I will call +1 (555) 123-4567 and write to joe@example.com')));
    const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'I am joe@example.com, card 4111 1111 1111 1111' }] };
    const redacted = await gw.createKey({ name: 'redacted', logging: 'redacted' });
    const metadata = await gw.createKey({ name: 'metadata', logging: 'metadata' });
    const r1 = await gw.post('/v1/chat/completions', body, redacted.key);
    const r2 = await gw.post('/v1/chat/completions', body, metadata.key);
    const [rec1, rec2] = [await recordOf(r1), await recordOf(r2)];
    expect(JSON.parse(rec1.request_body!).messages[0].content).toBe('I am [REDACTED:email], card [REDACTED:card]');
    expect(JSON.parse(rec1.response_body!).choices[0].message.content).toBe('I will call [REDACTED:phone] and write to [REDACTED:email]');
    expect(rec2).toMatchObject({ request_body: null, response_body: null, prompt_tokens: 11, completion_tokens: 7 });
  });

  test('/health is not logged; every other request above produced exactly one record', async () => {
    const before = sink.all().length;
    expect((await fetch(gw.url + '/health')).status).toBe(200);
    await gw.gateway.flush();
    expect(sink.all().length).toBe(before);
    const ids = sink.all().map((r) => r.request_id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('audit record when a limit is hit', () => {
  test('429 from the limiter: recorded with the key, its error code, and no attempt', async () => {
    const upstream = await startFakeUpstream();
    const limitHit: Limiter = {
      async reserve() {
        throw new GatewayError({
          status: 429,
          type: 'rate_limit_error',
          code: 'rate_limit_exceeded',
          message: 'Rate limit reached for requests.',
          retryAfterSeconds: 7,
        });
      },
      async settle() {},
      async release() {},
    };
    const { gw, sink } = await startWith({ limiter: () => limitHit }, upstream);
    try {
      const { key, id } = await gw.createKey({ name: 'limited', team: 't' });
      const res = await gw.post('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, key);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('7');
      const rec = await sink.recordFor(res.headers.get('x-request-id')!);
      expectSchema(rec);
      expect(rec).toMatchObject({
        status: 429,
        error_code: 'rate_limit_exceeded',
        key_id: id,
        key_name: 'limited',
        team: 't',
        requested_model: 'gpt-4o',
        attempts: '[]',
        provider: null,
        cost_usd: null,
      });
      expect(upstream.received).toHaveLength(0);
    } finally {
      await gw.close();
      await upstream.close();
    }
  });
});

describe('logging never fails or delays the response', () => {
  let releaseHeldWrites!: () => void;
  const held = new Promise<void>((r) => (releaseHeldWrites = r));
  test.each([
    [
      'throws',
      (): void => {
        throw new Error('sink exploded');
      },
    ],
    ['rejects', () => Promise.reject(new Error('sink down'))],
    // Released only after the responses were read: they cannot have waited for it.
    ['does not settle until after the responses', () => held],
  ])('a sink that %s: JSON and stream responses still complete', async (name, write) => {
    const errorsLogged: string[] = [];
    const gw = await startTestGateway(
      { providers: { mock: { type: 'mock' } }, models: { 'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] } } },
      { overrides: { logSink: { write } }, logger: { debug() {}, info() {}, warn() {}, error: (m) => void errorsLogged.push(m) } },
    );
    try {
      const { key } = await gw.createKey();
      const res = await gw.post('/v1/chat/completions', { model: 'mock-model', messages: [{ role: 'user', content: 'hi' }] }, key);
      expect(res.status).toBe(200);
      expect((await res.json()).choices[0].message.content).toContain('hi');
      const streamed = await gw.post('/v1/chat/completions', { model: 'mock-model', stream: true, messages: [{ role: 'user', content: 'hi' }] }, key);
      expect(streamed.status).toBe(200);
      expect(await streamed.text()).toContain('data: [DONE]');
      releaseHeldWrites();
      await gw.gateway.flush();
      expect(errorsLogged.length).toBe(name === 'does not settle until after the responses' ? 0 : 2);
    } finally {
      await gw.close();
    }
  });
});
