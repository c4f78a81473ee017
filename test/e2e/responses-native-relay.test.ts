/**
 * A native /v1/responses stream relays each upstream event as it arrives, driven by the official
 * openai client (and raw SSE) against the local gateway, with a fake OpenAI on 127.0.0.1 that
 * pauses where a real one does (a web search, a reasoning model thinking): the events before the
 * pause reach the client while the upstream is still waiting, not with the next text; a stream cut
 * after its last text still delivers what the upstream sent before the cut, then response.failed,
 * and settles to what was delivered. The events before the stream's first content are the
 * exception: the router holds them so another target can still serve (responses-native-openai and
 * responses-tool-fees test that fallback and its charge).
 */
import type { ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { estimateTextTokens } from '../../lambda/core/tokens';
import { type FakeUpstream, type ReceivedRequest, startFakeUpstream } from '../helpers/fake-upstream';
import { type TestGateway, startTestGateway } from '../helpers/gateway';
import { signal } from '../helpers/signal';
import { messageItem, openAiResponse, reasoningItem, responseEvents, sseData, sseEvent, webSearchItem } from '../helpers/openai-responses-wire';
import { CapturingLogSink, SettlementLimiter, expectSettled } from '../runtime/routing/harness';

const OPENAI_KEY = 'sk-openai-real-provider-key-0123456789';
const USAGE = { input: 100, output: 40 };

type Json = Record<string, any>;
type Handler = (req: ReceivedRequest, res: ServerResponse) => unknown;

describe('native /v1/responses streams relay each upstream event as it arrives', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let client: OpenAI;
  let key: string;
  const limiter = new SettlementLimiter();
  const logs = new CapturingLogSink();
  let handler: Handler = (_req, res) => res.writeHead(404).end();

  beforeAll(async () => {
    upstream = await startFakeUpstream((req, res) => handler(req, res));
    gw = await startTestGateway(
      {
        providers: {
          openai: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: { env: 'OPENAI_KEY' } },
          azure: { type: 'azure-openai', baseUrl: upstream.url, apiKey: { env: 'OPENAI_KEY' }, deployments: { 'gpt-4o': 'prod-gpt4o' } },
        },
        models: {
          gpt: { targets: [{ provider: 'openai', model: 'gpt-4o' }] },
          'gpt-or-azure': {
            targets: [
              { provider: 'openai', model: 'gpt-4o' },
              { provider: 'azure', model: 'gpt-4o' },
            ],
          },
          'gpt-guarded': { targets: [{ provider: 'openai', model: 'gpt-4o' }], guard: 'out' },
        },
        guards: {
          out: { output: { deny: [{ id: 'fish', pattern: 'swordfish' }], pii: { action: 'redact', types: ['email'] } } },
        },
        pricing: { 'gpt-4o': { input: 2.5, output: 10 } },
        settings: { cooldown: { failures: 0 } },
      },
      { env: { OPENAI_KEY }, limiter: () => limiter, overrides: { logSink: logs } },
    );
    ({ key } = await gw.createKey({ name: 'relay' }));
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  const settled = (requestId: string | null, before: number) => expectSettled(limiter, logs, requestId, before);

  /**
   * The upstream streams `events` up to and including the first that `pauseAfter` picks, waits for
   * `resume`, then sends the rest. The events are written with their upstream sequence numbers.
   */
  const pausing =
    (events: (req: ReceivedRequest) => Json[], pauseAfter: (e: Json) => boolean, resume: Promise<void>): Handler =>
    async (req, res) => {
      const all = events(req);
      const at = all.findIndex(pauseAfter) + 1;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        all
          .slice(0, at)
          .map((e, i) => sseEvent(e, i))
          .join(''),
      );
      await resume;
      res.end(
        all
          .slice(at)
          .map((e, i) => sseEvent(e, at + i))
          .join(''),
      );
    };

  test('a web search after the first text: its events, and the end of the message before it, reach the client while the upstream searches', async () => {
    const search = webSearchItem('gateway news');
    const output = () => [messageItem('Let me look that up.'), search, reasoningItem('Two sources agree.'), messageItem('All quiet today.')];
    const upstreamEvents = (req: ReceivedRequest) => responseEvents(openAiResponse(req.body, output(), USAGE));
    const searching = signal();
    handler = pausing(upstreamEvents, (e) => e.type === 'response.web_search_call.searching', searching.promise);

    const before = limiter.actual.length;
    const { data: stream, response } = await client.responses
      .create({ model: 'gpt-or-azure', input: 'Any news?', tools: [{ type: 'web_search' }], stream: true })
      .withResponse();
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    let beforeRelease: string[] | undefined;
    for await (const ev of stream) {
      events.push(ev);
      if (ev.type === 'response.web_search_call.searching') {
        // The upstream is still waiting for this: everything it sent so far reached the client without it.
        beforeRelease = events.map((e) => e.type);
        searching.release();
      }
    }
    const expected = upstreamEvents({ body: { model: 'gpt-4o' } } as ReceivedRequest).map((e) => e.type);
    const pausedAt = expected.indexOf('response.web_search_call.searching') + 1;
    expect(beforeRelease).toEqual(expected.slice(0, pausedAt));
    expect(beforeRelease).toEqual(
      expect.arrayContaining(['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.web_search_call.in_progress']),
    );
    // Then the rest, in the upstream's order (reasoning summary events included), one numbering throughout.
    expect(events.map((e) => e.type)).toEqual(expected);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const completed = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
    expect(completed.type).toBe('response.completed');
    expect(completed.response.output.map((i) => i.type)).toEqual(['message', 'web_search_call', 'reasoning', 'message']);
    expect(completed.response.output[1]).toEqual(search);

    const record = await settled(response.headers.get('x-request-id'), before);
    expect(record).toMatchObject({ stream: true, status: 200, provider: 'openai', prompt_tokens: 100, completion_tokens: 40 });
  });

  test('a stream cut after its last text delivers the events sent before the cut, then response.failed, and settles to what was delivered', async () => {
    const sent: string[] = [];
    handler = (req, res) => {
      const events = responseEvents(openAiResponse(req.body, [messageItem('Here is the answer.'), webSearchItem('more'), messageItem('Never sent.')], USAGE));
      const upTo = events.findIndex((e) => e.type === 'response.web_search_call.in_progress');
      const head = events.slice(0, upTo + 1);
      sent.push(...head.map((e) => e.type));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // Reset once the events have left for the gateway (the write callback), not on a timer.
      res.write(head.map((e, i) => sseEvent(e, i)).join(''), () => res.socket?.destroy());
    };
    const before = limiter.actual.length;
    const res = await gw.post('/v1/responses', { model: 'gpt', input: 'Answer, then search', tools: [{ type: 'web_search' }], stream: true }, key);
    expect(res.status).toBe(200);
    const events = sseData(await res.text());
    const types = events.map((e) => e.type);
    // Every event the upstream sent (the message's end and the search's start among them), then the failure.
    expect(types).toEqual([...sent, 'response.failed']);
    expect(types).not.toContain('response.completed');
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const failed = events.at(-1)!.response;
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'upstream_network' } });
    expect(failed.id).toBe(events[0].response.id);
    // The items as last announced: the message done, the search still in progress.
    expect(failed.output).toEqual([
      expect.objectContaining({ type: 'message', status: 'completed', content: [expect.objectContaining({ text: 'Here is the answer.' })] }),
      expect.objectContaining({ type: 'web_search_call', status: 'in_progress' }),
    ]);

    const record = await settled(res.headers.get('x-request-id'), before);
    expect(record).toMatchObject({ status: 502, error_code: 'upstream_network', stream: true, provider: 'openai' });
    expect(record.completion_tokens).toBe(estimateTextTokens('Here is the answer.'));
  });

  test("an output guard still holds the text in its window: the events without text pass it, the client gets the guard's text", async () => {
    const search = webSearchItem('contact');
    handler = (req, res) => {
      const response = openAiResponse(req.body, [search, messageItem('Mail bob.smith@example.com today.')], USAGE);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(
        responseEvents(response)
          .map((e, i) => sseEvent(e, i))
          .join(''),
      );
    };
    const stream = await client.responses.create({ model: 'gpt-guarded', input: 'Who?', tools: [{ type: 'web_search' }], stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const ev of stream) events.push(ev);
    const text = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : [])).join('');
    expect(text).toBe('Mail [REDACTED:email] today.');
    expect(JSON.stringify(events)).not.toContain('bob.smith');
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events.at(-1)).toMatchObject({ type: 'response.completed', response: { status: 'completed' } });

    handler = (req, res) => {
      const response = openAiResponse(req.body, [search, messageItem('The code is sword fish, no: swordfish.')], USAGE);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(
        responseEvents(response)
          .map((e, i) => sseEvent(e, i))
          .join(''),
      );
    };
    const res = await gw.post('/v1/responses', { model: 'gpt-guarded', input: 'Code?', tools: [{ type: 'web_search' }], stream: true }, key);
    const body = await res.text();
    expect(body).toContain('guardrail_blocked');
    expect(body).not.toContain('response.completed');
    expect(body).not.toContain('swordfish');
  });
});
