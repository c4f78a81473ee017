/**
 * Files sent with a prompt, step by step on recorded-shape fixtures: the data URL checks, the
 * token estimate, each client format to the canonical `file` part (Responses `input_file`,
 * Anthropic `document`), and the canonical part to each provider's own block.
 */
import { GatewayError } from '../../../lambda/core/errors';
import { decodedBytes, inlineFileOf } from '../../../lambda/core/file-parts';
import { anthropicOnlyBlocks, messagesToCanonical, validateMessagesRequest } from '../../../lambda/core/handlers/messages/request';
import { inputItemsOf, responsesToCanonical, uploadedFilesOf, validateResponsesRequest } from '../../../lambda/core/handlers/responses/request';
import { estimateFileTokens, estimatePromptTokens } from '../../../lambda/core/tokens';
import { validateChatRequest } from '../../../lambda/core/validate';
import { toAnthropicRequest } from '../../../lambda/providers/anthropic/request';
import { documentName, toConverseInput } from '../../../lambda/providers/bedrock/request';
import { toGeminiRequest } from '../../../lambda/providers/gemini/request';
import { mockProvider } from '../../../lambda/providers/mock';
import { type ChatRequest, type ContentPart, type ProviderCall, UpstreamError } from '../../../lambda/providers/types';
import { FIXTURE_PDF_BASE64, FIXTURE_PDF_URL as PDF_URL } from '../../helpers/files';

const TEXT_URL = `data:text/markdown;base64,${Buffer.from('# Notes\nline two').toString('base64')}`;

const filePart = (file_data: string, filename?: string): ContentPart => ({ type: 'file', file: { ...(filename ? { filename } : {}), file_data } });
const chatWith = (...parts: ContentPart[]): ChatRequest => ({
  model: 'm',
  messages: [{ role: 'user', content: [{ type: 'text', text: 'Summarise.' }, ...parts] }],
});

function thrown(fn: () => unknown): GatewayError | UpstreamError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatewayError || err instanceof UpstreamError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('file data URLs', () => {
  test('a base64 data URL gives its media type (parameters allowed) and its payload; the decoded size needs no decoding', () => {
    expect(inlineFileOf(PDF_URL)).toEqual({ mediaType: 'application/pdf', base64: FIXTURE_PDF_BASE64 });
    expect(inlineFileOf(`data:Text/Plain;charset=utf-8;base64,${Buffer.from('hé').toString('base64')}`)?.mediaType).toBe('text/plain');
    expect(decodedBytes(FIXTURE_PDF_BASE64)).toBe(Buffer.from(FIXTURE_PDF_BASE64, 'base64').length);
    for (const n of [1, 2, 3, 4]) expect(decodedBytes(Buffer.alloc(n).toString('base64'))).toBe(n);
  });

  test('anything else is not a file: no media type, not base64, bad characters or padding, a URL', () => {
    for (const url of [
      'data:;base64,AAAA',
      'data:application/pdf,%25PDF',
      'data:application/pdf;base64,',
      'data:application/pdf;base64,AAA',
      'data:application/pdf;base64,AA$A',
      'data:application/pdf;base64,AA==AAAA',
      'https://example.com/a.pdf',
    ])
      expect(inlineFileOf(url)).toBeUndefined();
  });

  test('a data URL of 10 MB is checked in one pass, without a stack or backtracking blow-up', () => {
    const big = `data:application/pdf;base64,${'QUFB'.repeat(2_500_000)}`;
    expect(inlineFileOf(big)?.base64.length).toBe(10_000_000);
    expect(inlineFileOf(`${big}$`)).toBeUndefined();
  });
});

