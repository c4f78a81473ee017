/**
 * The mock provider stands in for the OpenAI API closely enough that real clients work against
 * `npm start` unchanged: the openai SDK's default base64 embeddings and `dimensions`, structured
 * output (json_object, json_schema) with the SDK's own zod parsing, tool calls whose arguments fit
 * the tool's schema, and usage on every answer (a stream's too, when asked). The Vercel AI SDK's
 * generateObject and LangChain's withStructuredOutput run as a plain Node script (ES modules).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { MOCK_EMBEDDING_DIMENSIONS } from '../../lambda/providers/mock/embedding';

const run = promisify(execFile);

describe('the mock provider through the gateway, with real clients', () => {
  let gw: TestGateway;
  let key: string;
  let client: OpenAI;

  beforeAll(async () => {
    gw = await startTestGateway({
      providers: { mock: { type: 'mock' } },
      models: { 'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] }, 'mock-embed': { targets: [{ provider: 'mock', model: 'embed' }] } },
    });
    ({ key } = await gw.createKey({ name: 'fidelity' }));
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
  });
  afterAll(() => gw.close());

  describe('embeddings', () => {
    test("the SDK's default (base64 float32) decodes to the same vector as encoding_format float", async () => {
      // The SDK asks for base64 when no format is given and decodes it to numbers itself.
      const viaDefault = await client.embeddings.create({ model: 'mock-embed', input: ['the quick brown fox', 'lazy dogs'] });
      const floats = await client.embeddings.create({ model: 'mock-embed', input: ['the quick brown fox', 'lazy dogs'], encoding_format: 'float' });
      expect(viaDefault.data).toHaveLength(2);
      expect(viaDefault.data[0].embedding).toHaveLength(MOCK_EMBEDDING_DIMENSIONS);
      for (const [i, d] of viaDefault.data.entries()) {
        const expected = floats.data[i].embedding;
        for (const [j, v] of d.embedding.entries()) expect(v).toBeCloseTo(expected[j], 6);
      }
      expect(viaDefault.usage.prompt_tokens).toBeGreaterThan(0);
    });

    test('the raw base64 answer is little-endian float32, as the API sends it', async () => {
      const res = await fetch(`${gw.url}/v1/embeddings`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'mock-embed', input: 'hello', encoding_format: 'base64', dimensions: 8 }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { data: Array<{ embedding: unknown }> };
      expect(typeof body.data[0].embedding).toBe('string');
      const bytes = Buffer.from(body.data[0].embedding as string, 'base64');
      expect(bytes.length).toBe(8 * 4);
      const vector = Array.from({ length: 8 }, (_, i) => bytes.readFloatLE(i * 4));
      expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
    });

    test('dimensions shortens the vector, in both encodings', async () => {
      const floats = await client.embeddings.create({ model: 'mock-embed', input: 'hello', dimensions: 64, encoding_format: 'float' });
      const viaDefault = await client.embeddings.create({ model: 'mock-embed', input: 'hello', dimensions: 64 });
      expect(floats.data[0].embedding).toHaveLength(64);
      expect(viaDefault.data[0].embedding).toHaveLength(64);
    });
  });

  describe('structured output', () => {
    const Event = z.object({
      name: z.string(),
      attendees: z.array(z.object({ email: z.email(), role: z.enum(['host', 'guest']) })),
      capacity: z.number().int().min(10).max(500),
      startsAt: z.iso.datetime(),
      online: z.boolean(),
      venue: z.object({ city: z.string(), postcode: z.string().nullable() }).nullable(),
    });

    test('json_schema: the openai SDK parses the answer with the zod schema it sent', async () => {
      const out = await client.chat.completions.parse({
        model: 'mock-model',
        messages: [{ role: 'user', content: 'Plan a meetup' }],
        response_format: zodResponseFormat(Event, 'event'),
      });
      const choice = out.choices[0];
      expect(choice.finish_reason).toBe('stop');
      const event = choice.message.parsed!;
      expect(Event.parse(event)).toEqual(event);
      expect(event.capacity).toBeGreaterThanOrEqual(10);
      expect(event.attendees.length).toBeGreaterThan(0);
      expect(out.usage!.completion_tokens).toBeGreaterThan(0);
    });

    test('json_schema in a stream: the content deltas join into JSON the schema accepts', async () => {
      const stream = await client.chat.completions.create({
        model: 'mock-model',
        stream: true,
        messages: [{ role: 'user', content: 'Plan a meetup' }],
        response_format: zodResponseFormat(Event, 'event'),
      });
      let content = '';
      for await (const chunk of stream) content += chunk.choices[0]?.delta?.content ?? '';
      expect(() => Event.parse(JSON.parse(content))).not.toThrow();
    });

    test('json_object: a JSON object as content', async () => {
      const out = await client.chat.completions.create({
        model: 'mock-model',
        messages: [{ role: 'user', content: 'Answer in JSON: hello' }],
        response_format: { type: 'json_object' },
      });
      const parsed = JSON.parse(out.choices[0].message.content!);
      expect(parsed).toEqual({ response: 'This is a mock response to: Answer in JSON: hello' });
    });

    test('a malformed response_format is the API error shape, 400', async () => {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'mock-model', messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_schema' } }),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
    });
  });

  describe('tools', () => {
    const weatherTool = {
      type: 'function' as const,
      function: {
        name: 'get_weather',
        parameters: {
          type: 'object',
          properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] }, days: { type: 'integer', minimum: 1 } },
          required: ['city', 'unit', 'days'],
          additionalProperties: false,
        },
      },
    };
    const timeTool = { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object', properties: {}, additionalProperties: false } } };

    test("a tool call whose arguments fit the tool's parameter schema; the forced tool is the one called", async () => {
      const out = await client.chat.completions.create({
        model: 'mock-model',
        messages: [{ role: 'user', content: 'Weather in Oslo?' }],
        tools: [timeTool, weatherTool],
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
      });
      const choice = out.choices[0];
      expect(choice.finish_reason).toBe('tool_calls');
      const call = choice.message.tool_calls![0];
      expect(call.type === 'function' && call.function.name).toBe('get_weather');
      const args = JSON.parse(call.type === 'function' ? call.function.arguments : '');
      expect(args).toEqual({ city: 'Weather in Oslo?', unit: 'celsius', days: 1 });
    });

    test('a tool that takes no arguments is called with {}; tool_choice none gets text', async () => {
      const called = await client.chat.completions.create({ model: 'mock-model', messages: [{ role: 'user', content: 'Time?' }], tools: [timeTool] });
      const call = called.choices[0].message.tool_calls![0];
      expect(call.type === 'function' && JSON.parse(call.function.arguments)).toEqual({});
      const text = await client.chat.completions.create({
        model: 'mock-model',
        messages: [{ role: 'user', content: 'Time?' }],
        tools: [timeTool],
        tool_choice: 'none',
      });
      expect(text.choices[0].message.tool_calls).toBeUndefined();
      expect(text.choices[0].message.content).toBe('This is a mock response to: Time?');
    });

    test('streamed tool calls come whole through the SDK stream helper', async () => {
      const runner = client.chat.completions.stream({
        model: 'mock-model',
        messages: [{ role: 'user', content: 'Weather in Oslo?' }],
        tools: [weatherTool],
      });
      const final = await runner.finalChatCompletion();
      const call = final.choices[0].message.tool_calls![0];
      expect(call.type === 'function' && JSON.parse(call.function.arguments)).toMatchObject({ city: 'Weather in Oslo?' });
    });
  });

  describe('usage', () => {
    test('a stream ends with a usage chunk when include_usage asks, and none otherwise', async () => {
      const usageOf = async (include: boolean) => {
        const stream = await client.chat.completions.create({
          model: 'mock-model',
          stream: true,
          messages: [{ role: 'user', content: 'count my tokens please' }],
          ...(include ? { stream_options: { include_usage: true } } : {}),
        });
        let usage: OpenAI.CompletionUsage | undefined | null;
        for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
        return usage;
      };
      const usage = await usageOf(true);
      expect(usage!.prompt_tokens).toBeGreaterThan(0);
      expect(usage!.completion_tokens).toBeGreaterThan(0);
      expect(usage!.total_tokens).toBe(usage!.prompt_tokens + usage!.completion_tokens);
      expect(await usageOf(false)).toBeUndefined();
    });
  });

  test('Vercel AI SDK generateObject and LangChain withStructuredOutput get objects their zod schema accepts', async () => {
    const { stdout } = await run(process.execPath, [join(__dirname, 'esm-clients', 'structured-output.mjs')], {
      env: { PATH: process.env.PATH, GATEWAY_BASE_URL: `${gw.url}/v1`, GATEWAY_KEY: key, GATEWAY_MODEL: 'mock-model' },
      timeout: 60_000,
    });
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!);
    // Each client validated against the schema before returning; the values show what the mock chose.
    const expected = {
      title: 'A recipe for pancakes',
      servings: 2,
      difficulty: 'easy',
      vegetarian: true,
      ingredients: [
        { name: 'A recipe for pancakes', grams: 1 },
        { name: 'A recipe for pancakes', grams: 1 },
      ],
      steps: ['A recipe for pancakes'],
      published: '2024-01-01',
      notes: 'A recipe for pancakes',
    };
    expect(out.vercel.responses.object).toEqual(expected);
    expect(out.vercel.chat.object).toEqual(expected);
    for (const via of [out.vercel.responses, out.vercel.chat]) {
      expect(via.finishReason).toBe('stop');
      expect(via.usage.inputTokens).toBeGreaterThan(0);
      expect(via.usage.outputTokens).toBeGreaterThan(0);
    }
    expect(out.langchain.jsonSchema).toEqual(expected);
    expect(out.langchain.functionCalling).toEqual(expected);
  });
});
