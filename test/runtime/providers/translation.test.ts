/** Pure translation steps, on recorded-shape fixtures: no network, one behaviour per test. */
import { anthropicSseEncoder } from '../../../lambda/core/handlers/messages/encoder';
import { messagesToCanonical, nativeMessagesRequest, validateMessagesRequest } from '../../../lambda/core/handlers/messages/request';
import { GatewayError } from '../../../lambda/core/errors';
import { toAnthropicRequest } from '../../../lambda/providers/anthropic/request';
import { anthropicStreamTranslator } from '../../../lambda/providers/anthropic/stream';
import { MessagesAnswer } from '../../../lambda/providers/anthropic/native-answer';
import { bedrockError } from '../../../lambda/providers/bedrock/errors';
import { embeddingFamily } from '../../../lambda/providers/bedrock/embeddings';
import { toConverseInput } from '../../../lambda/providers/bedrock/request';
import { geminiSchema, toGeminiRequest } from '../../../lambda/providers/gemini/request';
import { geminiStreamTranslator } from '../../../lambda/providers/gemini/stream';
import { encodeEmbedding } from '../../../lambda/providers/translate-common';
import { type ChatCompletionChunk, type ProviderCall, UpstreamError } from '../../../lambda/providers/types';

const decode = (frames: Uint8Array[]) => frames.map((f) => new TextDecoder().decode(f)).join('');
const events = (sse: string) =>
  sse
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      const [ev, data] = block.split('\n');
      return { event: ev.replace('event: ', ''), data: JSON.parse(data.replace('data: ', '')) };
    });

const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk' as const, created: 1, model: 'gpt-4o' };
const chunk = (
  delta: ChatCompletionChunk['choices'][number]['delta'],
  finish: ChatCompletionChunk['choices'][number]['finish_reason'] = null,
): ChatCompletionChunk => ({ ...base, choices: [{ index: 0, delta, finish_reason: finish }] });

describe('Anthropic SSE encoder (canonical → /v1/messages events)', () => {
  test('text then two tool calls: blocks open and close in order, stop reason and usage in message_delta', () => {
    const enc = anthropicSseEncoder('public-model');
    const out = [
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Let me ' }),
      chunk({ content: 'look.' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"x":1}' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'g', arguments: '{}' } }] }),
      chunk({}, 'tool_calls'),
      { ...base, choices: [], usage: { prompt_tokens: 10, completion_tokens: 20, total_tokens: 30 } },
    ].flatMap((c) => enc.chunk(c));
    const evs = events(decode([...out, ...enc.done()]));
    expect(evs.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(evs[0].data.message).toMatchObject({ model: 'public-model', role: 'assistant', content: [] });
    expect(evs[5].data).toEqual({ type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'call_a', name: 'f', input: {} } });
    expect(evs[6].data).toEqual({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"x":1}' } });
    expect(evs[8].data.content_block).toMatchObject({ id: 'call_b', name: 'g' });
    expect(evs[11].data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { input_tokens: 10, output_tokens: 20 },
    });
  });

  test('an empty answer still produces a complete message', () => {
    const enc = anthropicSseEncoder('m');
    expect(events(decode(enc.done())).map((e) => e.event)).toEqual(['message_start', 'message_delta', 'message_stop']);
  });

  test('chunks carrying native Anthropic events are replayed verbatim, without synthesized events', () => {
    const answer = new MessagesAnswer();
    const enc = anthropicSseEncoder('m', answer);
    const c = chunk({ content: 'hi' });
    const native = [{ type: 'content_block_delta' as const, index: 0, delta: { type: 'text_delta', text: 'hi' } }];
    answer.noteEvents(c, native);
    expect(events(decode(enc.chunk(c)))).toEqual([{ event: 'content_block_delta', data: native[0] }]);
    expect(enc.chunk({ ...base, choices: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } })).toEqual([]);
    expect(events(decode(enc.done()))).toEqual([{ event: 'message_stop', data: { type: 'message_stop' } }]);
  });

  test('a chunk rewritten after the upstream sent it (a new object) is encoded from its canonical form, not replayed', () => {
    const answer = new MessagesAnswer();
    const enc = anthropicSseEncoder('m', answer);
    const c = chunk({ content: 'secret' });
    answer.noteEvents(c, [{ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'secret' } }]);
    const rewritten = { ...c, choices: [{ ...c.choices[0], delta: { content: '[redacted]' } }] };
    const sent = events(decode(enc.chunk(rewritten)));
    expect(sent.map((e) => e.event)).toEqual(['message_start', 'content_block_start', 'content_block_delta']);
    expect(sent[2].data.delta).toEqual({ type: 'text_delta', text: '[redacted]' });
  });

  test('the error event is Anthropic-shaped', () => {
    const gw = new GatewayError({ status: 503, type: 'overloaded_error', code: 'upstream_unavailable', message: 'busy' });
    expect(events(decode(anthropicSseEncoder('m').error(gw)))).toEqual([
      { event: 'error', data: { type: 'error', error: { type: 'overloaded_error', message: 'busy' } } },
    ]);
  });
});

