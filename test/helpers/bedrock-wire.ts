/**
 * Bedrock runtime wire fixtures for a fake on 127.0.0.1: Converse JSON, ConverseStream answers in
 * AWS event-stream binary framing (encoded with the SDK's own codec), and AWS-style errors.
 */
import type { ServerResponse } from 'node:http';
import { createServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { type FakeUpstream, type ReceivedRequest, recordRequest, type UpstreamHandler } from './fake-upstream';

const codec = new EventStreamCodec(
  (bytes) => new TextDecoder().decode(bytes),
  (text) => new TextEncoder().encode(text),
);

const str = (value: string) => ({ type: 'string' as const, value });

export type BedrockStreamFrame = { event: string; body: unknown } | { exception: string; body: { message: string } };

export function encodeFrame(frame: BedrockStreamFrame): Uint8Array {
  const body = new TextEncoder().encode(JSON.stringify(frame.body));
  if ('exception' in frame) {
    return codec.encode({
      headers: { ':message-type': str('exception'), ':exception-type': str(frame.exception), ':content-type': str('application/json') },
      body,
    });
  }
  return codec.encode({ headers: { ':message-type': str('event'), ':event-type': str(frame.event), ':content-type': str('application/json') }, body });
}

export function writeEventStream(res: ServerResponse, frames: BedrockStreamFrame[]): void {
  res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'req-fake' });
  for (const f of frames) res.write(encodeFrame(f));
  res.end();
}

export function converseAnswer(content: unknown[], stopReason = 'end_turn', usage = { inputTokens: 21, outputTokens: 4, totalTokens: 25 }) {
  return { output: { message: { role: 'assistant', content } }, stopReason, usage, metrics: { latencyMs: 12 } };
}

/** An AWS JSON error answer, as Bedrock sends it. */
export function awsError(res: ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`, ...headers });
  res.end(JSON.stringify({ message }));
}

export function textFrames(words: string[], stopReason = 'end_turn', usage = { inputTokens: 9, outputTokens: 3, totalTokens: 12 }): BedrockStreamFrame[] {
  return [
    { event: 'messageStart', body: { role: 'assistant' } },
    ...words.map((w) => ({ event: 'contentBlockDelta', body: { contentBlockIndex: 0, delta: { text: w } } })),
    { event: 'contentBlockStop', body: { contentBlockIndex: 0 } },
    { event: 'messageStop', body: { stopReason } },
    { event: 'metadata', body: { usage, metrics: { latencyMs: 30 } } },
  ];
}

/**
 * The Bedrock runtime SDK client talks HTTP/2 (h2c with prior knowledge on an http:// endpoint),
 * so its fake is an HTTP/2 server; it records requests like startFakeUpstream does.
 */
export async function startFakeBedrock(handler: UpstreamHandler = (_r, res) => void res.writeHead(404).end()): Promise<FakeUpstream> {
  let current = handler;
  const received: ReceivedRequest[] = [];
  const server = createServer((req: Http2ServerRequest, res: Http2ServerResponse) =>
    // The compat response offers the writeHead/write/end subset the fixtures use.
    recordRequest(req, received, (r) => void Promise.resolve(current(r, res as unknown as ServerResponse)).catch(() => res.stream.close())),
  );
  const sessions = new Set<import('node:http2').ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
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
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}
