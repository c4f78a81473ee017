/** Anthropic Messages response → canonical chat completion. */
import { type ChatCompletion, type ToolCall, UpstreamError } from '../types';
import type { ThinkingBlock } from '../reasoning';
import { type AnthropicResponse, finishReasonFromAnthropic, canonicalUsageOf } from './wire';

/** A non-streamed Messages answer (Anthropic's API or Claude on Bedrock), checked for shape, as a canonical completion. */
export function fromAnthropicAnswer(json: AnthropicResponse | null | undefined, providerName: string): ChatCompletion {
  if (json?.type !== 'message' || !Array.isArray(json.content))
    throw new UpstreamError('malformed', `${providerName} returned JSON that is not a message`, 502, 'malformed_response');
  return fromAnthropicResponse(json);
}

export function fromAnthropicResponse(res: AnthropicResponse, created = Math.floor(Date.now() / 1000)): ChatCompletion {
  const text: string[] = [];
  const toolCalls: ToolCall[] = [];
  const reasoning: string[] = [];
  const thinkingBlocks: ThinkingBlock[] = [];
  for (const b of res.content ?? []) {
    if (b.type === 'text') text.push(b.text);
    else if (b.type === 'tool_use') toolCalls.push({ id: b.id, type: 'function', function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } });
    else if (b.type === 'thinking') {
      reasoning.push(b.thinking);
      thinkingBlocks.push({ type: 'thinking', thinking: b.thinking, ...(b.signature ? { signature: b.signature } : {}) });
    } else if (b.type === 'redacted_thinking') thinkingBlocks.push({ type: 'redacted_thinking', data: b.data });
  }
  // Reasoning in the conventions of reasoning.ts; absent when the model did not think.
  const thought = thinkingBlocks.length ? { reasoning_content: reasoning.join(''), thinking_blocks: thinkingBlocks } : {};
  const completion: ChatCompletion = {
    id: res.id,
    object: 'chat.completion',
    created,
    model: res.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text.length ? text.join('') : null,
          ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
          refusal: null,
          ...thought,
        },
        finish_reason: finishReasonFromAnthropic(res.stop_reason),
        logprobs: null,
      },
    ],
    usage: canonicalUsageOf(res.usage),
  };
  return completion;
}
