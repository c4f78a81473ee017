/**
 * A Responses-format answer in the canonical form the core settles, prices, guards, caches and logs
 * by: the text of its message items, its function calls as tool calls, its reasoning summaries,
 * and its usage (cached input and reasoning output tokens included).
 */
import type { OutputItem, ResponseObject, ResponsesUsage } from '../../../apischema/responses';
import { type ChatCompletion, type FinishReason, type ToolCall, type Usage, UpstreamError } from '../../types';

/** The Responses usage in chat completions' names. */
export function canonicalUsage(u: ResponsesUsage | null | undefined): Usage | undefined {
  if (!u || typeof u.input_tokens !== 'number' || typeof u.output_tokens !== 'number') return undefined;
  return {
    prompt_tokens: u.input_tokens,
    completion_tokens: u.output_tokens,
    total_tokens: typeof u.total_tokens === 'number' ? u.total_tokens : u.input_tokens + u.output_tokens,
    prompt_tokens_details: { cached_tokens: u.input_tokens_details?.cached_tokens ?? 0 },
    completion_tokens_details: { reasoning_tokens: u.output_tokens_details?.reasoning_tokens ?? 0 },
  };
}

/** Why the answer ended, from its status and output. */
export function finishOf(res: Pick<ResponseObject, 'status' | 'incomplete_details' | 'output'>): FinishReason {
  if (res.status === 'incomplete') return res.incomplete_details?.reason === 'content_filter' ? 'content_filter' : 'length';
  return (res.output ?? []).some((i) => i.type === 'function_call') ? 'tool_calls' : 'stop';
}

/** A failed response (in a JSON answer or a stream's response.failed) as the attempt's failure. */
export function failedResponseError(res: Pick<ResponseObject, 'error'> | undefined, provider: string): UpstreamError {
  const e = res?.error;
  const code = e?.code ?? 'response_failed';
  const status = code === 'rate_limit_exceeded' ? 429 : 502;
  return new UpstreamError('in_band', `${provider}: ${e?.message ?? 'the response failed'}`, status, code);
}

export function completionFromResponse(res: ResponseObject, provider: string): ChatCompletion {
  if (res.status === 'failed') throw failedResponseError(res, provider);
  let text = '';
  let refusal = '';
  let reasoning = '';
  const toolCalls: ToolCall[] = [];
  for (const item of (res.output ?? []) as OutputItem[]) {
    if (item.type === 'message') {
      for (const c of item.content ?? []) {
        if (c.type === 'output_text') text += c.text;
        else if (c.type === 'refusal') refusal += c.refusal;
      }
    } else if (item.type === 'function_call') {
      toolCalls.push({ id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments } });
    } else if (item.type === 'reasoning') {
      reasoning += (item.summary ?? []).map((s) => s.text).join('');
    }
  }
  const usage = canonicalUsage(res.usage);
  return {
    id: res.id,
    object: 'chat.completion',
    created: res.created_at,
    model: res.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text || (toolCalls.length || refusal ? null : ''),
          refusal: refusal || null,
          ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
          ...(reasoning ? { reasoning_content: reasoning } : {}),
        },
        finish_reason: finishOf(res),
        logprobs: null,
      },
    ],
    ...(usage ? { usage } : {}),
  };
}
