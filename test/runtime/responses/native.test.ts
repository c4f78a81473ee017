/**
 * The native /v1/responses path's pure steps: the body a native target is sent (the conversation
 * whole, nothing the upstream would have had to keep), the upstream's answer and events read into
 * canonical form (text, tool calls, reasoning, usage, finish), the failures that must never look
 * like an answer, and the encoder relaying native events under the gateway's id.
 */
import { encryptedContentOf } from '../../../lambda/core/handlers/responses/reasoning-carry';
import { nativeResponsesRequest } from '../../../lambda/core/handlers/responses/native';
import { responsesStreamEncoder } from '../../../lambda/core/handlers/responses/native-encoder';
import { responseShell } from '../../../lambda/core/handlers/responses/response';
import type { InputItem, ResponseObject } from '../../../lambda/apischema/responses';
import { errors } from '../../../lambda/core/errors';
import { UpstreamError } from '../../../lambda/core/provider';
import { ResponsesAnswer } from '../../../lambda/providers/openai/responses/answer';
import { completionFromResponse } from '../../../lambda/providers/openai/responses/canonical';
import { responsesChunks } from '../../../lambda/providers/openai/responses/stream';
import type { ChatCompletionChunk, ProviderCall } from '../../../lambda/providers/types';
import { functionCallItem, messageItem, openAiResponse, reasoningItem, responseEvents, sseEvent, webSearchItem } from '../../helpers/openai-responses-wire';

const call = { provider: { name: 'openai', config: { type: 'openai' } }, model: 'gpt-4o', signal: new AbortController().signal } as unknown as ProviderCall;
const USAGE = { input: 50, cached: 20, output: 10, reasoning: 4 };

function body(text: string): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      c.enqueue(new TextEncoder().encode(text));
      c.close();
    },
  });
}

async function collect(chunks: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const out: ChatCompletionChunk[] = [];
  for await (const c of chunks) out.push(c);
  return out;
}

const decode = (bytes: Uint8Array[]) =>
  bytes.map((b) => {
    const text = new TextDecoder().decode(b);
    return JSON.parse(text.slice(text.indexOf('data: ') + 6));
  });

describe('the body a native target is sent', () => {
  const req = { model: 'gpt', input: 'hi', previous_response_id: 'resp_gateway', store: true, tools: [{ type: 'web_search' }] } as never;

  test('without history: the client fields, no previous_response_id, store: false, input as sent', () => {
    expect(nativeResponsesRequest(req, [], [{ type: 'message', role: 'user', content: 'hi', id: 'msg_gw' }])).toEqual({
      format: 'responses',
      body: { model: 'gpt', input: 'hi', store: false, tools: [{ type: 'web_search' }] },
    });
  });

  test('with history: the conversation whole, ids left off, reasoning only with OpenAI encrypted content, built-in calls not replayed', () => {
    const history = [
      { type: 'message', role: 'user', content: 'earlier', id: 'msg_1' },
      { type: 'reasoning', id: 'rs_plain', summary: [{ type: 'summary_text', text: 'thought' }] },
      { type: 'reasoning', id: 'rs_openai', summary: [], encrypted_content: 'gAAAAopaque' },
      { type: 'reasoning', id: 'rs_claude', summary: [], encrypted_content: encryptedContentOf([{ type: 'thinking', thinking: 't', signature: 's' }]) },
      { type: 'web_search_call', id: 'ws_1', status: 'completed' },
      { type: 'message', role: 'assistant', id: 'msg_2', status: 'completed', content: [{ type: 'output_text', text: 'answer', annotations: [] }] },
      { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'f', arguments: '{}' },
    ] as unknown as InputItem[];
    const input = [{ type: 'function_call_output', id: 'msg_3', call_id: 'call_1', output: 'ok' }] as InputItem[];
    expect(nativeResponsesRequest(req, history, input).body.input).toEqual([
      { type: 'message', role: 'user', content: 'earlier' },
      { type: 'reasoning', id: 'rs_openai', summary: [], encrypted_content: 'gAAAAopaque' },
      { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'answer', annotations: [] }] },
      { type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{}' },
      { type: 'function_call_output', call_id: 'call_1', output: 'ok' },
    ]);
  });
});

