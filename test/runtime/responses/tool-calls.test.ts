/**
 * Counting the built-in tool calls of a native Responses answer, the calls its provider bills per
 * call: web searches (a `search` action, or no action at all; not `open_page` / `find_in_page`),
 * file searches; failed calls are not counted. JSON answers count their output; streams count each
 * item as it is done (a running tally on a chunk of its own) and the final output, so a stream cut
 * mid-way still counts the calls whose items were done.
 */
import { ResponsesAnswer } from '../../../lambda/providers/openai/responses/answer';
import { responsesChat } from '../../../lambda/providers/openai/responses/call';
import { responsesChunks } from '../../../lambda/providers/openai/responses/stream';
import { billedKindOf, maxToolUse, serverToolUseOf, webSearchKindOf } from '../../../lambda/providers/openai/responses/tool-calls';
import type { ChatCompletionChunk, NativeResponsesRequest, ProviderCall } from '../../../lambda/providers/types';
import { messageItem, openAiResponse, responseEvents, sseEvent, upstreamId, webSearchItem } from '../../helpers/openai-responses-wire';

const call = { provider: { name: 'openai', config: { type: 'openai' } }, model: 'gpt-4o', signal: new AbortController().signal } as unknown as ProviderCall;
const USAGE = { input: 50, output: 10 };

const openPage = () => ({ id: upstreamId('ws'), type: 'web_search_call', status: 'completed', action: { type: 'open_page', url: 'https://example.org' } });
const findInPage = () => ({
  id: upstreamId('ws'),
  type: 'web_search_call',
  status: 'completed',
  action: { type: 'find_in_page', url: 'https://example.org', pattern: 'x' },
});
const previewSearch = () => ({ id: upstreamId('ws'), type: 'web_search_call', status: 'completed' });
const fileSearch = () => ({ id: upstreamId('fs'), type: 'file_search_call', status: 'completed', queries: ['q'], results: null });

function body(text: string): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      c.enqueue(new TextEncoder().encode(text));
      c.close();
    },
  });
}

describe('which items are billed calls', () => {
  test('a search action (or none) is a web search; open_page and find_in_page are not; a file search is one; failed calls are not counted', () => {
    expect(billedKindOf(webSearchItem('news'), 'web_search')).toBe('web_search');
    expect(billedKindOf(previewSearch(), 'web_search_preview')).toBe('web_search_preview');
    expect(billedKindOf(openPage(), 'web_search')).toBeUndefined();
    expect(billedKindOf(findInPage(), 'web_search')).toBeUndefined();
    expect(billedKindOf(fileSearch(), 'web_search')).toBe('file_search');
    expect(billedKindOf({ ...webSearchItem('x'), status: 'failed' }, 'web_search')).toBeUndefined();
    expect(billedKindOf({ ...fileSearch(), status: 'failed' }, 'web_search')).toBeUndefined();
    expect(billedKindOf(messageItem('hi'), 'web_search')).toBeUndefined();
    expect(billedKindOf({ type: 'code_interpreter_call', status: 'completed' }, 'web_search')).toBeUndefined();
    expect(billedKindOf(null, 'web_search')).toBeUndefined();
  });

  test('the web search kind: web_search_preview on a non-reasoning model is its own; on a reasoning model, and web_search always, it is a web search', () => {
    const preview = [{ type: 'web_search_preview' }];
    expect(webSearchKindOf({ tools: preview as never, reasoning: { effort: null, summary: null } })).toBe('web_search_preview');
    expect(webSearchKindOf({ tools: [{ type: 'web_search_preview_2025_03_11' }] as never, reasoning: null })).toBe('web_search_preview');
    expect(webSearchKindOf({ tools: preview as never, reasoning: { effort: 'medium', summary: null } })).toBe('web_search');
    expect(webSearchKindOf({ tools: [{ type: 'web_search' }] as never, reasoning: { effort: null, summary: null } })).toBe('web_search');
    // The upstream did not echo its tools: the request's tell.
    expect(webSearchKindOf({ tools: [] as never, reasoning: null }, preview)).toBe('web_search_preview');
    expect(webSearchKindOf(undefined, [{ type: 'web_search' }])).toBe('web_search');
    expect(webSearchKindOf(undefined, undefined)).toBe('web_search');
  });

  test('a whole output counted by kind; none is undefined; the larger count of each kind wins', () => {
    const output = [webSearchItem('a'), openPage(), webSearchItem('b'), findInPage(), fileSearch(), messageItem('done')];
    expect(serverToolUseOf(output, 'web_search')).toEqual({ web_search_requests: 2, file_search_requests: 1 });
    expect(serverToolUseOf([messageItem('no tools')], 'web_search')).toBeUndefined();
    expect(maxToolUse({ web_search_requests: 2 }, { web_search_requests: 1, file_search_requests: 1 })).toEqual({
      web_search_requests: 2,
      file_search_requests: 1,
    });
    expect(maxToolUse(undefined, { web_search_requests: 1 })).toEqual({ web_search_requests: 1 });
  });
});

