/**
 * Built-in tool fees on native /v1/responses pass-through, driven by the official openai client
 * against the local gateway with a fake OpenAI (and xAI) on 127.0.0.1: the web searches an answer
 * ran (`search` actions; `open_page` is free) are priced at the provider's list price per call on
 * top of the tokens, in the log record's `cost_usd` and in what the limiter settles, JSON and
 * stream alike; a stream cut mid-way is charged for the searches whose items were done; a config
 * price per call replaces the list price.
 */
import type { ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { type FakeUpstream, type ReceivedRequest, startFakeUpstream } from '../helpers/fake-upstream';
import { type TestGateway, startTestGateway } from '../helpers/gateway';
import {
  messageItem,
  openAiResponse,
  responseEvents,
  sseData,
  sseEvent,
  upstreamId,
  webSearchItem,
  writeResponsesAnswer,
} from '../helpers/openai-responses-wire';
import { CapturingLogSink, SettlementLimiter, expectSettled } from '../runtime/routing/harness';

const OPENAI_KEY = 'sk-openai-real-provider-key-0123456789';
const USAGE = { input: 1_000, output: 200 };
/** gpt-4o at $2.50 / $10 per million: 1,000 × 2.5 + 200 × 10, per million. */
const TOKENS_USD = 0.0045;
/** grok-4 at $3 / $15 per million. */
const GROK_TOKENS_USD = (1_000 * 3 + 200 * 15) / 1e6;
/** OpenAI's web search: $10 per 1,000 calls. */
const OPENAI_SEARCH_USD = 0.01;
/** xAI's web search: $5 per 1,000 calls. */
const XAI_SEARCH_USD = 0.005;

const openPage = () => ({ id: upstreamId('ws'), type: 'web_search_call', status: 'completed', action: { type: 'open_page', url: 'https://example.org/a' } });

type Handler = (req: ReceivedRequest, res: ServerResponse) => unknown;

/** Two searches and a page opened, then the answer: JSON or streamed as the request asked. */
const searchingAnswer: Handler = (req, res) => {
  const response = openAiResponse(req.body, [webSearchItem('gateway news'), openPage(), webSearchItem('more news'), messageItem('All quiet.')], USAGE);
  writeResponsesAnswer(req, res, response);
};

describe('built-in tool fees on native /v1/responses', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let client: OpenAI;
  let key: string;
  const limiter = new SettlementLimiter();
  const logs = new CapturingLogSink();
  let handler: Handler = searchingAnswer;

  beforeAll(async () => {
    upstream = await startFakeUpstream((req, res) => handler(req, res));
    gw = await startTestGateway(
      {
        providers: {
          openai: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: { env: 'OPENAI_KEY' } },
          grok: { type: 'openai-compatible', preset: 'xai', baseUrl: `${upstream.url}/xai/v1`, apiKey: { env: 'OPENAI_KEY' } },
        },
        models: {
          gpt: { targets: [{ provider: 'openai', model: 'gpt-4o' }] },
          'gpt-negotiated': { targets: [{ provider: 'openai', model: 'gpt-4.1' }] },
          grok: { targets: [{ provider: 'grok', model: 'grok-4' }] },
        },
        pricing: {
          'gpt-4o': { input: 2.5, output: 10 },
          'openai/gpt-4.1': { input: 2.5, output: 10, webSearchCall: 0.02 },
        },
        settings: { cooldown: { failures: 0 } },
      },
      { env: { OPENAI_KEY }, limiter: () => limiter, overrides: { logSink: logs } },
    );
    ({ key } = await gw.createKey({ name: 'tool-fees' }));
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
  });
  beforeEach(() => {
    handler = searchingAnswer;
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  const settled = (requestId: string | null, before: number) => expectSettled(limiter, logs, requestId, before);

  test('JSON: two searches at $0.01 each on top of the tokens; the page opened is free', async () => {
    const before = limiter.actual.length;
    const { data: r, response } = await client.responses.create({ model: 'gpt', input: 'Any news?', tools: [{ type: 'web_search' }] }).withResponse();
    expect(r.output.map((i) => i.type)).toEqual(['web_search_call', 'web_search_call', 'web_search_call', 'message']);
    const record = await settled(response.headers.get('x-request-id'), before);
    expect(record).toMatchObject({ status: 200, provider: 'openai', prompt_tokens: 1_000, completion_tokens: 200 });
    expect(record.cost_usd).toBeCloseTo(TOKENS_USD + 2 * OPENAI_SEARCH_USD, 10);
  });

  test('stream: the same fees, from the items the stream delivered', async () => {
    const before = limiter.actual.length;
    const { data: stream, response } = await client.responses
      .create({ model: 'gpt', input: 'Any news?', tools: [{ type: 'web_search' }], stream: true })
      .withResponse();
    const types: string[] = [];
    for await (const ev of stream) types.push(ev.type);
    expect(types.filter((t) => t === 'response.web_search_call.completed')).toHaveLength(3);
    expect(types.at(-1)).toBe('response.completed');
    const record = await settled(response.headers.get('x-request-id'), before);
    expect(record).toMatchObject({ stream: true, status: 200, prompt_tokens: 1_000, completion_tokens: 200 });
    expect(record.cost_usd).toBeCloseTo(TOKENS_USD + 2 * OPENAI_SEARCH_USD, 10);
  });

  /** Answers with `output`'s events up to and including the first that `cutAfter` picks, then resets the connection. */
  const cutStream =
    (output: () => Record<string, unknown>[], cutAfter: (e: Record<string, any>) => boolean): Handler =>
    (req, res) => {
      const events = responseEvents(openAiResponse(req.body, output(), USAGE));
      const upTo = events.findIndex(cutAfter);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // Reset once the events have left for the gateway (the write callback), not on a timer.
      res.write(
        events
          .slice(0, upTo + 1)
          .map(sseEvent)
          .join(''),
        () => res.socket?.destroy(),
      );
    };

  test('a stream cut mid-answer is charged for the searches whose items were done, not the one still running', async () => {
    handler = cutStream(
      () => [webSearchItem('first'), messageItem('Found one, looking further.'), webSearchItem('second'), messageItem('Too late.')],
      (e) => e.type === 'response.web_search_call.searching' && e.output_index === 2,
    );
    const before = limiter.actual.length;
    const res = await gw.post('/v1/responses', { model: 'gpt', input: 'Any news?', tools: [{ type: 'web_search' }], stream: true }, key);
    expect(res.status).toBe(200);
    const events = sseData(await res.text());
    expect(events.at(-1)!.type).toBe('response.failed');
    // Every item the upstream finished before the cut reaches the client (the message too); the second search never finished.
    expect(events.filter((e) => e.type === 'response.output_item.done').map((e) => e.item.type)).toEqual(['web_search_call', 'message']);
    expect(
      events
        .filter((e) => e.type === 'response.output_text.delta')
        .map((e) => e.delta)
        .join(''),
    ).toBe('Found one, looking further.');
    const record = await settled(res.headers.get('x-request-id'), before);
    expect(record).toMatchObject({ status: 502, stream: true, provider: 'openai' });
    const tokensUsd = (record.prompt_tokens! * 2.5 + record.completion_tokens! * 10) / 1e6;
    expect(record.cost_usd).toBeCloseTo(tokensUsd + OPENAI_SEARCH_USD, 10);
  });

  test('a stream cut before any text (the attempt fails, nothing was relayed) is still charged for the search it ran', async () => {
    handler = cutStream(
      () => [webSearchItem('first'), webSearchItem('second'), messageItem('Too late.')],
      (e) => e.type === 'response.web_search_call.searching' && e.output_index === 1,
    );
    const before = limiter.actual.length;
    const res = await gw.post('/v1/responses', { model: 'gpt', input: 'Any news?', tools: [{ type: 'web_search' }], stream: true }, key);
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ error: { code: 'upstream_network' } });
    const record = await settled(res.headers.get('x-request-id'), before);
    // No target served it: the record names none, and charges the failed attempt.
    expect(record).toMatchObject({ status: 502, stream: true, completion_tokens: 0 });
    expect(record.cost_usd).toBeCloseTo((record.prompt_tokens! * 2.5) / 1e6 + OPENAI_SEARCH_USD, 10);
  });

  test("a config price per call replaces the list price; xAI's list price is $0.005 a search", async () => {
    let before = limiter.actual.length;
    const { response } = await client.responses.create({ model: 'gpt-negotiated', input: 'Any news?', tools: [{ type: 'web_search' }] }).withResponse();
    let record = await settled(response.headers.get('x-request-id'), before);
    expect(record.cost_usd).toBeCloseTo(TOKENS_USD + 2 * 0.02, 10);

    before = limiter.actual.length;
    const grok = await client.responses.create({ model: 'grok', input: 'Any news?', tools: [{ type: 'web_search' }], stream: true }).withResponse();
    for await (const _ of grok.data);
    expect(upstream.received.at(-1)!.path).toBe('/xai/v1/responses');
    record = await settled(grok.response.headers.get('x-request-id'), before);
    expect(record).toMatchObject({ provider: 'grok', model: 'grok-4' });
    expect(record.cost_usd).toBeCloseTo(GROK_TOKENS_USD + 2 * XAI_SEARCH_USD, 10);
  });
});
