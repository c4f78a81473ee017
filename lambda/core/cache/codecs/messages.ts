/** /v1/messages answers for the cache: an Anthropic message JSON ↔ its SSE events (message_start … message_stop). */
import type { AnthropicResponse } from '../../../apischema/anthropic';
import { encodeSseEvent } from '../../sse';
import { type CacheCodec, isObject, parseData, pieces, type StreamAssembler, type Usage } from './types';

type Block = Record<string, unknown> & { type: string };

function messagesAssembler(): StreamAssembler {
  let message: Record<string, unknown> | undefined;
  const blocks: Block[] = [];
  const partialJson = new Map<number, string[]>();
  let stopped = false;
  let broken = false;
  return {
    event(e) {
      if (broken || stopped) return;
      const ev = parseData(e);
      if (!isObject(ev) || typeof ev.type !== 'string') return void (broken = true);
      switch (ev.type) {
        case 'ping':
          return;
        case 'message_start':
          if (!isObject(ev.message)) return void (broken = true);
          message = { ...ev.message, content: [] };
          return;
        case 'content_block_start': {
          const b = ev.content_block;
          if (!isObject(b) || typeof ev.index !== 'number') return void (broken = true);
          blocks[ev.index] = { ...(b as Block) };
          return;
        }
        case 'content_block_delta': {
          const b = typeof ev.index === 'number' ? blocks[ev.index] : undefined;
          const d = ev.delta;
          if (!b || !isObject(d)) return void (broken = true);
          if (d.type === 'text_delta' && typeof d.text === 'string') b.text = String(b.text ?? '') + d.text;
          else if (d.type === 'input_json_delta' && typeof d.partial_json === 'string') {
            const parts = partialJson.get(ev.index as number) ?? [];
            parts.push(d.partial_json);
            partialJson.set(ev.index as number, parts);
          } else if (d.type === 'thinking_delta' && typeof d.thinking === 'string') b.thinking = String(b.thinking ?? '') + d.thinking;
          else if (d.type === 'signature_delta' && typeof d.signature === 'string') b.signature = d.signature;
          else if (d.type === 'citations_delta' && isObject(d.citation)) b.citations = [...((b.citations as unknown[]) ?? []), d.citation];
          else broken = true; // a delta we could not replay faithfully
          return;
        }
        case 'content_block_stop': {
          const parts = typeof ev.index === 'number' ? partialJson.get(ev.index) : undefined;
          if (parts) {
            try {
              blocks[ev.index as number].input = JSON.parse(parts.join('') || '{}');
            } catch {
              broken = true;
            }
          }
          return;
        }
        case 'message_delta':
          if (!message) return void (broken = true);
          if (isObject(ev.delta)) Object.assign(message, ev.delta);
          if (isObject(ev.usage)) message.usage = { ...(message.usage as object), ...ev.usage };
          return;
        case 'message_stop':
          stopped = true;
          return;
        default:
          broken = true; // `error`, or an event type this gateway does not know
      }
    },
    result() {
      if (!stopped || broken || !message || blocks.some((b) => b === undefined)) return undefined;
      return { ...message, content: blocks };
    },
  };
}

const event = (data: Record<string, unknown> & { type: string }) => encodeSseEvent(data.type, data);

/** A block as content_block_start announces it: text and thinking empty, tool input empty (it follows as deltas). */
function startForm(b: Block): Block {
  if (b.type === 'text') return { ...b, text: '' };
  if (b.type === 'thinking') return { type: 'thinking', thinking: '', signature: '' };
  if (b.type === 'tool_use') return { ...b, input: {} };
  return b;
}

function deltas(b: Block, index: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (b.type === 'text' && typeof b.text === 'string')
    for (const p of pieces(b.text)) out.push(event({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: p } }));
  if (b.type === 'thinking') {
    for (const p of pieces(String(b.thinking ?? ''))) out.push(event({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: p } }));
    if (typeof b.signature === 'string') out.push(event({ type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: b.signature } }));
  }
  if (b.type === 'tool_use')
    for (const p of pieces(JSON.stringify(b.input ?? {}), 48))
      out.push(event({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: p } }));
  return out;
}

export const messagesCodec: CacheCodec = {
  streams: true,
  assembler: messagesAssembler,
  replay(body) {
    const msg = body as AnthropicResponse & { usage: Record<string, number> };
    const { output_tokens, ...inputUsage } = msg.usage ?? {};
    const out: Uint8Array[] = [
      event({ type: 'message_start', message: { ...msg, content: [], stop_reason: null, stop_sequence: null, usage: { ...inputUsage, output_tokens: 0 } } }),
    ];
    (msg.content as Block[]).forEach((b, index) => {
      out.push(event({ type: 'content_block_start', index, content_block: startForm(b) }));
      out.push(...deltas(b, index));
      out.push(event({ type: 'content_block_stop', index }));
    });
    out.push(
      event({
        type: 'message_delta',
        delta: { stop_reason: msg.stop_reason, stop_sequence: msg.stop_sequence ?? null },
        usage: { ...inputUsage, output_tokens: output_tokens ?? 0 },
      }),
    );
    out.push(event({ type: 'message_stop' }));
    return out;
  },
  usage(body): Usage | undefined {
    const u = (body as AnthropicResponse).usage;
    return u ? { promptTokens: u.input_tokens ?? 0, completionTokens: u.output_tokens ?? 0 } : undefined;
  },
  withUsage: (body) => body, // an Anthropic stream always carries its usage
  callsTools: (body) => ((body as AnthropicResponse).content as Block[]).some((b) => b.type === 'tool_use' || b.type === 'server_tool_use'),
};
