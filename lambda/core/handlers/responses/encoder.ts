/**
 * The Responses stream encoder for the shared stream driver (stream-response.ts): canonical chunks
 * become the specification's events, each with its `sequence_number`:
 *   response.created, response.in_progress,
 *   per output item: output_item.added, then
 *     message:       content_part.added, output_text.delta…, output_text.done, content_part.done
 *     function call: function_call_arguments.delta…, function_call_arguments.done
 *     reasoning:     reasoning_summary_part.added, reasoning_summary_text.delta…, …done, …part.done
 *   output_item.done; and at the end response.completed (or response.incomplete when the output
 *   cap cut it). A stream that fails ends with response.failed and never with response.completed.
 */
import type { GatewayError } from '../../errors';
import { encodeSseEvent } from '../../sse';
import type { StreamEncoder } from '../../stream-response';
import type { ChatCompletionChunk, FinishReason, Usage } from '../../../apischema/openai';
import type { ThinkingBlock } from '../../../apischema/openai';
import { encryptedContentOf } from './reasoning-carry';
import { newId, statusOf, usageToResponses } from './response';
import type { OutputFunctionCall, OutputItem, OutputMessage, OutputReasoning, ResponseObject, ResponseStreamEvent } from './wire';

export interface ResponsesEncoderOptions {
  /** The response as created (status in_progress, no output). */
  readonly shell: ResponseObject;
  readonly now: () => number;
  /** Input tokens estimated before the call, for an upstream that reports no usage. */
  readonly promptEstimate: number;
  /** Output tokens of what was delivered, for an upstream that reports no usage. */
  readonly estimateOutput: (text: string) => number;
  /** Runs once with the final response before response.completed goes out (the store write); returns it as it should be sent. */
  readonly onComplete?: (response: ResponseObject) => Promise<ResponseObject>;
}

type OpenItem =
  | { kind: 'message'; index: number; item: OutputMessage; text: string; refusal: string; part: 'text' | 'refusal' | undefined }
  | { kind: 'reasoning'; index: number; item: OutputReasoning; text: string; blocks: ThinkingBlock[] };

