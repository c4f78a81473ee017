/**
 * The bedrock provider through the real AWS SDK, its endpoint pointed at a fake Bedrock runtime on
 * 127.0.0.1 that answers Converse JSON and ConverseStream in event-stream framing. Static test
 * credentials come from the environment (the SDK's default chain), so requests are really signed.
 */
import Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { json, type FakeUpstream } from '../../helpers/fake-upstream';
import type { TestGateway } from '../../helpers/gateway';
import { readChatStream, startOpenAiHarness } from '../../helpers/openai-harness';
import { awsError, converseAnswer, startFakeBedrock, textFrames, writeEventStream } from '../../helpers/bedrock-wire';
import { FIXTURE_PDF_BASE64, FIXTURE_PDF_URL } from '../../helpers/files';

const SECRET = 'bedrock-test-secret-access-key-0123456789';
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const CLAUDE = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
const enc = encodeURIComponent;

describe('bedrock provider', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let client: OpenAI;
  let key: string;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDBEDROCKTEST', AWS_SECRET_ACCESS_KEY: SECRET, AWS_EC2_METADATA_DISABLED: 'true' });
    delete process.env.AWS_PROFILE;
    delete process.env.AWS_SESSION_TOKEN;
    ({ upstream, gw, key, client } = await startOpenAiHarness(
      (url) => ({
        providers: {
          bedrock: { type: 'bedrock', region: 'eu-west-3', baseUrl: url },
          backup: { type: 'mock' },
        },
        models: {
          claude: { targets: [{ provider: 'bedrock', model: CLAUDE }] },
          'claude-or-mock': {
            targets: [
              { provider: 'bedrock', model: CLAUDE },
              { provider: 'backup', model: 'mock-model' },
            ],
          },
          titan: { targets: [{ provider: 'bedrock', model: 'amazon.titan-embed-text-v2:0' }] },
          cohere: { targets: [{ provider: 'bedrock', model: 'cohere.embed-english-v3' }] },
        },
      }),
      { keyName: 'bedrock-test', startUpstream: () => startFakeBedrock() },
    ));
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
    process.env = savedEnv;
  });

  test('JSON: Converse request is signed for the configured region; system, inference config; text, stop reason and usage come back', async () => {
    upstream.handle((_r, res) =>
      json(
        res,
        200,
        converseAnswer([{ text: 'Hello from Bedrock' }], 'end_turn', { inputTokens: 21, outputTokens: 4, totalTokens: 25, cacheReadInputTokens: 5 } as never),
      ),
    );
    const out = await client.chat.completions.create({
      model: 'claude',
      messages: [
        { role: 'system', content: 'Be kind.' },
        { role: 'user', content: 'Hi' },
      ],
      max_tokens: 64,
      temperature: 0.2,
      top_p: 0.9,
      stop: ['STOP'],
    });
    const got = upstream.received.at(-1)!;
    expect(got.method).toBe('POST');
    expect(got.path).toBe(`/model/${enc(CLAUDE)}/converse`);
    expect(got.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDBEDROCKTEST\/\d{8}\/eu-west-3\/bedrock\/aws4_request/);
    expect(got.rawBody).not.toContain(SECRET);
    expect(got.body).toEqual({
      messages: [{ role: 'user', content: [{ text: 'Hi' }] }],
      system: [{ text: 'Be kind.' }],
      inferenceConfig: { maxTokens: 64, temperature: 0.2, topP: 0.9, stopSequences: ['STOP'] },
    });
    expect(out.choices[0].message.content).toBe('Hello from Bedrock');
    expect(out.choices[0].finish_reason).toBe('stop');
    expect(out.usage).toMatchObject({ prompt_tokens: 26, completion_tokens: 4, total_tokens: 30 });
  });

  test('tools: toolSpec/toolChoice, toolUse and toolResult history; toolUse answer → tool_calls', async () => {
    upstream.handle((_r, res) =>
      json(res, 200, converseAnswer([{ text: 'Looking.' }, { toolUse: { toolUseId: 'tooluse_2', name: 'lookup', input: { q: 'b' } } }], 'tool_use')),
    );
    const out = await client.chat.completions.create({
      model: 'claude',
      tools: [{ type: 'function', function: { name: 'lookup', description: 'Search', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }],
      tool_choice: 'required',
      messages: [
        { role: 'user', content: 'find a then b' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'tooluse_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"a"}' } }] },
        { role: 'tool', tool_call_id: 'tooluse_1', content: 'found a' },
      ],
    });
    const body = upstream.received.at(-1)!.body;
    expect(body.toolConfig).toEqual({
      tools: [{ toolSpec: { name: 'lookup', description: 'Search', inputSchema: { json: { type: 'object', properties: { q: { type: 'string' } } } } } }],
      toolChoice: { any: {} },
    });
    expect(body.messages).toEqual([
      { role: 'user', content: [{ text: 'find a then b' }] },
      { role: 'assistant', content: [{ toolUse: { toolUseId: 'tooluse_1', name: 'lookup', input: { q: 'a' } } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_1', content: [{ text: 'found a' }] } }] },
    ]);
    expect(out.choices[0].finish_reason).toBe('tool_calls');
    expect(out.choices[0].message.content).toBe('Looking.');
    expect(out.choices[0].message.tool_calls).toEqual([{ id: 'tooluse_2', type: 'function', function: { name: 'lookup', arguments: '{"q":"b"}' } }]);
  });

  test('images: base64 data URLs become image bytes; URL images are refused with 400 (the gateway does not fetch them)', async () => {
    upstream.handle((_r, res) => json(res, 200, converseAnswer([{ text: 'a pixel' }])));
    await client.chat.completions.create({
      model: 'claude',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is it?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
          ],
        },
      ],
    });
    expect(upstream.received.at(-1)!.body.messages[0].content).toEqual([{ text: 'What is it?' }, { image: { format: 'png', source: { bytes: PNG } } }]);

    const before = upstream.received.length;
    const res = await gw.post(
      '/v1/chat/completions',
      { model: 'claude', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://169.254.169.254/latest/meta-data' } }] }] },
      key,
    );
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toMatch(/base64 data URL/);
    expect(upstream.received.length).toBe(before);
  });

  test('files: a document block with the format of its media type, a name Converse accepts and the bytes; other types a 400 naming them', async () => {
    upstream.handle((_r, res) => json(res, 200, converseAnswer([{ text: 'A fixture.' }])));
    await client.chat.completions.create({
      model: 'claude',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Title?' },
            { type: 'file', file: { filename: 'openresponses-fixture.pdf', file_data: FIXTURE_PDF_URL } },
            { type: 'file', file: { filename: 'notes.txt', file_data: `data:text/plain;base64,${Buffer.from('n').toString('base64')}` } },
          ],
        },
      ],
    });
    expect(upstream.received.at(-1)!.body.messages[0].content).toEqual([
      { text: 'Title?' },
      { document: { format: 'pdf', name: 'openresponses-fixture-pdf', source: { bytes: FIXTURE_PDF_BASE64 } } },
      { document: { format: 'txt', name: 'notes-txt', source: { bytes: Buffer.from('n').toString('base64') } } },
    ]);

    const before = upstream.received.length;
    await expect(
      client.chat.completions.create({
        model: 'claude',
        messages: [{ role: 'user', content: [{ type: 'file', file: { file_data: 'data:application/zip;base64,UEsDBA==' } }] }],
      }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/'application\/zip'.*Bedrock/) });
    expect(upstream.received.length).toBe(before);
  });

  test('stop reasons: max_tokens → length, guardrail_intervened → content_filter', async () => {
    upstream.handle((_r, res) => json(res, 200, converseAnswer([{ text: 'cut' }], 'max_tokens')));
    expect((await client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'x' }] })).choices[0].finish_reason).toBe('length');
    upstream.handle((_r, res) => json(res, 200, converseAnswer([{ text: 'Sorry.' }], 'guardrail_intervened')));
    expect((await client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'x' }] })).choices[0].finish_reason).toBe(
      'content_filter',
    );
  });

  test('streaming: event-stream frames become deltas, finish and usage', async () => {
    upstream.handle((_r, res) => writeEventStream(res, textFrames(['Bon', 'jour'])));
    const stream = await client.chat.completions.create({
      model: 'claude',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'hi' }],
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const c of stream) {
      text += c.choices[0]?.delta?.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
      if (c.usage) usage = c.usage;
    }
    expect(upstream.received.at(-1)!.path).toBe(`/model/${enc(CLAUDE)}/converse-stream`);
    expect(text).toBe('Bonjour');
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 3 });
  });

  test('streaming tool use: contentBlockStart/Delta toolUse frames become tool_calls deltas', async () => {
    upstream.handle((_r, res) =>
      writeEventStream(res, [
        { event: 'messageStart', body: { role: 'assistant' } },
        { event: 'contentBlockStart', body: { contentBlockIndex: 0, start: { toolUse: { toolUseId: 'tooluse_s', name: 'lookup' } } } },
        { event: 'contentBlockDelta', body: { contentBlockIndex: 0, delta: { toolUse: { input: '{"q":' } } } },
        { event: 'contentBlockDelta', body: { contentBlockIndex: 0, delta: { toolUse: { input: '"z"}' } } } },
        { event: 'contentBlockStop', body: { contentBlockIndex: 0 } },
        { event: 'messageStop', body: { stopReason: 'tool_use' } },
        { event: 'metadata', body: { usage: { inputTokens: 30, outputTokens: 8, totalTokens: 38 }, metrics: { latencyMs: 5 } } },
      ]),
    );
    const stream = await client.chat.completions.create({
      model: 'claude',
      stream: true,
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
      messages: [{ role: 'user', content: 'z?' }],
    });
    let args = '';
    let id: string | undefined;
    let finish: string | null = null;
    for await (const c of stream) {
      for (const tc of c.choices[0]?.delta?.tool_calls ?? []) {
        id ??= tc.id;
        args += tc.function?.arguments ?? '';
      }
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect({ id, args: JSON.parse(args), finish }).toEqual({ id: 'tooluse_s', args: { q: 'z' }, finish: 'tool_calls' });
  });

  test('response_format json_schema: Converse gets the forced json_response toolSpec; its toolUse input is the content', async () => {
    const schema = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] };
    upstream.handle((_r, res) => json(res, 200, converseAnswer([{ toolUse: { toolUseId: 'tooluse_j', name: 'json_response', input: { n: 7 } } }], 'tool_use')));
    const out = await client.chat.completions.create({
      model: 'claude',
      messages: [{ role: 'user', content: 'a number' }],
      response_format: { type: 'json_schema', json_schema: { name: 'num', schema } },
    });
    expect(upstream.received.at(-1)!.body.toolConfig).toEqual({
      tools: [
        { toolSpec: { name: 'json_response', description: "Give your complete answer as JSON matching the 'num' schema.", inputSchema: { json: schema } } },
      ],
      toolChoice: { tool: { name: 'json_response' } },
    });
    expect(JSON.parse(out.choices[0].message.content!)).toEqual({ n: 7 });
    expect([out.choices[0].finish_reason, out.choices[0].message.tool_calls]).toEqual(['stop', undefined]);
  });

  test('response_format json_object, streaming: toolUse input deltas arrive as content and the stream finishes with stop', async () => {
    upstream.handle((_r, res) =>
      writeEventStream(res, [
        { event: 'messageStart', body: { role: 'assistant' } },
        { event: 'contentBlockStart', body: { contentBlockIndex: 0, start: { toolUse: { toolUseId: 'tooluse_js', name: 'json_response' } } } },
        { event: 'contentBlockDelta', body: { contentBlockIndex: 0, delta: { toolUse: { input: '{"a":' } } } },
        { event: 'contentBlockDelta', body: { contentBlockIndex: 0, delta: { toolUse: { input: '[1,2]}' } } } },
        { event: 'contentBlockStop', body: { contentBlockIndex: 0 } },
        { event: 'messageStop', body: { stopReason: 'tool_use' } },
        { event: 'metadata', body: { usage: { inputTokens: 30, outputTokens: 8, totalTokens: 38 }, metrics: { latencyMs: 5 } } },
      ]),
    );
    const stream = await client.chat.completions.create({
      model: 'claude',
      stream: true,
      messages: [{ role: 'user', content: 'json' }],
      response_format: { type: 'json_object' },
    });
    const { content, finish, toolCallChunks } = await readChatStream(stream);
    expect(upstream.received.at(-1)!.body.toolConfig.toolChoice).toEqual({ tool: { name: 'json_response' } });
    expect([JSON.parse(content), finish, toolCallChunks]).toEqual([{ a: [1, 2] }, 'stop', 0]);
  });

  test('an exception frame mid-stream ends the client stream with an in-band error and no [DONE]', async () => {
    upstream.handle((_r, res) =>
      writeEventStream(res, [...textFrames(['half']).slice(0, 2), { exception: 'modelStreamErrorException', body: { message: 'Model stream failed' } }]),
    );
    const text = await (await gw.post('/v1/chat/completions', { model: 'claude', stream: true, messages: [{ role: 'user', content: 'x' }] }, key)).text();
    expect(text).toContain('half');
    expect(text).toMatch(/"error".*Model stream failed/);
    expect(text).not.toContain('[DONE]');
  });

  test('a stream cut before messageStop is an in-band error, never a complete answer', async () => {
    upstream.handle((_r, res) => writeEventStream(res, textFrames(['only']).slice(0, 2)));
    const text = await (await gw.post('/v1/chat/completions', { model: 'claude', stream: true, messages: [{ role: 'user', content: 'x' }] }, key)).text();
    expect(text).toContain('only');
    expect(text).toContain('"error"');
    expect(text).not.toContain('[DONE]');
  });

  describe('upstream errors', () => {
    const call = (model = 'claude') => gw.post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'x' }] }, key);

    test('ThrottlingException → 429 with Retry-After, and fallback moves on to the next target', async () => {
      upstream.handle((_r, res) => awsError(res, 429, 'ThrottlingException', 'Too many requests, please wait before trying again.'));
      const res = await call();
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBeTruthy();
      expect((await res.json()).error.message).toMatch(/Too many requests/);
      const fellBack = await call('claude-or-mock');
      expect(fellBack.status).toBe(200);
      expect(fellBack.headers.get('x-gateway-provider')).toBe('backup');
    });

    test('a ThrottlingException as the first stream frame also falls back before any byte is sent', async () => {
      upstream.handle((_r, res) => writeEventStream(res, [{ exception: 'throttlingException', body: { message: 'Too many tokens' } }]));
      const res = await gw.post('/v1/chat/completions', { model: 'claude-or-mock', stream: true, messages: [{ role: 'user', content: 'x' }] }, key);
      expect(res.headers.get('x-gateway-provider')).toBe('backup');
      expect(await res.text()).toContain('[DONE]');
    });

    test('ValidationException → 400 with the provider message; InternalServerException → 502; ServiceUnavailable → 503', async () => {
      upstream.handle((_r, res) => awsError(res, 400, 'ValidationException', 'The model returned the following errors: messages: roles must alternate'));
      const a = await call();
      expect(a.status).toBe(400);
      expect((await a.json()).error).toMatchObject({
        type: 'invalid_request_error',
        code: 'ValidationException',
        message: expect.stringMatching(/roles must alternate/),
      });
      upstream.handle((_r, res) => awsError(res, 500, 'InternalServerException', 'Internal error'));
      expect((await call()).status).toBe(502);
      upstream.handle((_r, res) => awsError(res, 503, 'ServiceUnavailableException', 'Service unavailable'));
      expect((await call()).status).toBe(503);
    });

    test('AccessDeniedException → 502 naming the gateway credential, with no secret in it', async () => {
      upstream.handle((_r, res) => awsError(res, 403, 'AccessDeniedException', `User arn:aws:iam::123:user/x is not authorized (${SECRET})`));
      const res = await call();
      expect(res.status).toBe(502);
      const text = await res.text();
      expect(text).toMatch(/gateway's AWS credentials/);
      expect(text).not.toContain(SECRET);
    });
  });

  describe('/v1/messages on Bedrock', () => {
    const anthropic = () => new Anthropic({ baseURL: gw.url, apiKey: key, maxRetries: 0 });

    test('Claude, JSON: the Anthropic body goes natively through InvokeModel (bedrock anthropic_version, betas); the message comes back as sent', async () => {
      const answer = {
        id: 'msg_bdrk',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5',
        content: [{ type: 'text', text: 'Read it.' }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 40, output_tokens: 3, cache_read_input_tokens: 30 },
      };
      upstream.handle((_r, res) => json(res, 200, answer));
      const msg = await anthropic().messages.create(
        {
          model: 'claude',
          max_tokens: 100,
          system: [{ type: 'text', text: 'Long prompt', cache_control: { type: 'ephemeral' } }],
          metadata: { user_id: 'u1' },
          messages: [
            {
              role: 'user',
              content: [
                { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'A doc' } },
                { type: 'text', text: 'Summarise' },
              ],
            },
          ],
        },
        { headers: { 'anthropic-beta': 'context-1m-2025-08-07' } },
      );
      const got = upstream.received.at(-1)!;
      expect(got.path).toBe(`/model/${enc(CLAUDE)}/invoke`);
      expect(got.body).toEqual({
        anthropic_version: 'bedrock-2023-05-31',
        anthropic_beta: ['context-1m-2025-08-07'],
        max_tokens: 100,
        system: [{ type: 'text', text: 'Long prompt', cache_control: { type: 'ephemeral' } }],
        messages: [
          {
            role: 'user',
            content: [
              { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'A doc' } },
              { type: 'text', text: 'Summarise' },
            ],
          },
        ],
      });
      expect(msg).toEqual(answer);
    });

    test('Claude, streaming: InvokeModelWithResponseStream chunks are Anthropic events, replayed to the SDK', async () => {
      const events = [
        {
          type: 'message_start',
          message: {
            id: 'msg_s',
            type: 'message',
            role: 'assistant',
            model: 'claude',
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: { input_tokens: 12, output_tokens: 1 },
          },
        },
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi ' } },
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'there' } },
        { type: 'content_block_stop', index: 0 },
        { type: 'message_delta', delta: { stop_reason: 'max_tokens', stop_sequence: null }, usage: { output_tokens: 3 } },
        { type: 'message_stop', 'amazon-bedrock-invocationMetrics': { inputTokenCount: 12, outputTokenCount: 3 } },
      ];
      upstream.handle((_r, res) =>
        writeEventStream(
          res,
          events.map((e) => ({ event: 'chunk', body: { bytes: Buffer.from(JSON.stringify(e)).toString('base64') } })),
        ),
      );
      const msg = await anthropic()
        .messages.stream({ model: 'claude', max_tokens: 3, messages: [{ role: 'user', content: 'hey' }] })
        .finalMessage();
      expect(upstream.received.at(-1)!.path).toBe(`/model/${enc(CLAUDE)}/invoke-with-response-stream`);
      expect(msg.content).toEqual([{ type: 'text', text: 'Hi there' }]);
      expect(msg.stop_reason).toBe('max_tokens');
      expect(msg.usage).toMatchObject({ input_tokens: 12, output_tokens: 3 });
    });

    test('Claude, streaming: a stream cut before message_stop ends with event: error and no message_stop', async () => {
      const start = {
        type: 'message_start',
        message: {
          id: 'msg_c',
          type: 'message',
          role: 'assistant',
          model: 'claude',
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 1, output_tokens: 1 },
        },
      };
      const delta = { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'partial' } };
      upstream.handle((_r, res) =>
        writeEventStream(
          res,
          [start, { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, delta].map((e) => ({
            event: 'chunk',
            body: { bytes: Buffer.from(JSON.stringify(e)).toString('base64') },
          })),
        ),
      );
      const text = await (
        await gw.post('/v1/messages', { model: 'claude', max_tokens: 5, stream: true, messages: [{ role: 'user', content: 'x' }] }, key)
      ).text();
      expect(text).toContain('partial');
      expect(text).toContain('event: error');
      expect(text).not.toContain('event: message_stop');
    });

    test('a non-Claude model (Nova): the Anthropic request is translated to Converse and the answer back', async () => {
      upstream.handle((_r, res) =>
        json(
          res,
          200,
          converseAnswer([{ toolUse: { toolUseId: 'tooluse_m', name: 'calc', input: { x: 2 } } }], 'tool_use', {
            inputTokens: 15,
            outputTokens: 7,
            totalTokens: 22,
          }),
        ),
      );
      const msg = await anthropic().messages.create({
        model: 'bedrock/amazon.nova-pro-v1:0',
        max_tokens: 100,
        system: 'Use tools.',
        tools: [{ name: 'calc', input_schema: { type: 'object', properties: { x: { type: 'number' } } } }],
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'double 1' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
            ],
          },
        ],
      });
      const got = upstream.received.at(-1)!;
      expect(got.path).toBe(`/model/${enc('amazon.nova-pro-v1:0')}/converse`);
      expect(got.body).toMatchObject({
        system: [{ text: 'Use tools.' }],
        inferenceConfig: { maxTokens: 100 },
        messages: [{ role: 'user', content: [{ text: 'double 1' }, { image: { format: 'png', source: { bytes: PNG } } }] }],
        toolConfig: { tools: [{ toolSpec: { name: 'calc', inputSchema: { json: { type: 'object', properties: { x: { type: 'number' } } } } } }] },
      });
      expect(msg.content).toEqual([{ type: 'tool_use', id: 'tooluse_m', name: 'calc', input: { x: 2 } }]);
      expect(msg.stop_reason).toBe('tool_use');
      expect(msg.usage).toMatchObject({ input_tokens: 15, output_tokens: 7 });
    });

    test('a non-Claude model streams Converse frames as Anthropic events', async () => {
      upstream.handle((_r, res) => writeEventStream(res, textFrames(['Hi ', 'there'], 'max_tokens')));
      const msg = await anthropic()
        .messages.stream({ model: 'bedrock/amazon.nova-pro-v1:0', max_tokens: 2, messages: [{ role: 'user', content: 'hey' }] })
        .finalMessage();
      expect(upstream.received.at(-1)!.path).toBe(`/model/${enc('amazon.nova-pro-v1:0')}/converse-stream`);
      expect(msg.content).toEqual([{ type: 'text', text: 'Hi there' }]);
      expect(msg.stop_reason).toBe('max_tokens');
      expect(msg.usage.output_tokens).toBe(3);
    });
  });

  describe('embeddings via InvokeModel', () => {
    test('Titan: one call per input, dimensions passed, token counts summed', async () => {
      upstream.handle((r, res) => json(res, 200, { embedding: r.body.inputText === 'a' ? [0.5, 0.25] : [1, -1], inputTextTokenCount: 2 }));
      const out = await client.embeddings.create({ model: 'titan', input: ['a', 'b'], dimensions: 2 });
      const calls = upstream.received.slice(-2);
      expect(calls.map((c) => c.path)).toEqual([
        `/model/${enc('amazon.titan-embed-text-v2:0')}/invoke`,
        `/model/${enc('amazon.titan-embed-text-v2:0')}/invoke`,
      ]);
      expect(calls.map((c) => c.body).sort((x, y) => x.inputText.localeCompare(y.inputText))).toEqual([
        { inputText: 'a', dimensions: 2 },
        { inputText: 'b', dimensions: 2 },
      ]);
      expect(out.data.map((d) => d.embedding)).toEqual([
        [0.5, 0.25],
        [1, -1],
      ]);
      expect(out.usage.prompt_tokens).toBe(4);
    });

    test('Cohere: one batched call with input_type', async () => {
      upstream.handle((_r, res) => json(res, 200, { id: 'x', embeddings: [[0.5], [0.75]], texts: ['a', 'b'], response_type: 'embeddings_floats' }));
      const out = await client.embeddings.create({ model: 'cohere', input: ['a', 'b'], encoding_format: 'float' });
      expect(upstream.received.at(-1)!.body).toEqual({ texts: ['a', 'b'], input_type: 'search_document' });
      expect(out.data.map((d) => d.embedding)).toEqual([[0.5], [0.75]]);
    });
  });
});