describe('token estimate of a file', () => {
  test('at least a PDF page (3,000); above that 0.3 a decoded byte; an image file as an image part; a file given by id as a page', () => {
    expect(estimateFileTokens({ file_data: PDF_URL })).toBe(3000);
    expect(estimateFileTokens({ file_data: `data:application/pdf;base64,${Buffer.alloc(100_000).toString('base64')}` })).toBe(30_000);
    expect(estimateFileTokens({ file_data: `data:image/png;base64,${Buffer.alloc(100_000).toString('base64')}` })).toBe(765);
    expect(estimateFileTokens({ file_id: 'file-abc' })).toBe(3000);
    const withFile = estimatePromptTokens(chatWith(filePart(PDF_URL)));
    expect(withFile - estimatePromptTokens(chatWith())).toBe(3000);
  });
});

describe('chat completions: the file part is validated', () => {
  const validate = (part: unknown) => validateChatRequest({ model: 'm', messages: [{ role: 'user', content: [part] }] });

  test('file_data as a base64 data URL, with or without a filename, passes as sent', () => {
    const req = validate(filePart(PDF_URL, 'a.pdf'));
    expect(req.messages[0].content).toEqual([filePart(PDF_URL, 'a.pdf')]);
  });

  test('file_id, a missing file, a URL or a bad filename is a 400 naming the field', () => {
    expect(thrown(() => validate({ type: 'file', file: { file_id: 'file-123' } }))).toMatchObject({
      status: 400,
      code: 'unsupported_content',
      param: 'messages[0].content[0].file.file_id',
      message: expect.stringMatching(/not available through this gateway.*file_data/),
    });
    expect(thrown(() => validate({ type: 'file' }))).toMatchObject({ status: 400, param: 'messages[0].content[0].file' });
    expect(thrown(() => validate({ type: 'file', file: { file_data: 'https://example.com/a.pdf' } }))).toMatchObject({
      status: 400,
      code: 'invalid_file',
      param: 'messages[0].content[0].file.file_data',
    });
    expect(thrown(() => validate({ type: 'file', file: { file_data: PDF_URL, filename: 7 } }))).toMatchObject({
      status: 400,
      param: 'messages[0].content[0].file.filename',
    });
  });
});

describe('Responses input_file → canonical file part', () => {
  const input = (part: Record<string, unknown>, role = 'user') => [{ role, content: [{ type: 'input_text', text: 'Read it.' }, part] }];

  test('file_data and filename become the canonical file part', () => {
    const req = validateResponsesRequest({ model: 'm', input: input({ type: 'input_file', filename: 'fixture.pdf', file_data: PDF_URL }) });
    expect(responsesToCanonical(req, inputItemsOf(req)).messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Read it.' }, filePart(PDF_URL, 'fixture.pdf')] },
    ]);
  });

  test('file_id / file_url are refused, unless deferred to the endpoint (native routes), which then finds them', () => {
    for (const field of ['file_id', 'file_url'])
      expect(thrown(() => validateResponsesRequest({ model: 'm', input: input({ type: 'input_file', [field]: 'x' }) }))).toMatchObject({
        status: 400,
        code: 'unsupported_content',
        param: `input[0].content[1].${field}`,
        message: expect.stringContaining('not available through this gateway'),
      });
    const req = validateResponsesRequest({ model: 'm', input: input({ type: 'input_file', file_id: 'file-1' }) }, { uploadedFiles: 'defer' });
    expect(uploadedFilesOf(req)).toEqual([{ at: 'input[0].content[1]', field: 'file_id' }]);
    expect(responsesToCanonical(req, inputItemsOf(req)).messages[0].content).toEqual([
      { type: 'text', text: 'Read it.' },
      { type: 'file', file: { file_id: 'file-1' } },
    ]);
  });

  test('a file outside a user message or a function_call_output, without data, or not a data URL is a 400', () => {
    const v = (body: Record<string, unknown>) => thrown(() => validateResponsesRequest({ model: 'm', ...body }));
    expect(v({ input: input({ type: 'input_file', file_data: PDF_URL }, 'system') })).toMatchObject({ status: 400, param: 'input[0].content[1]' });
    expect(v({ input: [{ type: 'function_call_output', call_id: 'c', output: [{ type: 'input_file', file_data: 'JVBERi0=' }] }] })).toMatchObject({
      status: 400,
      code: 'invalid_file',
      param: 'input[0].output[0].file_data',
    });
    expect(v({ input: input({ type: 'input_file', filename: 'x.pdf' }) })).toMatchObject({ status: 400, param: 'input[0].content[1].file_data' });
    expect(v({ input: input({ type: 'input_file', file_data: 'JVBERi0=' }) })).toMatchObject({ status: 400, code: 'invalid_file' });
  });
});

