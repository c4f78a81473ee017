/**
 * Bedrock ConverseStream events → canonical chunks. The SDK decodes the event-stream frames and
 * throws on exception events; a stream that ends without messageStop was cut and throws too.
 */
import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import { type ChatCompletionChunk, type ProviderCall, UpstreamError } from '../types';
import { chunkBuilder } from '../translate-common';
import { bedrockError } from './errors';
import { bedrockUsage, finishReasonFromBedrock } from './response';

/** Pure translation: one ConverseStream event in, canonical chunks out. */
export function bedrockStreamTranslator(id: string, model: string) {
  const build = chunkBuilder(id, model);
  const toolIndex = new Map<number, number>();
  /** Reasoning text so far per content block: the signed block goes out whole once its signature arrives. */
  const reasoning = new Map<number, string>();
  let stopped = false;
  return {
    get stopped() {
      return stopped;
    },
    next(ev: ConverseStreamOutput): ChatCompletionChunk[] {
      if (ev.messageStart) return [build.delta({ role: 'assistant', content: '' })];
      if (ev.contentBlockStart?.start?.toolUse) {
        const { toolUseId, name } = ev.contentBlockStart.start.toolUse;
        const index = toolIndex.size;
        toolIndex.set(ev.contentBlockStart.contentBlockIndex ?? index, index);
        return [build.delta({ tool_calls: [{ index, id: toolUseId, type: 'function', function: { name, arguments: '' } }] })];
      }
      if (ev.contentBlockDelta?.delta) {
        const d = ev.contentBlockDelta.delta;
        if (d.text) return [build.delta({ content: d.text })];
        const block = ev.contentBlockDelta.contentBlockIndex ?? 0;
        const r = d.reasoningContent;
        if (r?.text) {
          reasoning.set(block, (reasoning.get(block) ?? '') + r.text);
          return [build.delta({ reasoning_content: r.text })];
        }
        if (r?.signature) return [build.delta({ thinking_blocks: [{ type: 'thinking', thinking: reasoning.get(block) ?? '', signature: r.signature }] })];
        if (r?.redactedContent)
          return [build.delta({ thinking_blocks: [{ type: 'redacted_thinking', data: Buffer.from(r.redactedContent).toString('base64') }] })];
        if (d.toolUse?.input && toolIndex.has(block))
          return [build.delta({ tool_calls: [{ index: toolIndex.get(block)!, function: { arguments: d.toolUse.input } }] })];
        return [];
      }
      if (ev.messageStop) {
        stopped = true;
        return [build.delta({}, finishReasonFromBedrock(ev.messageStop.stopReason) ?? 'stop')];
      }
      if (ev.metadata?.usage) return [build.usage(bedrockUsage(ev.metadata.usage))];
      return [];
    },
  };
}

export async function* bedrockChunks(events: AsyncIterable<ConverseStreamOutput>, call: ProviderCall, id: string): AsyncGenerator<ChatCompletionChunk> {
  const t = bedrockStreamTranslator(id, call.model);
  try {
    for await (const ev of events) yield* t.next(ev);
  } catch (err) {
    throw bedrockError(err, call);
  }
  if (!t.stopped) throw new UpstreamError('cut', `${call.provider.name} ended the stream without messageStop`, 502, 'stream_cut');
}
