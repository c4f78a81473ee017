/**
 * The Lambda streaming adapter with API Gateway REST proxy event fixtures, driving the real core
 * (dynalite key store, mock provider, an HTTP fake upstream for streams) through a stand-in
 * `awslambda` global that behaves like the Node.js runtime's: `HttpResponseStream.from` sends
 * the metadata prelude (JSON + 8 NUL bytes) just before the first write, and nothing if the
 * stream ends without one (aws-lambda-nodejs-runtime-interface-client#97).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createStreamingHandler, eventToRequest, initOnce, metadataOf, requestPath, type StreamingApp } from '../../lambda/adapters/lambda-stream';
import { createUsageApi } from '../../lambda/core/usage/usage-api';
import { createUiSessions } from '../../lambda/core/usage/ui-sessions';
import { DynamoUsageRollups } from '../../lambda/stores/dynamo-usage-rollups';
import { DynamoUiSessionStore } from '../../lambda/stores/dynamo-ui-sessions';
import { KeyVerifier } from '../../lambda/core/keys';
import { createAdminApp } from '../../lambda/core/admin';
import { DynamoKeyStore } from '../../lambda/stores/dynamo-key-store';
import { createDynamoLimiter } from '../../lambda/stores/dynamo-limiter';
import { openAiChunks, startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

const PRELUDE_DELIMITER = Buffer.alloc(8);

/** What the Lambda runtime's response stream does, recording every write as it happens. */
class RecordingResponseStream extends Writable {
  readonly writes: Buffer[] = [];
  contentType?: string;
  _onBeforeFirstWrite?: (write: (chunk: Buffer | string) => void) => void;
  private firstWrite = true;
  private readonly waiters: { match: (text: string) => boolean; resolve: () => void }[] = [];

  setContentType(type: string) {
    this.contentType = type;
  }

  override write(chunk: any, ...rest: any[]): boolean {
    if (this.firstWrite) {
      this.firstWrite = false;
      this._onBeforeFirstWrite?.((c) => super.write(c));
    }
    return super.write(chunk, ...rest);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void) {
    this.writes.push(Buffer.from(chunk));
    const text = this.raw().toString('utf8');
    for (const w of [...this.waiters])
      if (w.match(text)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    cb();
  }

  /** Resolves once the streamed bytes so far contain `needle`. */
  waitFor(needle: string): Promise<void> {
    return new Promise((resolve) => {
      if (this.raw().includes(needle)) return resolve();
      this.waiters.push({ match: (t) => t.includes(needle), resolve });
    });
  }

  raw(): Buffer {
    return Buffer.concat(this.writes);
  }

  /** The response as API Gateway would parse it: metadata prelude, then the body. */
  parsed(): { statusCode: number; headers: Record<string, string>; body: string } {
    const raw = this.raw();
    const at = raw.indexOf(PRELUDE_DELIMITER);
    if (at < 0) throw new Error('no metadata prelude was sent: API Gateway would answer 200 without headers');
    const meta = JSON.parse(raw.subarray(0, at).toString('utf8'));
    return { statusCode: meta.statusCode, headers: meta.headers, body: raw.subarray(at + 8).toString('utf8') };
  }

  /** Body writes (after the prelude) that carried bytes. */
  bodyChunks(): string[] {
    const out: string[] = [];
    let seenDelimiter = false;
    for (const w of this.writes) {
      if (!seenDelimiter) {
        if (w.length === 8 && w.equals(PRELUDE_DELIMITER)) seenDelimiter = true;
        continue;
      }
      if (w.length) out.push(w.toString('utf8'));
    }
    return out;
  }
}

function installAwsLambdaStandIn() {
  (globalThis as any).awslambda = {
    streamifyResponse: (handler: unknown) => handler,
    HttpResponseStream: {
      from(underlying: RecordingResponseStream, prelude: Record<string, unknown>) {
        underlying.setContentType('application/vnd.awslambda.http-integration-response');
        underlying._onBeforeFirstWrite = (write) => {
          write(JSON.stringify(prelude));
          write(PRELUDE_DELIMITER);
        };
        return underlying;
      },
    },
  };
}

function fixture(name: string, key = ''): APIGatewayProxyEvent {
  const text = readFileSync(join(__dirname, 'fixtures/apigw', name), 'utf8').replaceAll('{{VIRTUAL_KEY}}', key);
  return JSON.parse(text) as APIGatewayProxyEvent;
}

describe('Lambda streaming adapter (API Gateway REST proxy events)', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let key: string;
  let flushes = 0;
  let handler: ReturnType<typeof createStreamingHandler>;

  beforeAll(async () => {
    installAwsLambdaStandIn();
    upstream = await startFakeUpstream();
    gw = await startTestGateway(
      {
        providers: { mock: { type: 'mock' }, openai: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: { env: 'OPENAI_KEY' } } },
        models: { 'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] }, 'gpt-4o': { targets: [{ provider: 'openai', model: 'gpt-4o' }] } },
      },
      { env: { OPENAI_KEY: 'sk-provider-test' } },
    );
    ({ key } = await gw.createKey({ name: 'lambda' }));
    const app: StreamingApp = {
      fetch: (req, client) => gw.gateway.fetch(req, client),
      flush: async () => {
        flushes++;
        await gw.gateway.flush();
      },
    };
    handler = createStreamingHandler(() => app);
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
    delete (globalThis as any).awslambda;
  });

  test('a JSON answer: status, headers and body reach API Gateway through the metadata prelude', async () => {
    const stream = new RecordingResponseStream();
    const before = flushes;
    await handler(fixture('chat-completions.json', key), stream);
    const res = stream.parsed();
    expect(stream.contentType).toBe('application/vnd.awslambda.http-integration-response');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['x-request-id']).toMatch(/^req_/);
    expect(res.headers['x-gateway-provider']).toBe('mock');
    const body = JSON.parse(res.body);
    expect(body.choices[0].message.content).toBe('This is a mock response to: Hello from Lambda');
    expect(stream.writableFinished).toBe(true);
    // The log sink is flushed once per invocation, after the stream ended.
    expect(flushes).toBe(before + 1);
  });