describe('/v1/messages document blocks → canonical file parts (for targets that do not speak Messages)', () => {
  const canonical = (block: Record<string, unknown>) =>
    messagesToCanonical(
      validateMessagesRequest({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: [block, { type: 'text', text: 'Sum up.' }] }] }),
    ).messages[0].content;

  test('a base64 PDF keeps its bytes, a plain-text source becomes a text/plain file; the title is the file name, the context text before it', () => {
    expect(canonical({ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: FIXTURE_PDF_BASE64 }, title: 'fixture.pdf' })).toEqual([
      filePart(PDF_URL, 'fixture.pdf'),
      { type: 'text', text: 'Sum up.' },
    ]);
    expect(canonical({ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'Ünïcode notes' }, context: 'From the wiki.' })).toEqual([
      { type: 'text', text: 'From the wiki.' },
      filePart(`data:text/plain;base64,${Buffer.from('Ünïcode notes').toString('base64')}`),
      { type: 'text', text: 'Sum up.' },
    ]);
  });

  test('URL and uploaded-file sources, cited documents and unreadable base64 stay Anthropic-only (a 400 on other targets, as sent on Anthropic)', () => {
    for (const block of [
      { type: 'document', source: { type: 'url', url: 'https://example.com/a.pdf' } },
      { type: 'document', source: { type: 'file', file_id: 'file_1' } },
      { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'x' }, citations: { enabled: true } },
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'not base64!' } },
    ])
      expect(canonical(block)).toEqual([
        { type: 'anthropic_only', block_type: 'document' },
        { type: 'text', text: 'Sum up.' },
      ]);
  });
});

