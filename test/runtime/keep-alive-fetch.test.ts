/** The local server's keep-alive upstream client behaves like fetch where the providers rely on it. */
import type { ServerResponse } from 'node:http';
import { createKeepAliveFetch } from '../../lambda/adapters/keep-alive-fetch';
import { freePort } from '../../bench/processes';
import { type FakeUpstream, json, startFakeUpstream } from '../helpers/fake-upstream';

const client = createKeepAliveFetch();
const post = (url: string, body: string, init: RequestInit = {}) =>
  client.fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-up' }, body, redirect: 'manual', ...init });

let upstream: FakeUpstream;
beforeEach(async () => {
  upstream = await startFakeUpstream();
});
afterEach(() => upstream.close());
afterAll(() => client.close());

test('sends the body with its length and headers, and returns status, headers and body', async () => {
  upstream.handle((_r, res) => json(res, 201, { ok: true }, { 'x-upstream': 'yes' }));
  for (let i = 0; i < 2; i++) {
    const res = await post(`${upstream.url}/v1/chat/completions`, '{"model":"m","é":1}');
    expect(res.status).toBe(201);
    expect(res.headers.get('x-upstream')).toBe('yes');
    expect(await res.json()).toEqual({ ok: true });
  }
  const [first, second] = upstream.received;
  expect(first.method).toBe('POST');
  expect(first.path).toBe('/v1/chat/completions');
  expect(first.body).toEqual({ model: 'm', é: 1 });
  expect(first.headers['content-length']).toBe(String(Buffer.byteLength('{"model":"m","é":1}')));
  expect(first.headers.authorization).toBe('Bearer sk-up');
  expect(second.rawBody).toBe(first.rawBody);
});

test('each URL keeps its own path and query, however often it is called (options are cached per URL)', async () => {
  upstream.handle((_r, res) => json(res, 200, {}));
  const urls = [
    `${upstream.url}/v1/chat/completions`,
    `${upstream.url}/openai/deployments/d1/chat/completions?api-version=2024-10-21`,
    `${upstream.url}/v1/chat/completions`,
  ];
  for (const url of [...urls, ...urls]) expect((await post(url, '{}')).status).toBe(200);
  expect(upstream.received.map((r) => r.path)).toEqual([...urls, ...urls].map((u) => u.slice(upstream.url.length)));
});

test('reuses one connection for consecutive calls', async () => {
  const remotePorts: Array<number | undefined> = [];
  upstream.handle((_r, res: ServerResponse) => {
    remotePorts.push(res.socket?.remotePort);
    json(res, 200, {});
  });
  for (let i = 0; i < 3; i++) await (await post(`${upstream.url}/x`, '{}')).arrayBuffer();
  expect(new Set(remotePorts).size).toBe(1);
});

test('streams the body as the upstream sends it', async () => {
  let finish!: () => void;
  upstream.handle((_r, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: first\n\n');
    finish = () => res.end('data: [DONE]\n\n');
  });
  const res = await post(`${upstream.url}/s`, '{}');
  const reader = res.body!.getReader();
  const first = await reader.read();
  expect(Buffer.from(first.value!).toString()).toBe('data: first\n\n');
  finish();
  let rest = '';
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest += Buffer.from(r.value).toString();
  expect(rest).toBe('data: [DONE]\n\n');
});

test('an abort mid-stream closes the upstream connection and errors the body', async () => {
  let upstreamClosed!: Promise<void>;
  upstream.handle((_r, res) => {
    upstreamClosed = new Promise((resolve) => res.once('close', () => resolve()));
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: first\n\n');
  });
  const controller = new AbortController();
  const res = await post(`${upstream.url}/s`, '{}', { signal: controller.signal });
  const reader = res.body!.getReader();
  await reader.read();
  controller.abort(new Error('client went away'));
  await expect(reader.read()).rejects.toThrow();
  await upstreamClosed;
});

