/** /v1/chat/completions answers for the cache: chat.completion JSON ↔ chat.completion.chunk SSE. */
import type { ChatCompletion, ChatCompletionChunk, FinishReason, ToolCall } from '../../../apischema/openai';
import { openAiSseEncoder } from '../../stream-response';
import { type CacheCodec, isObject, parseData, pieces, type StreamAssembler, type Usage } from './types';

interface ChoiceState {
  content: string[];
  refusal: string[];
  tools: { id: string; name: string; args: string[] }[];
  finish: FinishReason;
}

function chatAssembler(): StreamAssembler {
  let head: { id: string; created: number; model: string; system_fingerprint?: string | null } | undefined;
  const choices = new Map<number, ChoiceState>();
  let usage: ChatCompletion['usage'];
  let done = false;
  let broken = false;
  return {
    event(e) {
      if (broken || done) return;
      if (e.data === '[DONE]') return void (done = true);
      const chunk = parseData(e);
      if (!isObject(chunk) || chunk.error !== undefined || !Array.isArray(chunk.choices)) return void (broken = true);
      const c = chunk as unknown as ChatCompletionChunk;
      head ??= { id: c.id, created: c.created, model: c.model };
      if (c.system_fingerprint !== undefined) head.system_fingerprint = c.system_fingerprint as string | null;
      if (c.usage) usage = c.usage;
      for (const ch of c.choices) {
        // Log probabilities are not replayed: an answer carrying them is not stored.
        if (ch.logprobs != null) return void (broken = true);
        let st = choices.get(ch.index);
        if (!st) choices.set(ch.index, (st = { content: [], refusal: [], tools: [], finish: null }));
        const d = ch.delta ?? {};
        if (typeof d.content === 'string') st.content.push(d.content);
        if (typeof d.refusal === 'string') st.refusal.push(d.refusal);
        for (const tc of d.tool_calls ?? []) {
          const t = (st.tools[tc.index] ??= { id: '', name: '', args: [] });
          if (tc.id) t.id = tc.id;
          if (tc.function?.name) t.name += tc.function.name;
          if (tc.function?.arguments) t.args.push(tc.function.arguments);
        }
        if (ch.finish_reason) st.finish = ch.finish_reason;
      }
    },
    result() {
      if (!done || broken || !head) return undefined;
      const out: ChatCompletion = {
        id: head.id,
        object: 'chat.completion',
        created: head.created,
        model: head.model,
        choices: [...choices.entries()]
          .sort(([a], [b]) => a - b)
          .map(([index, st]) => {
            const toolCalls: ToolCall[] = st.tools
              .filter(Boolean)
              .map((t) => ({ id: t.id, type: 'function', function: { name: t.name, arguments: t.args.join('') } }));
            const text = st.content.join('');
            return {
              index,
              message: {
                role: 'assistant' as const,
                content: text || (toolCalls.length ? null : ''),
                ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
                refusal: st.refusal.length ? st.refusal.join('') : null,
              },
              finish_reason: st.finish,
              logprobs: null,
            };
          }),
        ...(usage ? { usage } : {}),
        ...(head.system_fingerprint !== undefined ? { system_fingerprint: head.system_fingerprint } : {}),
      };
      return out;
    },
  };
}

/** The stored answer as canonical chunks: per choice its role, text in pieces, tool calls, finish; then usage. */
export function completionToChunks(res: ChatCompletion): ChatCompletionChunk[] {
  const base = { id: res.id, object: 'chat.completion.chunk' as const, created: res.created, model: res.model };
  const extra = res.system_fingerprint !== undefined ? { system_fingerprint: res.system_fingerprint } : {};
  const out: ChatCompletionChunk[] = [];
  const chunk = (index: number, delta: ChatCompletionChunk['choices'][0]['delta'], finish: FinishReason = null) =>
    out.push({ ...base, ...extra, choices: [{ index, delta, finish_reason: finish }] });
  for (const c of res.choices) {
    chunk(c.index, { role: 'assistant', content: '' });
    if (c.message.refusal) for (const p of pieces(c.message.refusal)) chunk(c.index, { refusal: p });
    if (typeof c.message.content === 'string') for (const p of pieces(c.message.content)) chunk(c.index, { content: p });
    (c.message.tool_calls ?? []).forEach((tc, i) => {
      chunk(c.index, { tool_calls: [{ index: i, id: tc.id, type: 'function', function: { name: tc.function.name, arguments: '' } }] });
      for (const p of pieces(tc.function.arguments, 48)) chunk(c.index, { tool_calls: [{ index: i, function: { arguments: p } }] });
    });
    chunk(c.index, {}, c.finish_reason);
  }
  if (res.usage) out.push({ ...base, ...extra, choices: [], usage: res.usage });
  return out;
}

export const chatCodec: CacheCodec = {
  streams: true,
  assembler: chatAssembler,
  replay(body, { includeUsage }) {
    const encoder = openAiSseEncoder(includeUsage === true);
    return [...completionToChunks(body as ChatCompletion).flatMap((c) => encoder.chunk(c)), ...encoder.done()];
  },
  usage(body): Usage | undefined {
    const u = (body as ChatCompletion).usage;
    return u ? { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens } : undefined;
  },
  withUsage(body, u) {
    const res = body as ChatCompletion;
    if (res.usage) return res;
    return { ...res, usage: { prompt_tokens: u.promptTokens, completion_tokens: u.completionTokens, total_tokens: u.promptTokens + u.completionTokens } };
  },
  callsTools: (body) => (body as ChatCompletion).choices.some((c) => (c.message.tool_calls?.length ?? 0) > 0),
};