describe('canonical file part → each provider', () => {
  test('Anthropic: a PDF is a base64 document titled by its file name; a text file a plain-text document; other types a 400 naming type and provider', () => {
    expect(toAnthropicRequest(chatWith(filePart(PDF_URL, 'fixture.pdf'), filePart(TEXT_URL)), 'claude').messages[0].content).toEqual([
      { type: 'text', text: 'Summarise.' },
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: FIXTURE_PDF_BASE64 }, title: 'fixture.pdf' },
      { type: 'document', source: { type: 'text', media_type: 'text/plain', data: '# Notes\nline two' } },
    ]);
    const err = thrown(() => toAnthropicRequest(chatWith(filePart('data:application/zip;base64,UEsDBA==', 'a.zip')), 'claude'));
    expect(err).toMatchObject({ status: 400, upstreamCode: 'unsupported_file_type' });
    expect(err.message).toMatch(/application\/zip.*Anthropic/);
  });

  test('Bedrock: a document block with the format of its media type, a name Converse accepts (unique in the request), and the bytes', () => {
    const docx = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
    const input = toConverseInput(
      chatWith(filePart(PDF_URL, 'openresponses-fixture.pdf'), filePart(TEXT_URL, 'openresponses-fixture.pdf'), filePart(`data:${docx};base64,UEsDBA==`)),
      'anthropic.claude-sonnet-4-5',
    );
    expect(input.messages![0].content).toEqual([
      { text: 'Summarise.' },
      { document: { format: 'pdf', name: 'openresponses-fixture-pdf', source: { bytes: new Uint8Array(Buffer.from(FIXTURE_PDF_BASE64, 'base64')) } } },
      { document: { format: 'md', name: 'openresponses-fixture-pdf (2)', source: { bytes: new Uint8Array(Buffer.from('# Notes\nline two')) } } },
      { document: { format: 'docx', name: 'document', source: { bytes: new Uint8Array(Buffer.from('UEsDBA==', 'base64')) } } },
    ]);
    const err = thrown(() => toConverseInput(chatWith(filePart('data:application/json;base64,e30=')), 'amazon.nova-pro-v1:0'));
    expect(err).toMatchObject({ status: 400, upstreamCode: 'unsupported_file_type' });
    expect(err.message).toMatch(/application\/json.*Bedrock/);
  });

  test('Bedrock document names: only ASCII letters and digits, single spaces, hyphens, parentheses and brackets', () => {
    expect(documentName('Q3 report (final) [v2].pdf')).toBe('Q3 report (final) [v2]-pdf');
    expect(documentName('a\t\t b../..\\c')).toBe('a b-c');
    expect(documentName('résumé.docx')).toBe('r-sum-docx');
    expect(documentName('...')).toBe('document');
    expect(documentName(undefined)).toBe('document');
    expect(documentName('x'.repeat(500))).toHaveLength(200);
  });

  test('Gemini: inlineData with the media type (PDF, text, image, audio, video); other types a 400', () => {
    expect(toGeminiRequest(chatWith(filePart(PDF_URL, 'fixture.pdf'), filePart(TEXT_URL))).contents[0].parts).toEqual([
      { text: 'Summarise.' },
      { inlineData: { mimeType: 'application/pdf', data: FIXTURE_PDF_BASE64 } },
      { inlineData: { mimeType: 'text/markdown', data: TEXT_URL.split(',')[1] } },
    ]);
    const err = thrown(() => toGeminiRequest(chatWith(filePart('data:application/msword;base64,0M8R4A==', 'old.doc'))));
    expect(err).toMatchObject({ status: 400, upstreamCode: 'unsupported_file_type' });
    expect(err.message).toMatch(/'application\/msword' \('old.doc'\).*Gemini/);
  });

  test('every translating provider refuses a file given by id (only native Responses targets are sent one)', () => {
    const byId = chatWith({ type: 'file', file: { file_id: 'file-1' } });
    for (const translate of [() => toAnthropicRequest(byId, 'c'), () => toConverseInput(byId, 'c'), () => toGeminiRequest(byId)])
      expect(thrown(translate)).toMatchObject({ status: 400, message: expect.stringContaining('not available through this gateway') });
  });

  test('mock: answers that it read the file, by name, type and size, with usage that counts it', async () => {
    const call = { provider: { name: 'mock', config: { type: 'mock' } }, model: 'mock-model', signal: new AbortController().signal, fetch } as ProviderCall;
    const out = await mockProvider.chat(chatWith(filePart(PDF_URL, 'fixture.pdf')), call);
    if (out.stream) throw new Error('expected JSON');
    expect(out.response.choices[0].message.content).toContain(`[read file fixture.pdf: application/pdf, ${decodedBytes(FIXTURE_PDF_BASE64)} bytes]`);
    expect(out.response.usage!.prompt_tokens).toBeGreaterThan(3000);
  });
});