describe('an upstream Responses answer in canonical form', () => {
  test('JSON: text, function calls, reasoning summary and usage with cached and reasoning tokens', () => {
    const fc = functionCallItem('lookup', '{"q":1}');
    const res = openAiResponse({ model: 'gpt-4o' }, [reasoningItem('I should look.'), webSearchItem('x'), messageItem('Looking.'), fc], USAGE);
    const c = completionFromResponse(res as ResponseObject, 'openai');
    expect(c.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: {
        role: 'assistant',
        content: 'Looking.',
        reasoning_content: 'I should look.',
        tool_calls: [{ id: fc.call_id, type: 'function', function: { name: 'lookup', arguments: '{"q":1}' } }],
      },
    });
    expect(c.usage).toEqual({
      prompt_tokens: 50,
      completion_tokens: 10,
      total_tokens: 60,
      prompt_tokens_details: { cached_tokens: 20 },
      completion_tokens_details: { reasoning_tokens: 4 },
    });
  });

  test('JSON: an incomplete answer finishes with length (or content_filter); a failed one is the attempt failing', () => {
    const capped = openAiResponse({ model: 'gpt-4o' }, [messageItem('Cut')], USAGE, { status: 'incomplete', incomplete: 'max_output_tokens' });
    expect(completionFromResponse(capped as ResponseObject, 'openai').choices[0].finish_reason).toBe('length');
    const filtered = openAiResponse({ model: 'gpt-4o' }, [], USAGE, { status: 'incomplete', incomplete: 'content_filter' });
    expect(completionFromResponse(filtered as ResponseObject, 'openai').choices[0].finish_reason).toBe('content_filter');
    const failed = { ...openAiResponse({ model: 'gpt-4o' }, [], USAGE, { status: 'failed' }), error: { code: 'server_error', message: 'boom' } };
    expect(() => completionFromResponse(failed as ResponseObject, 'openai')).toThrow(
      expect.objectContaining({ kind: 'in_band', upstreamCode: 'server_error' }),
    );
  });

  test('stream: deltas become chunks, each group of events noted on the chunk it opened, the end a finish and a usage chunk', async () => {
    const fc = functionCallItem('lookup', '{"city":"Paris"}');
    const events = responseEvents(openAiResponse({ model: 'gpt-4o' }, [reasoningItem('Hmm.'), messageItem('Hi there'), fc], USAGE));
    const answer = new ResponsesAnswer();
    const chunks = await collect(responsesChunks(body(events.map(sseEvent).join('')), call, answer));
    const deltas = chunks.map((c) => c.choices[0]?.delta ?? {});
    expect(deltas.map((d) => d.content ?? '').join('')).toBe('Hi there');
    expect(deltas.map((d) => d.reasoning_content ?? '').join('')).toBe('Hmm.');
    const toolDeltas = deltas.flatMap((d) => d.tool_calls ?? []);
    expect(toolDeltas[0]).toEqual({ index: 0, id: fc.call_id, type: 'function', function: { name: 'lookup', arguments: '' } });
    expect(toolDeltas.map((t) => t.function?.arguments ?? '').join('')).toBe('{"city":"Paris"}');
    expect(chunks.at(-2)!.choices[0].finish_reason).toBe('tool_calls');
    expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 50, completion_tokens: 10 });
    // Every upstream event is noted exactly once, in order.
    const noted = chunks.flatMap((c) => answer.events(c) ?? []);
    expect(noted.map((e) => e.type)).toEqual(events.map((e) => e.type));
    expect(noted.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
  });

  test.each([
    [
      'an error event',
      [{ type: 'error', code: 'rate_limit_exceeded', message: 'slow down', param: null }],
      { kind: 'in_band', status: 429, upstreamCode: 'rate_limit_exceeded' },
    ],
    [
      'response.failed',
      [{ type: 'response.failed', response: { status: 'failed', error: { code: 'server_error', message: 'boom' } } }],
      { kind: 'in_band', status: 502, upstreamCode: 'server_error' },
    ],
    ['the end without response.completed', [], { kind: 'cut', upstreamCode: 'stream_cut' }],
  ])('stream: %s after content fails the stream', async (_name, tail, failure) => {
    const events = responseEvents(openAiResponse({ model: 'gpt-4o' }, [messageItem('Hello there')], USAGE));
    const head = events.slice(
      0,
      events.findIndex((e) => e.type === 'response.output_text.done'),
    );
    const chunks: ChatCompletionChunk[] = [];
    await expect(
      (async () => {
        for await (const c of responsesChunks(body([...head, ...tail].map(sseEvent).join('')), call)) chunks.push(c);
      })(),
    ).rejects.toMatchObject(failure);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Hello there');
  });

  test('stream: a server that names its events only on the event: line is read the same way', async () => {
    const events = responseEvents(openAiResponse({ model: 'gpt-4o' }, [messageItem('Hi')], USAGE));
    const text = events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify({ ...e, type: undefined })}\n\n`).join('');
    const chunks = await collect(responsesChunks(body(text), call));
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Hi');
    expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 50 });
  });

  test('stream: an event that is not JSON is a malformed answer', async () => {
    await expect(collect(responsesChunks(body('event: response.created\ndata: {oops\n\n'), call))).rejects.toBeInstanceOf(UpstreamError);
  });
});

describe('the stream encoder', () => {
  const shell = responseShell({ model: 'gpt' } as never, { id: 'resp_gateway', createdAt: 1, model: 'gpt', store: true, previousResponseId: 'resp_before' });
  const options = { shell, now: () => 2_000, promptEstimate: 5, estimateOutput: (t: string) => t.length };

  async function nativeStream() {
    const events = responseEvents(openAiResponse({ model: 'gpt-4o' }, [messageItem('Hi there')], USAGE));
    const answer = new ResponsesAnswer();
    const chunks = await collect(responsesChunks(body(events.map(sseEvent).join('')), call, answer));
    return { events, answer, chunks };
  }

  test("native: the upstream's events relayed under the gateway's id, renumbered, response.completed after the store", async () => {
    const { events, answer, chunks } = await nativeStream();
    const stored: ResponseObject[] = [];
    const onComplete = async (r: ResponseObject) => {
      stored.push(r);
      return { ...r, store: false };
    };
    const enc = responsesStreamEncoder({ ...options, onComplete }, answer);
    const out = decode([...chunks.flatMap((c) => enc.chunk(c)), ...(await enc.done())]);
    expect(out.map((e) => e.type)).toEqual(events.map((e) => e.type));
    expect(out.map((e) => e.sequence_number)).toEqual(out.map((_, i) => i));
    for (const e of out.filter((x) => x.response)) expect(e.response).toMatchObject({ id: 'resp_gateway', previous_response_id: 'resp_before' });
    expect(stored[0]).toMatchObject({ id: 'resp_gateway', status: 'completed', usage: { input_tokens: 50 } });
    expect(out.at(-1).response.store).toBe(false);
  });

  test('native: a failure ends with response.failed holding the items delivered, never response.completed', async () => {
    const { answer, chunks } = await nativeStream();
    const enc = responsesStreamEncoder(options, answer);
    const out = decode([...chunks.slice(0, 4).flatMap((c) => enc.chunk(c)), ...enc.error(errors.streamIdle('openai', 1000))]);
    expect(out.map((e) => e.type)).not.toContain('response.completed');
    expect(out.at(-1)).toMatchObject({ type: 'response.failed', response: { id: 'resp_gateway', status: 'failed', error: { code: 'upstream_idle_timeout' } } });
    expect(out.at(-1).response.output).toEqual([expect.objectContaining({ type: 'message' })]);
  });

  test('chunks without native events (another target, a guard rewrite, a cache hit) are encoded from their canonical form', async () => {
    const { answer, chunks } = await nativeStream();
    const rewritten = chunks.map((c) => ({ ...c }));
    const enc = responsesStreamEncoder(options, answer);
    const out = decode([...rewritten.flatMap((c) => enc.chunk(c)), ...(await enc.done())]);
    expect(out[0].response.id).toBe('resp_gateway');
    expect(out.filter((e) => e.type === 'response.output_text.delta').every((e) => !('obfuscation' in e))).toBe(true);
    expect(out.at(-1)).toMatchObject({ type: 'response.completed', response: { usage: { input_tokens: 50 } } });
  });
});
