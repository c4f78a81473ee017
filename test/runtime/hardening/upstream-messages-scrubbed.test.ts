/**
 * Issue 12 item 4: one scrubbing point for every upstream-derived message. Hostile upstreams of
 * each wire format echo everything they received (the provider credential included) in every
 * place a message can travel: an HTTP error answer, an in-band error event before any content, an
 * in-band error event after content was streamed (OpenAI-style, Anthropic, Gemini, Bedrock). What
 * the client reads, the request's record and the gateway's log lines never carry the credential.
 */
import type { ServerResponse } from 'node:http';
import { type BedrockStreamFrame, startFakeBedrock, writeEventStream } from '../../helpers/bedrock-wire';
import { type FakeUpstream, type ReceivedRequest, json, openAiChunks, startFakeUpstream, writeSse } from '../../helpers/fake-upstream';
import { type TestGateway, startTestGateway } from '../../helpers/gateway';
import type { Logger } from '../../../lambda/core/ports';
import { CapturingLogSink } from '../routing/harness';

// Shaped like nothing a pattern would catch (Azure-style hex): only the gateway's knowledge of its own key can scrub it.
const PROVIDER_KEY = 'c0ffee' + '77d1e4a09b3c5d6e7f8091a2b3c4d5e6';
// A cloud credential shape echoed by Bedrock (its calls are signed, so there is no key of the call's own to match).
const AWS_KEY_ID = 'AKIA' + 'Z7Q3LEAKCANARY42';

type Place = 'http-error' | 'in-band-before-content' | 'in-band-after-content';
const PLACES: Place[] = ['http-error', 'in-band-before-content', 'in-band-after-content'];

/** Everything the request carried, as a hostile upstream would echo it back. */
const echo = (r: ReceivedRequest) => `you sent ${JSON.stringify({ path: r.path, headers: r.headers })} ${AWS_KEY_ID}`;

function openAiStyle(place: Place) {
  return (r: ReceivedRequest, res: ServerResponse) => {
    if (place === 'http-error') return json(res, 500, { error: { message: echo(r), type: echo(r) } });
    const chunks = openAiChunks(['Hello', ' there']);
    const content = place === 'in-band-after-content' ? chunks.slice(0, 2) : chunks.slice(0, 1);
    writeSse(res, [...content, { error: { message: echo(r), type: 'server_error', code: echo(r) } }], { done: false });
  };
}

function anthropicEvent(res: ServerResponse, type: string, data: Record<string, unknown>) {
  res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
}

function anthropic(place: Place) {
  return (r: ReceivedRequest, res: ServerResponse) => {
    if (place === 'http-error') return json(res, 500, { type: 'error', error: { type: 'api_error', message: echo(r) } });
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const message = {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      content: [],
      model: 'claude-x',
      stop_reason: null,
      usage: { input_tokens: 9, output_tokens: 1 },
    };
    anthropicEvent(res, 'message_start', { message });
    anthropicEvent(res, 'content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
    if (place === 'in-band-after-content') anthropicEvent(res, 'content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hello' } });
    anthropicEvent(res, 'error', { error: { type: 'api_error', message: echo(r) } });
    res.end();
  };
}

function gemini(place: Place) {
  return (r: ReceivedRequest, res: ServerResponse) => {
    if (place === 'http-error') return json(res, 500, { error: { code: 500, message: echo(r), status: 'INTERNAL' } });
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    if (place === 'in-band-after-content')
      res.write(`data: ${JSON.stringify({ candidates: [{ index: 0, content: { role: 'model', parts: [{ text: 'Hello' }] } }] })}\n\n`);
    res.write(`data: ${JSON.stringify({ error: { code: 500, message: echo(r), status: 'INTERNAL' } })}\n\n`);
    res.end();
  };
}

