/**
 * Fault injection on /v1/responses: an upstream that cuts its stream after sending content. The
 * client gets what was delivered, then response.failed, and never response.completed; the log
 * record says what failed; and the reservation settles to what was delivered (the prompt estimate
 * plus the delivered text), exactly once.
 */
import type { ServerResponse } from 'node:http';
import { estimateTextTokens } from '../../../lambda/core/tokens';
import { anthropicMessage } from '../../helpers/anthropic-wire';
import { type FakeUpstream, startFakeUpstream } from '../../helpers/fake-upstream';
import { type TestGateway, startTestGateway } from '../../helpers/gateway';
import { sseData } from '../../helpers/openai-responses-wire';
import { CapturingLogSink, SettlementLimiter } from './harness';

const START = [
  { type: 'message_start', message: { ...anthropicMessage([]), stop_reason: null, usage: { input_tokens: 10, output_tokens: 1 } } },
  { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello ' } },
  { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'world' } },
];
const sse = (events: Array<{ type: string }>) => events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('');

const faults: Record<string, { handler: (res: ServerResponse) => void; code: string }> = {
  'the connection is reset after content': {
    // Reset once the content has left for the gateway (the write callback), not on a timer.
    handler: (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sse(START), () => res.socket?.destroy());
    },
    code: 'upstream_network',
  },
  'the stream ends without message_stop': {
    handler: (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(sse(START));
    },
    code: 'upstream_cut',
  },
};

describe('/v1/responses when the upstream stream is cut', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let key: string;
  const limiter = new SettlementLimiter();
  const logs = new CapturingLogSink();

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    gw = await startTestGateway(
      {
        providers: { anthropic: { type: 'anthropic', baseUrl: upstream.url, apiKey: { env: 'K' } } },
        models: { claude: { targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] } },
      },
      { env: { K: 'sk-ant-fake-0123456789' }, limiter: () => limiter, overrides: { logSink: logs } },
    );
    ({ key } = await gw.createKey({ name: 'faults' }));
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  test.each(Object.keys(faults))('%s: delivered text, then response.failed, never response.completed; settled to what was delivered', async (name) => {
    const { handler, code } = faults[name];
    upstream.handle((_req, res) => handler(res));
    const settledBefore = limiter.actual.length;
    const res = await gw.post('/v1/responses', { model: 'claude', input: 'greet the world', stream: true }, key);
    expect(res.status).toBe(200);
    const events = sseData(await res.text());
    const types = events.map((e) => e.type);
    expect(types).not.toContain('response.completed');
    expect(types.at(-1)).toBe('response.failed');
    expect(events.at(-1)?.response).toMatchObject({ status: 'failed', error: { code } });
    expect(
      events
        .filter((e) => e.type === 'response.output_text.delta')
        .map((e) => e.delta)
        .join(''),
    ).toBe('Hello world');
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));

    const record = await logs.record(res.headers.get('x-request-id')!);
    expect(record).toMatchObject({ endpoint: '/v1/responses', status: 502, error_code: code, stream: true });
    expect(record.completion_tokens).toBe(estimateTextTokens('Hello world'));
    expect(limiter.actual.slice(settledBefore)).toEqual([{ tokens: record.prompt_tokens! + record.completion_tokens!, costUsd: record.cost_usd }]);
    expect(limiter.open.size).toBe(0);
    expect(limiter.violations).toEqual([]);
    // Nothing was stored for a failed response.
    const id = events[0].response.id;
    const get = await fetch(`${gw.url}/v1/responses/${id}`, { headers: { authorization: `Bearer ${key}` } });
    expect(get.status).toBe(404);
  });
});
