/**
 * Files and images in tool outputs, through the gateway: a chat completions `tool` message with
 * image and file parts, an Anthropic `tool_result` with image and document blocks on /v1/messages,
 * a Responses `function_call_output` whose output lists input_text / input_image / input_file, and
 * images and files given by id on /v1/responses. Fake OpenAI(-compatible), Anthropic, Gemini and
 * Bedrock upstreams on 127.0.0.1 record what each received; what cannot be carried is a 400 naming
 * it, and nothing is sent.
 */
import type { ServerResponse } from 'node:http';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { anthropicMessage } from '../helpers/anthropic-wire';
import { converseAnswer, startFakeBedrock } from '../helpers/bedrock-wire';
import { type FakeUpstream, type ReceivedRequest, json, openAiCompletion, startFakeUpstream } from '../helpers/fake-upstream';
import { FIXTURE_PDF_BASE64, FIXTURE_PDF_URL } from '../helpers/files';
import { type TestGateway, startTestGateway } from '../helpers/gateway';
import { messageItem, openAiResponse } from '../helpers/openai-responses-wire';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const PNG_URL = `data:image/png;base64,${PNG}`;
const ZIP_URL = 'data:application/zip;base64,UEsDBA==';
const KEYS = { OPENAI_KEY: 'sk-openai-provider-key-0123456789', ANTHROPIC_KEY: 'sk-ant-provider-key-0123456789', GEMINI_KEY: 'AIzaSyFakeKey0123456789' };
const NOVA = 'amazon.nova-pro-v1:0';

function upstreamAnswer(req: ReceivedRequest, res: ServerResponse) {
  const path = req.path.split('?')[0];
  if (path === '/openai/responses') return json(res, 200, openAiResponse(req.body, [messageItem('ok')], { input: 10, cached: 0, output: 1, reasoning: 0 }));
  if (path === '/openai/chat/completions') return json(res, 200, openAiCompletion('ok'));
  if (path === '/v1/messages') return json(res, 200, anthropicMessage([{ type: 'text', text: 'ok' }]));
  if (path.endsWith(':generateContent'))
    return json(res, 200, {
      candidates: [{ index: 0, content: { role: 'model', parts: [{ text: 'ok' }] }, finishReason: 'STOP' }],
      usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 1, totalTokenCount: 11 },
    });
  res.writeHead(404).end();
}

const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_chart', parameters: { type: 'object', properties: {} } } }];

