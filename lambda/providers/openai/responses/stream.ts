/**
 * A Responses-format SSE stream (OpenAI's semantic events) → canonical chunks, translated as
 * events arrive; on a native call each event is noted on a chunk of its own (answer.ts), so
 * /v1/responses relays it as soon as it arrives. `response.failed`, an `error` event, or a stream that ends before
 * `response.completed` / `response.incomplete` throws, so a cut stream never looks complete.
 */
import { readSseEvents } from '../../../core/sse';
import type { OutputItem, ResponseObject, ResponseStreamEvent } from '../../../apischema/responses';
import { fetchFailure } from '../../http-errors';
import { chunkBuilder, nativeEventCarrier, parseEventJson } from '../../translate-common';
import { type ChatCompletionChunk, type ProviderCall, UpstreamError } from '../../types';
import type { ResponsesAnswer } from './answer';
import { canonicalUsage, failedResponseError, finishOf } from './canonical';
import { ToolCallTally, maxToolUse, serverToolUseOf, webSearchKindOf } from './tool-calls';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * Pure translation state machine: one Responses event in, zero or more canonical chunks out.
 * `requestTools`: the tools the request declared, for the kind its web search calls are billed as
 * when the upstream's response objects do not echo them. Each billed built-in tool call whose item
 * is done yields a chunk carrying the running tally (`server_tool_use`), so a stream cut later is
 * still charged for it; the final usage carries the whole answer's.
 */
export function responsesStreamTranslator(fallbackModel: string, provider: string, requestTools?: unknown) {
  let build = chunkBuilder('resp_pending', fallbackModel);
  /** output_index of a function_call item → its canonical tool_calls index. */
  const toolIndex = new Map<number, number>();
  /** The latest response object the upstream sent: its tools and reasoning tell the web search kind. */
  let latest: ResponseObject | undefined;
  const tally = new ToolCallTally();
  return (ev: ResponseStreamEvent): ChatCompletionChunk[] => {
    if (ev.response && typeof ev.response === 'object') latest = ev.response as ResponseObject;
    switch (ev.type) {
      case 'response.created': {
        const r = ev.response as ResponseObject | undefined;
        build = chunkBuilder(str(r?.id) || 'resp_pending', str(r?.model) || fallbackModel, r?.created_at);
        return [build.delta({ role: 'assistant', content: '' })];
      }
      case 'response.output_item.done': {
        if (!tally.add(ev.item, webSearchKindOf(latest, requestTools))) return [];
        return [{ ...build.delta({}), choices: [], server_tool_use: tally.use() }];
      }
      case 'response.output_item.added': {
        const item = ev.item as OutputItem | undefined;
        if (item?.type !== 'function_call') return [];
        const index = toolIndex.size;
        toolIndex.set(Number(ev.output_index), index);
        return [build.delta({ tool_calls: [{ index, id: item.call_id, type: 'function', function: { name: item.name, arguments: str(item.arguments) } }] })];
      }
      case 'response.output_text.delta':
        return str(ev.delta) ? [build.delta({ content: str(ev.delta) })] : [];
      case 'response.refusal.delta':
        return str(ev.delta) ? [build.delta({ refusal: str(ev.delta) })] : [];
      case 'response.reasoning_summary_text.delta':
      case 'response.reasoning_text.delta':
        return str(ev.delta) ? [build.delta({ reasoning_content: str(ev.delta) })] : [];
      case 'response.function_call_arguments.delta': {
        const index = toolIndex.get(Number(ev.output_index));
        if (index === undefined || !str(ev.delta)) return [];
        return [build.delta({ tool_calls: [{ index, function: { arguments: str(ev.delta) } }] })];
      }
      case 'response.completed':
      case 'response.incomplete': {
        const r = ev.response as ResponseObject;
        const usage = canonicalUsage(r.usage);
        // The final output counts every call; the tally, those whose items were done (a server may send either without the other).
        const tools = maxToolUse(serverToolUseOf(r.output, webSearchKindOf(r, requestTools)), tally.use());
        if (usage && tools) usage.server_tool_use = tools;
        const finish = build.delta({}, finishOf(r));
        return [tools ? { ...finish, server_tool_use: tools } : finish, ...(usage ? [build.usage(usage)] : [])];
      }
      case 'response.failed':
        throw failedResponseError(ev.response as ResponseObject | undefined, provider);
      case 'error': {
        const code = str(ev.code) || 'upstream_error';
        const status = code === 'rate_limit_exceeded' ? 429 : 502;
        throw new UpstreamError('in_band', `${provider}: ${str(ev.message) || 'error event in stream'}`, status, code);
      }
      default:
        return [];
    }
  };
}

const TERMINAL = new Set(['response.completed', 'response.incomplete']);

/** Canonical chunks from a Responses SSE body; `answer`, on a native call, is told which events produced which chunk. */
export async function* responsesChunks(
  body: ReadableStream<Uint8Array>,
  call: ProviderCall,
  answer?: ResponsesAnswer,
  requestTools?: unknown,
): AsyncGenerator<ChatCompletionChunk> {
  const name = call.provider.name;
  const translate = responsesStreamTranslator(call.model, name, requestTools);
  let ended = false;
  const carry = answer && nativeEventCarrier(answer, 'resp_pending', call.model);
  /** The running tally of billed tool calls, which a failure carries (the provider bills them regardless). */
  let tally: ChatCompletionChunk['server_tool_use'];
  try {
    for await (const sse of readSseEvents(body)) {
      if (sse.data === '[DONE]') break;
      const ev = parseEventJson<ResponseStreamEvent>(sse.data, name);
      // The event's name is its type; a server that puts it only on the `event:` line is read the same way.
      if (ev && typeof ev === 'object' && typeof ev.type !== 'string' && sse.event) ev.type = sse.event;
      if (!ev || typeof ev.type !== 'string') throw new UpstreamError('malformed', `${name} sent a stream event without a type`, 502, 'malformed_response');
      const chunks = translate(ev);
      for (const c of chunks) tally = c.server_tool_use ?? tally;
      // Each event leaves as it arrives (an item's end, a built-in tool's progress, in_progress too).
      yield* carry ? carry(ev, chunks) : chunks;
      if (TERMINAL.has(ev.type)) {
        ended = true;
        break;
      }
    }
  } catch (err) {
    throw withToolUse(err instanceof UpstreamError ? err : fetchFailure(err, call.signal, name), tally);
  }
  if (!ended) throw withToolUse(new UpstreamError('cut', `${name} ended the stream without response.completed`, 502, 'stream_cut'), tally);
}

function withToolUse(err: UpstreamError, tally: ChatCompletionChunk['server_tool_use']): UpstreamError {
  if (tally) err.serverToolUse = tally;
  return err;
}