test('an already aborted signal rejects with its reason without calling the upstream', async () => {
  const reason = new Error('too late');
  await expect(post(`${upstream.url}/x`, '{}', { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  expect(upstream.received).toHaveLength(0);
});

test('does not follow redirects', async () => {
  upstream.handle((_r, res) => void res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }).end());
  const res = await post(`${upstream.url}/x`, '{}');
  expect(res.status).toBe(302);
  expect(upstream.received).toHaveLength(1);
});

test('an unreachable upstream fails like fetch: a TypeError whose cause has the socket error code', async () => {
  const port = await freePort();
  const err = await post(`http://127.0.0.1:${port}/x`, '{}').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(TypeError);
  expect((err as { cause?: { code?: string } }).cause?.code).toBe('ECONNREFUSED');
});

test('calls it does not handle (a non-string body, redirects followed) go to the fallback fetch', async () => {
  const seen: string[] = [];
  const fallback = (async (input: RequestInfo | URL) => {
    seen.push(String(input));
    return new Response('fallback');
  }) as typeof fetch;
  const c = createKeepAliveFetch({ fallback });
  try {
    await c.fetch(`${upstream.url}/a`, { method: 'POST', body: new Uint8Array([1]), redirect: 'manual' });
    await c.fetch(`${upstream.url}/b`, { method: 'POST', body: '{}' });
    expect(seen).toEqual([`${upstream.url}/a`, `${upstream.url}/b`]);
    expect(upstream.received).toHaveLength(0);
  } finally {
    c.close();
  }
});

describe('pooled connections the upstream closes', () => {
  /** A handler that answers the first request on each connection and closes the connection, unanswered, when another arrives on it. */
  function closesReusedConnections(onAnswered: (port: number | undefined) => void = () => undefined) {
    const served = new WeakSet<object>();
    return (_r: unknown, res: ServerResponse) => {
      const socket = res.socket!;
      if (served.has(socket)) return void socket.destroy();
      served.add(socket);
      onAnswered(socket.remotePort);
      json(res, 200, { ok: true });
    };
  }

  test('a request that meets a connection the upstream closed while it sat idle is sent again on a new one, and answered', async () => {
    const answeredOn: Array<number | undefined> = [];
    upstream.handle(closesReusedConnections((port) => answeredOn.push(port)));
    expect(await (await post(`${upstream.url}/x`, '{"n":1}')).json()).toEqual({ ok: true });
    // The second call takes the pooled connection, whose upstream side is gone: what a request
    // meets after a Lambda freeze during which the upstream's idle timer closed the connection.
    expect(await (await post(`${upstream.url}/x`, '{"n":2}')).json()).toEqual({ ok: true });
    expect(upstream.received.map((r) => r.body)).toEqual([{ n: 1 }, { n: 2 }, { n: 2 }]);
    expect(answeredOn).toHaveLength(2);
    expect(answeredOn[1]).not.toBe(answeredOn[0]);
  });

  test('a request that fails on a new connection before any answer is not sent again', async () => {
    upstream.handle((_r, res: ServerResponse) => void res.socket!.destroy());
    const err = await post(`${upstream.url}/x`, '{}').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as { cause?: { code?: string } }).cause?.code).toBe('ECONNRESET');
    expect(upstream.received).toHaveLength(1);
  });

  test('a request cut after its answer began, on a reused connection, is not sent again: the body fails', async () => {
    let calls = 0;
    upstream.handle((_r, res: ServerResponse) => {
      if (++calls === 1) return json(res, 200, { ok: true });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n', () => res.socket!.destroy());
    });
    await (await post(`${upstream.url}/x`, '{}')).arrayBuffer();
    const res = await post(`${upstream.url}/x`, '{}');
    await expect(res.text()).rejects.toThrow(TypeError);
    expect(upstream.received).toHaveLength(2);
  });

  test('a reused connection that breaks after part of an answer came (a status line, no headers yet) is not sent again', async () => {
    let calls = 0;
    upstream.handle((_r, res: ServerResponse) => {
      if (++calls === 1) return json(res, 200, { ok: true });
      res.socket!.write('HTTP/1.1 200 OK\r\n', () => res.socket!.destroy());
    });
    await (await post(`${upstream.url}/x`, '{}')).arrayBuffer();
    const err = await post(`${upstream.url}/x`, '{}').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(upstream.received).toHaveLength(2);
  });

  test('an idle connection is closed after idleTimeoutMs; the next call opens a new one', async () => {
    const c = createKeepAliveFetch({ idleTimeoutMs: 20 });
    try {
      const ports: Array<number | undefined> = [];
      let closed!: Promise<void>;
      upstream.handle((_r, res: ServerResponse) => {
        ports.push(res.socket!.remotePort);
        // 'end': the client's FIN, so the client closed it (not the upstream's own keep-alive timer).
        closed = new Promise((resolve) => res.socket!.once('end', () => resolve()));
        json(res, 200, {});
      });
      const call = () => c.fetch(`${upstream.url}/x`, { method: 'POST', headers: {}, body: '{}', redirect: 'manual' }).then((r) => r.arrayBuffer());
      await call();
      await closed;
      await call();
      expect(ports).toHaveLength(2);
      expect(ports[1]).not.toBe(ports[0]);
    } finally {
      c.close();
    }
  });

  test('an answer slower than the idle timeout is not cut, on a new or a reused connection', async () => {
    const c = createKeepAliveFetch({ idleTimeoutMs: 20 });
    try {
      upstream.handle((_r, res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: first\n\n');
        // Silent for several idle timeouts before the rest (a model thinking mid-answer).
        setTimeout(() => res.end('data: [DONE]\n\n'), 100);
      });
      for (let i = 0; i < 2; i++) {
        const res = await c.fetch(`${upstream.url}/s`, { method: 'POST', headers: {}, body: '{}', redirect: 'manual' });
        expect(await res.text()).toBe('data: first\n\ndata: [DONE]\n\n');
      }
    } finally {
      c.close();
    }
  });
});
