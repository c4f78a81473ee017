/**
 * The `Fallbacks` metric (issue: it counted a single-target stream cut after its first byte as a
 * fallback, because the attempts log then holds that target twice). Driven end to end: the real
 * local gateway, a real HTTP fake upstream, and the EMF metrics publisher as on Lambda, so each
 * case checks the metric line the gateway itself wrote for the request.
 */
import type { ServerResponse } from 'node:http';
import { EmfMetrics } from '../../../lambda/adapters/emf-metrics';
import type { GatewayConfig } from '../../../lambda/core/config';
import type { RequestLogRecord } from '../../../lambda/core/log-record';
import { json, openAiChunks, openAiCompletion, startFakeUpstream, type FakeUpstream } from '../../helpers/fake-upstream';
import { startTestGateway, type TestGateway } from '../../helpers/gateway';

const config = (upstreamUrl: string): GatewayConfig => ({
  providers: {
    up: { type: 'openai-compatible', baseUrl: `${upstreamUrl}/v1`, apiKey: { env: 'UP_KEY' } },
    mock: { type: 'mock' },
  },
  models: {
    single: { targets: [{ provider: 'up', model: 'gpt-4o' }] },
    'single-retried': { targets: [{ provider: 'up', model: 'gpt-4o' }], retry: { attempts: 2, backoffMs: 1, maxBackoffMs: 1 } },
    'falls-back': {
      targets: [
        { provider: 'mock', model: 'mock-fail-500' },
        { provider: 'up', model: 'gpt-4o' },
      ],
    },
    'all-fail': {
      targets: [
        { provider: 'mock', model: 'mock-fail-502' },
        { provider: 'mock', model: 'mock-fail-500' },
      ],
    },
  },
});

describe('Fallbacks metric', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let key: string;
  const metricLines: Record<string, unknown>[] = [];
  const records: RequestLogRecord[] = [];
  const waiters: (() => void)[] = [];

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    const memory = {
      write(record: RequestLogRecord) {
        records.push(record);
        for (const w of waiters.splice(0)) w();
      },
    };
    const metrics = new EmfMetrics({ gatewayId: 'gw-test', writeLine: (line) => void metricLines.push(JSON.parse(line)) });
    gw = await startTestGateway(config(upstream.url), { env: { UP_KEY: 'sk-upstream-test' }, overrides: { logSink: memory, metrics } });
    ({ key } = await gw.createKey({ name: 'fallbacks' }));
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  /** The metric line and record the gateway wrote for the request answered by `res`. */
  async function metricsOf(res: Response): Promise<{ fallbacks: unknown; attempts: { provider: string; model: string }[] }> {
    const id = res.headers.get('x-request-id');
    const find = () => records.findIndex((r) => r.request_id === id);
    while (find() < 0) await new Promise<void>((resolve) => waiters.push(resolve));
    const at = find();
    return { fallbacks: metricLines[at].Fallbacks, attempts: JSON.parse(records[at].attempts) };
  }

  test('a single-target stream cut after its first byte is not a fallback (its target is logged twice)', async () => {
    let upstreamRes!: ServerResponse;
    upstream.handle((_req, res) => {
      upstreamRes = res;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const c of openAiChunks(['Hel', 'lo'], 'gpt-4o').slice(0, 2)) res.write(`data: ${JSON.stringify(c)}\n\n`);
    });
    const res = await gw.post('/v1/chat/completions', { model: 'single', stream: true, messages: [{ role: 'user', content: 'hi' }] }, key);
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('"Hel"')) text += new TextDecoder().decode((await reader.read()).value);
    upstreamRes.socket!.destroy(); // the connection breaks after the client has the first word
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
    expect(text).not.toContain('[DONE]');
    const { fallbacks, attempts } = await metricsOf(res);
    expect(attempts).toEqual([
      expect.objectContaining({ provider: 'up', model: 'gpt-4o', status: 200 }),
      expect.objectContaining({ provider: 'up', model: 'gpt-4o', error: expect.stringContaining('after first byte') }),
    ]);
    expect(fallbacks).toBe(0);
  });

  test('retries of one target are not a fallback', async () => {
    let calls = 0;
    upstream.handle((_req, res) => (++calls === 1 ? json(res, 503, { error: { message: 'busy' } }) : json(res, 200, openAiCompletion('second try'))));
    const res = await gw.post('/v1/chat/completions', { model: 'single-retried', messages: [{ role: 'user', content: 'hi' }] }, key);
    expect(res.status).toBe(200);
    const { fallbacks, attempts } = await metricsOf(res);
    expect(attempts.map((a) => `${a.provider}/${a.model}`)).toEqual(['up/gpt-4o', 'up/gpt-4o']);
    expect(fallbacks).toBe(0);
  });

  test('a different target serving after the first failed is a fallback', async () => {
    upstream.handle((_req, res) => json(res, 200, openAiCompletion('from fallback')));
    const res = await gw.post('/v1/chat/completions', { model: 'falls-back', messages: [{ role: 'user', content: 'hi' }] }, key);
    expect(res.status).toBe(200);
    const { fallbacks, attempts } = await metricsOf(res);
    expect(attempts.map((a) => `${a.provider}/${a.model}`)).toEqual(['mock/mock-fail-500', 'up/gpt-4o']);
    expect(fallbacks).toBe(1);
  });

  test('a different target tried after a failure is a fallback even when it fails too', async () => {
    const res = await gw.post('/v1/chat/completions', { model: 'all-fail', messages: [{ role: 'user', content: 'hi' }] }, key);
    expect(res.status).toBeGreaterThanOrEqual(500);
    const { fallbacks, attempts } = await metricsOf(res);
    expect(attempts.map((a) => `${a.provider}/${a.model}`)).toEqual(['mock/mock-fail-502', 'mock/mock-fail-500']);
    expect(fallbacks).toBe(1);
  });

  test('a single attempt that served is not a fallback', async () => {
    upstream.handle((_req, res) => json(res, 200, openAiCompletion('first try')));
    const res = await gw.post('/v1/chat/completions', { model: 'single', messages: [{ role: 'user', content: 'hi' }] }, key);
    expect(res.status).toBe(200);
    expect((await metricsOf(res)).fallbacks).toBe(0);
  });
});
