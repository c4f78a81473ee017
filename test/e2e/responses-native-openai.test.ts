/**
 * /v1/responses passed through natively to OpenAI-family targets (OpenAI, Azure OpenAI), driven by
 * the official openai client against the local gateway, with a fake OpenAI on 127.0.0.1 speaking
 * the Responses wire format (JSON and its semantic SSE events): the body goes upstream as the
 * client sent it (model rewritten, the conversation rebuilt in full, `store: false`), the answer
 * comes back as the upstream sent it under the gateway's response id, built-in tools pass through,
 * usage and cost reach the log record and settle the reservation, a cut stream ends with
 * response.failed, and fallback between native and translated targets works both ways.
 */
import type { ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { estimateTextTokens } from '../../lambda/core/tokens';
import { anthropicMessage, anthropicTextEvents, writeAnthropicSse } from '../helpers/anthropic-wire';
import { type FakeUpstream, type ReceivedRequest, json, openAiCompletion, startFakeUpstream } from '../helpers/fake-upstream';
import { type TestGateway, startTestGateway } from '../helpers/gateway';
import { responseResource, streamingEvent } from '../helpers/open-responses-schema';
import {
  functionCallItem,
  messageItem,
  openAiResponse,
  responseEvents,
  sseData,
  sseEvent,
  webSearchItem,
  writeResponsesAnswer,
} from '../helpers/openai-responses-wire';
import { CapturingLogSink, attemptsOf, SettlementLimiter, expectSettled } from '../runtime/routing/harness';

const OPENAI_KEY = 'sk-openai-real-provider-key-0123456789';
const AZURE_KEY = 'azure-real-provider-key-0123456789abcdef';
const ANTHROPIC_KEY = 'sk-ant-real-provider-key-0123456789';
const USAGE = { input: 120, cached: 100, output: 30, reasoning: 12 };
/** gpt-4o at $2.50 / $10 per million, cached input at $1.25: (20 × 2.5 + 100 × 1.25 + 30 × 10) / 1e6. */
const USAGE_COST = 0.000475;

type Handler = (req: ReceivedRequest, res: ServerResponse) => unknown;

/** The fake OpenAI's default: a text answer, JSON or streamed as the request asked. */
const answerWith =
  (text: string, extra: unknown[] = []): Handler =>
  (req, res) => {
    const response = openAiResponse(req.body, [...(extra as Record<string, unknown>[]), messageItem(text)], USAGE);
    writeResponsesAnswer(req, res, response);
  };

describe('/v1/responses natively on OpenAI-family targets', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let client: OpenAI;
  let key: string;
  const limiter = new SettlementLimiter();
  const logs = new CapturingLogSink();
  /** Per path, what the fake answers. */
  const routes = new Map<string, Handler>();
  const serve = (path: string, h: Handler) => routes.set(path, h);
  const sentTo = (path: string) => upstream.received.filter((r) => r.path.split('?')[0] === path);

  beforeAll(async () => {
    upstream = await startFakeUpstream((req, res) => {
      const h = routes.get(req.path.split('?')[0]);
      return h ? h(req, res) : res.writeHead(404).end();
    });
    gw = await startTestGateway(
      {
        providers: {
          openai: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: { env: 'OPENAI_KEY' } },
          azure: { type: 'azure-openai', baseUrl: upstream.url, apiKey: { env: 'AZURE_KEY' }, deployments: { 'gpt-4o': 'prod-gpt4o' } },
          anthropic: { type: 'anthropic', baseUrl: upstream.url, apiKey: { env: 'ANTHROPIC_KEY' } },
          grok: { type: 'openai-compatible', preset: 'xai', baseUrl: `${upstream.url}/xai/v1`, apiKey: { env: 'OPENAI_KEY' } },
          compat: { type: 'openai-compatible', baseUrl: `${upstream.url}/compat/v1`, apiKey: { env: 'OPENAI_KEY' } },
          vllm: { type: 'openai-compatible', baseUrl: `${upstream.url}/vllm/v1`, apiKey: { env: 'OPENAI_KEY' }, responsesApi: 'native' },
          'azure-old': {
            type: 'azure-openai',
            baseUrl: `${upstream.url}/old`,
            apiKey: { env: 'AZURE_KEY' },
            deployments: { 'gpt-4o': 'legacy-gpt4o' },
            responsesApi: 'translate',
          },
        },
        models: {
          gpt: { targets: [{ provider: 'openai', model: 'gpt-4o' }] },
          'gpt-azure': { targets: [{ provider: 'azure', model: 'gpt-4o' }] },
          'gpt-or-azure': {
            targets: [
              { provider: 'openai', model: 'gpt-4o' },
              { provider: 'azure', model: 'gpt-4o' },
            ],
          },
          'gpt-then-claude': {
            targets: [
              { provider: 'openai', model: 'gpt-4o' },
              { provider: 'anthropic', model: 'claude-sonnet-4-5' },
            ],
          },
          'claude-then-gpt': {
            targets: [
              { provider: 'anthropic', model: 'claude-sonnet-4-5' },
              { provider: 'openai', model: 'gpt-4o' },
            ],
          },
          'gpt-guarded': { targets: [{ provider: 'openai', model: 'gpt-4o' }], guard: 'pii' },
          grok: { targets: [{ provider: 'grok', model: 'grok-4' }] },
          compat: { targets: [{ provider: 'compat', model: 'llama-3' }] },
          vllm: { targets: [{ provider: 'vllm', model: 'qwen-3' }] },
          'azure-old': { targets: [{ provider: 'azure-old', model: 'gpt-4o' }] },
          'gpt-cached': { targets: [{ provider: 'openai', model: 'gpt-4o' }], cache: { mode: 'exact' } },
        },
        guards: { pii: { input: { pii: { action: 'redact', types: ['email'] } }, output: { pii: { action: 'redact', types: ['email'] } } } },
        pricing: { 'gpt-4o': { input: 2.5, output: 10, cacheRead: 1.25 } },
        // Each test scripts its own failures: none may put a target in cooldown for the next.
        settings: { cooldown: { failures: 0 } },
      },
      { env: { OPENAI_KEY, AZURE_KEY, ANTHROPIC_KEY }, limiter: () => limiter, overrides: { logSink: logs } },
    );
    ({ key } = await gw.createKey({ name: 'native' }));
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
  });
  beforeEach(() => {
    routes.clear();
    serve('/v1/responses', answerWith('Hello from OpenAI.'));
    serve('/openai/v1/responses', answerWith('Hello from Azure.'));
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  const settled = (requestId: string | null, before: number) => expectSettled(limiter, logs, requestId, before);

  test('JSON: the client body goes to {baseUrl}/responses with the model rewritten and store: false; the answer comes back under the gateway id', async () => {
    const before = limiter.actual.length;
    const { data: r, response } = await client.responses
      .create({
        model: 'gpt',
        instructions: 'Be brief.',
        input: 'Hello?',
        metadata: { ticket: '7' },
        temperature: 0.2,
        include: ['message.output_text.logprobs'],
      })
      .withResponse();
    const sent = sentTo('/v1/responses').at(-1)!;
    expect(sent.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect(sent.body).toEqual({
      model: 'gpt-4o',
      instructions: 'Be brief.',
      input: 'Hello?',
      metadata: { ticket: '7' },
      temperature: 0.2,
      include: ['message.output_text.logprobs'],
      store: false,
    });
    expect(r.id).toMatch(/^resp_[0-9a-f]{40}$/);
    expect(r.output_text).toBe('Hello from OpenAI.');
    // The upstream's own answer: its model string, its item ids, its text.verbosity.
    expect(r.model).toBe('gpt-4o-2024-08-06');
    expect(r.output[0].id).toMatch(/upstream$/);
    expect((r.text as { verbosity?: string }).verbosity).toBe('medium');
    expect((r as unknown as { store: boolean }).store).toBe(true);
    expect(r.usage).toMatchObject({
      input_tokens: 120,
      output_tokens: 30,
      input_tokens_details: { cached_tokens: 100 },
      output_tokens_details: { reasoning_tokens: 12 },
    });
    expect(response.headers.get('x-gateway-provider')).toBe('openai');

    const record = await settled(response.headers.get('x-request-id'), before);
    expect(record).toMatchObject({ endpoint: '/v1/responses', status: 200, provider: 'openai', model: 'gpt-4o', prompt_tokens: 120, completion_tokens: 30 });
    expect(record.cost_usd).toBeCloseTo(USAGE_COST, 10);
    // The gateway's stored response is the one the client got.
    expect(await client.responses.retrieve(r.id)).toEqual(JSON.parse(JSON.stringify(r)));
  });

  test('Azure OpenAI: {baseUrl}/openai/v1/responses with the api-key header and the deployment as the model', async () => {
    const r = await client.responses.create({ model: 'gpt-azure', input: 'Hi Azure' });
    expect(r.output_text).toBe('Hello from Azure.');
    const sent = sentTo('/openai/v1/responses').at(-1)!;
    expect(sent.path).toBe('/openai/v1/responses');
    expect(sent.headers['api-key']).toBe(AZURE_KEY);
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.body).toMatchObject({ model: 'prod-gpt4o', input: 'Hi Azure', store: false });
  });

  test("stream: the upstream's events are relayed with the gateway's response id and its own sequence numbers", async () => {
    const before = limiter.actual.length;
    const { data: stream, response } = await client.responses.create({ model: 'gpt', input: 'Stream it', stream: true }).withResponse();
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const ev of stream) events.push(ev);
    const sent = sentTo('/v1/responses').at(-1)!;
    expect(sent.body).toEqual({ model: 'gpt-4o', input: 'Stream it', stream: true, store: false });
    const upstreamEvents = responseEvents(openAiResponse(sent.body, [messageItem('Hello from OpenAI.')], USAGE));
    expect(events.map((e) => e.type)).toEqual(upstreamEvents.map((e) => e.type));
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    // Relayed as sent: the deltas keep OpenAI's obfuscation padding.
    const deltas = events.filter((e) => e.type === 'response.output_text.delta');
    expect(deltas.map((e) => e.delta).join('')).toBe('Hello from OpenAI.');
    expect(deltas.every((e) => typeof (e as unknown as { obfuscation?: string }).obfuscation === 'string')).toBe(true);
    const ids = new Set(events.flatMap((e) => ('response' in e ? [e.response.id] : [])));
    expect(ids.size).toBe(1);
    const [id] = ids;
    expect(id).toMatch(/^resp_[0-9a-f]{40}$/);
    const completed = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
    expect(completed.type).toBe('response.completed');
    // What the Open Responses compliance suite checks of a stream: every event, and the final response.
    for (const e of events) expect(streamingEvent.safeParse(e).error).toBeUndefined();
    expect(responseResource.safeParse(completed.response).error).toBeUndefined();
    expect(completed.response).toMatchObject({ status: 'completed', store: true, usage: { input_tokens: 120, output_tokens: 30 } });

    const record = await settled(response.headers.get('x-request-id'), before);
    expect(record).toMatchObject({ stream: true, status: 200, provider: 'openai', prompt_tokens: 120, completion_tokens: 30 });
    expect(record.cost_usd).toBeCloseTo(USAGE_COST, 10);
    // (The SDK adds output_text to the events' response objects.)
    const { output_text: _text, ...stored } = completed.response;
    expect(await client.responses.retrieve(id)).toEqual({ ...JSON.parse(JSON.stringify(stored)), output_text: 'Hello from OpenAI.' });
  });

  test('previous_response_id: the gateway sends the whole conversation (without ids) and nothing the upstream would have to remember', async () => {
    const call = functionCallItem('lookup', '{"city":"Paris"}');
    serve('/v1/responses', (req, res) => json(res, 200, openAiResponse(req.body, [call], USAGE)));
    const first = await client.responses.create({
      model: 'gpt',
      instructions: 'Use tools.',
      input: 'Weather in Paris?',
      tools: [{ type: 'function', name: 'lookup', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }],
    });
    expect(first.output[0]).toMatchObject({ type: 'function_call', name: 'lookup', call_id: call.call_id });

    serve('/v1/responses', answerWith('Sunny in Paris.'));
    const stream = await client.responses.create({
      model: 'gpt',
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"sky":"clear"}' }],
      stream: true,
    });
    let final: OpenAI.Responses.Response | undefined;
    for await (const ev of stream) if (ev.type === 'response.completed') final = ev.response;
    expect(final!.previous_response_id).toBe(first.id);
    const sent = sentTo('/v1/responses').at(-1)!;
    expect(sent.body.previous_response_id).toBeUndefined();
    expect(sent.body.store).toBe(false);
    expect(sent.body.model).toBe('gpt-4o');
    expect(sent.body.instructions).toBeUndefined();
    expect(sent.body.input).toEqual([
      { type: 'message', role: 'user', content: 'Weather in Paris?' },
      { type: 'function_call', call_id: call.call_id, name: 'lookup', arguments: '{"city":"Paris"}', status: 'completed' },
      { type: 'function_call_output', call_id: call.call_id, output: '{"sky":"clear"}' },
    ]);
    // The stored conversation is the gateway's: input_items lists this turn's input under its own ids.
    const items = await client.responses.inputItems.list(final!.id);
    expect(items.data).toEqual([{ type: 'function_call_output', call_id: call.call_id, output: '{"sky":"clear"}', id: expect.any(String) }]);
  });

  test('built-in tools pass through when every target speaks the Responses API natively, events and items as OpenAI sent them', async () => {
    const search = webSearchItem('gateway news');
    const cite = { type: 'url_citation', start_index: 0, end_index: 5, url: 'https://example.org/news', title: 'News' };
    serve('/v1/responses', (req, res) => {
      const response = openAiResponse(req.body, [search, messageItem('News: all quiet.', [cite])], USAGE);
      writeResponsesAnswer(req, res, response);
    });
    const stream = await client.responses.create({ model: 'gpt-or-azure', input: 'Any news?', tools: [{ type: 'web_search' }], stream: true });
    const types: string[] = [];
    let final: OpenAI.Responses.Response | undefined;
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === 'response.completed') final = ev.response;
    }
    expect(types).toEqual(
      expect.arrayContaining([
        'response.web_search_call.in_progress',
        'response.web_search_call.searching',
        'response.web_search_call.completed',
        'response.output_text.annotation.added',
      ]),
    );
    expect(sentTo('/v1/responses').at(-1)!.body.tools).toEqual([{ type: 'web_search' }]);
    expect(final!.output[0]).toEqual(search);
    expect(final!.output[1]).toMatchObject({ type: 'message', content: [{ type: 'output_text', text: 'News: all quiet.', annotations: [cite] }] });

    const json1 = await client.responses.create({ model: 'gpt', input: 'Any news?', tools: [{ type: 'web_search' }] });
    expect(json1.output.map((i) => i.type)).toEqual(['web_search_call', 'message']);
  });

  test('built-in tools on a route that may fall back to a translated target: a 400 naming the tool and that target, nothing sent', async () => {
    const before = upstream.received.length;
    await expect(client.responses.create({ model: 'gpt-then-claude', input: 'search', tools: [{ type: 'web_search' }] })).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/web_search.*'anthropic'/),
    });
    expect(upstream.received.length).toBe(before);
  });

  test('a native stream cut mid-answer ends with response.failed, never response.completed, and settles to what was delivered', async () => {
    serve('/v1/responses', (req, res) => {
      const events = responseEvents(openAiResponse(req.body, [messageItem('Hello brave new world.')], USAGE));
      const upTo = events.findIndex((e) => e.type === 'response.output_text.delta' && e.delta === 'new ');
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // Reset once the content has left for the gateway (the write callback), not on a timer.
      res.write(events.slice(0, upTo).map(sseEvent).join(''), () => res.socket?.destroy());
    });
    const before = limiter.actual.length;
    const res = await gw.post('/v1/responses', { model: 'gpt', input: 'greet', stream: true }, key);
    expect(res.status).toBe(200);
    const events = sseData(await res.text());
    const types = events.map((e) => e.type);
    expect(types).not.toContain('response.completed');
    expect(types.at(-1)).toBe('response.failed');
    expect(events.at(-1)!.response).toMatchObject({ status: 'failed', error: { code: 'upstream_network' } });
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const delivered = events
      .filter((e) => e.type === 'response.output_text.delta')
      .map((e) => e.delta)
      .join('');
    expect(delivered).toBe('Hello brave ');
    const id = events[0].response.id;
    expect(events.every((e) => !e.response || e.response.id === id)).toBe(true);

    const record = await settled(res.headers.get('x-request-id'), before);
    expect(record).toMatchObject({ status: 502, error_code: 'upstream_network', stream: true, provider: 'openai' });
    expect(record.completion_tokens).toBe(estimateTextTokens(delivered));
    const get = await fetch(`${gw.url}/v1/responses/${id}`, { headers: { authorization: `Bearer ${key}` } });
    expect(get.status).toBe(404);
  });

  test('fallback native → translated: OpenAI fails, Anthropic serves through the translation (JSON and stream)', async () => {
    serve('/v1/responses', (_req, res) => json(res, 503, { error: { message: 'overloaded', type: 'server_error', code: null } }));
    serve('/v1/messages', (req, res) =>
      req.body.stream
        ? writeAnthropicSse(res, anthropicTextEvents(['From ', 'Claude.']))
        : json(res, 200, anthropicMessage([{ type: 'text', text: 'From Claude.' }])),
    );
    const { data: r, response } = await client.responses.create({ model: 'gpt-then-claude', input: 'Who answers?' }).withResponse();
    expect(r.output_text).toBe('From Claude.');
    expect(r.id).toMatch(/^resp_[0-9a-f]{40}$/);
    expect(r.model).toBe('gpt-then-claude');
    const record = await logs.record(response.headers.get('x-request-id')!);
    expect(attemptsOf(record).map((a) => [a.provider, a.status])).toEqual([
      ['openai', 503],
      ['anthropic', 200],
    ]);
    expect(sentTo('/v1/messages').at(-1)!.body.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Who answers?' }] }]);

    const stream = await client.responses.create({ model: 'gpt-then-claude', input: 'Who streams?', stream: true });
    let text = '';
    let final: OpenAI.Responses.Response | undefined;
    for await (const ev of stream) {
      if (ev.type === 'response.output_text.delta') text += ev.delta;
      if (ev.type === 'response.completed') final = ev.response;
    }
    expect(text).toBe('From Claude.');
    expect(final!.status).toBe('completed');
  });

  test('fallback after an in-band error before any content: OpenAI streams response.created then error, Anthropic serves', async () => {
    serve('/v1/responses', (req, res) => {
      const created = responseEvents(openAiResponse(req.body, [], USAGE))[0];
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end([created, { type: 'error', code: 'server_error', message: 'The server had an error', param: null }].map(sseEvent).join(''));
    });
    serve('/v1/messages', (_req, res) => writeAnthropicSse(res, anthropicTextEvents(['Claude ', 'here.'])));
    const res = await gw.post('/v1/responses', { model: 'gpt-then-claude', input: 'Anyone?', stream: true }, key);
    const events = sseData(await res.text());
    // Nothing of the failed attempt reached the client: one response, from its first event.
    expect(events.filter((e) => e.type === 'response.created')).toHaveLength(1);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(
      events
        .filter((e) => e.type === 'response.output_text.delta')
        .map((e) => e.delta)
        .join(''),
    ).toBe('Claude here.');
    expect(events.at(-1)).toMatchObject({ type: 'response.completed' });
    const record = await logs.record(res.headers.get('x-request-id')!);
    expect(attemptsOf(record).map((a) => a.provider)).toEqual(['openai', 'anthropic']);
    expect(record.provider).toBe('anthropic');
  });

  test('fallback translated → native: Anthropic fails, OpenAI serves natively', async () => {
    serve('/v1/messages', (_req, res) => json(res, 529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
    const stream = await client.responses.create({ model: 'claude-then-gpt', input: 'Who now?', stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const ev of stream) events.push(ev);
    expect(events.filter((e) => e.type === 'response.output_text.delta').every((e) => 'obfuscation' in e)).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'response.completed', response: { status: 'completed' } });
    expect(sentTo('/v1/responses').at(-1)!.body).toEqual({ model: 'gpt-4o', input: 'Who now?', stream: true, store: false });
  });

  test('the prompt guard applies to the native body and answer: an input redaction reaches the upstream, an output redaction the client', async () => {
    serve('/v1/responses', answerWith('Write to carol@example.org.'));
    const r = await client.responses.create({
      model: 'gpt-guarded',
      instructions: 'Reply to alice@example.org.',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'I am bob@example.org' }] }],
    });
    const sent = JSON.stringify(sentTo('/v1/responses').at(-1)!.body);
    expect(sent).not.toMatch(/bob@example\.org/);
    expect(sent).toContain('Reply to alice@example.org.');
    expect(r.output_text).not.toContain('carol@example.org');
    expect(r.output_text).toMatch(/^Write to /);
  });

  test('an answer the output guard leaves as it was is the native one; the cache replays a native answer in the mode asked', async () => {
    const search = webSearchItem('weather');
    serve('/v1/responses', (req, res) => json(res, 200, openAiResponse(req.body, [search, messageItem('Sunny, no addresses here.')], USAGE)));
    const clean = await client.responses.create({ model: 'gpt-guarded', input: 'Weather?', tools: [{ type: 'web_search' }] });
    expect(clean.output.map((i) => i.type)).toEqual(['web_search_call', 'message']);
    expect(clean.model).toBe('gpt-4o-2024-08-06');

    const calls = sentTo('/v1/responses').length;
    const body = { model: 'gpt-cached', input: 'Cached weather?', tools: [{ type: 'web_search' as const }], store: false };
    const first = await client.responses.create(body);
    await gw.gateway.flush();
    const { data: stream, response } = await client.responses.create({ ...body, stream: true }).withResponse();
    expect(response.headers.get('x-gateway-cache')).toBe('hit');
    let completed: OpenAI.Responses.Response | undefined;
    for await (const ev of stream) if (ev.type === 'response.completed') completed = ev.response;
    expect(sentTo('/v1/responses').length).toBe(calls + 1);
    expect(completed!.output).toEqual(first.output);
    expect(completed!.usage).toEqual(first.usage);
  });

  test("the upstream's own 400 (a tool it refuses) reaches the client in OpenAI's shape, and no other target is tried", async () => {
    const refusal = {
      message: "Invalid value: 'web_search_preview'. Supported values are: 'web_search'.",
      type: 'invalid_request_error',
      param: 'tools[0].type',
      code: 'invalid_value',
    };
    serve('/v1/responses', (_req, res) => json(res, 400, { error: refusal }));
    const before = sentTo('/openai/v1/responses').length;
    await expect(client.responses.create({ model: 'gpt-or-azure', input: 'x', tools: [{ type: 'web_search_preview' }] })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining("Invalid value: 'web_search_preview'"),
    });
    expect(sentTo('/openai/v1/responses').length).toBe(before);
  });

  test('items of built-in tools the client sends back (stateless, as the Agents SDK does) go to native targets as sent; elsewhere a 400 naming them', async () => {
    const search = webSearchItem('weather');
    const input = [
      { role: 'user' as const, content: 'Weather?' },
      search,
      {
        type: 'message' as const,
        role: 'assistant' as const,
        id: 'msg_earlier',
        status: 'completed' as const,
        content: [{ type: 'output_text' as const, text: 'Sunny.', annotations: [] }],
      },
      { role: 'user' as const, content: 'And tomorrow?' },
    ] as OpenAI.Responses.ResponseInput;
    const r = await client.responses.create({ model: 'gpt', input, tools: [{ type: 'web_search' }] });
    expect(r.output_text).toBe('Hello from OpenAI.');
    expect(sentTo('/v1/responses').at(-1)!.body.input).toEqual([
      { type: 'message', role: 'user', content: 'Weather?' },
      search,
      { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Sunny.', annotations: [] }] },
      { type: 'message', role: 'user', content: 'And tomorrow?' },
    ]);

    const before = upstream.received.length;
    await expect(client.responses.create({ model: 'gpt-then-claude', input })).rejects.toMatchObject({
      status: 400,
      error: { param: 'input[1].type', code: 'unsupported_item' },
      message: expect.stringMatching(/'web_search_call' items .*'anthropic'/),
    });
    expect(upstream.received.length).toBe(before);
  });

  test('openai-compatible: a preset whose server serves the Responses API (xai) is native; any other server is translated', async () => {
    serve('/xai/v1/responses', answerWith('Grok here.'));
    serve('/compat/v1/chat/completions', (_req, res) => json(res, 200, openAiCompletion('Llama here.', 'llama-3')));
    const grok = await client.responses.create({ model: 'grok', input: 'Who?' });
    expect(grok.output_text).toBe('Grok here.');
    expect(sentTo('/xai/v1/responses').at(-1)!.body).toEqual({ model: 'grok-4', input: 'Who?', store: false });
    const compat = await client.responses.create({ model: 'compat', input: 'Who?' });
    expect(compat.output_text).toBe('Llama here.');
    expect(sentTo('/compat/v1/chat/completions').at(-1)!.body).toMatchObject({ model: 'llama-3', messages: [{ role: 'user', content: 'Who?' }] });
    await expect(client.responses.create({ model: 'compat', input: 'x', tools: [{ type: 'web_search' }] })).rejects.toMatchObject({ status: 400 });
  });

  test("a provider's responsesApi overrides its type's default: a bare openai-compatible server opted in is native, an Azure resource opted out is translated", async () => {
    serve('/vllm/v1/responses', answerWith('Qwen here.'));
    serve('/old/openai/deployments/legacy-gpt4o/chat/completions', (_req, res) => json(res, 200, openAiCompletion('Legacy Azure here.', 'gpt-4o')));
    const vllm = await client.responses.create({ model: 'vllm', input: 'Who?' });
    expect(vllm.output_text).toBe('Qwen here.');
    expect(sentTo('/vllm/v1/responses').at(-1)!.body).toEqual({ model: 'qwen-3', input: 'Who?', store: false });
    const old = await client.responses.create({ model: 'azure-old', input: 'Who?' });
    expect(old.output_text).toBe('Legacy Azure here.');
    expect(sentTo('/old/openai/deployments/legacy-gpt4o/chat/completions').at(-1)!.body).toMatchObject({ messages: [{ role: 'user', content: 'Who?' }] });
    expect(sentTo('/old/openai/v1/responses')).toEqual([]);
    // Translated, so a built-in tool has nobody to run it.
    await expect(client.responses.create({ model: 'azure-old', input: 'x', tools: [{ type: 'web_search' }] })).rejects.toMatchObject({ status: 400 });
  });
});
