/**
 * /v1/responses with the official openai client (responses.create, JSON and stream, chained with
 * previous_response_id) against the local gateway: a mock-served route and a route served by a fake
 * Anthropic upstream, stored responses in dynalite, and the 400s/404s in OpenAI's shape.
 */
import OpenAI from 'openai';
import { anthropicMessage, anthropicTextEvents, writeAnthropicSse } from '../helpers/anthropic-wire';
import { type FakeUpstream, json, startFakeUpstream } from '../helpers/fake-upstream';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

/** The text of a response's output messages (the SDK computes output_text only for non-streamed responses). */
const textOf = (r: OpenAI.Responses.Response) =>
  r.output.flatMap((i) => (i.type === 'message' ? i.content.map((c) => (c.type === 'output_text' ? c.text : '')) : [])).join('');

const ANTHROPIC_KEY = 'sk-ant-real-provider-key-0123456789';

describe('openai responses.create through the local gateway', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let client: OpenAI;
  let other: OpenAI;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    gw = await startTestGateway(
      {
        providers: { mock: { type: 'mock' }, anthropic: { type: 'anthropic', baseUrl: upstream.url, apiKey: { env: 'ANTHROPIC_KEY' } } },
        models: {
          'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] },
          claude: { targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
        },
      },
      { env: { ANTHROPIC_KEY } },
    );
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: (await gw.createKey({ name: 'responses' })).key, maxRetries: 0 });
    other = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: (await gw.createKey({ name: 'someone-else' })).key, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  test('JSON: a string input gets a completed response with an assistant message and usage', async () => {
    const r = await client.responses.create({ model: 'mock-model', input: 'ping pong' });
    expect(r.object).toBe('response');
    expect(r.id).toMatch(/^resp_/);
    expect(r.status).toBe('completed');
    expect(r.output_text).toBe('This is a mock response to: ping pong');
    expect(r.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed' });
    expect(r.usage!.input_tokens).toBeGreaterThan(0);
    expect(r.usage!.total_tokens).toBe(r.usage!.input_tokens + r.usage!.output_tokens);
    expect((r as unknown as { store: boolean }).store).toBe(true);
  });

  test('stream: the events come in the specification order with increasing sequence numbers, ending in response.completed', async () => {
    const stream = await client.responses.create({ model: 'mock-model', input: 'count to three', stream: true });
    const types: string[] = [];
    const seqs: number[] = [];
    let text = '';
    let completed: OpenAI.Responses.Response | undefined;
    for await (const ev of stream) {
      types.push(ev.type);
      seqs.push(ev.sequence_number);
      if (ev.type === 'response.output_text.delta') text += ev.delta;
      if (ev.type === 'response.completed') completed = ev.response;
    }
    expect(types.slice(0, 4)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    expect(types.slice(-4)).toEqual(['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
    expect(seqs).toEqual(seqs.map((_, i) => i));
    expect(text).toBe('This is a mock response to: count to three');
    expect(textOf(completed!)).toBe(text);
    expect(completed!.usage!.output_tokens).toBeGreaterThan(0);
  });

  test('previous_response_id: the gateway rebuilds the conversation for a provider that keeps none (Anthropic)', async () => {
    upstream.handle((_req, res) => json(res, 200, anthropicMessage([{ type: 'text', text: 'Nice to meet you, Alice.' }])));
    const first = await client.responses.create({ model: 'claude', instructions: 'Be brief.', input: 'My name is Alice.' });
    expect(first.output_text).toBe('Nice to meet you, Alice.');
    upstream.handle((_req, res) => writeAnthropicSse(res, anthropicTextEvents(['You are ', 'Alice.'])));
    const stream = await client.responses.create({ model: 'claude', previous_response_id: first.id, input: 'What is my name?', stream: true });
    let final: OpenAI.Responses.Response | undefined;
    for await (const ev of stream) if (ev.type === 'response.completed') final = ev.response;
    expect(textOf(final!)).toBe('You are Alice.');
    expect(final!.previous_response_id).toBe(first.id);
    const sent = upstream.received.at(-1)!;
    expect(sent.path).toBe('/v1/messages');
    expect(sent.headers['x-api-key']).toBe(ANTHROPIC_KEY);
    // Instructions are not carried over from the previous response (as OpenAI does it).
    expect(sent.body.system).toBeUndefined();
    expect(sent.body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'My name is Alice.' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Nice to meet you, Alice.' }] },
      { role: 'user', content: [{ type: 'text', text: 'What is my name?' }] },
    ]);
  });

  test('a stored response can be read back, its input items listed, and deleted', async () => {
    const r = await client.responses.create({ model: 'mock-model', input: [{ role: 'user', content: 'keep me' }], metadata: { ticket: '42' } });
    const got = await client.responses.retrieve(r.id);
    expect(got).toEqual(JSON.parse(JSON.stringify(r)));
    expect(got.metadata).toEqual({ ticket: '42' });
    const items = await client.responses.inputItems.list(r.id);
    expect(items.data).toEqual([expect.objectContaining({ type: 'message', role: 'user', content: 'keep me', id: expect.stringMatching(/^msg_/) })]);
    await client.responses.delete(r.id);
    await expect(client.responses.retrieve(r.id)).rejects.toMatchObject({ status: 404 });
  });

  test("another key's response id is a 404, for reading and for chaining", async () => {
    const mine = await client.responses.create({ model: 'mock-model', input: 'private' });
    await expect(other.responses.retrieve(mine.id)).rejects.toMatchObject({ status: 404, error: { type: 'invalid_request_error' } });
    await expect(other.responses.create({ model: 'mock-model', input: 'x', previous_response_id: mine.id })).rejects.toMatchObject({
      status: 404,
      error: { param: 'previous_response_id', code: 'previous_response_not_found' },
    });
    await expect(other.responses.delete(mine.id)).rejects.toMatchObject({ status: 404 });
    expect((await client.responses.retrieve(mine.id)).id).toBe(mine.id);
  });

  test('store: false answers without keeping the response', async () => {
    const r = await client.responses.create({ model: 'mock-model', input: 'forget me', store: false });
    expect((r as unknown as { store: boolean }).store).toBe(false);
    await expect(client.responses.retrieve(r.id)).rejects.toMatchObject({ status: 404 });
  });

  test('built-in tools, unknown items and uploaded files are 400s that name them; nothing reaches the provider', async () => {
    const before = upstream.received.length;
    await expect(client.responses.create({ model: 'claude', input: 'search', tools: [{ type: 'web_search' }] })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('web_search'),
    });
    await expect(client.responses.create({ model: 'claude', input: [{ type: 'hologram', data: 1 } as never] })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining("unknown item type 'hologram'"),
    });
    await expect(
      client.responses.create({ model: 'claude', input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] as never }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/file_id.*not available through this gateway/) });
    expect(upstream.received.length).toBe(before);
  });
});
