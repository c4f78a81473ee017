import type { ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { json, openAiChunks, openAiCompletion, type FakeUpstream, writeSse } from '../helpers/fake-upstream';
import type { TestGateway } from '../helpers/gateway';
import { startOpenAiHarness } from '../helpers/openai-harness';
import { MOCK_EMBEDDING_DIMENSIONS } from '../../lambda/providers/mock/embedding';

const PROVIDER_KEY = 'sk-real-provider-key-0123456789';

describe('official openai client through the local gateway', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let client: OpenAI;
  let key: string;

  beforeAll(async () => {
    ({ upstream, gw, key, client } = await startOpenAiHarness(
      (url) => ({
        providers: { openai: { type: 'openai', baseUrl: `${url}/v1`, apiKey: { env: 'OPENAI_KEY' } }, mock: { type: 'mock' } },
        models: {
          'gpt-4o': { targets: [{ provider: 'openai', model: 'gpt-4o-2024-08-06' }] },
          'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] },
        },
      }),
      { keyName: 'sdk', env: { OPENAI_KEY: PROVIDER_KEY } },
    ));
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  test('chat JSON: answer passes through and the upstream gets the provider key, never the virtual key', async () => {
    upstream.handle((_req, res) => json(res, 200, openAiCompletion('Hello!')));
    const out = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(out.choices[0].message.content).toBe('Hello!');
    const got = upstream.received.at(-1)!;
    expect(got.path).toBe('/v1/chat/completions');
    expect(got.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    expect(got.rawBody).not.toContain(key);
    expect(got.body.model).toBe('gpt-4o-2024-08-06');
  });

  test('chat streaming: chunks reach the client, usage chunk hidden when not asked for', async () => {
    upstream.handle((_req, res) => writeSse(res, openAiChunks(['Hel', 'lo'], 'gpt-4o', { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 })));
    const stream = await client.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const parts: string[] = [];
    let sawUsage = false;
    for await (const chunk of stream) {
      parts.push(chunk.choices[0]?.delta?.content ?? '');
      if (chunk.usage) sawUsage = true;
    }
    expect(parts.join('')).toBe('Hello');
    expect(sawUsage).toBe(false);
    expect(upstream.received.at(-1)!.body.stream_options).toEqual({ include_usage: true });
  });

  test('mock provider works with no credentials', async () => {
    const out = await client.chat.completions.create({ model: 'mock-model', messages: [{ role: 'user', content: 'ping' }] });
    expect(out.choices[0].message.content).toContain('ping');
  });
  test('chat streaming is not buffered: each chunk reaches the client before the upstream sends the next', async () => {
    // Lock-step: after each content chunk the fake upstream waits until the client has received
    // it before writing the next. A gateway that buffered (the whole stream, or even two events)
    // would stall each wait until its fallback timer and the upstream would finish first.
    const words = ['Hel', 'lo', ' wor', 'ld'];
    const chunks = openAiChunks(words);
    let wake: (() => void) | undefined;
    const clientReceives = () =>
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 2000); // only so a buffering gateway fails instead of hanging
        wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
    const inLockStep: boolean[] = [];
    let upstreamFinished = false;
    upstream.handle(async (_req, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify(chunks[0])}\n\n`); // role header, no content yet
      for (let i = 1; i <= words.length; i++) {
        const received = clientReceives();
        res.write(`data: ${JSON.stringify(chunks[i])}\n\n`);
        inLockStep.push(await received);
      }
      for (const c of chunks.slice(words.length + 1)) res.write(`data: ${JSON.stringify(c)}\n\n`);
      res.end('data: [DONE]\n\n');
      upstreamFinished = true;
    });
    const stream = await client.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const seen: string[] = [];
    for await (const chunk of stream) {
      const text = chunk.choices[0]?.delta?.content;
      if (!text) continue;
      expect(upstreamFinished).toBe(false);
      seen.push(text);
      wake?.();
    }
    expect(inLockStep).toEqual([true, true, true, true]);
    expect(seen).toEqual(words);
    expect(upstreamFinished).toBe(true);
  });

  test('chat streaming: usage chunk delivered when the client asks for it', async () => {
    upstream.handle((_req, res) => writeSse(res, openAiChunks(['a'], 'gpt-4o', { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 })));
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'hi' }],
    });
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage).toEqual({ prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 });
  });

  const weatherTool: OpenAI.Chat.Completions.ChatCompletionTool = {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  };

  test('tools: definitions reach the upstream unchanged and tool calls come back to the SDK', async () => {
    upstream.handle((_req, res) =>
      json(res, 200, {
        ...openAiCompletion(''),
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: null,
              refusal: null,
              tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }],
            },
            finish_reason: 'tool_calls',
            logprobs: null,
          },
        ],
      }),
    );
    const out = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      tools: [weatherTool],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      parallel_tool_calls: false,
    });
    expect(out.choices[0].finish_reason).toBe('tool_calls');
    const call = out.choices[0].message.tool_calls![0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
    expect(call.function).toEqual({ name: 'get_weather', arguments: '{"city":"Oslo"}' });
    const sent = upstream.received.at(-1)!.body;
    expect(sent.tools).toEqual([weatherTool]);
    expect(sent.tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } });
    expect(sent.parallel_tool_calls).toBe(false);

    // The follow-up turn with the tool result passes through too.
    upstream.handle((_req, res) => json(res, 200, openAiCompletion('It is 3°C in Oslo.')));
    const followUp = await client.chat.completions.create({
      model: 'gpt-4o',
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Oslo?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '{"celsius":3}' },
      ],
    });
    expect(followUp.choices[0].message.content).toBe('It is 3°C in Oslo.');
    expect(upstream.received.at(-1)!.body.messages[2]).toEqual({ role: 'tool', tool_call_id: 'call_1', content: '{"celsius":3}' });
  });

  test('tools: streamed tool-call deltas reach the SDK, which assembles the arguments', async () => {
    const base = { id: 'chatcmpl-t', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o' };
    upstream.handle((_req, res) =>
      writeSse(res, [
        {
          ...base,
          choices: [
            {
              index: 0,
              delta: {
                role: 'assistant',
                content: null,
                tool_calls: [{ index: 0, id: 'call_9', type: 'function', function: { name: 'get_weather', arguments: '' } }],
              },
              finish_reason: null,
            },
          ],
        },
        { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }, finish_reason: null }] },
        { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"Rome"}' } }] }, finish_reason: null }] },
        { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
      ]),
    );
    const runner = client.chat.completions.stream({ model: 'gpt-4o', tools: [weatherTool], messages: [{ role: 'user', content: 'Rome?' }] });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0].finish_reason).toBe('tool_calls');
    const call = final.choices[0].message.tool_calls![0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
    expect(call).toMatchObject({ id: 'call_9', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } });
  });

  test('image parts pass through to the upstream unchanged', async () => {
    upstream.handle((_req, res) => json(res, 200, openAiCompletion('A red pixel.')));
    const content: OpenAI.Chat.Completions.ChatCompletionContentPart[] = [
      { type: 'text', text: 'What is in this image?' },
      {
        type: 'image_url',
        image_url: {
          url: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
          detail: 'high',
        },
      },
      { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
    ];
    const out = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content }] });
    expect(out.choices[0].message.content).toBe('A red pixel.');
    expect(upstream.received.at(-1)!.body.messages).toEqual([{ role: 'user', content }]);
  });

  test('embeddings: floats and the SDK default (base64) both pass through; the upstream gets the provider key', async () => {
    const vector = [0.25, -0.5, 0.125];
    upstream.handle((req, res) => {
      const asBase64 = req.body.encoding_format === 'base64';
      const embedding = asBase64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
      json(res, 200, {
        object: 'list',
        data: (req.body.input as string[]).map((_, index) => ({ object: 'embedding', index, embedding })),
        model: 'text-embedding-3-small',
        usage: { prompt_tokens: 2, total_tokens: 2 },
      });
    });
    const floats = await client.embeddings.create({ model: 'openai/text-embedding-3-small', input: ['a', 'b'], encoding_format: 'float' });
    expect(floats.data.map((d) => d.embedding)).toEqual([vector, vector]);
    const got = upstream.received.at(-1)!;
    expect(got.path).toBe('/v1/embeddings');
    expect(got.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    expect(got.body).toMatchObject({ model: 'text-embedding-3-small', input: ['a', 'b'], encoding_format: 'float' });
    const viaDefault = await client.embeddings.create({ model: 'openai/text-embedding-3-small', input: ['c'] });
    expect(upstream.received.at(-1)!.body.encoding_format).toBe('base64');
    expect(viaDefault.data[0].embedding).toEqual(vector);
  });

  test('embeddings from the mock provider work through the SDK with no credentials', async () => {
    const out = await client.embeddings.create({ model: 'mock/embed', input: 'hello', encoding_format: 'float' });
    expect(out.data[0].embedding).toHaveLength(MOCK_EMBEDDING_DIMENSIONS);
    expect(out.usage.prompt_tokens).toBeGreaterThan(0);
  });

  test('models: the SDK lists exactly the models the key may call', async () => {
    const all = await client.models.list();
    expect(all.data.map((m) => m.id).sort()).toEqual(['gpt-4o', 'mock-model']);
    const { key: narrow } = await gw.createKey({ name: 'narrow', models: ['gpt-*'] });
    const narrowClient = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: narrow, maxRetries: 0 });
    const some = await narrowClient.models.list();
    expect(some.data).toEqual([{ id: 'gpt-4o', object: 'model', created: 0, owned_by: 'openai' }]);
  });

  test("the SDK's own error classes see the gateway's errors: 401, 403, 404, 400", async () => {
    const bad = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-gw-wrong', maxRetries: 0 });
    await expect(bad.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({
      status: 401,
      code: 'invalid_api_key',
    });
    await expect(bad.chat.completions.create({ model: 'gpt-4o', messages: [] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const { key: narrow } = await gw.createKey({ name: 'narrow2', models: ['mock-*'] });
    const narrowClient = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: narrow, maxRetries: 0 });
    await expect(narrowClient.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(
      OpenAI.PermissionDeniedError,
    );
    await expect(client.chat.completions.create({ model: 'no-such', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(client.chat.completions.create({ model: 'gpt-4o', messages: [] })).rejects.toMatchObject({ status: 400, param: 'messages' });
  });
});