  test('an SSE stream arrives chunk by chunk: the first word is out before the upstream sends the next', async () => {
    const stream = new RecordingResponseStream();
    const chunks = openAiChunks(['Hel', 'lo'], 'gpt-4o');
    upstream.handle(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // The role chunk and the first word; the rest is held back until the Lambda response
      // stream has really received the first word.
      for (const c of chunks.slice(0, 2)) res.write(`data: ${JSON.stringify(c)}\n\n`);
      await stream.waitFor('"Hel"');
      for (const c of chunks.slice(2)) res.write(`data: ${JSON.stringify(c)}\n\n`);
      res.end('data: [DONE]\n\n');
    });
    await handler(fixture('chat-completions-stream.json', key), stream);
    const res = stream.parsed();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    const bodyChunks = stream.bodyChunks();
    expect(bodyChunks.length).toBeGreaterThan(1);
    const firstWithHel = bodyChunks.findIndex((c) => c.includes('"Hel"'));
    expect(firstWithHel).toBeGreaterThanOrEqual(0);
    expect(bodyChunks.slice(0, firstWithHel + 1).join('')).not.toContain('"lo"');
    const events = res.body.split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const text = events
      .filter((e) => e !== 'data: [DONE]')
      .map((e) => JSON.parse(e.slice('data: '.length)).choices[0]?.delta?.content ?? '')
      .join('');
    expect(text).toBe('Hello');
  });

  test('near the invocation deadline a hung stream is ended, settled and logged inside the invocation, as a gateway timeout (not 499)', async () => {
    const records: Record<string, unknown>[] = [];
    const deadlineGw = await startTestGateway(
      {
        providers: { openai: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: { env: 'OPENAI_KEY' } } },
        models: { 'gpt-4o': { targets: [{ provider: 'openai', model: 'gpt-4o' }] } },
      },
      { env: { OPENAI_KEY: 'sk-provider-test' }, overrides: { logSink: { write: (r) => void records.push(r as unknown as Record<string, unknown>) } } },
    );
    try {
      const { key: k } = await deadlineGw.createKey({ name: 'deadline' });
      const chunks = openAiChunks(['Hel', 'lo'], 'gpt-4o');
      // The upstream sends one word and then hangs: only the deadline can end this invocation.
      upstream.handle((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const c of chunks.slice(0, 2)) res.write(`data: ${JSON.stringify(c)}\n\n`);
      });
      const deadlineHandler = createStreamingHandler(() => ({
        fetch: (req, client) => deadlineGw.gateway.fetch(req, client),
        flush: () => deadlineGw.gateway.flush(),
      }));
      const stream = new RecordingResponseStream();
      // 4 s left on the clock: the adapter keeps 3 s back, so it ends the request after ~1 s, by
      // when the first word is out (the upstream never would: without the deadline this call does
      // not return).
      await deadlineHandler(fixture('chat-completions-stream.json', k), stream, { getRemainingTimeInMillis: () => 4_000 } as never);
      const res = stream.parsed();
      expect(res.body).toContain('"Hel"');
      expect(res.body).not.toContain('[DONE]'); // a cut stream never looks complete
      // Neither the client nor the provider ended it: the in-band error and the record say gateway timeout.
      expect(res.body).toContain('"code":"gateway_timeout"');
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ status: 504, error_code: 'gateway_timeout', stream: true, provider: 'openai' });
    } finally {
      await deadlineGw.close();
    }
  });

  test('near the invocation deadline a JSON call still waiting on its upstream is answered 504 gateway_timeout and logged so', async () => {
    const records: Record<string, unknown>[] = [];
    const deadlineGw = await startTestGateway(
      {
        providers: { openai: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: { env: 'OPENAI_KEY' } } },
        // The JSON fixture asks for mock-model: here it is routed to the upstream that never answers.
        models: { 'mock-model': { targets: [{ provider: 'openai', model: 'gpt-4o' }] } },
      },
      { env: { OPENAI_KEY: 'sk-provider-test' }, overrides: { logSink: { write: (r) => void records.push(r as unknown as Record<string, unknown>) } } },
    );
    try {
      const { key: k } = await deadlineGw.createKey({ name: 'deadline-json' });
      upstream.handle(() => undefined); // never answers
      const deadlineHandler = createStreamingHandler(() => ({
        fetch: (req, client) => deadlineGw.gateway.fetch(req, client),
        flush: () => deadlineGw.gateway.flush(),
      }));
      const stream = new RecordingResponseStream();
      await deadlineHandler(fixture('chat-completions.json', k), stream, { getRemainingTimeInMillis: () => 3_100 } as never);
      const res = stream.parsed();
      expect(res.statusCode).toBe(504);
      expect(JSON.parse(res.body).error).toMatchObject({ type: 'timeout_error', code: 'gateway_timeout' });
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ status: 504, error_code: 'gateway_timeout', stream: false });
    } finally {
      await deadlineGw.close();
    }
  });

  test('a stream of a key with limits is settled and logged before the adapter flushes (the settle is a store write)', async () => {
    const records: string[] = [];
    let recordsAtFlush = -1;
    const limitedGw = await startTestGateway(
      {
        providers: { openai: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: { env: 'OPENAI_KEY' } } },
        models: { 'gpt-4o': { targets: [{ provider: 'openai', model: 'gpt-4o' }] } },
      },
      { env: { OPENAI_KEY: 'sk-provider-test' }, overrides: { logSink: { write: (r) => void records.push(r.request_id) } } },
    );
    try {
      const { key: limited } = await limitedGw.createKey({ name: 'limited', limits: { tokensPerDay: 100_000 } });
      upstream.handle((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const c of openAiChunks(['Hel', 'lo'], 'gpt-4o', { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 }))
          res.write(`data: ${JSON.stringify(c)}\n\n`);
        res.end('data: [DONE]\n\n');
      });
      const limitedHandler = createStreamingHandler(() => ({
        fetch: (req, client) => limitedGw.gateway.fetch(req, client),
        flush: async () => {
          recordsAtFlush = records.length;
          await limitedGw.gateway.flush();
        },
      }));
      const stream = new RecordingResponseStream();
      await limitedHandler(fixture('chat-completions-stream.json', limited), stream);
      expect(stream.parsed().body).toContain('[DONE]');
      // On Lambda the flush is the last chance inside the invocation: the record must exist by then.
      expect(recordsAtFlush).toBe(1);
    } finally {
      await limitedGw.close();
    }
  });

  test('an error: a wrong virtual key gets 401 in the OpenAI error shape', async () => {
    const stream = new RecordingResponseStream();
    await handler(fixture('chat-completions.json', 'sk-gw-not-a-real-key-000000000000000000000000'), stream);
    const res = stream.parsed();
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(res.body);
    expect(body.error).toEqual(expect.objectContaining({ type: expect.any(String), code: expect.any(String) }));
    expect(res.body).not.toContain('sk-gw-not-a-real-key');
  });

  test('an app that throws: 500 in the OpenAI error shape, the invocation still flushes', async () => {
    let flushed = false;
    const failing = createStreamingHandler(() => ({
      fetch: async () => {
        throw new Error('boom with internal detail');
      },
      flush: async () => {
        flushed = true;
      },
    }));
    const stream = new RecordingResponseStream();
    await failing(fixture('chat-completions.json', key), stream);
    const res = stream.parsed();
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body).error.code).toBe('internal_error');
    expect(res.body).not.toContain('boom');
    expect(flushed).toBe(true);
  });

  test('a body-less answer (HEAD /health) still sends status and headers', async () => {
    const stream = new RecordingResponseStream();
    const event = { ...fixture('health.json'), httpMethod: 'HEAD' };
    await handler(event, stream);
    const res = stream.parsed();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
  });

  test('connection framing headers never reach the metadata prelude (API Gateway frames the stream)', async () => {
    const framed = createStreamingHandler(() => ({
      fetch: async () =>
        new Response('{"ok":true}', {
          status: 200,
          headers: { 'content-type': 'application/json', 'content-length': '11', connection: 'keep-alive', 'x-request-id': 'req_1' },
        }),
    }));
    const stream = new RecordingResponseStream();
    await framed(fixture('health.json'), stream);
    const res = stream.parsed();
    expect(res.headers).toEqual({ 'content-type': 'application/json', 'x-request-id': 'req_1' });
    expect(res.body).toBe('{"ok":true}');
  });

  test("Set-Cookie values travel in the prelude's cookies list, each on its own, never joined into a header", () => {
    const headers = new Headers({ 'content-type': 'text/plain', 'content-length': '2' });
    headers.append('set-cookie', 'a=1; Path=/; HttpOnly');
    headers.append('set-cookie', 'b=2, with a comma');
    expect(metadataOf(new Response('ok', { status: 201, headers }))).toEqual({
      statusCode: 201,
      headers: { 'content-type': 'text/plain' },
      cookies: ['a=1; Path=/; HttpOnly', 'b=2, with a comma'],
    });
    expect(metadataOf(new Response('ok'))).not.toHaveProperty('cookies');
  });

  test('GET with a query string: path from the resource template, query and client IP preserved', async () => {
    const event = fixture('models.json', key);
    const req = eventToRequest(event);
    expect(new URL(req.url).pathname).toBe('/v1/models');
    expect(new URL(req.url).searchParams.get('limit')).toBe('5');
    expect(req.headers.get('authorization')).toBe(`Bearer ${key}`);
    const stream = new RecordingResponseStream();
    await handler(event, stream);
    const res = stream.parsed();
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body).data.map((m: { id: string }) => m.id)).toContain('mock-model');
  });

  test('a custom domain base path never leaks into the route: the resource template wins over event.path', () => {
    expect(requestPath({ resource: '/v1/{proxy+}', path: '/gateway/v1/chat/completions', pathParameters: { proxy: 'chat/completions' } })).toBe(
      '/v1/chat/completions',
    );
    expect(requestPath({ resource: '/admin/keys/{id}/revoke', path: '/x', pathParameters: { id: 'key_1' } })).toBe('/admin/keys/key_1/revoke');
  });

  test('a base64-encoded body is decoded', async () => {
    const event = fixture('chat-completions.json', key);
    const encoded = { ...event, body: Buffer.from(event.body!).toString('base64'), isBase64Encoded: true };
    expect(await eventToRequest(encoded).json()).toEqual(JSON.parse(event.body!));
  });

  test('initOnce builds once, and retries after a failed build', async () => {
    let calls = 0;
    const get = initOnce(async () => {
      calls++;
      if (calls === 1) throw new Error('transient');
      return calls;
    });
    await expect(get()).rejects.toThrow('transient');
    expect(await get()).toBe(2);
    expect(await get()).toBe(2);
    expect(calls).toBe(2);
  });
});

