/** The azure-openai provider: deployment URLs, api-version, api-key header; OpenAI's format otherwise. */
import type OpenAI from 'openai';
import { json, openAiChunks, openAiCompletion, type FakeUpstream, writeSse } from '../../helpers/fake-upstream';
import type { TestGateway } from '../../helpers/gateway';
import { startOpenAiHarness } from '../../helpers/openai-harness';

const PROVIDER_KEY = '0123456789abcdef0123456789abcdef';

describe('azure-openai provider', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let client: OpenAI;
  let key: string;

  beforeAll(async () => {
    ({ upstream, gw, key, client } = await startOpenAiHarness(
      (url) => ({
        providers: {
          azure: {
            type: 'azure-openai',
            baseUrl: url,
            apiKey: { env: 'AZURE_KEY' },
            apiVersion: '2024-10-21',
            deployments: { 'gpt-4o': 'prod-gpt4o-eu', 'text-embedding-3-small': 'embed-small' },
          },
        },
        models: {
          'gpt-4o': { targets: [{ provider: 'azure', model: 'gpt-4o' }] },
          embed: { targets: [{ provider: 'azure', model: 'text-embedding-3-small' }] },
        },
      }),
      { keyName: 'azure-test', env: { AZURE_KEY: PROVIDER_KEY } },
    ));
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  test('JSON: deployment URL with api-version, api-key header, no model in the body; tools and images pass unchanged', async () => {
    upstream.handle((_r, res) => json(res, 200, openAiCompletion('hello from azure')));
    const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }];
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'system', content: 'sys' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'see' },
          { type: 'image_url', image_url: { url: 'https://example.com/x.png' } },
        ],
      },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'done' },
    ];
    const out = await client.chat.completions.create({ model: 'gpt-4o', messages, tools, tool_choice: 'auto' });
    const got = upstream.received.at(-1)!;
    expect(got.path).toBe('/openai/deployments/prod-gpt4o-eu/chat/completions?api-version=2024-10-21');
    expect(got.headers['api-key']).toBe(PROVIDER_KEY);
    expect(got.headers.authorization).toBeUndefined();
    expect(got.body.model).toBeUndefined();
    expect(got.body.messages).toEqual(messages);
    expect(got.body.tools).toEqual(tools);
    expect(out.choices[0].message.content).toBe('hello from azure');
    expect(out.usage?.total_tokens).toBe(18);
  });

  test('tool calls and content_filter finish reasons come back as Azure sent them', async () => {
    upstream.handle((_r, res) =>
      json(res, 200, {
        ...openAiCompletion(''),
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: null, tool_calls: [{ id: 'c2', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
            finish_reason: 'tool_calls',
          },
        ],
      }),
    );
    const a = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
    expect(a.choices[0].message.tool_calls).toEqual([{ id: 'c2', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }]);
    upstream.handle((_r, res) =>
      json(res, 200, { ...openAiCompletion(''), choices: [{ index: 0, message: { role: 'assistant', content: null }, finish_reason: 'content_filter' }] }),
    );
    const b = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
    expect(b.choices[0].finish_reason).toBe('content_filter');
  });

  test('streaming asks for usage and relays chunks', async () => {
    upstream.handle((_r, res) => writeSse(res, openAiChunks(['Az', 'ure'], 'gpt-4o', { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 })));
    const stream = await client.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'x' }] });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    expect(text).toBe('Azure');
    expect(upstream.received.at(-1)!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  test('embeddings go to the embeddings deployment', async () => {
    upstream.handle((_r, res) =>
      json(res, 200, {
        object: 'list',
        data: [{ object: 'embedding', index: 0, embedding: [0.5, 0.25] }],
        model: 'text-embedding-3-small',
        usage: { prompt_tokens: 1, total_tokens: 1 },
      }),
    );
    const out = await client.embeddings.create({ model: 'embed', input: 'hi', encoding_format: 'float' });
    expect(upstream.received.at(-1)!.path).toBe('/openai/deployments/embed-small/embeddings?api-version=2024-10-21');
    expect(out.data[0].embedding).toEqual([0.5, 0.25]);
  });

  describe('upstream errors', () => {
    const call = () => gw.post('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }, key);
    test('429 with Retry-After → 429 with Retry-After', async () => {
      upstream.handle((_r, res) =>
        json(
          res,
          429,
          { error: { code: '429', message: 'Requests to the ChatCompletions_Create Operation have exceeded call rate limit.' } },
          { 'retry-after': '9' },
        ),
      );
      const res = await call();
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('9');
    });
    test('400 content_filter → 400 with code and message kept', async () => {
      upstream.handle((_r, res) =>
        json(res, 400, {
          error: {
            code: 'content_filter',
            message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
            param: 'prompt',
            status: 400,
          },
        }),
      );
      const res = await call();
      expect(res.status).toBe(400);
      expect((await res.json()).error).toMatchObject({ code: 'content_filter', message: expect.stringMatching(/content management policy/) });
    });
    test('500 → 502, 503 → 503; 401 never shows the key', async () => {
      upstream.handle((_r, res) => json(res, 500, { error: { code: 'InternalServerError', message: 'boom' } }));
      expect((await call()).status).toBe(502);
      upstream.handle((_r, res) => json(res, 503, { error: { code: 'ServiceUnavailable', message: 'busy' } }));
      expect((await call()).status).toBe(503);
      upstream.handle((_r, res) => json(res, 401, { error: { code: '401', message: `Access denied due to invalid subscription key ${PROVIDER_KEY}` } }));
      const res = await call();
      expect(res.status).toBe(502);
      expect(await res.text()).not.toContain(PROVIDER_KEY);
    });
  });
});
