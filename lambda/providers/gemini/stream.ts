/**
 * Gemini streamGenerateContent (alt=sse) → canonical chunks. Gemini sends no end marker: a stream is
 * complete once a candidate reports a finishReason (or the prompt was blocked); one that ends
 * before that was cut and throws.
 */
import { readSseEvents } from '../../core/sse';
import { fetchFailure } from '../http-errors';
import { type ChatCompletionChunk, type ProviderCall, UpstreamError } from '../types';
import { chunkBuilder, parseEventJson } from '../translate-common';
import { finishReasonFromGemini, geminiCallId, geminiUsage, readParts } from './response';
import type { GeminiResponse, GeminiUsage } from './wire';

/** Pure translation: one streamed GenerateContentResponse in, canonical chunks out. */
export function geminiStreamTranslator(model: string) {
  let build: ReturnType<typeof chunkBuilder> | undefined;
  let id = '';
  let usage: GeminiUsage | undefined;
  let finished = false;
  const toolCount = new Map<number, number>();
  return {
    get finished() {
      return finished;
    },
    next(ev: GeminiResponse): ChatCompletionChunk[] {
      const out: ChatCompletionChunk[] = [];
      if (!build) {
        id = ev.responseId ?? `gemini-${Date.now()}`;
        build = chunkBuilder(id, ev.modelVersion ?? model);
        out.push(build.delta({ role: 'assistant', content: '' }));
      }
      if (ev.usageMetadata) usage = ev.usageMetadata;
      if (!ev.candidates?.length && ev.promptFeedback?.blockReason) {
        finished = true;
        out.push(build.delta({}, 'content_filter'));
      }
      for (const c of ev.candidates ?? []) {
        const index = c.index ?? 0;
        const first = toolCount.get(index) ?? 0;
        const { text, reasoning, toolCalls } = readParts(c.content?.parts, (n) => geminiCallId(id, index, first + n));
        toolCount.set(index, first + toolCalls.length);
        const chunk = (delta: ChatCompletionChunk['choices'][number]['delta'], finish: ChatCompletionChunk['choices'][number]['finish_reason'] = null) => {
          const ch = build!.delta(delta, finish);
          ch.choices[0].index = index;
          return ch;
        };
        if (reasoning) out.push(chunk({ reasoning_content: reasoning }));
        if (text) out.push(chunk({ content: text }));
        if (toolCalls.length) out.push(chunk({ tool_calls: toolCalls.map((tc, k) => ({ index: first + k, ...tc })) }));
        const finish = finishReasonFromGemini(c.finishReason, (toolCount.get(index) ?? 0) > 0);
        if (finish) {
          finished = true;
          out.push(chunk({}, finish));
        }
      }
      return out;
    },
    usageChunk(): ChatCompletionChunk | undefined {
      return build && usage ? build.usage(geminiUsage(usage)) : undefined;
    },
  };
}

export async function* geminiChunks(body: ReadableStream<Uint8Array>, call: ProviderCall): AsyncGenerator<ChatCompletionChunk> {
  const t = geminiStreamTranslator(call.model);
  const name = call.provider.name;
  try {
    for await (const sse of readSseEvents(body)) {
      const ev = parseEventJson<GeminiResponse>(sse.data, name);
      if (ev.error) {
        const status = ev.error.code && ev.error.code >= 400 ? ev.error.code : 502;
        throw new UpstreamError('in_band', `${name}: ${ev.error.message ?? 'error event in stream'}`, status, ev.error.status);
      }
      yield* t.next(ev);
    }
  } catch (err) {
    if (err instanceof UpstreamError) throw err;
    throw fetchFailure(err, call.signal, name);
  }
  if (!t.finished) throw new UpstreamError('cut', `${name} ended the stream before a finish reason`, 502, 'stream_cut');
  const usage = t.usageChunk();
  if (usage) yield usage;
}