describe('/v1/messages request → canonical', () => {
  test('tool results become tool messages ahead of the user text; errors are marked; thinking is dropped; the native body rides along', () => {
    const raw = {
      model: 'm',
      max_tokens: 10,
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
      tools: [{ name: 't', input_schema: { type: 'object' } }],
      messages: [
        { role: 'user', content: 'go' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'hmm', signature: 's' },
            { type: 'tool_use', id: 'tu1', name: 't', input: {} },
            { type: 'tool_use', id: 'tu2', name: 't', input: { a: 1 } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'results:' },
            { type: 'tool_result', tool_use_id: 'tu1', content: [{ type: 'text', text: 'ok' }] },
            { type: 'tool_result', tool_use_id: 'tu2', content: 'boom', is_error: true },
          ],
        },
      ],
    };
    const validated = validateMessagesRequest(raw);
    const out = messagesToCanonical(validated);
    expect(out.messages).toEqual([
      { role: 'user', content: 'go' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'tu1', type: 'function', function: { name: 't', arguments: '{}' } },
          { id: 'tu2', type: 'function', function: { name: 't', arguments: '{"a":1}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'tu1', content: 'ok' },
      { role: 'tool', tool_call_id: 'tu2', content: 'Error: boom' },
      { role: 'user', content: [{ type: 'text', text: 'results:' }] },
    ]);
    expect(out).toMatchObject({ tool_choice: 'auto', parallel_tool_calls: false, max_tokens: 10, stream: false });
    expect(nativeMessagesRequest(validated, 'beta-1')).toEqual({ format: 'messages', body: raw, beta: 'beta-1' });
    expect(nativeMessagesRequest(validated).body).toBe(raw);
    // Nothing hidden on the canonical request: the native body travels only in the call's typed field.
    expect(Object.getOwnPropertySymbols(out)).toEqual([]);
  });

  test.each([
    [{ model: 'm', messages: [{ role: 'user', content: 'x' }] }, /max_tokens/],
    [{ model: 'm', max_tokens: 1, messages: [] }, /messages/],
    [{ model: 'm', max_tokens: 1, messages: [{ role: 'system', content: 'x' }] }, /role/],
    [{ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: [{ text: 'no type' }] }] }, /content/],
  ])('invalid request %j is a 400 naming the field', (body, message) => {
    expect(() => validateMessagesRequest(body as Record<string, unknown>)).toThrow(message);
  });
});

