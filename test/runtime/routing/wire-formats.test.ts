/**
 * The routing rules across wire formats: an Anthropic upstream that answers 200 and then an
 * in-band overloaded_error falls back; a stream cut after content ends with the client's own
 * error event (OpenAI `data: {"error"}` or Anthropic `event: error`) and no end marker.
 */
import type { ServerResponse } from 'node:http';
import { type FakeUpstream, startFakeUpstream } from '../../helpers/fake-upstream';
import { type TestGateway, startTestGateway } from '../../helpers/gateway';
import { CapturingLogSink, CountingLimiter, attemptsOf, healthy } from './harness';

function anthropicEvent(res: ServerResponse, type: string, data: Record<string, unknown>) {
  res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
}

function anthropicStart(res: ServerResponse) {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  anthropicEvent(res, 'message_start', {
    message: {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      content: [],
      model: 'claude-x',
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 9, output_tokens: 1 },
    },
  });
}

function anthropicTextThenCut(res: ServerResponse) {
  anthropicStart(res);
  anthropicEvent(res, 'content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
  anthropicEvent(res, 'content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hello' } });
  setTimeout(() => res.socket?.destroy(), 5);
}

describe('routing across wire formats', () => {
  let anthropic: FakeUpstream;
  let backup: FakeUpstream;
  let gw: TestGateway;
  let key: string;
  const limiter = new CountingLimiter();
  const logs = new CapturingLogSink();

  beforeAll(async () => {
    [anthropic, backup] = await Promise.all([startFakeUpstream(), startFakeUpstream()]);
    backup.handle(healthy('from backup'));
    gw = await startTestGateway(
      {
        providers: {
          claude: { type: 'anthropic', baseUrl: anthropic.url, apiKey: { env: 'ANTHROPIC_KEY' } },
          backup: { type: 'openai-compatible', baseUrl: `${backup.url}/v1` },
        },
        models: {
          sonnet: {
            targets: [
              { provider: 'claude', model: 'claude-x' },
              { provider: 'backup', model: 'b-model' },
            ],
          },
          'sonnet-only': { targets: [{ provider: 'claude', model: 'claude-x' }] },
        },
        settings: { timeouts: { firstByteMs: 500, idleMs: 300 }, cooldown: { failures: 0 } },
      },
      { env: { ANTHROPIC_KEY: 'sk-ant-provider-key-000000000' }, limiter: () => limiter, overrides: { logSink: logs } },
    );
    ({ key } = await gw.createKey());
  });

  afterAll(async () => {
    await gw.close();
    await Promise.all([anthropic.close(), backup.close()]);
  });

  afterEach(() => {
    expect(limiter.violations).toEqual([]);
    expect(limiter.open.size).toBe(0);
  });

  const messagesBody = (model: string) => ({ model, max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'hi' }] });

  test.each([
    ['/v1/chat/completions', { model: 'sonnet', stream: true, messages: [{ role: 'user', content: 'hi' }] }],
    ['/v1/messages', messagesBody('sonnet')],
  ])('%s: Anthropic 200 then in-band overloaded_error before content falls back to the next target', async (path, body) => {
    anthropic.handle((_req, res) => {
      anthropicStart(res);
      anthropicEvent(res, 'error', { error: { type: 'overloaded_error', message: 'Overloaded' } });
      res.end();
    });
    const res = await gw.post(path, body, key);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-provider')).toBe('backup');
    expect(text).toContain('from');
    expect(text).not.toContain('overloaded');
    const attempts = attemptsOf(await logs.record(res.headers.get('x-request-id')!));
    expect(attempts.map((a) => `${a.provider}:${a.status}`)).toEqual(['claude:529', 'backup:200']);
  });

  test("/v1/messages: in-band overloaded_error on the only target answers 503 in Anthropic's error shape", async () => {
    anthropic.handle((_req, res) => {
      anthropicStart(res);
      anthropicEvent(res, 'error', { error: { type: 'overloaded_error', message: 'Overloaded' } });
      res.end();
    });
    const res = await gw.post('/v1/messages', messagesBody('sonnet-only'), key);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
  });

  test('/v1/messages: a stream cut after content ends with event: error and no message_stop', async () => {
    anthropic.handle((_req, res) => anthropicTextThenCut(res));
    const backupCalls = backup.received.length;
    const res = await gw.post('/v1/messages', messagesBody('sonnet'), key);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-provider')).toBe('claude');
    expect(text).toContain('Hello');
    expect(text).not.toContain('message_stop');
    expect(text).not.toContain('"stop_reason":"end_turn"');
    expect(text.trimEnd().split('\n\n').at(-1)).toMatch(/^event: error\ndata: \{"type":"error"/);
    expect(backup.received).toHaveLength(backupCalls); // after the first byte there is no fallback
  });

  test('/v1/chat/completions from an Anthropic upstream cut after content: an error event, no [DONE], no finish_reason', async () => {
    anthropic.handle((_req, res) => anthropicTextThenCut(res));
    const res = await gw.post('/v1/chat/completions', { model: 'sonnet', stream: true, messages: [{ role: 'user', content: 'hi' }] }, key);
    const text = await res.text();
    expect(text).toContain('Hello');
    expect(text).not.toContain('[DONE]');
    expect(text).not.toMatch(/"finish_reason":"(stop|length)"/);
    expect(JSON.parse(text.trimEnd().split('\n\n').at(-1)!.slice(6)).error.code).toBe('upstream_network');
  });
});
