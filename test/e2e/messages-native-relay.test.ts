/**
 * A native /v1/messages stream relays each upstream event as it arrives, driven by the official
 * @anthropic-ai/sdk client (and raw SSE) against the local gateway, with a fake Anthropic on
 * 127.0.0.1 (and a fake Bedrock runtime for Claude on Bedrock) that pauses where a real one does
 * (between blocks, a model thinking): a block's end reaches the client while the upstream is still
 * waiting, not with the next event that has a canonical meaning; a stream cut after its last text
 * still delivers what the upstream sent before the cut (pings included), then Anthropic's `error`
 * event, and settles to what was delivered. The events before the stream's first content are the
 * exception: the router holds them so another target can still serve (anthropic-sdk and the routing
 * tests cover that fallback).
 */
import Anthropic from '@anthropic-ai/sdk';
import type { ServerResponse } from 'node:http';
import { estimateTextTokens } from '../../lambda/core/tokens';
import { anthropicTextEvents } from '../helpers/anthropic-wire';
import { type BedrockStreamFrame, encodeFrame, startFakeBedrock } from '../helpers/bedrock-wire';
import { type FakeUpstream, type ReceivedRequest, startFakeUpstream } from '../helpers/fake-upstream';
import { type TestGateway, startTestGateway } from '../helpers/gateway';
import { signal } from '../helpers/signal';
import { CapturingLogSink, SettlementLimiter, expectSettled } from '../runtime/routing/harness';

const ANTHROPIC_KEY = 'sk-ant-api03-relay-provider-key-0123456789';
const CLAUDE_ON_BEDROCK = 'anthropic.claude-sonnet-4-5-20250929-v1:0';

type Json = Record<string, any>;
type Handler = (req: ReceivedRequest, res: ServerResponse) => unknown;

/** Named-event SSE, as Anthropic writes it. */
const sse = (events: Json[]) => events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('');

/** An Anthropic SSE body's events: each block's `event:` name and its data. */
function anthropicSse(text: string): { event: string; data: Json }[] {
  return text
    .split('\n\n')
    .filter((b) => b.trim())
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))!.slice('event: '.length);
      return { event, data: JSON.parse(lines.find((l) => l.startsWith('data: '))!.slice('data: '.length)) };
    });
}

/** The upstream's text answer (`Hel`, `lo!`): up to its block's end, then the rest (message_delta, message_stop). */
function textAnswer() {
  const events: Json[] = [...anthropicTextEvents(['Hel', 'lo!'], { input: 10, output: 5 }), { type: 'message_stop' }];
  const at = events.findIndex((e) => e.type === 'content_block_stop') + 1;
  return { events, head: events.slice(0, at), tail: events.slice(at) };
}

/** Reads a stream with the SDK; at the first `content_block_stop` the upstream is still paused: note what arrived, then release it. */
async function readReleasingAtBlockStop(stream: AsyncIterable<Anthropic.MessageStreamEvent>, release: () => void) {
  const types: string[] = [];
  let beforeRelease: string[] | undefined;
  for await (const ev of stream) {
    types.push(ev.type);
    if (ev.type === 'content_block_stop' && !beforeRelease) {
      beforeRelease = [...types];
      release();
    }
  }
  return { types, beforeRelease };
}

