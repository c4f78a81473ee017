/** Gemini generateContent response → canonical chat completion; finish reasons and usage. */
import type { ChatCompletion, FinishReason, ToolCall, Usage } from '../types';
import { usageOf } from '../translate-common';
import { type GeminiCandidate, type GeminiPart, type GeminiResponse, type GeminiUsage, idWithSignature } from './wire';

/** Finish reasons that mean the answer was withheld or cut by a safety/policy filter. */
const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'LANGUAGE']);

export function finishReasonFromGemini(reason: string | undefined, hasToolCalls: boolean): FinishReason {
  if (!reason || reason === 'FINISH_REASON_UNSPECIFIED') return null;
  if (FILTERED.has(reason)) return 'content_filter';
  if (reason === 'MAX_TOKENS') return 'length';
  return hasToolCalls ? 'tool_calls' : 'stop';
}

export function geminiUsage(u: GeminiUsage | undefined): Usage {
  // Thinking tokens are billed as output; OpenAI reports them inside completion_tokens too, and apart as reasoning_tokens.
  const usage = usageOf(u?.promptTokenCount ?? 0, (u?.candidatesTokenCount ?? 0) + (u?.thoughtsTokenCount ?? 0));
  return u?.thoughtsTokenCount ? { ...usage, completion_tokens_details: { reasoning_tokens: u.thoughtsTokenCount } } : usage;
}

/** Text, thought summaries and tool calls of a candidate's parts; thought parts are reasoning, not answer text. */
export function readParts(
  parts: GeminiPart[] | undefined,
  idFor: (i: number, name: string) => string,
): { text: string; reasoning: string; toolCalls: ToolCall[] } {
  let text = '';
  let reasoning = '';
  const toolCalls: ToolCall[] = [];
  for (const p of parts ?? []) {
    if ('text' in p && p.thought) reasoning += p.text;
    else if ('text' in p) text += p.text;
    else if ('functionCall' in p) {
      const fc = p.functionCall;
      const id = idWithSignature(fc.id ?? idFor(toolCalls.length, fc.name), p.thoughtSignature);
      toolCalls.push({ id, type: 'function', function: { name: fc.name, arguments: JSON.stringify(fc.args ?? {}) } });
    }
  }
  return { text, reasoning, toolCalls };
}

export function geminiCallId(responseId: string, candidate: number, i: number): string {
  return `call_${responseId.replace(/[^A-Za-z0-9]/g, '').slice(0, 16)}_${candidate}_${i}`;
}

export function fromGeminiResponse(res: GeminiResponse, model: string, created = Math.floor(Date.now() / 1000)): ChatCompletion {
  const id = res.responseId ?? `gemini-${created}`;
  const candidates: GeminiCandidate[] = res.candidates?.length
    ? res.candidates
    : [{ index: 0, finishReason: res.promptFeedback?.blockReason ? 'SAFETY' : undefined }];
  return {
    id,
    object: 'chat.completion',
    created,
    model: res.modelVersion ?? model,
    choices: candidates.map((c, i) => {
      const index = c.index ?? i;
      const { text, reasoning, toolCalls } = readParts(c.content?.parts, (n) => geminiCallId(id, index, n));
      return {
        index,
        message: {
          role: 'assistant' as const,
          content: text || null,
          // Thought summaries in the conventions of reasoning.ts (no signed blocks: Gemini's signatures ride on tool call ids).
          ...(reasoning ? { reasoning_content: reasoning } : {}),
          ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
          refusal: null,
        },
        finish_reason: finishReasonFromGemini(c.finishReason, toolCalls.length > 0) ?? 'stop',
        logprobs: null,
      };
    }),
    usage: geminiUsage(res.usageMetadata),
  };
}
