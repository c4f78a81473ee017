/**
 * Anthropic Messages SSE → canonical chunks, translated as events arrive. On a native call each
 * event is noted on a chunk as soon as it is read (native-answer.ts), so /v1/messages relays it as
 * it arrives: a block's end or a ping does not wait for the next text (nor get lost on a cut).
 * An `error` event or a stream without `message_stop` throws, so a cut stream never looks complete.
 */
import { readSseEvents } from '../../core/sse';
import { fetchFailure } from '../http-errors';
import { type ChatCompletionChunk, type ProviderCall, UpstreamError } from '../types';
import { chunkBuilder, nativeEventCarrier, parseEventJson } from '../translate-common';
import type { MessagesAnswer } from './native-answer';
import { type AnthropicStreamEvent, type AnthropicUsage, finishReasonFromAnthropic, canonicalUsageOf } from './wire';

/** Pure translation state machine: one Anthropic event in, zero or more canonical chunks out. */
export function anthropicStreamTranslator(fallbackModel: string) {
  let build = chunkBuilder('msg_pending', fallbackModel);
  let usage: Partial<AnthropicUsage> = {};
  /** Anthropic content block index → OpenAI tool_calls index. */
  const toolIndex = new Map<number, number>();
  /** Thinking text so far per content block index: the block goes out whole once its signature arrives. */
  const thinking = new Map<number, string>();
  return (ev: AnthropicStreamEvent): ChatCompletionChunk[] => {
    switch (ev.type) {
      case 'message_start':
        build = chunkBuilder(ev.message.id, ev.message.model ?? fallbackModel);
        usage = { ...ev.message.usage };
        return [build.delta({ role: 'assistant', content: '' })];
      case 'content_block_start': {
        const b = ev.content_block;
        if (b.type === 'text' && b.text) return [build.delta({ content: b.text })];
        if (b.type === 'thinking') {
          thinking.set(ev.index, b.thinking ?? '');
          return b.thinking ? [build.delta({ reasoning_content: b.thinking })] : [];
        }
        if (b.type === 'redacted_thinking') return [build.delta({ thinking_blocks: [{ type: 'redacted_thinking', data: b.data }] })];
        if (b.type !== 'tool_use') return [];
        const index = toolIndex.size;
        toolIndex.set(ev.index, index);
        return [build.delta({ tool_calls: [{ index, id: b.id, type: 'function', function: { name: b.name, arguments: '' } }] })];
      }
      case 'content_block_delta': {
        const d = ev.delta;
        if (d.type === 'text_delta' && d.text) return [build.delta({ content: d.text })];
        if (d.type === 'input_json_delta' && d.partial_json && toolIndex.has(ev.index))
          return [build.delta({ tool_calls: [{ index: toolIndex.get(ev.index)!, function: { arguments: d.partial_json } }] })];
        if (d.type === 'thinking_delta' && d.thinking) {
          thinking.set(ev.index, (thinking.get(ev.index) ?? '') + d.thinking);
          return [build.delta({ reasoning_content: d.thinking })];
        }
        if (d.type === 'signature_delta' && d.signature)
          return [build.delta({ thinking_blocks: [{ type: 'thinking', thinking: thinking.get(ev.index) ?? '', signature: d.signature }] })];
        return [];
      }
      case 'message_delta': {
        usage = { ...usage, ...Object.fromEntries(Object.entries(ev.usage ?? {}).filter(([, v]) => v !== null && v !== undefined)) };
        const finish = finishReasonFromAnthropic(ev.delta?.stop_reason) ?? 'stop';
        return [build.delta({}, finish), build.usage(canonicalUsageOf(usage))];
      }
      default:
        return [];
    }
  };
}

/**
 * Canonical chunks from a source of Anthropic events (SSE from the Messages API, or Bedrock's
 * InvokeModelWithResponseStream). `mapError` turns a transport failure into an UpstreamError;
 * `answer`, on a native call, is told which event produced (or rides on) which chunk.
 */
export async function* anthropicEventChunks(
  events: AsyncIterable<AnthropicStreamEvent>,
  call: ProviderCall,
  mapError: (err: unknown) => UpstreamError,
  answer?: MessagesAnswer,
): AsyncGenerator<ChatCompletionChunk> {
  const translate = anthropicStreamTranslator(call.model);
  const name = call.provider.name;
  const carry = answer && nativeEventCarrier(answer, 'msg_pending', call.model);
  let stopped = false;
  try {
    for await (const ev of events) {
      if (ev.type === 'error') {
        const e = ev.error ?? {};
        // An overloaded_error mid-stream is Anthropic's 529: retryable on another target before the first byte.
        const status = e.type === 'overloaded_error' ? 529 : e.type === 'rate_limit_error' ? 429 : 502;
        throw new UpstreamError('in_band', `${name}: ${e.message ?? 'error event in stream'}`, status, e.type);
      }
      if (ev.type === 'message_stop') {
        stopped = true;
        break;
      }
      const chunks = translate(ev);
      yield* carry ? carry(ev, chunks) : chunks;
    }
  } catch (err) {
    throw err instanceof UpstreamError ? err : mapError(err);
  }
  if (!stopped) throw new UpstreamError('cut', `${name} ended the stream without message_stop`, 502, 'stream_cut');
}

async function* sseEvents(body: ReadableStream<Uint8Array>, providerName: string): AsyncGenerator<AnthropicStreamEvent> {
  for await (const sse of readSseEvents(body)) {
    const ev = parseEventJson<AnthropicStreamEvent>(sse.data, providerName);
    yield sse.event === 'error' && ev.type !== 'error' ? { type: 'error', error: { type: 'api_error', message: 'error event in stream' } } : ev;
  }
}

export function anthropicChunks(body: ReadableStream<Uint8Array>, call: ProviderCall, answer?: MessagesAnswer): AsyncGenerator<ChatCompletionChunk> {
  return anthropicEventChunks(sseEvents(body, call.provider.name), call, (err) => fetchFailure(err, call.signal, call.provider.name), answer);
}
