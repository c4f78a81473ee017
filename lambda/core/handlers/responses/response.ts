/**
 * /v1/responses: the response object. `responseShell` echoes the request's settings as the
 * specification requires; `canonicalToOutput` turns a canonical chat completion into output items
 * (reasoning, message, function calls) with the usage and status they imply.
 */
import { randomBytes } from 'node:crypto';
import type { ChatCompletion, FinishReason, Usage } from '../../../apischema/openai';
import type { ThinkingBlock } from '../../../apischema/openai';
import { encryptedContentOf } from './reasoning-carry';
import type { FunctionTool, OutputItem, ResponseObject, ResponsesRequest, ResponsesUsage, TextFormat } from './wire';

/** `resp_…`, `msg_…`, `fc_…`, `rs_…`: random, like OpenAI's. */
export function newId(prefix: 'resp' | 'msg' | 'fc' | 'rs'): string {
  return `${prefix}_${randomBytes(20).toString('hex')}`;
}

/** The response object before any output, echoing what the request asked for. */
export function responseShell(
  req: ResponsesRequest,
  o: { id: string; createdAt: number; model: string; store: boolean; previousResponseId: string | null },
): ResponseObject {
  const effort = req.reasoning?.effort ?? null;
  return {
    id: o.id,
    object: 'response',
    created_at: o.createdAt,
    completed_at: null,
    status: 'in_progress',
    incomplete_details: null,
    model: o.model,
    previous_response_id: o.previousResponseId,
    instructions: typeof req.instructions === 'string' ? req.instructions : null,
    output: [],
    error: null,
    tools: ((req.tools ?? []) as FunctionTool[]).map((t) =>
      t.type === 'function'
        ? { type: 'function', name: t.name, description: t.description ?? null, parameters: t.parameters ?? null, strict: t.strict ?? null }
        : t,
    ),
    tool_choice: req.tool_choice ?? 'auto',
    truncation: 'disabled',
    parallel_tool_calls: req.parallel_tool_calls !== false,
    text: { format: (req.text?.format as TextFormat | undefined) ?? { type: 'text' } },
    top_p: typeof req.top_p === 'number' ? req.top_p : 1,
    presence_penalty: 0,
    frequency_penalty: 0,
    top_logprobs: 0,
    temperature: typeof req.temperature === 'number' ? req.temperature : 1,
    reasoning: effort || req.reasoning?.summary ? { effort, summary: req.reasoning?.summary ?? null } : null,
    usage: null,
    max_output_tokens: typeof req.max_output_tokens === 'number' ? req.max_output_tokens : null,
    max_tool_calls: null,
    store: o.store,
    background: false,
    service_tier: 'default',
    metadata: req.metadata ?? {},
    safety_identifier: typeof req.safety_identifier === 'string' ? req.safety_identifier : null,
    prompt_cache_key: null,
    user: typeof req.user === 'string' ? req.user : null,
  };
}

export function usageToResponses(u: Usage | undefined | null, fallback: { input: number; output: number }): ResponsesUsage {
  const input = u?.prompt_tokens ?? fallback.input;
  const output = u?.completion_tokens ?? fallback.output;
  const cached = (u?.prompt_tokens_details as { cached_tokens?: number } | undefined)?.cached_tokens ?? 0;
  const reasoning = (u?.completion_tokens_details as { reasoning_tokens?: number } | undefined)?.reasoning_tokens ?? 0;
  return {
    input_tokens: input,
    output_tokens: output,
    total_tokens: input + output,
    input_tokens_details: { cached_tokens: cached },
    output_tokens_details: { reasoning_tokens: reasoning },
  };
}

/** A finish reason as the response's final status (and why it is incomplete, when it is). */
export function statusOf(finish: FinishReason | undefined): Pick<ResponseObject, 'status' | 'incomplete_details'> {
  if (finish === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (finish === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

/** Output items of a whole canonical answer, in the order the model produced them: reasoning, text, function calls. */
export function canonicalToOutput(completion: ChatCompletion): OutputItem[] {
  const msg = completion.choices[0]?.message;
  if (!msg) return [];
  const out: OutputItem[] = [];
  const reasoning = typeof msg.reasoning_content === 'string' ? msg.reasoning_content : '';
  const blocks = Array.isArray(msg.thinking_blocks) ? (msg.thinking_blocks as ThinkingBlock[]) : [];
  if (reasoning || blocks.length) {
    const encrypted = encryptedContentOf(blocks);
    out.push({
      type: 'reasoning',
      id: newId('rs'),
      summary: reasoning ? [{ type: 'summary_text', text: reasoning }] : [],
      ...(encrypted ? { encrypted_content: encrypted } : {}),
    });
  }
  const incomplete = completion.choices[0]?.finish_reason === 'length';
  const text = typeof msg.content === 'string' ? msg.content : '';
  const refusal = typeof msg.refusal === 'string' ? msg.refusal : '';
  if (text || refusal) {
    out.push({
      type: 'message',
      id: newId('msg'),
      status: incomplete ? 'incomplete' : 'completed',
      role: 'assistant',
      content: [
        ...(text ? [{ type: 'output_text' as const, text, annotations: [], logprobs: [] }] : []),
        ...(refusal ? [{ type: 'refusal' as const, refusal }] : []),
      ],
    });
  }
  for (const tc of msg.tool_calls ?? [])
    out.push({ type: 'function_call', id: newId('fc'), call_id: tc.id, name: tc.function.name, arguments: tc.function.arguments, status: 'completed' });
  return out;
}

/** The final response object for a whole answer. */
export function completedResponse(shell: ResponseObject, completion: ChatCompletion, usage: ResponsesUsage, now: number): ResponseObject {
  const status = statusOf(completion.choices[0]?.finish_reason);
  return { ...shell, ...status, completed_at: status.status === 'completed' ? now : null, output: canonicalToOutput(completion), usage };
}

/** The text a response's output holds (what a response log record keeps). */
export function outputText(output: readonly OutputItem[]): string {
  return output.map((i) => (i.type === 'message' ? i.content.map((c) => (c.type === 'output_text' ? c.text : c.refusal)).join('') : '')).join('');
}
