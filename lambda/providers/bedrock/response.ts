/** Bedrock Converse output → canonical chat completion; stop reasons and usage. */
import type { ConverseCommandOutput, TokenUsage } from '@aws-sdk/client-bedrock-runtime';
import type { ThinkingBlock } from '../reasoning';
import type { ChatCompletion, FinishReason, ToolCall, Usage } from '../types';
import { finishFromStopReason, usageOf } from '../translate-common';

export const finishReasonFromBedrock: (reason: string | undefined) => FinishReason = finishFromStopReason;

/** Prompt tokens as OpenAI counts them: cache reads and writes included. */
export function bedrockUsage(u: Partial<TokenUsage> | undefined): Usage {
  const usage = usageOf((u?.inputTokens ?? 0) + (u?.cacheReadInputTokens ?? 0) + (u?.cacheWriteInputTokens ?? 0), u?.outputTokens ?? 0);
  // The cache's share, as the Anthropic translator keeps it, so cost prices reads and writes apart.
  if (u?.cacheReadInputTokens) usage.prompt_tokens_details = { cached_tokens: u.cacheReadInputTokens };
  if (u?.cacheWriteInputTokens) usage.cache_creation_input_tokens = u.cacheWriteInputTokens;
  return usage;
}

export function fromConverseOutput(out: ConverseCommandOutput, model: string, id: string, created = Math.floor(Date.now() / 1000)): ChatCompletion {
  let text = '';
  const toolCalls: ToolCall[] = [];
  let reasoning = '';
  const thinkingBlocks: ThinkingBlock[] = [];
  for (const b of out.output?.message?.content ?? []) {
    if (b.text !== undefined) text += b.text;
    else if (b.reasoningContent?.reasoningText) {
      const r = b.reasoningContent.reasoningText;
      reasoning += r.text ?? '';
      thinkingBlocks.push({ type: 'thinking', thinking: r.text ?? '', ...(r.signature ? { signature: r.signature } : {}) });
    } else if (b.reasoningContent?.redactedContent)
      thinkingBlocks.push({ type: 'redacted_thinking', data: Buffer.from(b.reasoningContent.redactedContent).toString('base64') });
    else if (b.toolUse)
      toolCalls.push({
        id: b.toolUse.toolUseId ?? `call_${toolCalls.length}`,
        type: 'function',
        function: { name: b.toolUse.name ?? '', arguments: JSON.stringify(b.toolUse.input ?? {}) },
      });
  }
  // Reasoning in the conventions of reasoning.ts (as Anthropic's own API gives it); absent when the model did not think.
  const thought = thinkingBlocks.length ? { reasoning_content: reasoning, thinking_blocks: thinkingBlocks } : {};
  return {
    id,
    object: 'chat.completion',
    created,
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: text || null, ...thought, ...(toolCalls.length ? { tool_calls: toolCalls } : {}), refusal: null },
        finish_reason: finishReasonFromBedrock(out.stopReason) ?? 'stop',
        logprobs: null,
      },
    ],
    usage: bedrockUsage(out.usage),
  };
}