function bedrock(place: Place) {
  return (r: ReceivedRequest, res: ServerResponse) => {
    if (place === 'http-error') {
      res.writeHead(500, { 'content-type': 'application/json', 'x-amzn-errortype': 'InternalServerException' });
      res.end(JSON.stringify({ message: echo(r) }));
      return;
    }
    const frames: BedrockStreamFrame[] = [{ event: 'messageStart', body: { role: 'assistant' } }];
    if (place === 'in-band-after-content') frames.push({ event: 'contentBlockDelta', body: { contentBlockIndex: 0, delta: { text: 'Hello' } } });
    frames.push({ exception: 'internalServerException', body: { message: echo(r) } });
    writeEventStream(res, frames);
  };
}

const PROVIDERS = [
  ['openai-compatible', openAiStyle],
  ['anthropic', anthropic],
  ['gemini', gemini],
  ['bedrock', bedrock],
] as const;

describe('issue 12 item 4: every upstream message reaches client, record and log scrubbed', () => {
  let gw: TestGateway;
  let key: string;
  const upstreams: Record<string, FakeUpstream> = {};
  const logs = new CapturingLogSink();
  const logLines: string[] = [];
  const capture = (level: string) => (message: string, data?: Record<string, unknown>) =>
    void logLines.push(`${level} ${message} ${JSON.stringify(data ?? {})}`);
  const logger: Logger = { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error') };
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDSCRUBTEST', AWS_SECRET_ACCESS_KEY: 'scrub-test-secret', AWS_EC2_METADATA_DISABLED: 'true' });
    delete process.env.AWS_PROFILE;
    delete process.env.AWS_SESSION_TOKEN;
    upstreams['openai-compatible'] = await startFakeUpstream();
    upstreams.anthropic = await startFakeUpstream();
    upstreams.gemini = await startFakeUpstream();
    upstreams.bedrock = await startFakeBedrock();
    const apiKey = { env: 'PROVIDER_KEY' };
    gw = await startTestGateway(
      {
        providers: {
          'openai-compatible': { type: 'openai-compatible', baseUrl: `${upstreams['openai-compatible'].url}/v1`, apiKey },
          anthropic: { type: 'anthropic', baseUrl: upstreams.anthropic.url, apiKey },
          gemini: { type: 'gemini', baseUrl: upstreams.gemini.url, apiKey },
          bedrock: { type: 'bedrock', region: 'us-east-1', baseUrl: upstreams.bedrock.url },
        },
        models: {},
        settings: { retry: { attempts: 1 }, cooldown: { failures: 0 } },
      },
      { env: { PROVIDER_KEY }, logger, overrides: { logSink: logs } },
    );
    ({ key } = await gw.createKey({ logging: 'full' }));
  });

  afterAll(async () => {
    await gw.close();
    await Promise.all(Object.values(upstreams).map((u) => u.close()));
    process.env = savedEnv;
  });

  const cases = PROVIDERS.flatMap(([provider, behaviour]) => PLACES.map((place) => [provider, place, behaviour] as const));

  test.each(cases)('4: %s, %s: the echoed credential is scrubbed everywhere', async (provider, place, behaviour) => {
    upstreams[provider].handle(behaviour(place));
    const model = provider === 'bedrock' ? 'bedrock/anthropic.claude-3-haiku' : `${provider}/some-model`;
    const res = await gw.post('/v1/chat/completions', { model, stream: place !== 'http-error', messages: [{ role: 'user', content: 'hi' }] }, key);
    const body = await res.text();
    const record = await logs.record(res.headers.get('x-request-id')!);

    // The upstream really did echo the credential (else this test could not fail).
    const received = upstreams[provider].received.at(-1)!;
    if (provider !== 'bedrock') expect(echo(received)).toContain(PROVIDER_KEY);
    if (place === 'in-band-after-content') {
      expect(res.status).toBe(200);
      expect(body).toContain('Hello');
    } else expect(res.status).toBeGreaterThanOrEqual(500);
    expect(body).toContain('[redacted]');

    const everything = [body, JSON.stringify(record), ...logLines].join('\n');
    expect(everything).not.toContain(PROVIDER_KEY);
    expect(everything).not.toContain(AWS_KEY_ID);
  });
});
