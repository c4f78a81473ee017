/**
 * OpenAI Responses API wire fixtures for fake upstreams: the response object as OpenAI returns it
 * (echoing the request's settings), and the semantic SSE events OpenAI streams for it, in its order
 * (`event: <type>` + `data:` with `type` and `sequence_number`; no [DONE]): response.created,
 * response.in_progress, then per output item output_item.added, its own events (content parts and
 * text deltas with `obfuscation`, function-call argument deltas, web_search_call progress, reasoning
 * summary parts), output_item.done, and at the end response.completed.
 */
import type { ServerResponse } from 'node:http';
import { json } from './fake-upstream';

type Json = Record<string, any>;

export interface ResponsesUsageIn {
  input: number;
  output: number;
  cached?: number;
  reasoning?: number;
}

export const usageOf = (u: ResponsesUsageIn) => ({
  input_tokens: u.input,
  input_tokens_details: { cached_tokens: u.cached ?? 0 },
  output_tokens: u.output,
  output_tokens_details: { reasoning_tokens: u.reasoning ?? 0 },
  total_tokens: u.input + u.output,
});

let counter = 0;
/** An id shaped like OpenAI's (`msg_68b0…`): never one the gateway makes. */
export const upstreamId = (prefix: string) => `${prefix}_68c0ffee${(++counter).toString(16).padStart(8, '0')}upstream`;

/** Output items as OpenAI returns them. */
export const messageItem = (text: string, annotations: unknown[] = []) => ({
  id: upstreamId('msg'),
  type: 'message',
  status: 'completed',
  content: [{ type: 'output_text', annotations, logprobs: [], text }],
  role: 'assistant',
});
export const functionCallItem = (name: string, args: string) => ({
  id: upstreamId('fc'),
  type: 'function_call',
  status: 'completed',
  arguments: args,
  call_id: upstreamId('call'),
  name,
});
export const webSearchItem = (query: string) => ({ id: upstreamId('ws'), type: 'web_search_call', status: 'completed', action: { type: 'search', query } });
export const reasoningItem = (summary: string, encrypted?: string) => ({
  id: upstreamId('rs'),
  type: 'reasoning',
  summary: summary ? [{ type: 'summary_text', text: summary }] : [],
  ...(encrypted ? { encrypted_content: encrypted } : {}),
});

/** The response object OpenAI answers `req` with. */
export function openAiResponse(req: Json, output: Json[], usage: ResponsesUsageIn, opts: { status?: string; incomplete?: string } = {}): Json {
  const status = opts.status ?? 'completed';
  return {
    id: upstreamId('resp'),
    object: 'response',
    created_at: 1_765_000_000,
    status,
    background: false,
    completed_at: status === 'completed' ? 1_765_000_002 : null,
    error: null,
    frequency_penalty: 0,
    incomplete_details: opts.incomplete ? { reason: opts.incomplete } : null,
    instructions: req.instructions ?? null,
    max_output_tokens: req.max_output_tokens ?? null,
    max_tool_calls: null,
    model: `${req.model}-2024-08-06`,
    output,
    parallel_tool_calls: true,
    presence_penalty: 0,
    previous_response_id: req.previous_response_id ?? null,
    prompt_cache_key: null,
    reasoning: { effort: null, summary: null },
    safety_identifier: null,
    service_tier: 'default',
    store: req.store ?? true,
    temperature: req.temperature ?? 1,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: req.tool_choice ?? 'auto',
    tools: req.tools ?? [],
    top_logprobs: 0,
    top_p: req.top_p ?? 1,
    truncation: 'disabled',
    usage: usageOf(usage),
    user: null,
    metadata: req.metadata ?? {},
  };
}

/** Pieces of a text as a model streams them: a word (with its trailing space) at a time. */
const pieces = (text: string) => text.match(/\S+\s*|\s+/g) ?? [];
const obfuscation = (delta: string) => 'x'.repeat(Math.max(0, 12 - delta.length)) || 'x';