/** A chat whose last message is the tool output `content` for call_1 (get_chart). */
const chatWithToolOutput = (content: OpenAI.ChatCompletionToolMessageParam['content'] | unknown[]): OpenAI.ChatCompletionMessageParam[] => [
  { role: 'user', content: 'Show me the chart and the report.' },
  { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_chart', arguments: '{}' } }] },
  { role: 'tool', tool_call_id: 'call_1', content: content as OpenAI.ChatCompletionToolMessageParam['content'] },
];

const TOOL_OUTPUT = [
  { type: 'text', text: 'Chart and report attached.' },
  { type: 'image_url', image_url: { url: PNG_URL } },
  { type: 'file', file: { filename: 'report.pdf', file_data: FIXTURE_PDF_URL } },
];

describe('files and images in tool outputs', () => {
  let upstream: FakeUpstream;
  let bedrock: FakeUpstream;
  let gw: TestGateway;
  let openai: OpenAI;
  let anthropic: Anthropic;
  const savedEnv = { ...process.env };
  const sentTo = (path: string) => upstream.received.filter((r) => r.path.split('?')[0] === path);
  const lastGemini = () => upstream.received.filter((r) => r.path.endsWith(':generateContent')).at(-1)!.body;
  const sentCount = () => upstream.received.length + bedrock.received.length;

  beforeAll(async () => {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDTOOLFILESTEST', AWS_SECRET_ACCESS_KEY: 'tool-files-secret', AWS_EC2_METADATA_DISABLED: 'true' });
    delete process.env.AWS_PROFILE;
    delete process.env.AWS_SESSION_TOKEN;
    upstream = await startFakeUpstream(upstreamAnswer);
    bedrock = await startFakeBedrock((_r, res) => json(res, 200, converseAnswer([{ text: 'ok' }])));
    gw = await startTestGateway(
      {
        providers: {
          openai: { type: 'openai', baseUrl: `${upstream.url}/openai`, apiKey: { env: 'OPENAI_KEY' } },
          compat: { type: 'openai-compatible', baseUrl: `${upstream.url}/openai`, apiKey: { env: 'OPENAI_KEY' } },
          anthropic: { type: 'anthropic', baseUrl: upstream.url, apiKey: { env: 'ANTHROPIC_KEY' } },
          gemini: { type: 'gemini', baseUrl: upstream.url, apiKey: { env: 'GEMINI_KEY' } },
          bedrock: { type: 'bedrock', region: 'eu-west-3', baseUrl: bedrock.url },
        },
        models: {
          gpt: { targets: [{ provider: 'openai', model: 'gpt-4o' }] },
          compat: { targets: [{ provider: 'compat', model: 'llama-3' }] },
          claude: { targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
          flash: { targets: [{ provider: 'gemini', model: 'gemini-3-flash' }] },
          nova: { targets: [{ provider: 'bedrock', model: NOVA }] },
          'gpt-then-claude': {
            targets: [
              { provider: 'openai', model: 'gpt-4o' },
              { provider: 'anthropic', model: 'claude-sonnet-4-5' },
            ],
          },
        },
      },
      { env: KEYS },
    );
    const { key } = await gw.createKey({ name: 'tool-files' });
    openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: gw.url, apiKey: key, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
    await bedrock.close();
    process.env = savedEnv;
  });

  describe('/v1/chat/completions: a tool message with text, an image and a PDF', () => {
    const messages = chatWithToolOutput(TOOL_OUTPUT);

    test('an OpenAI-compatible upstream gets the tool message as sent (OpenAI itself takes text only there, and says so)', async () => {
      await openai.chat.completions.create({ model: 'compat', messages, tools });
      expect(sentTo('/openai/chat/completions').at(-1)!.body.messages[2]).toEqual(messages[2]);
    });

    test('Anthropic: a tool_result holding a text, an image and a document block', async () => {
      await openai.chat.completions.create({ model: 'claude', messages, tools });
      expect(sentTo('/v1/messages').at(-1)!.body.messages[2]).toEqual({
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: 'call_1',
            content: [
              { type: 'text', text: 'Chart and report attached.' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
              { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: FIXTURE_PDF_BASE64 }, title: 'report.pdf' },
            ],
          },
        ],
      });
    });

    test('Bedrock: a toolResult holding text, image and document blocks', async () => {
      await openai.chat.completions.create({ model: 'nova', messages, tools });
      expect(bedrock.received.at(-1)!.body.messages[2]).toEqual({
        role: 'user',
        content: [
          {
            toolResult: {
              toolUseId: 'call_1',
              content: [
                { text: 'Chart and report attached.' },
                { image: { format: 'png', source: { bytes: PNG } } },
                { document: { format: 'pdf', name: 'report-pdf', source: { bytes: FIXTURE_PDF_BASE64 } } },
              ],
            },
          },
        ],
      });
    });

    test("Gemini: the text is the functionResponse's response, the image and the PDF its parts", async () => {
      await openai.chat.completions.create({ model: 'flash', messages, tools });
      expect(lastGemini().contents[2]).toEqual({
        role: 'user',
        parts: [
          {
            functionResponse: {
              name: 'get_chart',
              response: { content: 'Chart and report attached.' },
              parts: [{ inlineData: { mimeType: 'image/png', data: PNG } }, { inlineData: { mimeType: 'application/pdf', data: FIXTURE_PDF_BASE64 } }],
            },
          },
        ],
      });
    });

    test('what a provider cannot take in a tool result is a 400 naming the call, the type and the provider; nothing is sent', async () => {
      const before = sentCount();
      const zip = chatWithToolOutput([{ type: 'file', file: { filename: 'a.zip', file_data: ZIP_URL } }]);
      for (const [model, provider] of [
        ['claude', 'Anthropic'],
        ['nova', 'Bedrock'],
      ])
        await expect(openai.chat.completions.create({ model, messages: zip, tools })).rejects.toMatchObject({
          status: 400,
          message: expect.stringMatching(new RegExp(`tool result for call 'call_1'.*'application/zip' \\('a.zip'\\).*${provider}`)),
        });
      await expect(
        openai.chat.completions.create({
          model: 'flash',
          messages: chatWithToolOutput([{ type: 'image_url', image_url: { url: 'https://example.com/c.png' } }]),
          tools,
        }),
      ).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/tool result for call 'call_1'.*Gemini.*base64 data URL/) });
      await expect(
        openai.chat.completions.create({
          model: 'nova',
          messages: chatWithToolOutput([{ type: 'image_url', image_url: { url: 'https://example.com/c.png' } }]),
          tools,
        }),
      ).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/tool result for call 'call_1'.*Bedrock.*base64 data URL/) });
      expect(sentCount()).toBe(before);
    });
  });

  describe('an image sent as a file part', () => {
    const imageFile = [{ type: 'file', file: { filename: 'chart.png', file_data: PNG_URL } }];

    test('Anthropic and Bedrock: an image block (in a user turn and in a tool result); Gemini: inlineData', async () => {
      await openai.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: imageFile as never }] });
      expect(sentTo('/v1/messages').at(-1)!.body.messages[0].content).toEqual([
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
      ]);
      await openai.chat.completions.create({ model: 'claude', messages: chatWithToolOutput(imageFile), tools });
      expect(sentTo('/v1/messages').at(-1)!.body.messages[2].content[0].content).toEqual([
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
      ]);
      await openai.chat.completions.create({ model: 'nova', messages: [{ role: 'user', content: imageFile as never }] });
      expect(bedrock.received.at(-1)!.body.messages[0].content).toEqual([{ image: { format: 'png', source: { bytes: PNG } } }]);
      await openai.chat.completions.create({ model: 'nova', messages: chatWithToolOutput(imageFile), tools });
      expect(bedrock.received.at(-1)!.body.messages[2].content[0].toolResult.content).toEqual([{ image: { format: 'png', source: { bytes: PNG } } }]);
      await openai.chat.completions.create({ model: 'flash', messages: chatWithToolOutput(imageFile), tools });
      expect(lastGemini().contents[2].parts[0].functionResponse.parts).toEqual([{ inlineData: { mimeType: 'image/png', data: PNG } }]);
    });

    test('an image type the provider cannot read is a 400 naming it', async () => {
      const tiff = [{ type: 'file', file: { filename: 'scan.tiff', file_data: 'data:image/tiff;base64,SUkqAA==' } }];
      for (const [model, provider] of [
        ['claude', 'Anthropic'],
        ['nova', 'Bedrock'],
      ])
        await expect(openai.chat.completions.create({ model, messages: [{ role: 'user', content: tiff as never }] })).rejects.toMatchObject({
          status: 400,
          message: expect.stringMatching(new RegExp(`'image/tiff' \\('scan.tiff'\\).*${provider}`)),
        });
    });
  });

  describe('/v1/messages: a tool_result with a document block, on targets that do not speak Messages', () => {
    const params = (content: Anthropic.ToolResultBlockParam['content'], isError = false): Anthropic.MessageCreateParamsNonStreaming => ({
      model: 'compat',
      max_tokens: 100,
      tools: [{ name: 'get_chart', input_schema: { type: 'object', properties: {} } }],
      messages: [
        { role: 'user', content: 'Show me the report.' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'call_1', name: 'get_chart', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content, ...(isError ? { is_error: true } : {}) }] },
      ],
    });
    const withDocument: Anthropic.ToolResultBlockParam['content'] = [
      { type: 'text', text: 'Report attached.' },
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: FIXTURE_PDF_BASE64 }, title: 'report.pdf' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
    ];

    test('an OpenAI-compatible upstream gets a tool message with the file part (and the image) in their order', async () => {
      await anthropic.messages.create(params(withDocument));
      expect(sentTo('/openai/chat/completions').at(-1)!.body.messages[2]).toEqual({
        role: 'tool',
        tool_call_id: 'call_1',
        content: [
          { type: 'text', text: 'Report attached.' },
          { type: 'file', file: { filename: 'report.pdf', file_data: FIXTURE_PDF_URL } },
          { type: 'image_url', image_url: { url: PNG_URL } },
        ],
      });
    });

    test('Gemini and Bedrock get the document in the tool result; an error result says so in its text', async () => {
      await anthropic.messages.create({ ...params(withDocument), model: 'flash' });
      expect(lastGemini().contents[2].parts[0].functionResponse).toEqual({
        name: 'get_chart',
        response: { content: 'Report attached.' },
        parts: [{ inlineData: { mimeType: 'application/pdf', data: FIXTURE_PDF_BASE64 } }, { inlineData: { mimeType: 'image/png', data: PNG } }],
      });
      await anthropic.messages.create({ ...params(withDocument, true), model: 'nova' });
      expect(bedrock.received.at(-1)!.body.messages[2].content[0].toolResult.content).toEqual([
        { text: 'Error: Report attached.' },
        { document: { format: 'pdf', name: 'report-pdf', source: { bytes: FIXTURE_PDF_BASE64 } } },
        { image: { format: 'png', source: { bytes: PNG } } },
      ]);
    });

    test('Anthropic itself gets the tool_result as sent', async () => {
      await anthropic.messages.create({ ...params(withDocument), model: 'claude' });
      expect(sentTo('/v1/messages').at(-1)!.body.messages[2].content[0]).toEqual({ type: 'tool_result', tool_use_id: 'call_1', content: withDocument });
    });

    test('a document the canonical format cannot carry (a URL source) is a 400 on other targets, nothing sent', async () => {
      const before = sentCount();
      await expect(
        anthropic.messages.create({ ...params([{ type: 'document', source: { type: 'url', url: 'https://example.com/r.pdf' } }]), model: 'flash' }),
      ).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/document need an Anthropic model; 'gemini'/) });
      expect(sentCount()).toBe(before);
    });
  });

  describe('/v1/responses: a function_call_output listing input_text, input_image and input_file', () => {
    const input = (output: unknown[]): OpenAI.Responses.ResponseInput =>
      [
        { role: 'user', content: 'Show me the report.' },
        { type: 'function_call', call_id: 'call_1', name: 'get_chart', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_1', output },
      ] as OpenAI.Responses.ResponseInput;
    const output = [
      { type: 'input_text', text: 'Chart and report attached.' },
      { type: 'input_image', image_url: PNG_URL },
      { type: 'input_file', filename: 'report.pdf', file_data: FIXTURE_PDF_URL },
    ];
    const rTools: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'get_chart', parameters: { type: 'object', properties: {} }, strict: false }];

    test('translated: a tool message with image and file parts (OpenAI-compatible), a tool_result with image and document blocks (Anthropic)', async () => {
      await openai.responses.create({ model: 'compat', input: input(output), tools: rTools });
      expect(sentTo('/openai/chat/completions').at(-1)!.body.messages[2]).toEqual({ role: 'tool', tool_call_id: 'call_1', content: TOOL_OUTPUT });
      await openai.responses.create({ model: 'claude', input: input(output), tools: rTools });
      expect(sentTo('/v1/messages').at(-1)!.body.messages[2].content[0].content).toEqual([
        { type: 'text', text: 'Chart and report attached.' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
        { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: FIXTURE_PDF_BASE64 }, title: 'report.pdf' },
      ]);
    });

    test('native: OpenAI gets the output as sent; a file_id there passes only on an all-native route', async () => {
      await openai.responses.create({ model: 'gpt', input: input(output), tools: rTools });
      expect(sentTo('/openai/responses').at(-1)!.body.input[2]).toEqual({ type: 'function_call_output', call_id: 'call_1', output });
      const byId = [{ type: 'input_file', file_id: 'file-abc' }];
      await openai.responses.create({ model: 'gpt', input: input(byId), tools: rTools });
      expect(sentTo('/openai/responses').at(-1)!.body.input[2].output).toEqual(byId);

      const before = sentCount();
      await expect(openai.responses.create({ model: 'gpt-then-claude', input: input(byId), tools: rTools })).rejects.toMatchObject({
        status: 400,
        error: { param: 'input[2].output[0].file_id', code: 'unsupported_content' },
        message: expect.stringMatching(/not available through this gateway.*'anthropic'/),
      });
      expect(sentCount()).toBe(before);
    });
  });

  describe('/v1/responses: an input_image given by file_id', () => {
    const input = [
      {
        role: 'user',
        content: [
          { type: 'input_text', text: 'What is in it?' },
          { type: 'input_image', file_id: 'file-img1', detail: 'auto' },
        ],
      },
    ] as OpenAI.Responses.ResponseInput;

    test('passes as sent on a route whose every target takes the Responses API natively', async () => {
      await openai.responses.create({ model: 'gpt', input });
      expect(sentTo('/openai/responses').at(-1)!.body.input[0].content[1]).toEqual({ type: 'input_image', file_id: 'file-img1', detail: 'auto' });
    });

    test('elsewhere a 400 naming the part and the target, nothing sent', async () => {
      const before = sentCount();
      await expect(openai.responses.create({ model: 'gpt-then-claude', input })).rejects.toMatchObject({
        status: 400,
        error: { param: 'input[0].content[1].file_id', code: 'unsupported_content' },
        message: expect.stringMatching(/send the image itself as 'image_url'.*'anthropic' does not/),
      });
      await expect(openai.responses.create({ model: 'flash', input })).rejects.toMatchObject({ status: 400, error: { param: 'input[0].content[1].file_id' } });
      expect(sentCount()).toBe(before);
    });

    test('an image by id in the stored conversation: a later turn on another route is a 400 naming previous_response_id, nothing sent', async () => {
      const first = await openai.responses.create({ model: 'gpt', input });
      const before = sentCount();
      for (const model of ['compat', 'claude'])
        await expect(openai.responses.create({ model, previous_response_id: first.id, input: 'And now?' })).rejects.toMatchObject({
          status: 400,
          error: { param: 'previous_response_id', code: 'unsupported_content' },
          message: expect.stringMatching(/conversation of 'previous_response_id' holds 'conversation\[0\]\.content\[1\]\.file_id'.*image/),
        });
      expect(sentCount()).toBe(before);
      await openai.responses.create({ model: 'gpt', previous_response_id: first.id, input: 'And now?' });
      expect(sentTo('/openai/responses').at(-1)!.body.input[0].content[1]).toEqual({ type: 'input_image', file_id: 'file-img1', detail: 'auto' });
    });
  });
});