export function responsesSseEncoder(o: ResponsesEncoderOptions): StreamEncoder & { readonly output: readonly OutputItem[] } {
  let seq = 0;
  let started = false;
  const output: OutputItem[] = [];
  let open: OpenItem | undefined;
  /** Function calls by the canonical tool-call index (their arguments may arrive interleaved). */
  const calls = new Map<number, { index: number; item: OutputFunctionCall; done: boolean }>();
  let finish: FinishReason = null;
  let usage: Usage | undefined;
  let deliveredText = '';

  const ev = (out: Uint8Array[], e: ResponseStreamEvent) => out.push(encodeSseEvent(e.type, { ...e, sequence_number: seq++ }));
  const snapshot = (): ResponseObject => ({ ...o.shell, output: [...output] });

  const start = (out: Uint8Array[]) => {
    if (started) return;
    started = true;
    ev(out, { type: 'response.created', response: snapshot() });
    ev(out, { type: 'response.in_progress', response: snapshot() });
  };

  const addItem = (out: Uint8Array[], item: OutputItem): number => {
    const index = output.length;
    output.push(item);
    ev(out, { type: 'response.output_item.added', output_index: index, item: structuredClone(item) });
    return index;
  };

  const closePart = (out: Uint8Array[], m: Extract<OpenItem, { kind: 'message' }>) => {
    const base = { item_id: m.item.id, output_index: m.index, content_index: m.item.content.length - 1 };
    if (m.part === 'text') {
      ev(out, { type: 'response.output_text.done', ...base, text: m.text, logprobs: [] });
      const part = { type: 'output_text' as const, text: m.text, annotations: [], logprobs: [] };
      m.item.content[base.content_index] = part;
      ev(out, { type: 'response.content_part.done', ...base, part });
    } else if (m.part === 'refusal') {
      ev(out, { type: 'response.refusal.done', ...base, refusal: m.refusal });
      const part = { type: 'refusal' as const, refusal: m.refusal };
      m.item.content[base.content_index] = part;
      ev(out, { type: 'response.content_part.done', ...base, part });
    }
    m.part = undefined;
  };

  const closeOpen = (out: Uint8Array[], status: 'completed' | 'incomplete') => {
    if (!open) return;
    if (open.kind === 'message') {
      closePart(out, open);
      open.item.status = status;
    } else {
      const base = { item_id: open.item.id, output_index: open.index, summary_index: 0 };
      if (open.text) {
        ev(out, { type: 'response.reasoning_summary_text.done', ...base, text: open.text });
        const part = { type: 'summary_text' as const, text: open.text };
        open.item.summary = [part];
        ev(out, { type: 'response.reasoning_summary_part.done', ...base, part });
      }
      const encrypted = encryptedContentOf(open.blocks);
      if (encrypted) open.item.encrypted_content = encrypted;
    }
    ev(out, { type: 'response.output_item.done', output_index: open.index, item: structuredClone(open.item) });
    open = undefined;
  };

  const closeCalls = (out: Uint8Array[], status: 'completed' | 'incomplete') => {
    for (const c of calls.values()) {
      if (c.done) continue;
      c.done = true;
      c.item.status = status;
      ev(out, { type: 'response.function_call_arguments.done', item_id: c.item.id, output_index: c.index, arguments: c.item.arguments });
      ev(out, { type: 'response.output_item.done', output_index: c.index, item: structuredClone(c.item) });
    }
  };

  const reasoningItem = (out: Uint8Array[]): Extract<OpenItem, { kind: 'reasoning' }> => {
    if (open?.kind === 'reasoning') return open;
    closeOpen(out, 'completed');
    closeCalls(out, 'completed');
    const item: OutputReasoning = { type: 'reasoning', id: newId('rs'), summary: [] };
    open = { kind: 'reasoning', index: addItem(out, item), item, text: '', blocks: [] };
    return open;
  };

  const messageItem = (out: Uint8Array[]): Extract<OpenItem, { kind: 'message' }> => {
    if (open?.kind === 'message') return open;
    closeOpen(out, 'completed');
    closeCalls(out, 'completed');
    const item: OutputMessage = { type: 'message', id: newId('msg'), status: 'in_progress', role: 'assistant', content: [] };
    open = { kind: 'message', index: addItem(out, item), item, text: '', refusal: '', part: undefined };
    return open;
  };

  const openPart = (out: Uint8Array[], m: Extract<OpenItem, { kind: 'message' }>, kind: 'text' | 'refusal') => {
    if (m.part === kind) return;
    closePart(out, m);
    const part = kind === 'text' ? { type: 'output_text' as const, text: '', annotations: [], logprobs: [] } : { type: 'refusal' as const, refusal: '' };
    m.item.content.push(part);
    m.part = kind;
    ev(out, { type: 'response.content_part.added', item_id: m.item.id, output_index: m.index, content_index: m.item.content.length - 1, part: { ...part } });
  };

  const encoder = {
    contentType: 'text/event-stream; charset=utf-8',
    output,
    chunk(chunk: ChatCompletionChunk): Uint8Array[] {
      const out: Uint8Array[] = [];
      start(out);
      if (chunk.usage) usage = chunk.usage;
      const c = chunk.choices[0];
      if (!c) return out;
      const d = c.delta ?? {};
      if (typeof d.reasoning_content === 'string' && d.reasoning_content) {
        const r = reasoningItem(out);
        if (!r.text) {
          ev(out, {
            type: 'response.reasoning_summary_part.added',
            item_id: r.item.id,
            output_index: r.index,
            summary_index: 0,
            part: { type: 'summary_text', text: '' },
          });
        }
        r.text += d.reasoning_content;
        ev(out, { type: 'response.reasoning_summary_text.delta', item_id: r.item.id, output_index: r.index, summary_index: 0, delta: d.reasoning_content });
      }
      if (Array.isArray(d.thinking_blocks) && d.thinking_blocks.length) reasoningItem(out).blocks.push(...(d.thinking_blocks as ThinkingBlock[]));
      if (typeof d.content === 'string' && d.content) {
        const m = messageItem(out);
        openPart(out, m, 'text');
        m.text += d.content;
        deliveredText += d.content;
        ev(out, {
          type: 'response.output_text.delta',
          item_id: m.item.id,
          output_index: m.index,
          content_index: m.item.content.length - 1,
          delta: d.content,
          logprobs: [],
        });
      }
      if (typeof d.refusal === 'string' && d.refusal) {
        const m = messageItem(out);
        openPart(out, m, 'refusal');
        m.refusal += d.refusal;
        deliveredText += d.refusal;
        ev(out, { type: 'response.refusal.delta', item_id: m.item.id, output_index: m.index, content_index: m.item.content.length - 1, delta: d.refusal });
      }
      for (const tc of d.tool_calls ?? []) {
        let call = calls.get(tc.index);
        if (!call) {
          closeOpen(out, 'completed');
          const item: OutputFunctionCall = {
            type: 'function_call',
            id: newId('fc'),
            call_id: tc.id ?? `call_${newId('fc').slice(3, 27)}`,
            name: tc.function?.name ?? '',
            arguments: '',
            status: 'in_progress',
          };
          call = { index: addItem(out, item), item, done: false };
          calls.set(tc.index, call);
        }
        const args = tc.function?.arguments;
        if (args) {
          call.item.arguments += args;
          deliveredText += args;
          ev(out, { type: 'response.function_call_arguments.delta', item_id: call.item.id, output_index: call.index, delta: args });
        }
      }
      if (c.finish_reason) finish = c.finish_reason;
      return out;
    },
    async done(): Promise<Uint8Array[]> {
      const out: Uint8Array[] = [];
      start(out);
      const { status, incomplete_details } = statusOf(finish);
      const itemStatus = status === 'completed' ? 'completed' : 'incomplete';
      closeOpen(out, itemStatus);
      closeCalls(out, itemStatus);
      let final: ResponseObject = {
        ...snapshot(),
        status,
        incomplete_details,
        completed_at: status === 'completed' ? Math.floor(o.now() / 1000) : null,
        usage: usageToResponses(usage, { input: o.promptEstimate, output: o.estimateOutput(deliveredText) }),
      };
      if (o.onComplete) final = await o.onComplete(final);
      ev(out, { type: status === 'completed' ? 'response.completed' : 'response.incomplete', response: final });
      return out;
    },
    error(gw: GatewayError): Uint8Array[] {
      const out: Uint8Array[] = [];
      start(out);
      const failed: ResponseObject = { ...snapshot(), status: 'failed', error: { code: gw.code, message: gw.message } };
      ev(out, { type: 'response.failed', response: failed });
      return out;
    },
  };
  return encoder;
}
