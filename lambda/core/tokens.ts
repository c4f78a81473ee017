/**
 * Fast token estimation for reservations (the provider's real usage settles them afterwards).
 * A chars/4 heuristic with per-message overhead, as OpenAI documents for English text; it runs in
 * microseconds, which matters on the hot path.
 */
import type { ChatMessage, ChatRequest } from '../providers/types';

const PER_MESSAGE_OVERHEAD = 4;
const IMAGE_TOKENS = 765; // OpenAI's figure for a 1024x1024 image at high detail

export function estimateTextTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function messageTokens(m: ChatMessage): number {
  let n = PER_MESSAGE_OVERHEAD;
  if (typeof m.content === 'string') n += estimateTextTokens(m.content);
  else if (Array.isArray(m.content)) {
    for (const part of m.content) {
      if (part.type === 'text' && typeof (part as { text?: unknown }).text === 'string') n += estimateTextTokens((part as { text: string }).text);
      else if (part.type === 'image_url') n += IMAGE_TOKENS;
    }
  }
  if (m.tool_calls) n += estimateTextTokens(JSON.stringify(m.tool_calls));
  return n;
}

export function estimatePromptTokens(body: ChatRequest): number {
  let n = 3;
  for (const m of body.messages) n += messageTokens(m);
  if (body.tools) n += estimateTextTokens(JSON.stringify(body.tools));
  return n;
}

export function estimateEmbeddingTokens(input: unknown): number {
  if (typeof input === 'string') return estimateTextTokens(input);
  if (Array.isArray(input)) return input.reduce<number>((n, x) => n + (typeof x === 'string' ? estimateTextTokens(x) : Array.isArray(x) ? x.length : 1), 0);
  return 0;
}
