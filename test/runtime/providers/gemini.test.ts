/** The gemini provider behind the gateway: the official openai client calls, a fake Gemini API answers. */
import type OpenAI from 'openai';
import type { ServerResponse } from 'node:http';
import { json, type FakeUpstream } from '../../helpers/fake-upstream';
import type { TestGateway } from '../../helpers/gateway';
import { startOpenAiHarness } from '../../helpers/openai-harness';
import { FIXTURE_PDF_BASE64, FIXTURE_PDF_URL } from '../../helpers/files';

const PROVIDER_KEY = 'AIzaSyFakeProviderKey0123456789abcdef';
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

function geminiAnswer(parts: unknown[], finishReason = 'STOP', usage = { promptTokenCount: 14, candidatesTokenCount: 5, totalTokenCount: 19 }) {
  return {
    candidates: [{ index: 0, content: { role: 'model', parts }, finishReason }],
    usageMetadata: usage,
    modelVersion: 'gemini-2.5-flash',
    responseId: 'resp-abc',
  };
}

function writeGeminiSse(res: ServerResponse, events: unknown[]) {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const e of events) res.write(`data: ${JSON.stringify(e)}\r\n\r\n`);
  res.end();
}

describe('gemini provider', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let client: OpenAI;
  let key: string;

  beforeAll(async () => {
    ({ upstream, gw, key, client } = await startOpenAiHarness(
      (url) => ({
        providers: { gemini: { type: 'gemini', baseUrl: url, apiKey: { env: 'GEMINI_KEY' } } },
        models: {
          flash: { targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
          embed: { targets: [{ provider: 'gemini', model: 'text-embedding-004' }] },
        },
      }),
      { keyName: 'gemini-test', env: { GEMINI_KEY: PROVIDER_KEY } },
    ));
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  test('JSON: system instruction, generation config and key header go upstream; text, finish and usage come back', async () => {
    upstream.handle((_r, res) =>
      json(
        res,
        200,
        geminiAnswer([{ text: 'thinking...', thought: true }, { text: 'Hallo' }], 'STOP', {
          promptTokenCount: 14,
          candidatesTokenCount: 5,
          thoughtsTokenCount: 3,
          totalTokenCount: 22,
        } as never),
      ),
    );
    const out = await client.chat.completions.create({
      model: 'flash',
      messages: [
        { role: 'system', content: 'Answer in German.' },
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Hi! Language?' },
        { role: 'user', content: 'German' },
      ],
      max_tokens: 50,
      temperature: 0.3,
      stop: ['END'],
      response_format: { type: 'json_object' },
    });
    const got = upstream.received.at(-1)!;
    expect(got.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(got.headers['x-goog-api-key']).toBe(PROVIDER_KEY);
    expect(got.path).not.toContain(PROVIDER_KEY);
    expect(got.body).toEqual({
      contents: [
        { role: 'user', parts: [{ text: 'Hello' }] },
        { role: 'model', parts: [{ text: 'Hi! Language?' }] },
        { role: 'user', parts: [{ text: 'German' }] },
      ],
      systemInstruction: { parts: [{ text: 'Answer in German.' }] },
      generationConfig: { maxOutputTokens: 50, temperature: 0.3, stopSequences: ['END'], responseMimeType: 'application/json' },
    });
    expect(out.choices[0].message.content).toBe('Hallo');
    expect(out.choices[0].finish_reason).toBe('stop');
    expect(out.usage).toMatchObject({ prompt_tokens: 14, completion_tokens: 8, total_tokens: 22 });
  });

  test('tools: function declarations (schema cleaned), tool config, functionCall/functionResponse history; functionCall → tool_calls', async () => {
    upstream.handle((_r, res) => json(res, 200, geminiAnswer([{ functionCall: { name: 'get_time', args: { tz: 'UTC' } } }])));
    const out = await client.chat.completions.create({
      model: 'flash',
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_time',
            description: 'Current time',
            parameters: {
              $schema: 'http://json-schema.org/draft-07/schema#',
              type: 'object',
              properties: { tz: { type: 'string' } },
              additionalProperties: false,
            },
          },
        },
      ],
      tool_choice: { type: 'function', function: { name: 'get_time' } },
      messages: [
        { role: 'user', content: 'Time in Tokyo and UTC?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'get_time', arguments: '{"tz":"Asia/Tokyo"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_a', content: '{"time":"09:00"}' },
        { role: 'user', content: 'and UTC' },
      ],
    });
    const body = upstream.received.at(-1)!.body;
    expect(body.tools).toEqual([
      { functionDeclarations: [{ name: 'get_time', description: 'Current time', parameters: { type: 'object', properties: { tz: { type: 'string' } } } }] },
    ]);
    expect(body.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_time'] } });
    expect(body.contents).toEqual([
      { role: 'user', parts: [{ text: 'Time in Tokyo and UTC?' }] },
      { role: 'model', parts: [{ functionCall: { name: 'get_time', args: { tz: 'Asia/Tokyo' } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_time', response: { time: '09:00' } } }, { text: 'and UTC' }] },
    ]);
    expect(out.choices[0].finish_reason).toBe('tool_calls');
    const tc = out.choices[0].message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(tc.function).toEqual({ name: 'get_time', arguments: '{"tz":"UTC"}' });
    expect(tc.id).toMatch(/^call_/);
  });

  test('thought signatures survive the round trip through the OpenAI format (carried in the tool call id)', async () => {
    upstream.handle((_r, res) => json(res, 200, geminiAnswer([{ functionCall: { name: 'get_time', args: {} }, thoughtSignature: 'CiQB0e2Kb/sig+==' }])));
    const first = await client.chat.completions.create({
      model: 'flash',
      tools: [{ type: 'function', function: { name: 'get_time' } }],
      messages: [{ role: 'user', content: 'time?' }],
    });
    const call = first.choices[0].message.tool_calls![0];
    upstream.handle((_r, res) => json(res, 200, geminiAnswer([{ text: 'It is noon.' }])));
    await client.chat.completions.create({
      model: 'flash',
      tools: [{ type: 'function', function: { name: 'get_time' } }],
      messages: [{ role: 'user', content: 'time?' }, first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: 'noon' }],
    });
    expect(upstream.received.at(-1)!.body.contents.slice(1)).toEqual([
      { role: 'model', parts: [{ functionCall: { name: 'get_time', args: {} }, thoughtSignature: 'CiQB0e2Kb/sig+==' }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_time', response: { content: 'noon' } } }] },
    ]);
  });

  test('images: base64 → inlineData, http URL → fileData (Gemini fetches it, the gateway does not)', async () => {
    upstream.handle((_r, res) => json(res, 200, geminiAnswer([{ text: 'ok' }])));
    await client.chat.completions.create({
      model: 'flash',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
            { type: 'image_url', image_url: { url: 'https://example.com/a/photo.webp?x=1' } },
          ],
        },
      ],
    });
    expect(upstream.received.at(-1)!.body.contents[0].parts).toEqual([
      { text: 'What?' },
      { inlineData: { mimeType: 'image/png', data: PNG } },
      { fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/a/photo.webp?x=1' } },
    ]);
  });

  test('files: a PDF goes as inlineData with its media type; a type Gemini cannot read is a 400 naming it, nothing sent', async () => {
    upstream.handle((_r, res) => json(res, 200, geminiAnswer([{ text: 'A fixture.' }])));
    await client.chat.completions.create({
      model: 'flash',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Title?' },
            { type: 'file', file: { filename: 'openresponses-fixture.pdf', file_data: FIXTURE_PDF_URL } },
          ],
        },
      ],
    });
    expect(upstream.received.at(-1)!.body.contents[0].parts).toEqual([
      { text: 'Title?' },
      { inlineData: { mimeType: 'application/pdf', data: FIXTURE_PDF_BASE64 } },
    ]);

    const before = upstream.received.length;
    await expect(
      client.chat.completions.create({
        model: 'flash',
        messages: [{ role: 'user', content: [{ type: 'file', file: { filename: 'old.doc', file_data: 'data:application/msword;base64,0M8R4A==' } }] }],
      }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/'application\/msword'.*Gemini/) });
    expect(upstream.received.length).toBe(before);
  });

  test('finish reasons: SAFETY → content_filter, MAX_TOKENS → length, blocked prompt → content_filter', async () => {
    upstream.handle((_r, res) => json(res, 200, geminiAnswer([], 'SAFETY')));
    expect((await client.chat.completions.create({ model: 'flash', messages: [{ role: 'user', content: 'x' }] })).choices[0].finish_reason).toBe(
      'content_filter',
    );
    upstream.handle((_r, res) => json(res, 200, geminiAnswer([{ text: 'trunc' }], 'MAX_TOKENS')));
    expect((await client.chat.completions.create({ model: 'flash', messages: [{ role: 'user', content: 'x' }] })).choices[0].finish_reason).toBe('length');
    upstream.handle((_r, res) => json(res, 200, { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 3, totalTokenCount: 3 } }));
    const blocked = await client.chat.completions.create({ model: 'flash', messages: [{ role: 'user', content: 'x' }] });
    expect(blocked.choices[0]).toMatchObject({ finish_reason: 'content_filter', message: { content: null } });
  });

  test('streaming: alt=sse events become deltas; tool calls stream; usage at the end', async () => {
    upstream.handle((_r, res) =>
      writeGeminiSse(res, [
        { candidates: [{ index: 0, content: { role: 'model', parts: [{ text: 'Guten ' }] } }], responseId: 'r1', modelVersion: 'gemini-2.5-flash' },
        { candidates: [{ index: 0, content: { role: 'model', parts: [{ text: 'Tag' }] } }], responseId: 'r1' },
        {
          candidates: [{ index: 0, content: { role: 'model', parts: [{ functionCall: { name: 'f', args: { a: 1 } } }] }, finishReason: 'STOP' }],
          usageMetadata: { promptTokenCount: 7, candidatesTokenCount: 4, totalTokenCount: 11 },
          responseId: 'r1',
        },
      ]),
    );
    const stream = await client.chat.completions.create({
      model: 'flash',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'hi' }],
    });
    let text = '';
    const calls: unknown[] = [];
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const c of stream) {
      text += c.choices[0]?.delta?.content ?? '';
      calls.push(...(c.choices[0]?.delta?.tool_calls ?? []));
      finish = c.choices[0]?.finish_reason ?? finish;
      if (c.usage) usage = c.usage;
    }
    const got = upstream.received.at(-1)!;
    expect(got.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    expect(text).toBe('Guten Tag');
    expect(calls).toEqual([{ index: 0, id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'f', arguments: '{"a":1}' } }]);
    expect(finish).toBe('tool_calls');
    expect(usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 4 });
  });

  test('a stream that ends before any finishReason is cut: in-band error, no [DONE]', async () => {
    upstream.handle((_r, res) => writeGeminiSse(res, [{ candidates: [{ index: 0, content: { role: 'model', parts: [{ text: 'half' }] } }] }]));
    const text = await (await gw.post('/v1/chat/completions', { model: 'flash', stream: true, messages: [{ role: 'user', content: 'x' }] }, key)).text();
    expect(text).toContain('half');
    expect(text).toContain('"error"');
    expect(text).not.toContain('[DONE]');
  });

  test('embeddings: batchEmbedContents with every input, vectors returned in order', async () => {
    upstream.handle((_r, res) => json(res, 200, { embeddings: [{ values: [0.5, -0.25] }, { values: [0.125, 1] }] }));
    const out = await client.embeddings.create({ model: 'embed', input: ['one', 'two'], dimensions: 2 });
    const got = upstream.received.at(-1)!;
    expect(got.path).toBe('/v1beta/models/text-embedding-004:batchEmbedContents');
    expect(got.body.requests).toEqual([
      { model: 'models/text-embedding-004', content: { parts: [{ text: 'one' }] }, outputDimensionality: 2 },
      { model: 'models/text-embedding-004', content: { parts: [{ text: 'two' }] }, outputDimensionality: 2 },
    ]);
    expect(out.data.map((d) => d.embedding)).toEqual([
      [0.5, -0.25],
      [0.125, 1],
    ]);
  });

  test('a client-chosen model name stays one path segment (no path traversal upstream)', async () => {
    upstream.handle((_r, res) => json(res, 200, geminiAnswer([{ text: 'ok' }])));
    await gw.post('/v1/chat/completions', { model: 'gemini/v1/evil?x=', messages: [{ role: 'user', content: 'x' }] }, key);
    expect(upstream.received.at(-1)!.path).toBe('/v1beta/models/v1%2Fevil%3Fx%3D:generateContent');
  });

  describe('upstream errors', () => {
    const call = () => gw.post('/v1/chat/completions', { model: 'flash', messages: [{ role: 'user', content: 'x' }] }, key);
    test('429 RESOURCE_EXHAUSTED → 429 with Retry-After', async () => {
      upstream.handle((_r, res) =>
        json(
          res,
          429,
          { error: { code: 429, message: 'Resource has been exhausted (e.g. check quota).', status: 'RESOURCE_EXHAUSTED' } },
          { 'retry-after': '12' },
        ),
      );
      const res = await call();
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('12');
      expect((await res.json()).error.message).toMatch(/Resource has been exhausted/);
    });
    test('429 with the wait only in the body (google.rpc.RetryInfo) → Retry-After from retryDelay', async () => {
      upstream.handle((_r, res) =>
        json(res, 429, {
          error: {
            code: 429,
            message: 'You exceeded your current quota.',
            status: 'RESOURCE_EXHAUSTED',
            details: [
              { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [] },
              { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '27s' },
            ],
          },
        }),
      );
      const res = await call();
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('27');
    });
    test('400 INVALID_ARGUMENT → 400 with the provider message; 503 UNAVAILABLE → 503; 500 → 502', async () => {
      upstream.handle((_r, res) => json(res, 400, { error: { code: 400, message: 'Invalid JSON payload received.', status: 'INVALID_ARGUMENT' } }));
      const a = await call();
      expect(a.status).toBe(400);
      expect((await a.json()).error).toMatchObject({ message: expect.stringMatching(/Invalid JSON payload/), code: 'INVALID_ARGUMENT' });
      upstream.handle((_r, res) => json(res, 503, { error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } }));
      expect((await call()).status).toBe(503);
      upstream.handle((_r, res) => json(res, 500, { error: { code: 500, message: 'Internal error', status: 'INTERNAL' } }));
      expect((await call()).status).toBe(502);
    });
    test('an API key echoed by the upstream never reaches the client', async () => {
      upstream.handle((_r, res) => json(res, 400, { error: { code: 400, message: `API key not valid: ${PROVIDER_KEY}`, status: 'INVALID_ARGUMENT' } }));
      expect(await (await call()).text()).not.toContain(PROVIDER_KEY);
    });
  });
});
