/**
 * The anthropic provider behind the gateway: the official openai client calls, a fake Anthropic
 * on 127.0.0.1 answers in Messages wire format, and the test checks both sides.
 */
import OpenAI from 'openai';
import { json, type FakeUpstream } from '../../helpers/fake-upstream';
import type { TestGateway } from '../../helpers/gateway';
import { readChatStream, startOpenAiHarness } from '../../helpers/openai-harness';
import { anthropicMessage, anthropicTextEvents, anthropicToolEvents, writeAnthropicSse } from '../../helpers/anthropic-wire';

const PROVIDER_KEY = 'sk-ant-api03-provider-secret-0123456789';
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

describe('anthropic provider', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let client: OpenAI;
  let key: string;

  beforeAll(async () => {
    ({ upstream, gw, key, client } = await startOpenAiHarness(
      (url) => ({
        providers: { anthropic: { type: 'anthropic', baseUrl: url, apiKey: { env: 'ANTHROPIC_KEY' } } },
        models: { claude: { targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] } },
      }),
      { keyName: 'anthropic-test', env: { ANTHROPIC_KEY: PROVIDER_KEY } },
    ));
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  test('JSON: system prompt, headers and max_tokens go upstream in Messages format; answer and usage come back', async () => {
    upstream.handle((_r, res) =>
      json(res, 200, anthropicMessage([{ type: 'text', text: 'Bonjour' }], { usage: { input_tokens: 12, output_tokens: 6, cache_read_input_tokens: 4 } })),
    );
    const out = await client.chat.completions.create({
      model: 'claude',
      messages: [
        { role: 'system', content: 'Answer in French.' },
        { role: 'user', content: 'Hello' },
      ],
      temperature: 1.5,
      stop: 'END',
      max_tokens: 100,
    });
    const got = upstream.received.at(-1)!;
    expect(got.path).toBe('/v1/messages');
    expect(got.headers['x-api-key']).toBe(PROVIDER_KEY);
    expect(got.headers['anthropic-version']).toBe('2023-06-01');
    expect(got.headers.authorization).toBeUndefined();
    expect(got.body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 100,
      system: 'Answer in French.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }],
      temperature: 1,
      stop_sequences: ['END'],
    });
    expect(out.choices[0].message.content).toBe('Bonjour');
    expect(out.choices[0].finish_reason).toBe('stop');
    expect(out.usage).toMatchObject({ prompt_tokens: 16, completion_tokens: 6, total_tokens: 22 });
  });

  test('tools: definitions, tool_choice, earlier tool calls and tool results are translated; tool_use comes back as tool_calls', async () => {
    upstream.handle((_r, res) =>
      json(res, 200, anthropicMessage([{ type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { city: 'Lyon' } }], { stop_reason: 'tool_use' })),
    );
    const out = await client.chat.completions.create({
      model: 'claude',
      tools: [
        {
          type: 'function',
          function: { name: 'get_weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
        },
      ],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      messages: [
        { role: 'user', content: 'Weather in Paris and Lyon?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: '18C' },
      ],
    });
    const body = upstream.received.at(-1)!.body;
    expect(body.tools).toEqual([
      { name: 'get_weather', description: 'Weather by city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
    ]);
    expect(body.tool_choice).toEqual({ type: 'tool', name: 'get_weather' });
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Lyon?' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '18C' }] },
    ]);
    expect(out.choices[0].finish_reason).toBe('tool_calls');
    expect(out.choices[0].message.tool_calls).toEqual([{ id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lyon"}' } }]);
  });

  test('images: a base64 data URL becomes a base64 source, an http URL a url source (Anthropic fetches it, not the gateway)', async () => {
    upstream.handle((_r, res) => json(res, 200, anthropicMessage([{ type: 'text', text: 'two images' }])));
    await client.chat.completions.create({
      model: 'claude',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
    });
    expect(upstream.received.at(-1)!.body.messages[0].content).toEqual([
      { type: 'text', text: 'Compare' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ]);
  });

  test('stop reasons: max_tokens → length, refusal → content_filter', async () => {
    upstream.handle((_r, res) => json(res, 200, anthropicMessage([{ type: 'text', text: 'cut' }], { stop_reason: 'max_tokens' })));
    const a = await client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'x' }] });
    expect(a.choices[0].finish_reason).toBe('length');
    upstream.handle((_r, res) => json(res, 200, anthropicMessage([], { stop_reason: 'refusal' })));
    const b = await client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'x' }] });
    expect(b.choices[0].finish_reason).toBe('content_filter');
    expect(b.choices[0].message.content).toBeNull();
  });

  test('streaming text: chunks arrive as translated deltas, with usage when asked', async () => {
    upstream.handle((_r, res) => writeAnthropicSse(res, anthropicTextEvents(['Hel', 'lo'], { input: 9, output: 2 })));
    const stream = await client.chat.completions.create({
      model: 'claude',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'hi' }],
    });
    const parts: string[] = [];
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const c of stream) {
      parts.push(c.choices[0]?.delta?.content ?? '');
      finish = c.choices[0]?.finish_reason ?? finish;
      if (c.usage) usage = c.usage;
    }
    expect(upstream.received.at(-1)!.body.stream).toBe(true);
    expect(parts.join('')).toBe('Hello');
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 2 });
  });

  test('streaming tool call: input_json_delta fragments become tool_calls argument deltas', async () => {
    upstream.handle((_r, res) => writeAnthropicSse(res, anthropicToolEvents('toolu_9', 'lookup', ['{"q":', '"cats"}'])));
    const stream = await client.chat.completions.create({
      model: 'claude',
      stream: true,
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
      messages: [{ role: 'user', content: 'find cats' }],
    });
    let text = '';
    let args = '';
    let id: string | undefined;
    let name: string | undefined;
    let finish: string | null = null;
    for await (const c of stream) {
      const d = c.choices[0]?.delta;
      text += d?.content ?? '';
      for (const tc of d?.tool_calls ?? []) {
        expect(tc.index).toBe(0);
        id ??= tc.id;
        name ??= tc.function?.name;
        args += tc.function?.arguments ?? '';
      }
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe('Checking.');
    expect({ id, name, args: JSON.parse(args) }).toEqual({ id: 'toolu_9', name: 'lookup', args: { q: 'cats' } });
    expect(finish).toBe('tool_calls');
  });

  describe('response_format (JSON through a forced tool)', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' }, celsius: { type: 'number' } }, required: ['city', 'celsius'] };

    test('json_schema: the schema goes up as the forced json_response tool; its input comes back as the message content', async () => {
      upstream.handle((_r, res) =>
        json(
          res,
          200,
          anthropicMessage([{ type: 'tool_use', id: 'toolu_j', name: 'json_response', input: { city: 'Lyon', celsius: 21 } }], { stop_reason: 'tool_use' }),
        ),
      );
      const out = await client.chat.completions.create({
        model: 'claude',
        messages: [{ role: 'user', content: 'Weather in Lyon as JSON' }],
        response_format: { type: 'json_schema', json_schema: { name: 'weather', schema, strict: true } },
      });
      const body = upstream.received.at(-1)!.body;
      expect(body.tools).toEqual([
        { name: 'json_response', description: "Give your complete answer as JSON matching the 'weather' schema.", input_schema: schema },
      ]);
      expect(body.tool_choice).toEqual({ type: 'tool', name: 'json_response' });
      expect(body.response_format).toBeUndefined();
      expect(JSON.parse(out.choices[0].message.content!)).toEqual({ city: 'Lyon', celsius: 21 });
      expect(out.choices[0].message.tool_calls).toBeUndefined();
      expect(out.choices[0].finish_reason).toBe('stop');
    });

    test('json_object, streaming: input_json_delta fragments arrive as content deltas and the stream finishes with stop', async () => {
      upstream.handle((_r, res) =>
        writeAnthropicSse(
          res,
          anthropicToolEvents('toolu_s', 'json_response', ['{"ok":', ' true}']).filter((e) => (e as { index?: number }).index !== 0),
        ),
      );
      const stream = await client.chat.completions.create({
        model: 'claude',
        stream: true,
        messages: [{ role: 'user', content: 'JSON please' }],
        response_format: { type: 'json_object' },
      });
      const { content, finish, toolCallChunks } = await readChatStream(stream);
      const body = upstream.received.at(-1)!.body;
      expect(body.tools).toEqual([{ name: 'json_response', description: 'Give your complete answer as a JSON object.', input_schema: { type: 'object' } }]);
      expect([JSON.parse(content), finish, toolCallChunks]).toEqual([{ ok: true }, 'stop', 0]);
    });

    test("with the client's own tools the model must call one of them or answer in JSON; a client tool call comes back as usual", async () => {
      upstream.handle((_r, res) =>
        writeAnthropicSse(
          res,
          anthropicToolEvents('toolu_c', 'lookup', ['{"q":"cats"}']).filter((e) => (e as { index?: number }).index !== 0),
        ),
      );
      const stream = await client.chat.completions.create({
        model: 'claude',
        stream: true,
        tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
        messages: [{ role: 'user', content: 'find cats' }],
        response_format: { type: 'json_object' },
      });
      const calls: Array<{ index: number; name?: string; args: string }> = [];
      let finish: string | null = null;
      for await (const c of stream) {
        for (const tc of c.choices[0]?.delta?.tool_calls ?? []) {
          calls[tc.index] ??= { index: tc.index, name: tc.function?.name, args: '' };
          calls[tc.index].args += tc.function?.arguments ?? '';
        }
        finish = c.choices[0]?.finish_reason ?? finish;
      }
      const body = upstream.received.at(-1)!.body;
      expect(body.tools.map((t: { name: string }) => t.name)).toEqual(['lookup', 'json_response']);
      expect(body.tool_choice).toEqual({ type: 'any' });
      expect(calls).toEqual([{ index: 0, name: 'lookup', args: '{"q":"cats"}' }]);
      expect(finish).toBe('tool_calls');
    });

    test('a malformed response_format, or a client tool named json_response, is a 400 in OpenAI shape before any upstream call', async () => {
      const before = upstream.received.length;
      for (const bad of [
        { response_format: { type: 'json_schema', json_schema: { name: 'x' } } },
        { response_format: { type: 'yaml' } },
        { response_format: 'json' },
        { response_format: { type: 'json_object' }, tools: [{ type: 'function', function: { name: 'json_response', parameters: { type: 'object' } } }] },
      ]) {
        const err = await client.chat.completions
          .create({ model: 'claude', messages: [{ role: 'user', content: 'x' }], ...(bad as object) } as never)
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(OpenAI.BadRequestError);
        expect((err as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({
          type: 'invalid_request_error',
          message: expect.stringMatching(/response_format|json_response/),
        });
      }
      expect(upstream.received.length).toBe(before);
    });
  });

  test('a stream cut before message_stop ends with an in-band error, never [DONE]', async () => {
    upstream.handle((_r, res) => writeAnthropicSse(res, anthropicTextEvents(['partial']), { end: false }));
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude', stream: true, messages: [{ role: 'user', content: 'x' }] }),
    });
    const text = await res.text();
    expect(text).toContain('partial');
    expect(text).toContain('"error"');
    expect(text).not.toContain('[DONE]');
  });

  test('an in-band overloaded_error mid-stream is reported in-band, with the provider message', async () => {
    upstream.handle((_r, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const e of anthropicTextEvents(['Hi']).slice(0, 4)) res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
      res.end(`event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n`);
    });
    const res = await gw.post('/v1/chat/completions', { model: 'claude', stream: true, messages: [{ role: 'user', content: 'x' }] }, key);
    const text = await res.text();
    expect(text).toMatch(/Overloaded/);
    expect(text).not.toContain('[DONE]');
  });

  describe('upstream errors', () => {
    const call = () => gw.post('/v1/chat/completions', { model: 'claude', messages: [{ role: 'user', content: 'x' }] }, key);

    test('429 with Retry-After → 429 with Retry-After and the provider message', async () => {
      upstream.handle((_r, res) =>
        json(
          res,
          429,
          { type: 'error', error: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' } },
          { 'retry-after': '7' },
        ),
      );
      const res = await call();
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('7');
      expect((await res.json()).error.message).toMatch(/per-minute rate limit/);
    });

    test('400 invalid_request_error → 400 with the provider message (the client can fix it)', async () => {
      upstream.handle((_r, res) =>
        json(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'messages.0.content: text content blocks must be non-empty' } }),
      );
      const res = await call();
      expect(res.status).toBe(400);
      const body = await res.json();
      expect(body.error.type).toBe('invalid_request_error');
      expect(body.error.message).toMatch(/must be non-empty/);
    });

    test('529 overloaded → 503 overloaded; 500 → 502', async () => {
      upstream.handle((_r, res) => json(res, 529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
      const a = await call();
      expect(a.status).toBe(503);
      expect((await a.json()).error.type).toBe('overloaded_error');
      upstream.handle((_r, res) => json(res, 500, { type: 'error', error: { type: 'api_error', message: 'Internal server error' } }));
      expect((await call()).status).toBe(502);
    });

    test('the provider key never reaches the client, even when the upstream echoes it', async () => {
      upstream.handle((_r, res) => json(res, 401, { type: 'error', error: { type: 'authentication_error', message: `invalid x-api-key ${PROVIDER_KEY}` } }));
      const res = await call();
      const text = await res.text();
      expect(res.status).toBe(502);
      expect(text).not.toContain(PROVIDER_KEY);
      upstream.handle((_r, res2) => json(res2, 400, { type: 'error', error: { type: 'invalid_request_error', message: `bad key ${PROVIDER_KEY} used` } }));
      const res2 = await call();
      expect(await res2.text()).not.toContain(PROVIDER_KEY);
    });
  });
});
