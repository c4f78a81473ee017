/**
 * Issue 12 item 8: a malformed upstream answer never kills the process. A raw TCP server on
 * 127.0.0.1 stands in for the provider and answers with whatever bytes a test gives it: a status
 * outside 100–599, control characters in the reason phrase, broken headers, truncated bodies. Such
 * an answer is an `upstream_malformed` failure (fallback applies); a fuzz run of random status
 * lines, headers and bodies leaves the process up, every request answered in the API's error shape
 * or served, and exactly one record per request.
 */
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import fc from 'fast-check';
import { type FakeUpstream, startFakeUpstream } from '../../helpers/fake-upstream';
import { type TestGateway, startTestGateway } from '../../helpers/gateway';
import { CapturingLogSink, healthy } from '../routing/harness';

/** A TCP server that reads one request's head and answers with the scripted bytes, then closes. */
interface RawUpstream {
  readonly url: string;
  answer(bytes: Buffer): void;
  close(): Promise<void>;
}

async function startRawUpstream(): Promise<RawUpstream> {
  let next: Buffer = Buffer.from('HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n');
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let seen = '';
    socket.on('data', (d) => {
      if (seen.includes('\r\n\r\n')) return;
      seen += d.toString('latin1');
      // The request's head arrived (its small JSON body may still follow): answer and close.
      if (seen.includes('\r\n\r\n')) socket.end(next);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    answer(bytes) {
      next = bytes;
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const OK_BODY = JSON.stringify({
  id: 'chatcmpl-raw',
  object: 'chat.completion',
  created: 1,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});
const answer = (statusLine: string, headers = `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(OK_BODY)}\r\n`, body = OK_BODY) =>
  Buffer.from(`${statusLine}\r\n${headers}\r\n${body}`, 'latin1');

describe('issue 12 item 8: malformed upstream answers', () => {
  let raw: RawUpstream;
  let backup: FakeUpstream;
  let gw: TestGateway;
  let key: string;
  const logs = new CapturingLogSink();
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => void uncaught.push(err);

  beforeAll(async () => {
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
    raw = await startRawUpstream();
    backup = await startFakeUpstream(healthy('from backup'));
    gw = await startTestGateway(
      {
        providers: {
          raw: { type: 'openai-compatible', baseUrl: `${raw.url}/v1` },
          backup: { type: 'openai-compatible', baseUrl: `${backup.url}/v1` },
        },
        models: {
          'raw-only': { targets: [{ provider: 'raw', model: 'm' }] },
          'raw-then-backup': {
            targets: [
              { provider: 'raw', model: 'm' },
              { provider: 'backup', model: 'b' },
            ],
          },
        },
        settings: { retry: { attempts: 1 }, cooldown: { failures: 0 }, timeouts: { totalMs: 5000, firstByteMs: 5000 } },
      },
      { overrides: { logSink: logs } },
    );
    ({ key } = await gw.createKey());
  });

  afterAll(async () => {
    await gw.close();
    await Promise.all([raw.close(), backup.close()]);
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
  });

  afterEach(() => {
    expect(uncaught).toEqual([]);
  });

  const chat = (model: string, stream = false) => gw.post('/v1/chat/completions', { model, stream, messages: [{ role: 'user', content: 'hi' }] }, key);

  test.each([
    ['a status above 599', 'HTTP/1.1 600 Weird'],
    ['a status of 999', 'HTTP/1.1 999 Nine'],
    ['a 1xx status as the final answer', 'HTTP/1.1 199 Early'],
    ['a control character in the reason phrase', 'HTTP/1.1 200 O\x01K'],
    ['an escape sequence in the reason phrase', 'HTTP/1.1 200 \x1b[31mred'],
    ['a status that is not a number', 'HTTP/1.1 2x0 OK'],
    ['no status line at all', 'garbage'],
  ])('8.1: %s is a 502 upstream_malformed in the API error shape, with one record', async (_what, statusLine) => {
    raw.answer(answer(statusLine));
    const res = await chat('raw-only');
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { code: string; type: string; message: string } };
    expect(body.error.code).toBe('upstream_malformed');
    expect(body.error.type).toBe('upstream_error');
    const id = res.headers.get('x-request-id')!;
    const record = await logs.record(id);
    expect(record.status).toBe(502);
    expect(record.error_code).toBe('upstream_malformed');
    expect(logs.records.filter((r) => r.request_id === id)).toHaveLength(1);
  });

  test.each([false, true])('8.2: a malformed answer falls back to the next target (stream=%s)', async (stream) => {
    raw.answer(answer('HTTP/1.1 200 O\x01K'));
    const res = await chat('raw-then-backup', stream);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-provider')).toBe('backup');
    expect(await res.text()).toContain('backup');
  });

  test('8.3: fuzz: random status lines, headers and bodies from a raw TCP upstream leave the process up and one record per request', async () => {
    const token = fc.string({
      unit: fc.constantFrom('a', 'Z', '0', '9', '-', ' ', ':', '\t', '\r', '\n', '\x00', '\x01', '\x1b', '\x7f', 'é', '/', '.'),
      maxLength: 24,
    });
    const statusCode = fc.oneof(fc.integer({ min: -1, max: 1200 }).map(String), token);
    const statusLine = fc
      .tuple(fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2', 'HTTP/1.1 ', 'http/1.1', ''), statusCode, token)
      .map(([v, c, r]) => `${v} ${c} ${r}`);
    const header = fc.oneof(
      fc.tuple(token, token).map(([n, v]) => `${n}: ${v}`),
      fc.integer({ min: -5, max: 1 << 30 }).map((n) => `content-length: ${n}`),
      fc.constantFrom(
        'transfer-encoding: chunked',
        'content-type: text/event-stream',
        'content-type: application/json',
        'content-length: 1, 2',
        'connection: upgrade',
      ),
    );
    const body = fc.oneof(
      token,
      fc.constant(OK_BODY),
      fc.constant(OK_BODY.slice(0, 40)),
      fc.constant('zz\r\nnot-a-chunk\r\n'),
      fc.constant('data: {"choices":[{"index":0,"delta":{"content":"x"}}]}\n\n'),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1')),
    );
    const reply = fc.tuple(statusLine, fc.array(header, { maxLength: 5 }), body, fc.boolean()).map(([s, hs, b, stream]) => ({
      bytes: Buffer.from(`${s}\r\n${hs.map((h) => `${h}\r\n`).join('')}\r\n${b}`, 'latin1'),
      stream,
    }));

    const ids: string[] = [];
    await fc.assert(
      fc.asyncProperty(reply, async ({ bytes, stream }) => {
        raw.answer(bytes);
        const res = await chat('raw-only', stream);
        const text = await res.text();
        ids.push(res.headers.get('x-request-id')!);
        // Served (a garbled answer can still be one a client reads), or refused in the API's shape.
        if (res.status !== 200) expect(JSON.parse(text)).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
        expect([200, 400, 404, 413, 422, 429, 500, 502, 503, 504]).toContain(res.status);
      }),
      { numRuns: 150 },
    );
    for (const id of ids) await logs.record(id);
    for (const id of ids) expect(logs.records.filter((r) => r.request_id === id)).toHaveLength(1);
    expect(uncaught).toEqual([]);
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
  }, 120_000);
});
