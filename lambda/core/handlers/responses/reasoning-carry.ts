/**
 * Carrying a provider's signed reasoning (Anthropic's thinking blocks) through a reasoning item's
 * `encrypted_content`, so a client that sends the item back (the Agents SDK does, and so does a
 * stored conversation) hands the provider its own thinking again, as Anthropic requires when tool
 * results follow. Opaque to clients, like OpenAI's own encrypted reasoning.
 */
import type { ThinkingBlock } from '../../../apischema/openai';

const PREFIX = 'gw-thinking:';

export function encryptedContentOf(blocks: readonly ThinkingBlock[]): string | undefined {
  if (!blocks.length) return undefined;
  return PREFIX + Buffer.from(JSON.stringify(blocks)).toString('base64url');
}

/** The thinking blocks in an encrypted_content the gateway wrote; anything else (OpenAI's own, or garbage) holds none. */
export function thinkingBlocksFromEncrypted(value: unknown): ThinkingBlock[] {
  if (typeof value !== 'string' || !value.startsWith(PREFIX)) return [];
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value.slice(PREFIX.length), 'base64url').toString('utf8'));
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (b): b is ThinkingBlock =>
        !!b &&
        typeof b === 'object' &&
        ((b.type === 'thinking' && typeof b.thinking === 'string') || (b.type === 'redacted_thinking' && typeof b.data === 'string')),
    );
  } catch {
    return [];
  }
}
