/** /v1/responses translation steps on recorded-shape fixtures: request → canonical, canonical → output items, and the stream encoder. */
import { GatewayError } from '../../../lambda/core/errors';
import { responsesSseEncoder } from '../../../lambda/core/handlers/responses/encoder';
import { encryptedContentOf, thinkingBlocksFromEncrypted } from '../../../lambda/core/handlers/responses/reasoning-carry';
import { builtInToolsOf, inputItemsOf, responsesToCanonical, validateResponsesRequest } from '../../../lambda/core/handlers/responses/request';
import { canonicalToOutput, responseShell, statusOf } from '../../../lambda/core/handlers/responses/response';
import type { ResponsesRequest } from '../../../lambda/core/handlers/responses/wire';
import { validateConfig } from '../../../lambda/core/config';
import type { ChatCompletion, ChatCompletionChunk } from '../../../lambda/providers/types';

const translate = (body: Record<string, unknown>) => {
  const req = validateResponsesRequest({ model: 'm', ...body });
  return responsesToCanonical(req, inputItemsOf(req));
};

function badRequest(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a 400');
}

describe('Responses request → canonical request', () => {
  test('instructions lead as a system message; a string input is one user message; sampling and caps carry over', () => {
    expect(translate({ instructions: 'Be brief.', input: 'hi', max_output_tokens: 50, temperature: 0.3, top_p: 0.9, safety_identifier: 'u1' })).toEqual({
      model: 'm',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
      ],
      stream: false,
      max_completion_tokens: 50,
      temperature: 0.3,
      top_p: 0.9,
      user: 'u1',
    });
  });

  test('function calls join the assistant text before them in one message; each output becomes a tool message', () => {
    const out = translate({
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'weather?' },
            { type: 'input_image', image_url: 'https://x/y.png', detail: 'low' },
          ],
        },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.' }] },
        { type: 'function_call', call_id: 'c1', name: 'w', arguments: '{"city":"Paris"}' },
        { type: 'function_call', call_id: 'c2', name: 'w', arguments: '{"city":"Rome"}' },
        { type: 'function_call_output', call_id: 'c1', output: 'sunny' },
        { type: 'function_call_output', call_id: 'c2', output: [{ type: 'input_text', text: 'rain' }] },
      ],
    });
    expect(out.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'weather?' },
          { type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'low' } },
        ],
      },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'w', arguments: '{"city":"Paris"}' } },
          { id: 'c2', type: 'function', function: { name: 'w', arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
      { role: 'tool', tool_call_id: 'c2', content: 'rain' },
    ]);
  });

  test('function tools, tool_choice, allowed_tools, text.format and reasoning effort map to their chat completions fields', () => {
    const tools = [
      { type: 'function', name: 'a', description: 'A', parameters: { type: 'object' }, strict: true },
      { type: 'function', name: 'b' },
    ];
    const out = translate({
      input: 'x',
      tools,
      tool_choice: { type: 'allowed_tools', mode: 'required', tools: [{ type: 'function', name: 'b' }] },
      parallel_tool_calls: false,
      text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, strict: true } },
      reasoning: { effort: 'xhigh' },
    });
    expect(out.tools).toEqual([{ type: 'function', function: { name: 'b', parameters: { type: 'object', properties: {} } } }]);
    expect(out.tool_choice).toBe('required');
    expect(out.parallel_tool_calls).toBe(false);
    expect(out.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' }, strict: true } });
    expect(out.reasoning_effort).toBe('high');
    expect(translate({ input: 'x', tools, tool_choice: { type: 'function', name: 'a' } }).tool_choice).toEqual({ type: 'function', function: { name: 'a' } });
  });

  test('a reasoning item the gateway wrote hands its signed thinking back with the next assistant turn; other reasoning items are not resent', () => {
    const blocks = [{ type: 'thinking' as const, thinking: 'plan', signature: 'sig' }];
    const out = translate({
      input: [
        { role: 'user', content: 'go' },
        { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'plan' }], encrypted_content: encryptedContentOf(blocks) },
        { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' },
        { type: 'function_call_output', call_id: 'c1', output: 'ok' },
        { type: 'reasoning', id: 'rs_2', summary: [], encrypted_content: 'opaque-openai-content' },
      ],
    });
    expect(out.messages[1]).toEqual({
      role: 'assistant',
      content: null,
      thinking_blocks: blocks,
      tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
    });
    expect(out.messages).toHaveLength(3);
    expect(thinkingBlocksFromEncrypted('gw-thinking:not-base64-json')).toEqual([]);
  });

  test.each([
    [{ input: [{ type: 'hologram' }] }, "unknown item type 'hologram'", 'input[0].type'],
    [{ input: [{ role: 'user', content: [{ type: 'input_audio' }] }] }, "'input_audio' is not supported", 'input[0].content[0].type'],
    [{ input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'f' }] }] }, 'file_id', 'input[0].content[0].image_url'],
    [{ input: [{ type: 'web_search_call', id: 'ws' }] }, "'web_search_call' items come from built-in tools", 'input[0].type'],
    [{ input: [{ type: 'item_reference', id: 'x' }] }, 'item references are not supported', 'input[0].type'],
    [{ input: 'x', tools: [{ type: 'teleport' }] }, "unknown tool type 'teleport'", 'tools[0].type'],
    [{ input: 'x', text: { format: { type: 'json_schema', schema: {} } } }, 'text.format.name', 'text.format.name'],
    [{ input: 'x', background: true }, 'background', 'background'],
    [{ input: 'x', max_output_tokens: 0 }, 'max_output_tokens', 'max_output_tokens'],
    [{}, "'input' is required", 'input'],
  ])('%j is a 400 naming it', (body, message, param) => {
    const err = badRequest(() => translate(body));
    expect([err.status, err.param]).toEqual([400, param]);
    expect(err.message).toContain(message);
  });

  test('built-in tools are found in tools and in tool_choice, and pass validation (the target decides)', () => {
    const req = validateResponsesRequest({
      model: 'm',
      input: 'x',
      tools: [{ type: 'web_search' }, { type: 'function', name: 'f' }],
      tool_choice: { type: 'file_search' },
    });
    expect(builtInToolsOf(req)).toEqual(['web_search', 'file_search']);
  });
});

