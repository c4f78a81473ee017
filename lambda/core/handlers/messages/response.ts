/** /v1/messages: canonical chat completion → Anthropic Messages response. */
import { type AnthropicBlock, type AnthropicResponse, stopReasonToAnthropic } from '../../../apischema/anthropic';
import type { ChatCompletion } from '../../../apischema/openai';
import type { NativeMessagesAnswer } from '../../provider';

/** Tool arguments as an object; a provider that sent broken JSON gets it wrapped rather than lost. */
export function toolInput(args: string | undefined): unknown {
  if (!args) return {};
  try {
    return JSON.parse(args);
  } catch {
    return { _raw_arguments: args };
  }
}

export function anthropicMessageId(id: string): string {
  return id.startsWith('msg_') ? id : `msg_${id.replace(/[^A-Za-z0-9]/g, '').slice(-24) || 'gateway'}`;
}

/** The upstream's own message when a provider that speaks the format answered this completion; else a translation. */
export function canonicalToMessagesResponse(res: ChatCompletion, native?: NativeMessagesAnswer): AnthropicResponse {
  const own = native?.message(res);
  if (own) return own;
  const choice = res.choices[0];
  const content: AnthropicBlock[] = [];
  const msg = choice?.message;
  if (typeof msg?.content === 'string' && msg.content) content.push({ type: 'text', text: msg.content });
  for (const tc of msg?.tool_calls ?? []) content.push({ type: 'tool_use', id: tc.id, name: tc.function.name, input: toolInput(tc.function.arguments) });
  return {
    id: anthropicMessageId(res.id),
    type: 'message',
    role: 'assistant',
    model: res.model,
    content,
    stop_reason: stopReasonToAnthropic(choice?.finish_reason),
    stop_sequence: null,
    usage: { input_tokens: res.usage?.prompt_tokens ?? 0, output_tokens: res.usage?.completion_tokens ?? 0 },
  };
}
