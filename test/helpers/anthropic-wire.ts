/** Anthropic Messages wire fixtures for fake upstreams: JSON messages and named-event SSE streams. */
import type { ServerResponse } from 'node:http';

export function anthropicMessage(content: unknown[], opts: { stop_reason?: string; model?: string; usage?: Record<string, number> } = {}) {
  return {
    id: 'msg_fake01',
    type: 'message',
    role: 'assistant',
    model: opts.model ?? 'claude-sonnet-4-5-20250929',
    content,
    stop_reason: opts.stop_reason ?? 'end_turn',
    stop_sequence: null,
    usage: opts.usage ?? { input_tokens: 12, output_tokens: 6 },
  };
}

/** Writes each `{ type, ... }` event as `event: <type>` + `data:`; `end: false` stops without message_stop. */
export function writeAnthropicSse(res: ServerResponse, events: Array<{ type: string }>, opts: { end?: boolean } = {}): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const e of events) res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
  if (opts.end !== false) res.write(`event: message_stop\ndata: {"type":"message_stop"}\n\n`);
  res.end();
}

/** A text answer streamed in `words`, as Anthropic sends it. */
export function anthropicTextEvents(words: string[], opts: { stop_reason?: string; input?: number; output?: number } = {}) {
  return [
    { type: 'message_start', message: { ...anthropicMessage([]), stop_reason: null, usage: { input_tokens: opts.input ?? 10, output_tokens: 1 } } },
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    { type: 'ping' },
    ...words.map((w) => ({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: w } })),
    { type: 'content_block_stop', index: 0 },
    { type: 'message_delta', delta: { stop_reason: opts.stop_reason ?? 'end_turn', stop_sequence: null }, usage: { output_tokens: opts.output ?? 5 } },
  ];
}

/** A tool_use answer streamed with input_json_delta fragments. */
export function anthropicToolEvents(id: string, name: string, jsonParts: string[]) {
  return [
    { type: 'message_start', message: { ...anthropicMessage([]), stop_reason: null, usage: { input_tokens: 20, output_tokens: 1 } } },
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Checking.' } },
    { type: 'content_block_stop', index: 0 },
    { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id, name, input: {} } },
    ...jsonParts.map((p) => ({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: p } })),
    { type: 'content_block_stop', index: 1 },
    { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 30 } },
  ];
}
