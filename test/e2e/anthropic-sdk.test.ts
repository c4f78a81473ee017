/**
 * The official @anthropic-ai/sdk client against the local gateway's /v1/messages: routed to a fake
 * Anthropic (the body passes through natively) and to a fake OpenAI (translated both ways).
 */
import Anthropic from '@anthropic-ai/sdk';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { json, openAiChunks, openAiCompletion, startFakeUpstream, type FakeUpstream, writeSse } from '../helpers/fake-upstream';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { anthropicMessage, anthropicTextEvents, writeAnthropicSse } from '../helpers/anthropic-wire';

const ANTHROPIC_KEY = 'sk-ant-api03-upstream-secret-abcdef012345';
const OPENAI_KEY = 'sk-proj-upstream-secret-abcdef0123456789';
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

describe('official @anthropic-ai/sdk client on /v1/messages', () => {
  let anthropicUp: FakeUpstream;
  let openaiUp: FakeUpstream;
  let gw: TestGateway;
  let client: Anthropic;
  let key: string;

  beforeAll(async () => {
    anthropicUp = await startFakeUpstream();
    openaiUp = await startFakeUpstream();
    gw = await startTestGateway(
      {
        providers: {
          anthropic: { type: 'anthropic', baseUrl: anthropicUp.url, apiKey: { env: 'ANTHROPIC_KEY' } },
          openai: { type: 'openai', baseUrl: `${openaiUp.url}/v1`, apiKey: { env: 'OPENAI_KEY' } },
        },
        models: {
          claude: { targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
          gpt: { targets: [{ provider: 'openai', model: 'gpt-4o' }] },
          'claude-then-gpt': {
            targets: [
              { provider: 'anthropic', model: 'claude-sonnet-4-5' },
              { provider: 'openai', model: 'gpt-4o' },
            ],
          },
        },
      },
      { env: { ANTHROPIC_KEY, OPENAI_KEY } },
    );
    ({ key } = await gw.createKey({ name: 'anthropic-sdk' }));
    client = new Anthropic({ baseURL: gw.url, apiKey: key, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await anthropicUp.close();
    await openaiUp.close();
  });

  describe('routed to Anthropic', () => {
    test('JSON: the client body reaches Anthropic unchanged except the model; the answer comes back as sent', async () => {
      const answer = anthropicMessage([
        { type: 'thinking', thinking: 'hmm', signature: 'sig' },
        { type: 'text', text: 'Hi there' },
      ]);
      anthropicUp.handle((_r, res) => json(res, 200, answer));
      const msg = await client.messages.create({
        model: 'claude',
        max_tokens: 64,
        system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
        messages: [{ role: 'user', content: 'Hello' }],
      });
      const got = anthropicUp.received.at(-1)!;
      expect(got.path).toBe('/v1/messages');
      expect(got.headers['x-api-key']).toBe(ANTHROPIC_KEY);
      expect(got.rawBody).not.toContain(key);
      expect(got.body).toEqual({
        model: 'claude-sonnet-4-5',
        max_tokens: 64,
        system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
        messages: [{ role: 'user', content: 'Hello' }],
      });
      expect(msg).toEqual(answer);
    });

    test('streaming: native events are replayed and the SDK assembles the message', async () => {
      anthropicUp.handle((_r, res) => writeAnthropicSse(res, anthropicTextEvents(['Hel', 'lo!'], { input: 8, output: 3 })));
      const stream = client.messages.stream({ model: 'claude', max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }] });
      const deltas: string[] = [];
      stream.on('text', (t) => deltas.push(t));
      const msg = await stream.finalMessage();
      expect(anthropicUp.received.at(-1)!.body.stream).toBe(true);
      expect(deltas).toEqual(['Hel', 'lo!']);
      expect(msg.content).toEqual([{ type: 'text', text: 'Hello!' }]);
      expect(msg.stop_reason).toBe('end_turn');
      expect(msg.usage).toMatchObject({ input_tokens: 8, output_tokens: 3 });
    });

    test("the client's anthropic-beta header reaches Anthropic (and only Anthropic); a malformed one is a 400", async () => {
      anthropicUp.handle((_r, res) => json(res, 200, anthropicMessage([{ type: 'text', text: 'ok' }])));
      await client.messages.create(
        { model: 'claude', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] },
        { headers: { 'anthropic-beta': 'context-1m-2025-08-07,token-efficient-tools-2025-02-19' } },
      );
      expect(anthropicUp.received.at(-1)!.headers['anthropic-beta']).toBe('context-1m-2025-08-07,token-efficient-tools-2025-02-19');
      openaiUp.handle((_r, res) => json(res, 200, openAiCompletion('ok')));
      await client.messages.create(
        { model: 'gpt', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] },
        { headers: { 'anthropic-beta': 'context-1m-2025-08-07' } },
      );
      expect(openaiUp.received.at(-1)!.headers['anthropic-beta']).toBeUndefined();
      const bad = await gw.post('/v1/messages', { model: 'claude', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }, key, {
        'anthropic-beta': 'beta; drop table',
      });
      expect(bad.status).toBe(400);
    });

    test('an Anthropic 429 is an Anthropic-style rate_limit_error with Retry-After', async () => {
      anthropicUp.handle((_r, res) => json(res, 429, { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }, { 'retry-after': '3' }));
      const res = await gw.post('/v1/messages', { model: 'claude', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }, key);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('3');
      const body = await res.json();
      expect(body).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
      expect(body.error.message).toMatch(/slow down/);
      await expect(client.messages.create({ model: 'claude', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(
        Anthropic.RateLimitError,
      );
    });

    test('falls back to OpenAI when Anthropic is overloaded (529), translating the request', async () => {
      anthropicUp.handle((_r, res) => json(res, 529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
      openaiUp.handle((_r, res) => json(res, 200, openAiCompletion('from gpt')));
      const msg = await client.messages.create({ model: 'claude-then-gpt', max_tokens: 32, messages: [{ role: 'user', content: 'Hello' }] });
      expect(msg.content).toEqual([{ type: 'text', text: 'from gpt' }]);
      expect(openaiUp.received.at(-1)!.body.messages).toEqual([{ role: 'user', content: 'Hello' }]);
    });
  });

  describe('routed to OpenAI (translated)', () => {
    test('JSON: system, images, tools and tool results are translated; the answer is an Anthropic message', async () => {
      openaiUp.handle((_r, res) =>
        json(res, 200, {
          ...openAiCompletion(''),
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: 'Let me check.',
                tool_calls: [{ id: 'call_7', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }],
              },
              finish_reason: 'tool_calls',
            },
          ],
          usage: { prompt_tokens: 40, completion_tokens: 12, total_tokens: 52 },
        }),
      );
      const msg = await client.messages.create({
        model: 'gpt',
        max_tokens: 200,
        system: 'You are terse.',
        tools: [{ name: 'weather', description: 'Weather by city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
        tool_choice: { type: 'any' },
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Weather here?' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
            ],
          },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Bergen' } }] },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'call_1', content: 'rain' },
              { type: 'text', text: 'And Oslo?' },
            ],
          },
        ],
      });
      const sent = openaiUp.received.at(-1)!;
      expect(sent.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
      expect(sent.body).toMatchObject({
        model: 'gpt-4o',
        max_tokens: 200,
        tool_choice: 'required',
        tools: [
          {
            type: 'function',
            function: { name: 'weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
          },
        ],
        messages: [
          { role: 'system', content: 'You are terse.' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Weather here?' },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
            ],
          },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Bergen"}' } }] },
          { role: 'tool', tool_call_id: 'call_1', content: 'rain' },
          { role: 'user', content: [{ type: 'text', text: 'And Oslo?' }] },
        ],
      });
      expect(msg.type).toBe('message');
      expect(msg.content).toEqual([
        { type: 'text', text: 'Let me check.' },
        { type: 'tool_use', id: 'call_7', name: 'weather', input: { city: 'Oslo' } },
      ]);
      expect(msg.stop_reason).toBe('tool_use');
      expect(msg.usage).toMatchObject({ input_tokens: 40, output_tokens: 12 });
    });

    test('streaming text: OpenAI chunks become Anthropic events the SDK assembles', async () => {
      openaiUp.handle((_r, res) => writeSse(res, openAiChunks(['Good ', 'day'], 'gpt-4o', { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 })));
      const stream = client.messages.stream({ model: 'gpt', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] });
      const types: string[] = [];
      stream.on('streamEvent', (e) => types.push(e.type));
      const msg = await stream.finalMessage();
      expect(types).toEqual([
        'message_start',
        'content_block_start',
        'content_block_delta',
        'content_block_delta',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ]);
      expect(msg.content).toEqual([{ type: 'text', text: 'Good day' }]);
      expect(msg.stop_reason).toBe('end_turn');
      expect(msg.usage.output_tokens).toBe(2);
    });

    test('streaming tool call: OpenAI tool_calls deltas become a tool_use block with input_json_delta', async () => {
      const base = { id: 'chatcmpl-t', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o' };
      openaiUp.handle((_r, res) =>
        writeSse(res, [
          {
            ...base,
            choices: [
              {
                index: 0,
                delta: {
                  role: 'assistant',
                  content: null,
                  tool_calls: [{ index: 0, id: 'call_x', type: 'function', function: { name: 'weather', arguments: '' } }],
                },
                finish_reason: null,
              },
            ],
          },
          { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }, finish_reason: null }] },
          { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"Rome"}' } }] }, finish_reason: null }] },
          { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
          { ...base, choices: [], usage: { prompt_tokens: 30, completion_tokens: 9, total_tokens: 39 } },
        ]),
      );
      const stream = client.messages.stream({
        model: 'gpt',
        max_tokens: 64,
        tools: [{ name: 'weather', input_schema: { type: 'object' } }],
        messages: [{ role: 'user', content: 'Rome?' }],
      });
      const msg = await stream.finalMessage();
      expect(msg.content).toEqual([{ type: 'tool_use', id: 'call_x', name: 'weather', input: { city: 'Rome' } }]);
      expect(msg.stop_reason).toBe('tool_use');
      expect(msg.usage.output_tokens).toBe(9);
    });

    test('a stream that fails after its first byte ends with event: error and no message_stop', async () => {
      openaiUp.handle((_r, res) => writeSse(res, openAiChunks(['partial'], 'gpt-4o').slice(0, 2), { done: false }));
      const res = await gw.post('/v1/messages', { model: 'gpt', max_tokens: 5, stream: true, messages: [{ role: 'user', content: 'x' }] }, key);
      const text = await res.text();
      expect(text).toContain('partial');
      expect(text).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"api_error"/);
      expect(text).not.toContain('message_stop');
      await expect(
        (async () => {
          const s = client.messages.stream({ model: 'gpt', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
          await s.finalMessage();
        })(),
      ).rejects.toThrow();
    });

    test('request errors are Anthropic-style: missing max_tokens, unknown model, bad key', async () => {
      const noMax = await gw.post('/v1/messages', { model: 'gpt', messages: [{ role: 'user', content: 'x' }] }, key);
      expect(noMax.status).toBe(400);
      expect(await noMax.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringMatching(/max_tokens/) } });
      const unknown = await gw.post('/v1/messages', { model: 'nope', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }, key);
      expect(unknown.status).toBe(404);
      expect((await unknown.json()).error.type).toBe('not_found_error');
      await expect(
        new Anthropic({ baseURL: gw.url, apiKey: 'sk-gw-wrong', maxRetries: 0 }).messages.create({
          model: 'gpt',
          max_tokens: 5,
          messages: [{ role: 'user', content: 'x' }],
        }),
      ).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    });

    test('the request log records /v1/messages like any endpoint: served provider, real usage, stream flag', async () => {
      openaiUp.handle((_r, res) => writeSse(res, openAiChunks(['lo', 'gged'], 'gpt-4o', { prompt_tokens: 13, completion_tokens: 2, total_tokens: 15 })));
      const res = await gw.post('/v1/messages', { model: 'gpt', max_tokens: 9, stream: true, messages: [{ role: 'user', content: 'log me' }] }, key);
      await res.text();
      const requestId = res.headers.get('x-request-id')!;
      const logDir = join(gw.dataDir, 'logs');
      const findRecord = () =>
        readdirSync(logDir, { recursive: true, encoding: 'utf8' })
          .filter((f) => f.endsWith('.jsonl'))
          .flatMap((f) => readFileSync(join(logDir, f), 'utf8').split('\n').filter(Boolean))
          .map((l) => JSON.parse(l))
          .find((r) => r.request_id === requestId);
      // The record is written after the last byte (settle, then log): the client can see the end first.
      let record: ReturnType<typeof findRecord>;
      for (let i = 0; i < 100 && !record; i++) {
        await gw.gateway.flush();
        record = findRecord();
        if (!record) await new Promise((r) => setImmediate(r));
      }
      expect(record).toMatchObject({
        endpoint: '/v1/messages',
        requested_model: 'gpt',
        provider: 'openai',
        model: 'gpt-4o',
        status: 200,
        stream: true,
        prompt_tokens: 13,
        completion_tokens: 2,
      });
    });

    test('document blocks: a PDF or plain-text one reaches OpenAI as a file part; one only Anthropic reads (a URL source) is a clear 400, never a silent drop', async () => {
      openaiUp.handle((_r, res) => json(res, 200, openAiCompletion('read it')));
      const pdf = Buffer.from('%PDF-1.1 tiny').toString('base64');
      const out = await client.messages.create({
        model: 'gpt',
        max_tokens: 5,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: pdf }, title: 'tiny.pdf' },
              { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'doc' } },
              { type: 'text', text: 'Summarise.' },
            ],
          },
        ],
      });
      expect(out.content[0]).toMatchObject({ type: 'text', text: 'read it' });
      expect(openaiUp.received.at(-1)!.body.messages).toEqual([
        {
          role: 'user',
          content: [
            { type: 'file', file: { filename: 'tiny.pdf', file_data: `data:application/pdf;base64,${pdf}` } },
            { type: 'file', file: { file_data: `data:text/plain;base64,${Buffer.from('doc').toString('base64')}` } },
            { type: 'text', text: 'Summarise.' },
          ],
        },
      ]);

      const before = openaiUp.received.length;
      const res = await gw.post(
        '/v1/messages',
        {
          model: 'gpt',
          max_tokens: 5,
          messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'url', url: 'https://example.com/a.pdf' } }] }],
        },
        key,
      );
      expect(res.status).toBe(400);
      expect((await res.json()).error.message).toMatch(/document.*Anthropic/);
      expect(openaiUp.received.length).toBe(before);
    });
  });
});
