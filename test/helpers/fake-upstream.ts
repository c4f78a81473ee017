/**
 * A real HTTP server on 127.0.0.1 standing in for a provider. Tests script its answers and
 * assert what it received (method, path, headers, body).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';

export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly rawBody: string;
  readonly body: any;
}

export type UpstreamHandler = (req: ReceivedRequest, res: ServerResponse) => unknown;

export interface FakeUpstream {
  readonly url: string;
  readonly received: ReceivedRequest[];
  /** Replace the handler (tests change behaviour between requests). */
  handle(handler: UpstreamHandler): void;
  close(): Promise<void>;
}

/**
 * Read a request's body (JSON-parsed when it parses), record it in `received`, then hand it on.
 * Shared by the HTTP/1.1 fake here and the HTTP/2 fake Bedrock.
 */
export function recordRequest(
  req: Readable & { readonly method?: string; readonly url?: string; readonly headers: IncomingMessage['headers'] },
  received: ReceivedRequest[],
  then: (r: ReceivedRequest) => void,
): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const rawBody = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = rawBody ? JSON.parse(rawBody) : undefined;
    } catch {
      body = undefined;
    }
    const r: ReceivedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, rawBody, body };
    received.push(r);
    then(r);
  });
}

export async function startFakeUpstream(handler: UpstreamHandler = (_r, res) => void res.writeHead(404).end()): Promise<FakeUpstream> {
  let current = handler;
  const received: ReceivedRequest[] = [];
  const server: Server = createServer((req, res) => recordRequest(req, received, (r) => void Promise.resolve(current(r, res)).catch(() => res.destroy())));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    handle(h) {
      current = h;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Write an OpenAI-style SSE stream: each item is sent as a `data:` event, then [DONE] unless `done: false`. */
export function writeSse(res: ServerResponse, events: unknown[], opts: { done?: boolean } = {}): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const e of events) res.write(`data: ${typeof e === 'string' ? e : JSON.stringify(e)}\n\n`);
  if (opts.done !== false) res.write('data: [DONE]\n\n');
  res.end();
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/** A canonical OpenAI chat completion, for fake upstreams. */
export function openAiCompletion(content: string, model = 'gpt-4o', usage = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 }) {
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null }],
    usage,
  };
}

/** OpenAI stream chunks for `words`, a finish chunk, and (when `usage`) the usage-only chunk. */
export function openAiChunks(words: string[], model = 'gpt-4o', usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number }) {
  const base = { id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1_700_000_000, model };
  return [
    { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
    ...words.map((w) => ({ ...base, choices: [{ index: 0, delta: { content: w }, finish_reason: null }] })),
    { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
    ...(usage ? [{ ...base, choices: [], usage }] : []),
  ];
}