describe('canonical → Anthropic request', () => {
  test('consecutive tool results merge into one user turn; parallel_tool_calls=false disables parallel tool use; empty text is skipped', () => {
    const out = toAnthropicRequest(
      {
        model: 'x',
        parallel_tool_calls: false,
        tools: [{ type: 'function', function: { name: 'f' } }],
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: '' },
              { type: 'text', text: 'go' },
            ],
          },
          {
            role: 'assistant',
            content: '',
            tool_calls: [
              { id: 'a', type: 'function', function: { name: 'f', arguments: '' } },
              { id: 'b', type: 'function', function: { name: 'f', arguments: '{}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'a', content: '1' },
          { role: 'tool', tool_call_id: 'b', content: '2' },
        ],
      },
      'claude-x',
    );
    expect(out.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'go' }] },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'a', name: 'f', input: {} },
          { type: 'tool_use', id: 'b', name: 'f', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'a', content: '1' },
          { type: 'tool_result', tool_use_id: 'b', content: '2' },
        ],
      },
    ]);
    expect(out.tools).toEqual([{ name: 'f', input_schema: { type: 'object', properties: {} } }]);
    expect(out.tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
    expect(out.max_tokens).toBe(4096);
  });

  test('tool arguments that are not a JSON object are a 400, not a crash', () => {
    const call = () =>
      toAnthropicRequest(
        { model: 'x', messages: [{ role: 'assistant', tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{oops' } }] }] },
        'm',
      );
    expect(call).toThrow(UpstreamError);
    expect(call).toThrow(/arguments of tool call 'f'/);
  });

  test('a follow-up that only returns a tool output declares the tools the history called: Anthropic with tool_choice none, Converse in a toolConfig', () => {
    const messages = [
      { role: 'user' as const, content: 'Weather in SF?' },
      {
        role: 'assistant' as const,
        content: null,
        tool_calls: [{ id: 'call_1', type: 'function' as const, function: { name: 'get_weather', arguments: '{"location":"SF"}' } }],
      },
      { role: 'tool' as const, tool_call_id: 'call_1', content: '64 degrees and clear' },
    ];
    const anthropic = toAnthropicRequest({ model: 'x', messages }, 'm');
    expect(anthropic.tools).toEqual([{ name: 'get_weather', description: expect.any(String), input_schema: { type: 'object' } }]);
    expect(anthropic.tool_choice).toEqual({ type: 'none' });
    const converse = toConverseInput({ model: 'x', messages }, 'm');
    expect(converse.toolConfig).toEqual({
      tools: [{ toolSpec: { name: 'get_weather', description: expect.any(String), inputSchema: { json: { type: 'object' } } } }],
    });
    // A request that declares its own tools keeps them as they are.
    const tools = [{ type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object', properties: {} } } }];
    expect(toAnthropicRequest({ model: 'x', messages, tools }, 'm').tools?.map((t) => t.name)).toEqual(['get_time']);
    expect(toConverseInput({ model: 'x', messages, tools }, 'm').toolConfig?.tools?.map((t) => t.toolSpec?.name)).toEqual(['get_time']);
    // No tool blocks in the history: nothing is declared.
    expect(toAnthropicRequest({ model: 'x', messages: [messages[0]] }, 'm').tools).toBeUndefined();
    expect(toConverseInput({ model: 'x', messages: [messages[0]] }, 'm').toolConfig).toBeUndefined();
  });

  test('n > 1 is a 400 for providers that answer once per call', () => {
    expect(() => toAnthropicRequest({ model: 'x', n: 2, messages: [{ role: 'user', content: 'hi' }] }, 'm')).toThrow(/n > 1 is not supported by Anthropic/);
    expect(() => toConverseInput({ model: 'x', n: 3, messages: [{ role: 'user', content: 'hi' }] }, 'm')).toThrow(/n > 1 is not supported by Bedrock/);
  });

  test.each([
    ['tool_calls not an array', { role: 'assistant', tool_calls: { id: 'a' } }],
    ['a tool call without a function', { role: 'assistant', tool_calls: [{ id: 'a', type: 'function' }] }],
    ['arguments that are not a string', { role: 'assistant', tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: { x: 1 } } }] }],
  ])('malformed history (%s) is a 400 for every translating provider, never a crash', (_name, message) => {
    const body = { model: 'x', messages: [{ role: 'user', content: 'hi' }, message] } as never;
    for (const translate of [() => toAnthropicRequest(body, 'm'), () => toConverseInput(body, 'm'), () => toGeminiRequest(body)]) {
      expect(translate).toThrow(UpstreamError);
    }
  });

  test('a tool_choice object without a function name is a 400', () => {
    const body = {
      model: 'x',
      tools: [{ type: 'function', function: { name: 'f' } }],
      tool_choice: { type: 'function' },
      messages: [{ role: 'user', content: 'hi' }],
    } as never;
    for (const translate of [() => toAnthropicRequest(body, 'm'), () => toConverseInput(body, 'm'), () => toGeminiRequest(body)]) {
      expect(translate).toThrow(/tool_choice/);
    }
  });

  test('images must be data URLs or http(s) URLs', () => {
    expect(() =>
      toAnthropicRequest({ model: 'x', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }] }] }, 'm'),
    ).toThrow(/base64 data URLs .* or http\(s\) URLs/);
  });
});

