/**
 * Issue 12 item 11: the local server has timeouts for slow clients and a memory cap per request.
 * Headers that never finish get 408 after the header timeout; a body that trickles in gets 408
 * `request_timeout` after the body timeout (and the request's record says so); a body that arrives
 * a byte at a time costs memory in proportion to its size, not to its number of chunks.
 */
import { type Socket, connect } from 'node:net';
import { readBodyText } from '../../../lambda/core/body';
import { type TestGateway, startTestGateway } from '../../helpers/gateway';
import { CapturingLogSink } from '../routing/harness';

/** Open a raw connection, send `head`, and collect everything the server writes until it closes. */
function rawExchange(url: string, head: string): { socket: Socket; answer: Promise<string> } {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const chunks: Buffer[] = [];
  socket.on('data', (d) => chunks.push(d));
  socket.on('error', () => undefined);
  socket.write(head);
  const answer = new Promise<string>((resolve) => socket.once('close', () => resolve(Buffer.concat(chunks).toString('utf8'))));
  return { socket, answer };
}

describe('issue 12 item 11: slow clients', () => {
  let gw: TestGateway;
  let key: string;
  const logs = new CapturingLogSink();

  beforeAll(async () => {
    gw = await startTestGateway(
      { providers: { mock: { type: 'mock' } }, models: { 'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] } } },
      { clientTimeouts: { headersTimeoutMs: 300, bodyTimeoutMs: 600 }, overrides: { logSink: logs } },
    );
    ({ key } = await gw.createKey());
  });
  afterAll(() => gw.close());

  test('11.1: headers that never finish are answered 408 request_timeout and the connection closed', async () => {
    const { answer } = rawExchange(gw.url, 'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nx-slow: ');
    const text = await answer;
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: { code: 'request_timeout' } });
  });

  test.each([
    ['streamed (a large declared body)', 1_000_000],
    ['buffered (a small declared body)', 2_000],
  ])('11.2: a body that trickles in past the body timeout is answered 408 request_timeout: %s', async (_what, length) => {
    const head = `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${key}\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n{"model":`;
    const before = logs.records.length;
    const { answer } = rawExchange(gw.url, head);
    const text = await answer;
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: { code: 'request_timeout', type: 'invalid_request_error' } });
    if (length > 64 * 1024) {
      // It reached the core: one record, saying what happened.
      const record = await logs.waitFor((r, i = logs.records.indexOf(r)) => i >= before && r.status === 408);
      expect(record.error_code).toBe('request_timeout');
    }
  });

  test('11.3: a body read in a million one-byte chunks is held as one buffer, not a million objects', async () => {
    const size = 1_500_000;
    let sent = 0;
    let heapAtEnd = 0;
    const heapAtStart = process.memoryUsage().heapUsed;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === size) {
          heapAtEnd = process.memoryUsage().heapUsed;
          return controller.close();
        }
        // Fresh one-byte chunks, each its own object, as a socket read a byte at a time yields them.
        for (let i = 0; i < 1000; i++) controller.enqueue(new Uint8Array([sent++ % 10 === 0 ? 0x20 : 0x61]));
      },
    });
    const req = new Request('http://localhost/', { method: 'POST', body, duplex: 'half' } as RequestInit);
    const text = await readBodyText(req, 10 * 1024 * 1024);
    expect(text.length).toBe(size);
    // Holding each chunk costs well over 100 bytes of heap apiece (over 150 MB here); one buffer, a few MB.
    expect(heapAtEnd - heapAtStart).toBeLessThan(64 * 1024 * 1024);
  }, 60_000);
});
