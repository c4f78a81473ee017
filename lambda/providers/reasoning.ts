/**
 * Reasoning ("extended thinking") through the OpenAI-compatible API, in the conventions OpenAI
 * SDK users already meet elsewhere (OpenAI's `reasoning_effort`; DeepSeek's and LiteLLM's
 * `reasoning_content`; LiteLLM's `thinking_blocks` and `thinking`):
 * - a request asks with `reasoning_effort` ('minimal' | 'low' | 'medium' | 'high'; 'none' for off)
 *   or with Anthropic's own `thinking` object ({ type: 'enabled', budget_tokens } | { type: 'disabled' });
 * - the answer's reasoning text comes back as `message.reasoning_content` (stream: `delta.reasoning_content`);
 * - the signed blocks come back as `message.thinking_blocks` (stream: one `delta.thinking_blocks`
 *   entry per finished block), and an assistant message that carries them back sends them upstream
 *   again: Anthropic requires the last assistant turn's thinking when tool results follow.
 */
import type { ChatMessage, ChatRequest, ThinkingBlock } from './types';
import { clientFault } from './translate-common';

/** Thinking budget per reasoning_effort, in tokens (Anthropic's least budget is 1024). */
export const REASONING_BUDGET_TOKENS = { minimal: 1024, low: 1024, medium: 2048, high: 4096 } as const;
const MIN_BUDGET_TOKENS = 1024;

export type { ThinkingBlock } from '../apischema/openai';

/** The thinking budget the request asks for, or undefined for none. A malformed ask is the client's 400. */
export function thinkingBudgetOf(body: ChatRequest): number | undefined {
  const thinking = body.thinking;
  if (thinking !== undefined && thinking !== null) {
    const t = thinking as { type?: unknown; budget_tokens?: unknown };
    if (t.type === 'disabled') return undefined;
    if (t.type === 'enabled' && Number.isInteger(t.budget_tokens) && (t.budget_tokens as number) >= MIN_BUDGET_TOKENS) return t.budget_tokens as number;
    throw clientFault(
      `'thinking' must be { "type": "enabled", "budget_tokens": <integer ≥ ${MIN_BUDGET_TOKENS}> } or { "type": "disabled" }.`,
      'invalid_thinking',
    );
  }
  const effort = body.reasoning_effort;
  if (effort === undefined || effort === null || effort === 'none') return undefined;
  if (typeof effort === 'string' && effort in REASONING_BUDGET_TOKENS) return REASONING_BUDGET_TOKENS[effort as keyof typeof REASONING_BUDGET_TOKENS];
  throw clientFault(`'reasoning_effort' must be one of none, ${Object.keys(REASONING_BUDGET_TOKENS).join(', ')}.`, 'invalid_reasoning_effort');
}

/** The thinking blocks an assistant message carries back (ignoring anything that is not one). */
export function thinkingBlocksOf(m: ChatMessage): ThinkingBlock[] {
  const blocks = m.thinking_blocks;
  if (!Array.isArray(blocks)) return [];
  return blocks.filter(
    (b): b is ThinkingBlock =>
      !!b &&
      typeof b === 'object' &&
      ((b.type === 'thinking' && typeof b.thinking === 'string') || (b.type === 'redacted_thinking' && typeof b.data === 'string')),
  );
}