describe('a native call carries its billed calls in the canonical usage', () => {
  const endpoint = { url: () => 'http://upstream.invalid/v1/responses', headers: () => ({}) };
  const native = (tools: unknown[]) => ({ format: 'responses' as const, body: { model: 'gpt', input: 'search', tools } }) as unknown as NativeResponsesRequest;
  const answering = (payload: unknown, stream = false) =>
    ({
      ...call,
      fetch: async () =>
        new Response(stream ? (payload as string) : JSON.stringify(payload), {
          status: 200,
          headers: { 'content-type': stream ? 'text/event-stream' : 'application/json' },
        }),
    }) as unknown as ProviderCall;

  test('JSON: server_tool_use beside the tokens', async () => {
    const req = { model: 'gpt-4o', tools: [{ type: 'web_search' }, { type: 'file_search' }] };
    const res = openAiResponse(req, [webSearchItem('a'), openPage(), webSearchItem('b'), fileSearch(), messageItem('Found.')], USAGE);
    const out = await responsesChat({ model: 'gpt-4o', messages: [] } as never, native(req.tools), answering(res), endpoint);
    if (out.stream) throw new Error('expected JSON');
    expect(out.response.usage).toMatchObject({
      prompt_tokens: 50,
      completion_tokens: 10,
      server_tool_use: { web_search_requests: 2, file_search_requests: 1 },
    });
  });

  test('JSON: web_search_preview on a non-reasoning model counted as its own kind', async () => {
    const req = { model: 'gpt-4o', tools: [{ type: 'web_search_preview' }] };
    const res = openAiResponse(req, [previewSearch(), messageItem('Found.')], USAGE);
    const out = await responsesChat({ model: 'gpt-4o', messages: [] } as never, native(req.tools), answering(res), endpoint);
    if (out.stream) throw new Error('expected JSON');
    expect(out.response.usage?.server_tool_use).toEqual({ web_search_preview_requests: 1 });
  });

  test('JSON: no built-in calls, no server_tool_use', async () => {
    const res = openAiResponse({ model: 'gpt-4o' }, [messageItem('Plain.')], USAGE);
    const out = await responsesChat({ model: 'gpt-4o', messages: [] } as never, native([]), answering(res), endpoint);
    if (out.stream) throw new Error('expected JSON');
    expect(out.response.usage?.server_tool_use).toBeUndefined();
  });
});

describe('a native stream counts the calls whose items were done', () => {
  const req = { model: 'gpt-4o', tools: [{ type: 'web_search' }] };

  test('each billed item, once done, brings a chunk with the running tally; the usage carries the whole answer', async () => {
    const events = responseEvents(openAiResponse(req, [webSearchItem('a'), openPage(), webSearchItem('b'), messageItem('Found it.')], USAGE));
    const answer = new ResponsesAnswer();
    const chunks: ChatCompletionChunk[] = [];
    for await (const c of responsesChunks(body(events.map(sseEvent).join('')), call, answer, req.tools)) chunks.push(c);
    const tallies = chunks.filter((c) => c.server_tool_use && c.choices.length === 0).map((c) => c.server_tool_use);
    expect(tallies).toEqual([{ web_search_requests: 1 }, { web_search_requests: 2 }]);
    expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 50, server_tool_use: { web_search_requests: 2 } });
    // Every upstream event is still noted exactly once, in order.
    const noted = chunks.flatMap((c) => answer.events(c) ?? []);
    expect(noted.map((e) => e.type)).toEqual(events.map((e) => e.type));
    // Text is unchanged.
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Found it.');
  });

  test('cut mid-way: the calls whose items were done are counted, the one still searching is not', async () => {
    const events = responseEvents(openAiResponse(req, [webSearchItem('a'), webSearchItem('b'), messageItem('Found it.')], USAGE));
    const secondSearching = events.findIndex((e) => e.type === 'response.web_search_call.searching' && e.output_index === 1);
    const chunks: ChatCompletionChunk[] = [];
    await expect(
      (async () => {
        for await (const c of responsesChunks(
          body(
            events
              .slice(0, secondSearching + 1)
              .map(sseEvent)
              .join(''),
          ),
          call,
          undefined,
          req.tools,
        ))
          chunks.push(c);
      })(),
    ).rejects.toMatchObject({ kind: 'cut', serverToolUse: { web_search_requests: 1 } });
    const last = chunks.filter((c) => c.server_tool_use).at(-1);
    expect(last?.server_tool_use).toEqual({ web_search_requests: 1 });
  });

  test('a completed stream whose usage is missing still carries the tally on its finishing chunk', async () => {
    const response = openAiResponse(req, [webSearchItem('a'), messageItem('Ok.')], USAGE);
    const events = responseEvents({ ...response, usage: null });
    const chunks: ChatCompletionChunk[] = [];
    for await (const c of responsesChunks(body(events.map(sseEvent).join('')), call, undefined, req.tools)) chunks.push(c);
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(chunks.at(-1)).toMatchObject({ choices: [{ finish_reason: 'stop' }], server_tool_use: { web_search_requests: 1 } });
  });

  test('the kind comes from the response objects the upstream streams (web_search_preview, non-reasoning)', async () => {
    const preview = { model: 'gpt-4o', tools: [{ type: 'web_search_preview' }] };
    const events = responseEvents(openAiResponse(preview, [previewSearch(), messageItem('Ok.')], USAGE));
    const chunks: ChatCompletionChunk[] = [];
    for await (const c of responsesChunks(body(events.map(sseEvent).join('')), call)) chunks.push(c);
    expect(chunks.at(-1)!.usage?.server_tool_use).toEqual({ web_search_preview_requests: 1 });
  });
});
