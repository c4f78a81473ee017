/**
 * A zero-latency fake OpenAI upstream for the benchmark. Answers are prebuilt buffers so the
 * upstream costs as little as possible and the figures measure the proxies in front of it.
 *
 * - POST …/chat/completions: a fixed chat completion (JSON), or, for `"stream":true`, an SSE
 *   stream whose first content chunk is sent at once and the rest only after `streamHoldMs`,
 *   so a proxy that buffers the stream shows up as a time to first byte of at least the hold.
 * - POST …/responses: a fixed response object (JSON), or, for `"stream":true`, the same as
 *   Responses API events (response.created up to the first output_text.delta at once, the rest
 *   after the hold): the `direct` baseline of the /v1/responses streaming figure, and what the
 *   gateway's OpenAI targets are sent /v1/responses requests natively.
 * - anything else: 404.
 *
 * Run directly (`node -r @swc-node/register bench/upstream.ts`) it prints `{"url": …}` on stdout
 * and serves until killed, so the benchmark can run it in its own process.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const BENCH_MODEL = 'gpt-4o-mini';
/** Content of the first streamed chunk: the TTFB probe checks it arrived before the hold ended. */
export const FIRST_STREAM_CONTENT = 'Hello';

/** The fixed JSON chat completion this upstream answers (shared with the upstream-client bench's upstream). */
export const BENCH_COMPLETION_CONTENT = 'Hello from the bench upstream.';
export const completion = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: BENCH_MODEL,
    choices: [{ index: 0, message: { role: 'assistant', content: BENCH_COMPLETION_CONTENT, refusal: null }, finish_reason: 'stop', logprobs: null }],
    usage: { prompt_tokens: 9, completion_tokens: 7, total_tokens: 16 },
  }),
);

const chunkBase = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_700_000_000, model: BENCH_MODEL };
const sse = (data: unknown) => `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
const streamHead = Buffer.from(
  sse({ ...chunkBase, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }) +
    sse({ ...chunkBase, choices: [{ index: 0, delta: { content: FIRST_STREAM_CONTENT }, finish_reason: null }] }),
);
const streamTail = Buffer.from(
  sse({ ...chunkBase, choices: [{ index: 0, delta: { content: ' world' }, finish_reason: null }] }) +
    sse({ ...chunkBase, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }) +
    sse({ ...chunkBase, choices: [], usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 } }) +
    sse('[DONE]'),
);

const responsesShell = { id: 'resp_bench', object: 'response', created_at: 1_700_000_000, model: BENCH_MODEL, status: 'in_progress', output: [] };
const event = (type: string, data: Record<string, unknown>, seq: number) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq, ...data })}\n\n`;
const at = { item_id: 'msg_bench', output_index: 0 };
const responsesHead = Buffer.from(
  event('response.created', { response: responsesShell }, 0) +
    event('response.in_progress', { response: responsesShell }, 1) +
    event(
      'response.output_item.added',
      { output_index: 0, item: { type: 'message', id: 'msg_bench', status: 'in_progress', role: 'assistant', content: [] } },
      2,
    ) +
    event('response.content_part.added', { ...at, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } }, 3) +
    event('response.output_text.delta', { ...at, content_index: 0, delta: FIRST_STREAM_CONTENT }, 4),
);
const responsesUsage = {
  input_tokens: 9,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: 2,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: 11,
};
const responsesText = (text: string) => ({
  type: 'message',
  id: 'msg_bench',
  status: 'completed',
  role: 'assistant',
  content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
});
const responsesTail = Buffer.from(
  event('response.output_text.delta', { ...at, content_index: 0, delta: ' world' }, 5) +
    event('response.output_text.done', { ...at, content_index: 0, text: `${FIRST_STREAM_CONTENT} world` }, 6) +
    event(
      'response.completed',
      { response: { ...responsesShell, status: 'completed', output: [responsesText(`${FIRST_STREAM_CONTENT} world`)], usage: responsesUsage } },
      7,
    ),
);
const responsesJson = Buffer.from(
  JSON.stringify({
    ...responsesShell,
    status: 'completed',
    output: [responsesText('Hello from the bench upstream.')],
    usage: { ...responsesUsage, output_tokens: 7, total_tokens: 16 },
  }),
);

export interface BenchUpstreamOptions {
  /** How long a stream pauses after its first content chunk. @default 1000 */
  readonly streamHoldMs?: number;
}

export interface BenchUpstream {
  readonly url: string;
  close(): Promise<void>;
}

function handle(req: IncomingMessage, res: ServerResponse, holdMs: number): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (req.method === 'POST' && req.url?.endsWith('/responses')) {
      if (!Buffer.concat(chunks).includes('"stream":true')) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': responsesJson.length }).end(responsesJson);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(responsesHead);
      const timer = setTimeout(() => res.end(responsesTail), holdMs);
      res.once('close', () => clearTimeout(timer));
      return;
    }
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found","type":"invalid_request_error"}}');
      return;
    }
    // A substring test, not a parse: the upstream must stay as cheap as possible.
    if (!Buffer.concat(chunks).includes('"stream":true')) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': completion.length }).end(completion);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(streamHead);
    const timer = setTimeout(() => res.end(streamTail), holdMs);
    res.once('close', () => clearTimeout(timer));
  });
}

export async function startBenchUpstream(options: BenchUpstreamOptions = {}): Promise<BenchUpstream> {
  const holdMs = options.streamHoldMs ?? 1000;
  const server: Server = createServer((req, res) => handle(req, res, holdMs));
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

if (require.main === module) {
  void startBenchUpstream({ streamHoldMs: Number(process.env.BENCH_STREAM_HOLD_MS ?? 1000) }).then((u) => {
    process.stdout.write(JSON.stringify({ url: u.url }) + '\n');
  });
}
