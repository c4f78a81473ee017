/**
 * The prompt cache's prices reach the audit record: an Anthropic upstream that reports cache reads,
 * cache writes and web searches is charged each at its own price, on chat completions (JSON and
 * stream) and on /v1/messages, and the key's usage shows the same cost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANTHROPIC_WEB_SEARCH_USD } from '../../../lambda/core/pricing';
import { anthropicMessage, writeAnthropicSse } from '../../helpers/anthropic-wire';
import { type FakeUpstream, json, startFakeUpstream } from '../../helpers/fake-upstream';
import { startTestGateway, type TestGateway } from '../../helpers/gateway';
import { AwaitableFileSink } from './log-capture';

// claude-sonnet-4-5 list prices, USD per million tokens.
const INPUT = 3;
const OUTPUT = 15;
const CACHE_READ = 0.3;
const CACHE_WRITE = 3.75;
const USAGE = { input_tokens: 100, cache_read_input_tokens: 5_000, cache_creation_input_tokens: 2_000, output_tokens: 50 };
const EXPECTED = (100 * INPUT + 5_000 * CACHE_READ + 2_000 * CACHE_WRITE + 50 * OUTPUT) / 1e6;

describe('prompt-cache pricing in the record', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let sink: AwaitableFileSink;
  let key: string;
  let dataDir: string;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    dataDir = mkdtempSync(join(tmpdir(), 'gw-cache-price-'));
    sink = new AwaitableFileSink(join(dataDir, 'logs'));
    gw = await startTestGateway(
      {
        providers: { anthropic: { type: 'anthropic', baseUrl: upstream.url, apiKey: { env: 'ANTHROPIC_KEY' } } },
        models: { claude: { targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5-20250929' }] } },
      },
      { dataDir, env: { ANTHROPIC_KEY: 'sk-ant-cache-pricing-0123456789' }, overrides: { logSink: sink } },
    );
    ({ key } = await gw.createKey({ name: 'cache-pricing' }));
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const recordOf = (res: Response) => sink.recordFor(res.headers.get('x-request-id')!);

  test('chat completions, JSON: reads, writes and uncached input each at their price; the client sees cached_tokens', async () => {
    upstream.handle((_r, res) => json(res, 200, anthropicMessage([{ type: 'text', text: 'ok' }], { usage: USAGE })));
    const res = await gw.post('/v1/chat/completions', { model: 'claude', messages: [{ role: 'user', content: 'hi' }] }, key);
    const body = (await res.json()) as { usage: { prompt_tokens: number; prompt_tokens_details?: { cached_tokens: number } } };
    expect(body.usage.prompt_tokens).toBe(7_100);
    expect(body.usage.prompt_tokens_details?.cached_tokens).toBe(5_000);
    const rec = await recordOf(res);
    expect(rec.prompt_tokens).toBe(7_100);
    expect(rec.cost_usd).toBeCloseTo(EXPECTED, 10);
    // Priced as plain input, the same request would cost more than twice as much: the test tells them apart.
    expect(EXPECTED).toBeLessThan(((7_100 * INPUT + 50 * OUTPUT) / 1e6) * 0.6);
  });

  test('chat completions, stream: the usage of message_start and message_delta is priced the same way', async () => {
    upstream.handle((_r, res) =>
      writeAnthropicSse(res, [
        {
          type: 'message_start',
          message: { ...anthropicMessage([]), stop_reason: null, usage: { ...USAGE, output_tokens: 1 } },
        } as { type: string },
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } as { type: string },
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'ok' } } as { type: string },
        { type: 'content_block_stop', index: 0 } as { type: string },
        { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 50 } } as { type: string },
      ]),
    );
    const res = await gw.post('/v1/chat/completions', { model: 'claude', stream: true, messages: [{ role: 'user', content: 'hi' }] }, key);
    await res.text();
    const rec = await recordOf(res);
    expect(rec.cost_usd).toBeCloseTo(EXPECTED, 10);
  });

  test('/v1/messages: web searches run by the server tool are charged per search on top of the tokens', async () => {
    upstream.handle((_r, res) =>
      json(res, 200, anthropicMessage([{ type: 'text', text: 'found it' }], { usage: { ...USAGE, server_tool_use: { web_search_requests: 2 } } as never })),
    );
    const res = await gw.post('/v1/messages', { model: 'claude', max_tokens: 100, messages: [{ role: 'user', content: 'search' }] }, key);
    expect(res.status).toBe(200);
    await res.json();
    const rec = await recordOf(res);
    expect(rec.cost_usd).toBeCloseTo(EXPECTED + 2 * ANTHROPIC_WEB_SEARCH_USD, 10);
  });
});
