/**
 * Files sent with a prompt through the gateway, driven by the official openai client (chat
 * completions `file` parts, Responses `input_file`) against fake OpenAI and Anthropic upstreams on
 * 127.0.0.1 and the mock provider: what each upstream receives, the 400s for what cannot be
 * carried (nothing is sent), the body limit, and the log record.
 */
import type { ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { anthropicMessage } from '../helpers/anthropic-wire';
import { type FakeUpstream, type ReceivedRequest, json, openAiCompletion, startFakeUpstream } from '../helpers/fake-upstream';
import { FIXTURE_PDF_BASE64, FIXTURE_PDF_URL } from '../helpers/files';
import { type TestGateway, startTestGateway } from '../helpers/gateway';
import { messageItem, openAiResponse } from '../helpers/openai-responses-wire';
import { CapturingLogSink } from './routing/harness';

const KEYS = { OPENAI_KEY: 'sk-openai-provider-key-0123456789', ANTHROPIC_KEY: 'sk-ant-provider-key-0123456789' };
const USAGE = { input: 3100, cached: 0, output: 5, reasoning: 0 };

/** One fake for both providers: OpenAI's Responses and chat completions, Anthropic's messages. */
function upstreamAnswer(req: ReceivedRequest, res: ServerResponse) {
  const path = req.path.split('?')[0];
  if (path === '/openai/responses') return json(res, 200, openAiResponse(req.body, [messageItem('OpenResponses File Input Fixture')], USAGE));
  if (path === '/openai/chat/completions') return json(res, 200, openAiCompletion('OpenResponses File Input Fixture'));
  if (path === '/v1/messages') return json(res, 200, anthropicMessage([{ type: 'text', text: 'OpenResponses File Input Fixture' }]));
  res.writeHead(404).end();
}

const readIt = (file: Record<string, unknown>) =>
  [
    {
      role: 'user',
      content: [
        { type: 'input_text', text: 'Read the attached file and answer with its title only.' },
        { type: 'input_file', ...file },
      ],
    },
  ] as OpenAI.Responses.ResponseInput;

describe('file input through the gateway', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let client: OpenAI;
  let key: string;
  const logs = new CapturingLogSink();
  const sentTo = (path: string) => upstream.received.filter((r) => r.path.split('?')[0] === path);

  beforeAll(async () => {
    upstream = await startFakeUpstream(upstreamAnswer);
    gw = await startTestGateway(
      {
        providers: {
          openai: { type: 'openai', baseUrl: `${upstream.url}/openai`, apiKey: { env: 'OPENAI_KEY' } },
          compat: { type: 'openai-compatible', baseUrl: `${upstream.url}/openai`, apiKey: { env: 'OPENAI_KEY' } },
          anthropic: { type: 'anthropic', baseUrl: upstream.url, apiKey: { env: 'ANTHROPIC_KEY' } },
          mock: { type: 'mock' },
        },
        models: {
          gpt: { targets: [{ provider: 'openai', model: 'gpt-4o' }] },
          compat: { targets: [{ provider: 'compat', model: 'llama-3' }] },
          claude: { targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
          'gpt-then-claude': {
            targets: [
              { provider: 'openai', model: 'gpt-4o' },
              { provider: 'anthropic', model: 'claude-sonnet-4-5' },
            ],
          },
          'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] },
          'compat-guarded': { targets: [{ provider: 'compat', model: 'llama-3' }], guard: 'pii' },
        },
        guards: { pii: { input: { pii: { action: 'redact', types: ['email'] } } } },
      },
      { env: KEYS, overrides: { logSink: logs } },
    );
    ({ key } = await gw.createKey({ name: 'files', logging: 'full' }));
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  describe('/v1/chat/completions with a file part (the openai SDK)', () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Title?' },
          { type: 'file', file: { filename: 'openresponses-fixture.pdf', file_data: FIXTURE_PDF_URL } },
        ],
      },
    ];

    test('an OpenAI-compatible upstream gets the part as sent', async () => {
      const out = await client.chat.completions.create({ model: 'compat', messages });
      expect(out.choices[0].message.content).toBe('OpenResponses File Input Fixture');
      expect(sentTo('/openai/chat/completions').at(-1)!.body.messages).toEqual(messages);
    });

    test('Anthropic gets a base64 document block titled by the file name', async () => {
      await client.chat.completions.create({ model: 'claude', messages });
      expect(sentTo('/v1/messages').at(-1)!.body.messages).toEqual([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Title?' },
            { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: FIXTURE_PDF_BASE64 }, title: 'openresponses-fixture.pdf' },
          ],
        },
      ]);
    });

    test('the mock reads it and answers with usage; the log record keeps the data URL as it keeps an image', async () => {
      const { data, response } = await client.chat.completions.create({ model: 'mock-model', messages }).withResponse();
      expect(data.choices[0].message.content).toContain('[read file openresponses-fixture.pdf: application/pdf');
      expect(data.usage!.prompt_tokens).toBeGreaterThan(3000);
      const record = await logs.record(response.headers.get('x-request-id')!);
      expect(record.status).toBe(200);
      expect(JSON.parse(record.request_body!).messages[0].content[1]).toEqual(messages[0].content![1]);
    });

    test('a file the provider cannot read, and a file given by id, are 400s naming them; nothing is sent', async () => {
      const before = upstream.received.length;
      await expect(
        client.chat.completions.create({
          model: 'claude',
          messages: [{ role: 'user', content: [{ type: 'file', file: { filename: 'a.zip', file_data: 'data:application/zip;base64,UEsDBA==' } }] }],
        }),
      ).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/'application\/zip'.*Anthropic/) });
      await expect(
        client.chat.completions.create({ model: 'compat', messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-abc' } }] }] }),
      ).rejects.toMatchObject({ status: 400, error: { param: 'messages[0].content[0].file.file_id' } });
      expect(upstream.received.length).toBe(before);
    });

    test('the prompt guard checks the text beside a file and leaves the file as sent', async () => {
      await client.chat.completions.create({
        model: 'compat-guarded',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Send it to ann@example.com.' },
              { type: 'file', file: { filename: 'a.pdf', file_data: FIXTURE_PDF_URL } },
            ],
          },
        ],
      });
      expect(sentTo('/openai/chat/completions').at(-1)!.body.messages[0].content).toEqual([
        { type: 'text', text: 'Send it to [REDACTED:email].' },
        { type: 'file', file: { filename: 'a.pdf', file_data: FIXTURE_PDF_URL } },
      ]);
    });

    test('the body limit still applies: a file that takes the body past 10 MB is a 413', async () => {
      const big = `data:application/pdf;base64,${'QUFB'.repeat(2_700_000)}`;
      const res = await gw.post(
        '/v1/chat/completions',
        { model: 'compat', messages: [{ role: 'user', content: [{ type: 'file', file: { file_data: big } }] }] },
        key,
      );
      expect(res.status).toBe(413);
    });
  });

  describe('/v1/responses with an input_file part', () => {
    test('file_data on a native OpenAI route: the input_file goes upstream as the client sent it', async () => {
      const r = await client.responses.create({ model: 'gpt', input: readIt({ filename: 'openresponses-fixture.pdf', file_data: FIXTURE_PDF_URL }) });
      expect(r.output_text).toBe('OpenResponses File Input Fixture');
      expect(sentTo('/openai/responses').at(-1)!.body.input[0].content[1]).toEqual({
        type: 'input_file',
        filename: 'openresponses-fixture.pdf',
        file_data: FIXTURE_PDF_URL,
      });
    });

    test('file_data on translated routes: a chat file part for an OpenAI-compatible server, a document block for Anthropic', async () => {
      await client.responses.create({ model: 'compat', input: readIt({ filename: 'openresponses-fixture.pdf', file_data: FIXTURE_PDF_URL }) });
      expect(sentTo('/openai/chat/completions').at(-1)!.body.messages[0].content[1]).toEqual({
        type: 'file',
        file: { filename: 'openresponses-fixture.pdf', file_data: FIXTURE_PDF_URL },
      });
      const r = await client.responses.create({ model: 'claude', input: readIt({ filename: 'openresponses-fixture.pdf', file_data: FIXTURE_PDF_URL }) });
      expect(r.status).toBe('completed');
      expect(sentTo('/v1/messages').at(-1)!.body.messages[0].content[1]).toEqual({
        type: 'document',
        source: { type: 'base64', media_type: 'application/pdf', data: FIXTURE_PDF_BASE64 },
        title: 'openresponses-fixture.pdf',
      });
    });

    test('a file stays in the stored conversation: previous_response_id sends it again with the next turn', async () => {
      const first = await client.responses.create({ model: 'claude', input: readIt({ filename: 'openresponses-fixture.pdf', file_data: FIXTURE_PDF_URL }) });
      await client.responses.create({ model: 'claude', previous_response_id: first.id, input: 'And its first word?' });
      const sent = sentTo('/v1/messages').at(-1)!.body.messages;
      expect(sent[0].content[1]).toMatchObject({ type: 'document', title: 'openresponses-fixture.pdf' });
      expect(sent.at(-1)).toEqual({ role: 'user', content: [{ type: 'text', text: 'And its first word?' }] });
    });

    test('file_id passes only on a route whose every target takes the Responses API natively; elsewhere a 400 naming the target, nothing sent', async () => {
      await client.responses.create({ model: 'gpt', input: readIt({ file_id: 'file-abc123' }) });
      expect(sentTo('/openai/responses').at(-1)!.body.input[0].content[1]).toEqual({ type: 'input_file', file_id: 'file-abc123' });

      const before = upstream.received.length;
      await expect(client.responses.create({ model: 'gpt-then-claude', input: readIt({ file_id: 'file-abc123' }) })).rejects.toMatchObject({
        status: 400,
        error: { param: 'input[0].content[1].file_id', code: 'unsupported_content' },
        message: expect.stringMatching(/not available through this gateway.*'anthropic'/),
      });
      await expect(client.responses.create({ model: 'mock-model', input: readIt({ file_url: 'https://example.com/a.pdf' }) })).rejects.toMatchObject({
        status: 400,
        error: { param: 'input[0].content[1].file_url' },
      });
      expect(upstream.received.length).toBe(before);
    });
  });
});
