/**
 * The upstream of the upstream-client bench (upstream-client.ts): a fake OpenAI chat completions
 * endpoint on 127.0.0.1 over HTTP and, given a certificate, over HTTPS too (the Lambda calls its
 * providers over TLS). Answers are prebuilt buffers, so the upstream costs little; it runs in its
 * own process, so the client process's CPU is the clients' alone.
 *
 * - a JSON answer for a request without `"stream":true`;
 * - an SSE stream of `BENCH_CLIENT_SSE_CHUNKS` (50) content chunks otherwise, each written in its
 *   own turn of the event loop (as a provider sends tokens: one read per chunk at the client, not
 *   one coalesced buffer), then the finish and usage chunks and `[DONE]`.
 *
 * Environment: BENCH_TLS_CERT / BENCH_TLS_KEY (PEM files; no HTTPS without them),
 * BENCH_CLIENT_SSE_CHUNKS. Prints `{"url": …, "tlsUrl": …}` and serves until killed.
 */
import { readFileSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { BENCH_COMPLETION_CONTENT, BENCH_MODEL, completion } from './upstream';

export const CLIENT_BENCH_CONTENT = BENCH_COMPLETION_CONTENT;
export const CLIENT_BENCH_TOKEN = 'tok ';

const chunkBase = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_700_000_000, model: BENCH_MODEL };
const sse = (data: unknown) => Buffer.from(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);

function streamChunks(count: number): Buffer[] {
  return [
    sse({ ...chunkBase, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }),
    ...Array.from({ length: count }, () => sse({ ...chunkBase, choices: [{ index: 0, delta: { content: CLIENT_BENCH_TOKEN }, finish_reason: null }] })),
    sse({ ...chunkBase, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
    sse({ ...chunkBase, choices: [], usage: { prompt_tokens: 9, completion_tokens: count, total_tokens: 9 + count } }),
    sse('[DONE]'),
  ];
}

function handler(chunks: readonly Buffer[]) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found","type":"invalid_request_error"}}');
        return;
      }
      if (!Buffer.concat(body).includes('"stream":true')) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': completion.length }).end(completion);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      let i = 0;
      const next = () => {
        if (res.destroyed) return;
        if (i === chunks.length - 1) return void res.end(chunks[i]);
        res.write(chunks[i++]);
        setImmediate(next);
      };
      next();
    });
  };
}

async function listen(server: Server): Promise<number> {
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

if (require.main === module) {
  const handle = handler(streamChunks(Number(process.env.BENCH_CLIENT_SSE_CHUNKS ?? 50)));
  void (async () => {
    const port = await listen(createServer(handle));
    const { BENCH_TLS_CERT: cert, BENCH_TLS_KEY: key } = process.env;
    const tlsPort = cert && key ? await listen(createTlsServer({ cert: readFileSync(cert), key: readFileSync(key) }, handle)) : undefined;
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, tlsUrl: tlsPort ? `https://127.0.0.1:${tlsPort}` : undefined })}\n`);
  })();
}
