/**
 * The Anthropic provider's own wire helpers. The Messages API's types live in the shared schema
 * module (apischema/anthropic), re-exported here for the provider's files.
 */
import type { AnthropicStopReason, AnthropicUsage } from '../../apischema/anthropic';
import type { FinishReason } from '../types';
import { finishFromStopReason } from '../translate-common';

export * from '../../apischema/anthropic';

export const ANTHROPIC_API_VERSION = '2023-06-01';

/** Anthropic stop reason → OpenAI finish reason. */
export const finishReasonFromAnthropic: (reason: AnthropicStopReason | null | undefined) => FinishReason = finishFromStopReason;

/** Prompt tokens as OpenAI counts them: cached and cache-written input included. */
export function promptTokensOf(u: Partial<AnthropicUsage> | undefined): number {
  return (u?.input_tokens ?? 0) + (u?.cache_creation_input_tokens ?? 0) + (u?.cache_read_input_tokens ?? 0);
}
