/**
 * The Anthropic provider's own wire helpers. The Messages API's types live in the shared schema
 * module (apischema/anthropic), re-exported here for the provider's files.
 */
import type { AnthropicStopReason, AnthropicUsage } from '../../apischema/anthropic';
import type { FinishReason, Usage } from '../types';
import { finishFromStopReason, usageOf } from '../translate-common';

export * from '../../apischema/anthropic';

export const ANTHROPIC_API_VERSION = '2023-06-01';

/** Anthropic stop reason → OpenAI finish reason. */
export const finishReasonFromAnthropic: (reason: AnthropicStopReason | null | undefined) => FinishReason = finishFromStopReason;

/**
 * Canonical usage of an Anthropic usage: prompt tokens as OpenAI counts them, the cache reads as
 * OpenAI's `prompt_tokens_details.cached_tokens`, and (as LiteLLM names them) the cache writes as
 * `cache_creation_input_tokens` and server tool use as `server_tool_use`, so cost prices each part.
 */
export function canonicalUsageOf(u: Partial<AnthropicUsage> | undefined): Usage {
  const usage: Usage = usageOf(promptTokensOf(u), u?.output_tokens ?? 0);
  if (u?.cache_read_input_tokens) usage.prompt_tokens_details = { cached_tokens: u.cache_read_input_tokens };
  if (u?.cache_creation_input_tokens) usage.cache_creation_input_tokens = u.cache_creation_input_tokens;
  if (u?.server_tool_use?.web_search_requests) usage.server_tool_use = { web_search_requests: u.server_tool_use.web_search_requests };
  return usage;
}

/** Prompt tokens as OpenAI counts them: cached and cache-written input included. */
export function promptTokensOf(u: Partial<AnthropicUsage> | undefined): number {
  return (u?.input_tokens ?? 0) + (u?.cache_creation_input_tokens ?? 0) + (u?.cache_read_input_tokens ?? 0);
}
