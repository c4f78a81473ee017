/**
 * The Anthropic Messages SSE encoder for the shared stream driver. Canonical chunks become
 * message_start, content_block_start/delta/stop (text_delta, input_json_delta), message_delta
 * (stop_reason + usage) and message_stop. When the upstream spoke the Messages format itself, its
 * events are relayed as it sent them, each as soon as it arrives (the provider notes every event on
 * a chunk, an empty one when it has no canonical meaning), except the events before the stream's
 * first content, which the router holds so another target can still serve (stream.ts,
 * peekFirstContent). A failed stream ends with `event: error` and no message_stop.
 */
import { errorBody } from '../../errors';
import { encodeSseEvent } from '../../sse';
import type { StreamEncoder } from '../../stream-response';
import { type AnthropicStreamEvent, stopReasonToAnthropic } from '../../../apischema/anthropic';
import type { ChatCompletionChunk, FinishReason, Usage } from '../../../apischema/openai';
import type { NativeMessagesAnswer } from '../../provider';
import { anthropicMessageId } from './response';

const event = (data: AnthropicStreamEvent) => encodeSseEvent(data.type, data);

export function anthropicSseEncoder(model: string, upstream?: NativeMessagesAnswer): Omit<StreamEncoder, 'done'> & { done(): Uint8Array[] } {
  let started = false;
  let native = false;
  let blockIndex = -1;
  /** The open content block: text, or the tool call (by OpenAI index) it belongs to. */
  let open: { kind: 'text' } | { kind: 'tool'; toolIndex: number } | undefined;
  let finish: FinishReason = null;
  let usage: Usage | undefined;

  const start = (id: string, out: Uint8Array[]) => {
    if (started) return;
    started = true;
    out.push(
      event({
        type: 'message_start',
        message: {
          id: anthropicMessageId(id),
          type: 'message',
          role: 'assistant',
          model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 0, output_tokens: 0 },
        },
      }),
    );
  };
  const close = (out: Uint8Array[]) => {
    if (!open) return;
    out.push(event({ type: 'content_block_stop', index: blockIndex }));
    open = undefined;
  };

  return {
    contentType: 'text/event-stream; charset=utf-8',
    chunk(chunk: ChatCompletionChunk) {
      const nativeEvents = upstream?.events(chunk);
      if (nativeEvents) native = true;
      if (native) return (nativeEvents ?? []).map(event);
      const out: Uint8Array[] = [];
      start(chunk.id, out);
      if (chunk.usage) usage = chunk.usage;
      const c = chunk.choices[0];
      if (!c) return out;
      const d = c.delta ?? {};
      if (typeof d.content === 'string' && d.content) {
        if (open?.kind !== 'text') {
          close(out);
          open = { kind: 'text' };
          out.push(event({ type: 'content_block_start', index: ++blockIndex, content_block: { type: 'text', text: '' } }));
        }
        out.push(event({ type: 'content_block_delta', index: blockIndex, delta: { type: 'text_delta', text: d.content } }));
      }
      for (const tc of d.tool_calls ?? []) {
        if (open?.kind !== 'tool' || open.toolIndex !== tc.index) {
          close(out);
          open = { kind: 'tool', toolIndex: tc.index };
          out.push(
            event({
              type: 'content_block_start',
              index: ++blockIndex,
              content_block: { type: 'tool_use', id: tc.id ?? `toolu_${blockIndex}`, name: tc.function?.name ?? '', input: {} },
            }),
          );
        }
        if (tc.function?.arguments)
          out.push(event({ type: 'content_block_delta', index: blockIndex, delta: { type: 'input_json_delta', partial_json: tc.function.arguments } }));
      }
      if (c.finish_reason) {
        finish = c.finish_reason;
        close(out);
      }
      return out;
    },
    done() {
      if (native) return [event({ type: 'message_stop' })];
      const out: Uint8Array[] = [];
      start('gateway', out);
      close(out);
      out.push(
        event({
          type: 'message_delta',
          delta: { stop_reason: stopReasonToAnthropic(finish), stop_sequence: null },
          usage: { input_tokens: usage?.prompt_tokens ?? 0, output_tokens: usage?.completion_tokens ?? 0 },
        } as AnthropicStreamEvent),
      );
      out.push(event({ type: 'message_stop' }));
      return out;
    },
    error: (gw) => [encodeSseEvent('error', errorBody(gw, 'anthropic'))],
  };
}