describe('native /v1/messages streams relay each upstream event as it arrives', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let client: Anthropic;
  let key: string;
  const limiter = new SettlementLimiter();
  const logs = new CapturingLogSink();
  let handler: Handler = (_req, res) => res.writeHead(404).end();

  beforeAll(async () => {
    upstream = await startFakeUpstream((req, res) => handler(req, res));
    gw = await startTestGateway(
      {
        providers: { anthropic: { type: 'anthropic', baseUrl: upstream.url, apiKey: { env: 'ANTHROPIC_KEY' } } },
        models: { claude: { targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] } },
        pricing: { 'claude-sonnet-4-5': { input: 3, output: 15 } },
      },
      { env: { ANTHROPIC_KEY }, limiter: () => limiter, overrides: { logSink: logs } },
    );
    ({ key } = await gw.createKey({ name: 'messages-relay' }));
    client = new Anthropic({ baseURL: gw.url, apiKey: key, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  const settled = (requestId: string | null, before: number) => expectSettled(limiter, logs, requestId, before);

  test("a pause after a text block: the block's end reaches the SDK while the upstream waits, then the rest", async () => {
    const answer = textAnswer();
    const paused = signal();
    handler = async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sse(answer.head));
      await paused.promise;
      res.end(sse(answer.tail));
    };
    const before = limiter.actual.length;
    const { data: stream, response } = await client.messages
      .create({ model: 'claude', max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }], stream: true })
      .withResponse();
    const { types, beforeRelease } = await readReleasingAtBlockStop(stream, paused.release);

    // The SDK drops pings; every other event the upstream sent before its pause arrived without it.
    const sent = (events: Json[]) => events.map((e) => e.type).filter((t) => t !== 'ping');
    expect(beforeRelease).toEqual(sent(answer.head));
    expect(beforeRelease?.at(-1)).toBe('content_block_stop');
    expect(types).toEqual(sent(answer.events));

    const record = await settled(response.headers.get('x-request-id'), before);
    expect(record).toMatchObject({ stream: true, status: 200, provider: 'anthropic', prompt_tokens: 10, completion_tokens: 5 });
  });

  test("a stream cut after its last text delivers every event sent before the cut, then Anthropic's error event, and settles to what was delivered", async () => {
    const answer = textAnswer();
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // Reset once the events have left for the gateway (the write callback), not on a timer.
      res.write(sse(answer.head), () => res.socket?.destroy());
    };
    const before = limiter.actual.length;
    const res = await gw.post('/v1/messages', { model: 'claude', max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }], stream: true }, key);
    expect(res.status).toBe(200);
    const events = anthropicSse(await res.text());
    // Every event the upstream sent (its ping and the block's end among them), as it sent them, then the failure.
    expect(events.map((e) => e.data)).toEqual([...answer.head, { type: 'error', error: { type: 'api_error', message: expect.any(String) } }]);
    expect(events.map((e) => e.event)).toEqual(events.map((e) => e.data.type));
    expect(events.map((e) => e.event)).not.toContain('message_stop');

    const record = await settled(res.headers.get('x-request-id'), before);
    expect(record).toMatchObject({ status: 502, error_code: 'upstream_network', stream: true, provider: 'anthropic' });
    expect(record.completion_tokens).toBe(estimateTextTokens('Hello!'));
  });
});

describe('native /v1/messages streams from Claude on Bedrock relay each event as it arrives', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let client: Anthropic;
  const savedEnv = { ...process.env };
  let handler: Handler = (_req, res) => res.writeHead(404).end();

  beforeAll(async () => {
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIDRELAYTEST',
      AWS_SECRET_ACCESS_KEY: 'relay-test-secret-access-key-0123',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    delete process.env.AWS_PROFILE;
    delete process.env.AWS_SESSION_TOKEN;
    upstream = await startFakeBedrock((req, res) => handler(req, res));
    gw = await startTestGateway({
      providers: { bedrock: { type: 'bedrock', region: 'eu-west-3', baseUrl: upstream.url } },
      models: { claude: { targets: [{ provider: 'bedrock', model: CLAUDE_ON_BEDROCK }] } },
    });
    const { key } = await gw.createKey({ name: 'bedrock-relay' });
    client = new Anthropic({ baseURL: gw.url, apiKey: key, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
    process.env = savedEnv;
  });

  test("a pause after a text block: the block's end reaches the SDK while Bedrock waits", async () => {
    const answer = textAnswer();
    const chunk = (e: Json): BedrockStreamFrame => ({ event: 'chunk', body: { bytes: Buffer.from(JSON.stringify(e)).toString('base64') } });
    const paused = signal();
    handler = async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'req-relay' });
      for (const e of answer.head) res.write(encodeFrame(chunk(e)));
      await paused.promise;
      for (const e of answer.tail) res.write(encodeFrame(chunk(e)));
      res.end();
    };
    const stream = await client.messages.create({ model: 'claude', max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }], stream: true });
    const { types, beforeRelease } = await readReleasingAtBlockStop(stream, paused.release);
    const sent = (events: Json[]) => events.map((e) => e.type).filter((t) => t !== 'ping');
    expect(upstream.received.at(-1)!.path).toBe(`/model/${encodeURIComponent(CLAUDE_ON_BEDROCK)}/invoke-with-response-stream`);
    expect(beforeRelease).toEqual(sent(answer.head));
    expect(types).toEqual(sent(answer.events));
  });
});