/** A REST proxy event for another resource, built from a recorded fixture (same request context). */
function restEvent(method: string, resource: string, params: Record<string, string> | null, body?: unknown, key = ''): APIGatewayProxyEvent {
  const base = fixture('chat-completions.json', key);
  const path = resource.replace(/\{(\w+)\+?\}/g, (_, n: string) => params![n]);
  return {
    ...base,
    httpMethod: method,
    resource,
    path,
    pathParameters: params,
    body: body === undefined ? null : JSON.stringify(body),
    requestContext: { ...base.requestContext, httpMethod: method, resourcePath: resource },
  };
}

describe('the AWS admin path: admin Lambda and proxy Lambda on one key store', () => {
  let gw: TestGateway;
  let proxy: ReturnType<typeof createStreamingHandler>;
  let admin: ReturnType<typeof createStreamingHandler>;

  beforeAll(async () => {
    installAwsLambdaStandIn();
    // keyCacheTtlMs 0: two separate functions share nothing but the table, as on AWS.
    gw = await startTestGateway({
      providers: { mock: { type: 'mock' } },
      models: { 'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] } },
      settings: { keyCacheTtlMs: 0 },
    });
    // Built like createAwsAdmin: the key store, the limiter as usage reader and team store, the usage
    // rollups behind /admin/usage and the usage page's admin sessions.
    const limiter = createDynamoLimiter({ client: gw.dynamo, tableName: gw.tables.counters });
    const keyStore = new DynamoKeyStore(gw.dynamo, gw.tables.keys);
    const adminApp = createAdminApp({
      keyStore,
      usage: limiter,
      teams: limiter,
      authorize: () => true,
      usageApi: createUsageApi({
        rollups: new DynamoUsageRollups(gw.dynamo, gw.tables.usage),
        keyStore,
        verifier: new KeyVerifier(keyStore, { cacheTtlMs: 0, now: Date.now }),
        limits: limiter,
        now: Date.now,
      }),
      uiSessions: createUiSessions(new DynamoUiSessionStore(gw.dynamo, gw.tables.keys), Date.now),
    });
    admin = createStreamingHandler(() => adminApp);
    proxy = createStreamingHandler(() => gw.gateway);
  });
  afterAll(async () => {
    await gw.close();
    delete (globalThis as any).awslambda;
  });

  async function call(handler: ReturnType<typeof createStreamingHandler>, event: APIGatewayProxyEvent) {
    const stream = new RecordingResponseStream();
    await handler(event, stream);
    const res = stream.parsed();
    return { status: res.statusCode, body: JSON.parse(res.body) };
  }

  test('a key issued through the admin resources works on the proxy, and stops working once revoked there', async () => {
    const created = await call(admin, restEvent('POST', '/admin/keys', null, { name: 'from-lambda', models: ['mock-*'] }));
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^sk-gw-/);
    const chat = await call(
      proxy,
      restEvent('POST', '/v1/{proxy+}', { proxy: 'chat/completions' }, { model: 'mock-model', messages: [{ role: 'user', content: 'hi' }] }, created.body.key),
    );
    expect(chat.status).toBe(200);

    const shown = await call(admin, restEvent('GET', '/admin/keys/{id}', { id: created.body.id }));
    expect(shown.body).toEqual(expect.objectContaining({ id: created.body.id, name: 'from-lambda' }));
    expect(JSON.stringify(shown.body)).not.toContain(created.body.key);

    expect((await call(admin, restEvent('POST', '/admin/keys/{id}/revoke', { id: created.body.id }))).status).toBe(200);
    const refused = await call(
      proxy,
      restEvent('POST', '/v1/{proxy+}', { proxy: 'chat/completions' }, { model: 'mock-model', messages: [{ role: 'user', content: 'hi' }] }, created.body.key),
    );
    expect([401, 403]).toContain(refused.status);
  });

  test('every admin resource the AdminApi construct creates reaches a route of the admin app', async () => {
    const { ADMIN_ROUTES } = await import('../../lib/admin-api');
    const unrouted: string[] = [];
    for (const [method, path] of ADMIN_ROUTES) {
      const resource = `/admin/${path}`;
      const params = Object.fromEntries([...resource.matchAll(/\{(\w+)\}/g)].map(([, n]) => [n, n === 'team' ? 'team-a' : 'key_missing']));
      const body = method === 'GET' ? undefined : method === 'PUT' ? { limits: { rpm: 10 } } : { name: 'x' };
      const res = await call(admin, restEvent(method, resource, Object.keys(params).length ? params : null, body));
      // A missing key may be 404 key_not_found, but never "no such route" or "method not allowed".
      if (/^(route_not_found|method_not_allowed)$/.test(res.body.error?.code ?? '')) unrouted.push(`${method} ${resource}: ${res.body.error.code}`);
    }
    expect(unrouted).toEqual([]);
  });
});