const completion = (message: Record<string, unknown>, finish: ChatCompletion['choices'][number]['finish_reason'] = 'stop'): ChatCompletion => ({
  id: 'c',
  object: 'chat.completion',
  created: 1,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: null, ...message }, finish_reason: finish }],
});

describe('canonical answer → Responses output', () => {
  test('reasoning, text and tool calls become reasoning, message and function_call items in that order', () => {
    const out = canonicalToOutput(
      completion({
        content: 'Let me check.',
        reasoning_content: 'thinking',
        thinking_blocks: [{ type: 'thinking', thinking: 'thinking', signature: 's' }],
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
      }),
    );
    expect(out.map((i) => i.type)).toEqual(['reasoning', 'message', 'function_call']);
    expect(out[0]).toMatchObject({ summary: [{ type: 'summary_text', text: 'thinking' }], encrypted_content: expect.stringMatching(/^gw-thinking:/) });
    expect(out[1]).toMatchObject({ status: 'completed', content: [{ type: 'output_text', text: 'Let me check.', annotations: [], logprobs: [] }] });
    expect(out[2]).toMatchObject({ call_id: 'call_1', name: 'f', arguments: '{"a":1}', status: 'completed', id: expect.stringMatching(/^fc_/) });
  });

  test('a capped answer is incomplete (max_output_tokens); a filtered one too (content_filter)', () => {
    expect(statusOf('length')).toEqual({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
    expect(statusOf('content_filter')).toEqual({ status: 'incomplete', incomplete_details: { reason: 'content_filter' } });
    expect(statusOf('tool_calls')).toEqual({ status: 'completed', incomplete_details: null });
  });
});

describe('Responses stream encoder', () => {
  const base = { id: 'x', object: 'chat.completion.chunk' as const, created: 1, model: 'm' };
  const chunk = (delta: ChatCompletionChunk['choices'][number]['delta'], finish: ChatCompletionChunk['choices'][number]['finish_reason'] = null) => ({
    ...base,
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  const shell = responseShell({ model: 'm' } as ResponsesRequest, { id: 'resp_1', createdAt: 1, model: 'm', store: false, previousResponseId: null });
  const decode = (frames: Uint8Array[]) =>
    frames.map((f) => {
      const [ev, data] = new TextDecoder().decode(f).trim().split('\n');
      return { event: ev.slice(7), data: JSON.parse(data.slice(6)) };
    });

  test('reasoning, then text, then a tool call: every item opens and closes in order, and the usage arrives on response.completed', async () => {
    const enc = responsesSseEncoder({ shell, now: () => 2000, promptEstimate: 1, estimateOutput: () => 1 });
    const frames = [
      chunk({ role: 'assistant', reasoning_content: 'hm' }),
      chunk({ content: 'Hi' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a"' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }),
      chunk({}, 'tool_calls'),
      { ...base, choices: [], usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 } },
    ].flatMap((c) => enc.chunk(c));
    const events = decode([...frames, ...(await enc.done())]);
    expect(events.map((e) => e.event)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.reasoning_summary_part.added',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.done',
      'response.reasoning_summary_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events.every((e) => e.data.type === e.event)).toBe(true);
    const done = events.at(-1)!.data.response;
    expect(done.status).toBe('completed');
    expect(done.completed_at).toBe(2);
    expect(done.usage).toEqual({
      input_tokens: 5,
      output_tokens: 7,
      total_tokens: 12,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens_details: { reasoning_tokens: 0 },
    });
    expect(done.output.map((i: { type: string }) => i.type)).toEqual(['reasoning', 'message', 'function_call']);
    expect(done.output[2]).toMatchObject({ arguments: '{"a":1}', status: 'completed' });
  });

  test('a capped stream ends with response.incomplete; a failed one with response.failed and never response.completed', async () => {
    const capped = responsesSseEncoder({ shell, now: () => 0, promptEstimate: 1, estimateOutput: () => 1 });
    capped.chunk(chunk({ content: 'Hi' }));
    capped.chunk(chunk({}, 'length'));
    const last = decode(await capped.done()).at(-1)!;
    expect(last.event).toBe('response.incomplete');
    expect(last.data.response.incomplete_details).toEqual({ reason: 'max_output_tokens' });

    const failing = responsesSseEncoder({ shell, now: () => 0, promptEstimate: 1, estimateOutput: () => 1 });
    const frames = [
      ...failing.chunk(chunk({ content: 'Hi' })),
      ...failing.error(new GatewayError({ status: 502, type: 'upstream_error', code: 'upstream_cut', message: 'cut' })),
    ];
    const events = decode(frames);
    expect(events.map((e) => e.event)).not.toContain('response.completed');
    expect(events.at(-1)!.data.response).toMatchObject({ status: 'failed', error: { code: 'upstream_cut', message: 'cut' } });
  });

  test('onComplete runs before response.completed and its answer is what the client gets', async () => {
    const enc = responsesSseEncoder({ shell, now: () => 0, promptEstimate: 1, estimateOutput: () => 1, onComplete: async (r) => ({ ...r, store: false }) });
    enc.chunk(chunk({ content: 'Hi' }));
    expect(decode(await enc.done()).at(-1)!.data.response.store).toBe(false);
  });
});

describe('settings.responses', () => {
  test('ttlDays must be a positive number of days; unknown settings are named', () => {
    const base = { providers: { mock: { type: 'mock' } } };
    expect(() => validateConfig({ ...base, settings: { responses: { ttlDays: 7 } } })).not.toThrow();
    expect(() => validateConfig({ ...base, settings: { responses: { ttlDays: 0 } } })).toThrow(/settings\.responses\.ttlDays/);
    expect(() => validateConfig({ ...base, settings: { responses: { keep: true } } })).toThrow(/settings\.responses\.keep is not a known setting/);
  });
});