/** The events OpenAI streams for `response` (its output items one after another), without sequence numbers. */
export function responseEvents(response: Json): Json[] {
  const pending = { ...response, status: 'in_progress', completed_at: null, output: [], usage: null };
  const out: Json[] = [
    { type: 'response.created', response: pending },
    { type: 'response.in_progress', response: pending },
  ];
  (response.output as Json[]).forEach((item, output_index) => {
    const item_id = item.id;
    if (item.type === 'message') {
      out.push({ type: 'response.output_item.added', output_index, item: { ...item, status: 'in_progress', content: [] } });
      item.content.forEach((part: Json, content_index: number) => {
        out.push({ type: 'response.content_part.added', item_id, output_index, content_index, part: { ...part, text: '', annotations: [] } });
        for (const delta of pieces(part.text))
          out.push({ type: 'response.output_text.delta', item_id, output_index, content_index, delta, logprobs: [], obfuscation: obfuscation(delta) });
        part.annotations.forEach((annotation: unknown, annotation_index: number) => {
          out.push({ type: 'response.output_text.annotation.added', item_id, output_index, content_index, annotation_index, annotation });
        });
        out.push({ type: 'response.output_text.done', item_id, output_index, content_index, text: part.text, logprobs: [] });
        out.push({ type: 'response.content_part.done', item_id, output_index, content_index, part });
      });
    } else if (item.type === 'function_call') {
      out.push({ type: 'response.output_item.added', output_index, item: { ...item, status: 'in_progress', arguments: '' } });
      for (const delta of item.arguments.match(/.{1,6}/gs) ?? [])
        out.push({ type: 'response.function_call_arguments.delta', item_id, output_index, delta, obfuscation: obfuscation(delta) });
      out.push({ type: 'response.function_call_arguments.done', item_id, output_index, arguments: item.arguments });
    } else if (item.type === 'web_search_call') {
      out.push({ type: 'response.output_item.added', output_index, item: { id: item_id, type: 'web_search_call', status: 'in_progress' } });
      for (const phase of ['in_progress', 'searching', 'completed']) out.push({ type: `response.web_search_call.${phase}`, item_id, output_index });
    } else if (item.type === 'reasoning') {
      out.push({ type: 'response.output_item.added', output_index, item: { ...item, summary: [] } });
      item.summary.forEach((part: Json, summary_index: number) => {
        out.push({ type: 'response.reasoning_summary_part.added', item_id, output_index, summary_index, part: { type: 'summary_text', text: '' } });
        for (const delta of pieces(part.text))
          out.push({ type: 'response.reasoning_summary_text.delta', item_id, output_index, summary_index, delta, obfuscation: obfuscation(delta) });
        out.push({ type: 'response.reasoning_summary_text.done', item_id, output_index, summary_index, text: part.text });
        out.push({ type: 'response.reasoning_summary_part.done', item_id, output_index, summary_index, part });
      });
    }
    out.push({ type: 'response.output_item.done', output_index, item });
  });
  out.push({ type: response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', response });
  return out;
}

/** One event as OpenAI writes it. */
export const sseEvent = (e: Json, sequence_number: number) => `event: ${e.type}\ndata: ${JSON.stringify({ type: e.type, sequence_number, ...e })}\n\n`;

/** Writes `events` with their sequence numbers, and ends the response (OpenAI sends no [DONE] on this API). */
export function writeResponsesSse(res: ServerResponse, events: Json[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
  res.end(events.map(sseEvent).join(''));
}

/** Answers `response` as the request asked: its events streamed, or the object as JSON. */
export function writeResponsesAnswer(req: { readonly body: Json }, res: ServerResponse, response: Json): void {
  if (req.body.stream) writeResponsesSse(res, responseEvents(response));
  else json(res, 200, response);
}

/** Parse an SSE body into its events' data. */
export function sseData(text: string): Json[] {
  return text
    .split('\n\n')
    .filter((b) => b.trim())
    .map((block) =>
      JSON.parse(
        block
          .split('\n')
          .find((l) => l.startsWith('data: '))!
          .slice(6),
      ),
    );
}
