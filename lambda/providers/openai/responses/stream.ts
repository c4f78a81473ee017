/**
 * A Responses-format SSE stream (OpenAI's semantic events) → canonical chunks, translated as
 * events arrive; on a native call the events behind each chunk are noted (answer.ts) so
 * /v1/responses can relay them. `response.failed`, an `error` event, or a stream that ends before
 * `response.completed` / `response.incomplete` throws, so a cut stream never looks complete.
 */
import { readSseEvents } from '../../../core/sse';
import type { OutputItem, ResponseObject, ResponseStreamEvent } from '../../../apischema/responses';
import { fetchFailure } from '../../http-errors';
import { chunkBuilder, parseEventJson } from '../../translate-common';
import { type ChatCompletionChunk, type ProviderCall, UpstreamError } from '../../types';
import type { ResponsesAnswer } from './answer';
import { canonicalUsage, failedResponseError, finishOf } from './canonical';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Pure translation state machine: one Responses event in, zero or more canonical chunks out. */
export function responsesStreamTranslator(fallbackModel: string, provider: string) {
  let build = chunkBuilder('resp_pending', fallbackModel);
  /** output_index of a function_call item → its canonical tool_calls index. */
  const toolIndex = new Map<number, number>();
  return (ev: ResponseStreamEvent): ChatCompletionChunk[] => {
    switch (ev.type) {
      case 'response.created': {
        const r = ev.response as ResponseObject | undefined;
        build = chunkBuilder(str(r?.id) || 'resp_pending', str(r?.model) || fallbackModel, r?.created_at);
        return [build.delta({ role: 'assistant', content: '' })];
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
        return [build.delta({}, finishOf(r)), ...(usage ? [build.usage(usage)] : [])];
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
export async function* responsesChunks(body: ReadableStream<Uint8Array>, call: ProviderCall, answer?: ResponsesAnswer): AsyncGenerator<ChatCompletionChunk> {
  const name = call.provider.name;
  const translate = responsesStreamTranslator(call.model, name);
  let group: ResponseStreamEvent[] = [];
  let ended = false;
  try {
    for await (const sse of readSseEvents(body)) {
      if (sse.data === '[DONE]') break;
      const ev = parseEventJson<ResponseStreamEvent>(sse.data, name);
      // The event's name is its type; a server that puts it only on the `event:` line is read the same way.
      if (ev && typeof ev === 'object' && typeof ev.type !== 'string' && sse.event) ev.type = sse.event;
      if (!ev || typeof ev.type !== 'string') throw new UpstreamError('malformed', `${name} sent a stream event without a type`, 502, 'malformed_response');
      group.push(ev);
      const chunks = translate(ev);
      if (chunks.length) {
        answer?.noteEvents(chunks[0], group);
        group = [];
        yield* chunks;
      }
      if (TERMINAL.has(ev.type)) {
        ended = true;
        break;
      }
    }
  } catch (err) {
    throw err instanceof UpstreamError ? err : fetchFailure(err, call.signal, name);
  }
  if (!ended) throw new UpstreamError('cut', `${name} ended the stream without response.completed`, 502, 'stream_cut');
}