describe('files and images in tool outputs, step by step', () => {
  const PNG_URL = 'data:image/png;base64,iVBORw0KGgo=';
  const toolChat = (...parts: ContentPart[]): ChatRequest => ({
    model: 'm',
    messages: [
      { role: 'user', content: 'Go.' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'fetch_doc', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_9', content: parts },
    ],
  });

  test('Responses: a function_call_output lists text, an image (with its detail) and a file as tool message parts; ids are found for the route', () => {
    const req = validateResponsesRequest(
      {
        model: 'm',
        input: [
          {
            type: 'function_call_output',
            call_id: 'c',
            output: [
              { type: 'input_text', text: 'Here.' },
              { type: 'input_image', image_url: PNG_URL, detail: 'low' },
              { type: 'input_file', filename: 'a.pdf', file_data: PDF_URL },
              { type: 'input_file', file_id: 'file-2' },
            ],
          },
          { role: 'user', content: [{ type: 'input_image', file_id: 'file-img' }] },
        ],
      },
      { uploadedFiles: 'defer' },
    );
    expect(responsesToCanonical(req, inputItemsOf(req)).messages).toEqual([
      {
        role: 'tool',
        tool_call_id: 'c',
        content: [
          { type: 'text', text: 'Here.' },
          { type: 'image_url', image_url: { url: PNG_URL, detail: 'low' } },
          filePart(PDF_URL, 'a.pdf'),
          { type: 'file', file: { file_id: 'file-2' } },
        ],
      },
      { role: 'user', content: [{ type: 'image_url', image_url: { file_id: 'file-img' } }] },
    ]);
    expect(uploadedFilesOf(req)).toEqual([
      { at: 'input[0].output[3]', field: 'file_id' },
      { at: 'input[1].content[0]', field: 'file_id', image: true },
    ]);
  });

  test('Responses: an image by file_id, not deferred, is refused as before', () => {
    expect(thrown(() => validateResponsesRequest({ model: 'm', input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'f' }] }] }))).toMatchObject({
      status: 400,
      param: 'input[0].content[0].image_url',
    });
  });

  test('an image by file_id that reaches a translating provider (a stored conversation sent on) is a 400 saying why', () => {
    const byId = chatWith({ type: 'image_url', image_url: { file_id: 'file-img' } });
    for (const translate of [() => toAnthropicRequest(byId, 'c'), () => toConverseInput(byId, 'c'), () => toGeminiRequest(byId)])
      expect(thrown(translate)).toMatchObject({ status: 400, message: expect.stringMatching(/'file_id'.*not available through this gateway.*image_url/) });
  });

  test('/v1/messages: a tool_result keeps its blocks in order; an error result leads with "Error:"; blocks only Anthropic can carry are marked', () => {
    const canonical = (content: unknown[], extra: Record<string, unknown> = {}) => {
      const req = messagesToCanonical(
        validateMessagesRequest({
          model: 'm',
          max_tokens: 10,
          messages: [
            { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: {} }] },
            { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content, ...extra }] },
          ],
        }),
      );
      return req;
    };
    const doc = { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: FIXTURE_PDF_BASE64 }, title: 'a.pdf' };
    expect(canonical([doc, { type: 'text', text: 'the doc' }], { is_error: true }).messages[1].content).toEqual([
      { type: 'text', text: 'Error:' },
      filePart(PDF_URL, 'a.pdf'),
      { type: 'text', text: 'the doc' },
    ]);
    expect(canonical([{ type: 'text', text: 'failed' }], { is_error: true }).messages[1].content).toBe('Error: failed');
    const searched = canonical([{ type: 'search_result', source: 'https://x', title: 't', content: [] }]);
    expect(anthropicOnlyBlocks(searched)).toEqual(['search_result']);
    expect(thrown(() => canonical([{ type: 'hologram' }]))).toMatchObject({ status: 400, param: 'messages.1.content.0.content.0.type' });
  });

  test('Anthropic and Bedrock: a tool result of text only stays one text; Gemini: a file type it cannot read is a 400 naming the call', () => {
    const twoTexts = toolChat({ type: 'text', text: 'a' }, { type: 'text', text: 'b' });
    expect(toAnthropicRequest(twoTexts, 'c').messages[2].content).toEqual([{ type: 'tool_result', tool_use_id: 'call_9', content: 'ab' }]);
    expect(toConverseInput(twoTexts, 'c').messages![2].content).toEqual([{ toolResult: { toolUseId: 'call_9', content: [{ text: 'ab' }] } }]);
    expect(toConverseInput(toolChat(), 'c').messages![2].content).toEqual([{ toolResult: { toolUseId: 'call_9', content: [{ text: ' ' }] } }]);
    const err = thrown(() => toGeminiRequest(toolChat(filePart('data:application/msword;base64,0M8R4A==', 'old.doc'))));
    expect(err).toMatchObject({ status: 400, upstreamCode: 'unsupported_file_type' });
    expect(err.message).toMatch(/^in the tool result for call 'call_9': file type 'application\/msword' \('old.doc'\).*Gemini/);
  });
});