describe('stream translators', () => {
  test('Anthropic: thinking comes through as reasoning_content; tool blocks get OpenAI tool indexes in order; message_delta gives finish then usage', () => {
    const t = anthropicStreamTranslator('m');
    const out = [
      {
        type: 'message_start',
        message: {
          id: 'msg_1',
          type: 'message',
          role: 'assistant',
          model: 'claude',
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 5, output_tokens: 1, cache_read_input_tokens: 2 },
        },
      },
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } },
      { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'tu', name: 'f', input: {} } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{}' } },
      { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 9 } },
    ].flatMap((e) => t(e as never));
    expect(out.map((c) => c.choices[0]?.delta ?? c.usage)).toEqual([
      { role: 'assistant', content: '' },
      // Thinking is no longer dropped: it comes through as reasoning_content (providers/reasoning.ts).
      { reasoning_content: 'hmm' },
      { tool_calls: [{ index: 0, id: 'tu', type: 'function', function: { name: 'f', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{}' } }] },
      {},
      // Cache reads are part of the prompt, and reported apart as OpenAI does (cost prices them apart).
      { prompt_tokens: 7, completion_tokens: 9, total_tokens: 16, prompt_tokens_details: { cached_tokens: 2 } },
    ]);
    expect(out[4].choices[0].finish_reason).toBe('tool_calls');
    expect(out[0].id).toBe('msg_1');
  });

  test('Gemini: a blocked prompt finishes with content_filter; several candidates keep their index', () => {
    const t = geminiStreamTranslator('gemini');
    const blocked = t.next({ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' } });
    expect(blocked.at(-1)!.choices[0].finish_reason).toBe('content_filter');
    expect(t.finished).toBe(true);
    const t2 = geminiStreamTranslator('gemini');
    const out = t2.next({
      candidates: [
        { index: 0, content: { parts: [{ text: 'a' }] } },
        { index: 1, content: { parts: [{ text: 'b' }] }, finishReason: 'RECITATION' },
      ],
    });
    expect(out.slice(1).map((c) => [c.choices[0].index, c.choices[0].delta.content, c.choices[0].finish_reason])).toEqual([
      [0, 'a', null],
      [1, 'b', null],
      [1, undefined, 'content_filter'],
    ]);
  });
});

describe('small pieces', () => {
  test('Gemini schema cleaning removes rejected keywords at every depth', () => {
    expect(
      geminiSchema({
        $schema: 'x',
        type: 'object',
        additionalProperties: false,
        properties: { a: { type: 'object', additionalProperties: true, properties: {} }, b: { type: 'array', items: [{ $id: 'i', type: 'string' }] } },
      }),
    ).toEqual({
      type: 'object',
      properties: { a: { type: 'object', properties: {} }, b: { type: 'array', items: [{ type: 'string' }] } },
    });
  });

  test('Bedrock embedding families, cross-region inference profiles included; others are a 400', () => {
    expect(embeddingFamily('amazon.titan-embed-text-v2:0')).toBe('titan');
    expect(embeddingFamily('us.cohere.embed-v4:0')).toBe('cohere');
    expect(() => embeddingFamily('anthropic.claude-3')).toThrow(/Titan and Cohere/);
  });

  test('base64 embeddings are little-endian float32, as the openai SDK decodes them', () => {
    const b64 = encodeEmbedding([0.5, -2], 'base64') as string;
    const buf = Buffer.from(b64, 'base64');
    expect([buf.readFloatLE(0), buf.readFloatLE(4)]).toEqual([0.5, -2]);
    expect(encodeEmbedding([1], 'float')).toEqual([1]);
  });

  test('Bedrock in-stream exceptions without an HTTP status get one from their name', () => {
    const call = { provider: { name: 'bedrock', config: { type: 'bedrock' } }, model: 'm', signal: new AbortController().signal, fetch } as ProviderCall;
    const throttled = bedrockError(Object.assign(new Error('Too many tokens'), { name: 'ThrottlingException', $fault: 'client' }), call);
    expect([throttled.kind, throttled.status, throttled.upstreamCode]).toEqual(['http', 429, 'ThrottlingException']);
    const unknownServer = bedrockError(Object.assign(new Error('odd'), { name: 'SomethingNewException', $fault: 'server' }), call);
    expect(unknownServer.status).toBe(502);
    const network = bedrockError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), call);
    expect(network.kind).toBe('network');
  });
});
