/**
 * /v1/messages: validating an Anthropic Messages request and translating it to the canonical
 * (OpenAI) request, so any provider can serve it. The validated body itself is kept as the call's
 * native request, for the providers that speak the Messages format (they get it unchanged).
 */
import { errors } from '../../errors';
import { validateModelName, withoutSteeringFields } from '../../validate';
import type { AnthropicBlock, AnthropicRequest, AnthropicToolChoice } from '../../../apischema/anthropic';
import type { ChatMessage, ChatRequest, ContentPart, ToolCall } from '../../../apischema/openai';
import type { NativeMessagesRequest } from '../../provider';
import { isObject } from '../../is-object';
import { inlineFileOf } from '../../file-parts';

/** Clear 400s for the fields every target needs, before any upstream call. */
export function validateMessagesRequest(body: Record<string, unknown>): AnthropicRequest {
  validateModelName(body.model);
  if (!(typeof body.max_tokens === 'number' && Number.isInteger(body.max_tokens) && body.max_tokens >= 1))
    throw errors.badRequest('max_tokens: Field required (an integer >= 1)', 'max_tokens');
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw errors.badRequest('messages: must be a non-empty array', 'messages');
  body.messages.forEach((m: unknown, i: number) => {
    if (!isObject(m) || (m.role !== 'user' && m.role !== 'assistant'))
      throw errors.badRequest(`messages.${i}.role: must be 'user' or 'assistant'`, `messages.${i}.role`);
    if (typeof m.content !== 'string' && !(Array.isArray(m.content) && m.content.every((b) => isObject(b) && typeof b.type === 'string')))
      throw errors.badRequest(`messages.${i}.content: must be a string or a list of content blocks with a 'type'`, `messages.${i}.content`);
    if (Array.isArray(m.content))
      m.content.forEach((b: Record<string, unknown>, j: number) => {
        const c = b.content;
        if (
          b.type === 'tool_result' &&
          c !== undefined &&
          typeof c !== 'string' &&
          !(Array.isArray(c) && c.every((x) => isObject(x) && typeof x.type === 'string'))
        )
          throw errors.badRequest(`messages.${i}.content.${j}.content: must be a string or a list of content blocks`, `messages.${i}.content.${j}.content`);
      });
  });
  if (body.system !== undefined && typeof body.system !== 'string' && !(Array.isArray(body.system) && body.system.every(isObject)))
    throw errors.badRequest('system: must be a string or a list of text blocks', 'system');
  if (body.stream !== undefined && typeof body.stream !== 'boolean') throw errors.badRequest('stream: must be a boolean', 'stream');
  if (body.tools !== undefined && !(Array.isArray(body.tools) && body.tools.every((t) => isObject(t) && typeof t.name === 'string')))
    throw errors.badRequest('tools: must be a list of { name, description, input_schema }', 'tools');
  // The native passthrough sends this body to Anthropic as is: without the steering fields.
  return withoutSteeringFields(body) as unknown as AnthropicRequest;
}

function imagePart(block: Extract<AnthropicBlock, { type: 'image' }>, at: string): ContentPart {
  const s = block.source;
  if (s?.type === 'base64') return { type: 'image_url', image_url: { url: `data:${s.media_type};base64,${s.data}` } };
  if (s?.type === 'url') return { type: 'image_url', image_url: { url: s.url } };
  throw errors.badRequest(`${at}.source: must be a base64 or url image source`, at);
}

/**
 * A document block as canonical parts, when the canonical format can carry it: a base64 source (a
 * PDF) or a plain-text source becomes a file part (the text as a text/plain file), titled by its
 * file name, after its `context` as text. Other sources (a URL, an uploaded file, content blocks)
 * cited documents (the canonical answer has no citations) and base64 the gateway cannot read need
 * an Anthropic target (which gets the block as sent): undefined.
 */
function documentParts(block: Extract<AnthropicBlock, { type: 'document' }>): ContentPart[] | undefined {
  const s = block.source;
  if (block.citations?.enabled === true || !isObject(s)) return undefined;
  let fileData: string;
  if (s.type === 'base64' && typeof s.media_type === 'string' && typeof s.data === 'string') fileData = `data:${s.media_type};base64,${s.data}`;
  else if (s.type === 'text' && typeof s.data === 'string') fileData = `data:text/plain;base64,${Buffer.from(s.data, 'utf8').toString('base64')}`;
  else return undefined;
  if (!inlineFileOf(fileData)) return undefined;
  const file = { ...(typeof block.title === 'string' && block.title ? { filename: block.title } : {}), file_data: fileData };
  return [...(typeof block.context === 'string' && block.context ? [{ type: 'text', text: block.context }] : []), { type: 'file', file }];
}

/** Anthropic blocks that the canonical format cannot carry: only Anthropic targets can serve them. */
const ANTHROPIC_ONLY = new Set([
  'document',
  'search_result',
  'server_tool_use',
  'web_search_tool_result',
  'container_upload',
  'mcp_tool_use',
  'mcp_tool_result',
]);

/**
 * A tool_result's content as a tool message's: text, images and documents in their order (a
 * document as a file part where the canonical format can carry it); all text, one string. An
 * error result says so in its text. Blocks the canonical format cannot carry need an Anthropic target.
 */
function toolResultContent(tr: Extract<AnthropicBlock, { type: 'tool_result' }>, at: string): string | ContentPart[] {
  const error = tr.is_error ? 'Error: ' : '';
  if (typeof tr.content === 'string' || tr.content === undefined) return `${error}${tr.content ?? ''}`;
  const parts: ContentPart[] = [];
  tr.content.forEach((b, k) => {
    const bat = `${at}.content.${k}`;
    if (b.type === 'text') parts.push({ type: 'text', text: b.text });
    else if (b.type === 'image') parts.push(imagePart(b as Extract<AnthropicBlock, { type: 'image' }>, bat));
    else if (b.type === 'document')
      parts.push(...(documentParts(b as Extract<AnthropicBlock, { type: 'document' }>) ?? [{ type: 'anthropic_only', block_type: b.type }]));
    else if (ANTHROPIC_ONLY.has(b.type)) parts.push({ type: 'anthropic_only', block_type: b.type });
    else throw errors.badRequest(`${bat}.type: content block type '${b.type}' is not supported in a tool_result`, `${bat}.type`);
  });
  if (parts.every((p) => p.type === 'text')) return error + parts.map((p) => (p as { text: string }).text).join('');
  if (!error) return parts;
  const first = parts[0] as { type: string; text?: string };
  return first.type === 'text' ? [{ type: 'text', text: error + first.text }, ...parts.slice(1)] : [{ type: 'text', text: error.trim() }, ...parts];
}

function userMessages(content: string | AnthropicBlock[], at: string, out: ChatMessage[]): void {
  if (typeof content === 'string') return void out.push({ role: 'user', content });
  const parts: ContentPart[] = [];
  content.forEach((b, j) => {
    const bat = `${at}.content.${j}`;
    if (b.type === 'tool_result') {
      // OpenAI puts each tool result in its own message, ahead of the user's text.
      const tr = b as Extract<AnthropicBlock, { type: 'tool_result' }>;
      out.push({ role: 'tool', tool_call_id: tr.tool_use_id, content: toolResultContent(tr, bat) });
    } else if (b.type === 'text') parts.push({ type: 'text', text: b.text });
    else if (b.type === 'image') parts.push(imagePart(b as Extract<AnthropicBlock, { type: 'image' }>, bat));
    else if (b.type === 'document')
      parts.push(...(documentParts(b as Extract<AnthropicBlock, { type: 'document' }>) ?? [{ type: 'anthropic_only', block_type: b.type }]));
    else if (ANTHROPIC_ONLY.has(b.type)) parts.push({ type: 'anthropic_only', block_type: b.type });
    else throw errors.badRequest(`${bat}.type: unknown content block type '${b.type}'`, bat);
  });
  if (parts.length) out.push({ role: 'user', content: parts });
}

function assistantMessage(content: string | AnthropicBlock[]): ChatMessage {
  if (typeof content === 'string') return { role: 'assistant', content };
  const text: string[] = [];
  const toolCalls: ToolCall[] = [];
  for (const b of content) {
    if (b.type === 'text') text.push(b.text);
    else if (b.type === 'tool_use') toolCalls.push({ id: b.id, type: 'function', function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } });
    // thinking blocks from earlier turns are dropped: other providers cannot verify their signatures.
  }
  return { role: 'assistant', content: text.length ? text.join('') : null, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) };
}

function toolChoice(c: AnthropicToolChoice | undefined): Partial<Pick<ChatRequest, 'tool_choice'>> & { parallel_tool_calls?: boolean } {
  if (!c) return {};
  const parallel = c.disable_parallel_tool_use ? { parallel_tool_calls: false } : {};
  switch (c.type) {
    case 'auto':
      return { tool_choice: 'auto', ...parallel };
    case 'any':
      return { tool_choice: 'required', ...parallel };
    case 'none':
      return { tool_choice: 'none' };
    case 'tool':
      return { tool_choice: { type: 'function', function: { name: c.name } }, ...parallel };
    default:
      return {};
  }
}

/** Beta feature names only (e.g. `prompt-caching-2024-07-31,context-1m-2025-08-07`); anything else is a 400. */
export function betaHeader(value: string | null): string | undefined {
  if (value === null || !value.trim()) return undefined;
  if (!/^[A-Za-z0-9._-]+(\s*,\s*[A-Za-z0-9._-]+)*$/.test(value.trim()))
    throw errors.badRequest('anthropic-beta: must be a comma-separated list of beta names', 'anthropic-beta');
  return value.trim();
}

/** The request's own body for the providers that speak the Messages format, with the client's beta header. */
export function nativeMessagesRequest(req: AnthropicRequest, beta?: string): NativeMessagesRequest {
  return beta ? { format: 'messages', body: req, beta } : { format: 'messages', body: req };
}

export function messagesToCanonical(req: AnthropicRequest): ChatRequest {
  const messages: ChatMessage[] = [];
  const system = typeof req.system === 'string' ? req.system : (req.system ?? []).map((b) => b.text ?? '').join('\n\n');
  if (system) messages.push({ role: 'system', content: system });
  req.messages.forEach((m, i) => {
    if (m.role === 'user') userMessages(m.content, `messages.${i}`, messages);
    else messages.push(assistantMessage(m.content));
  });
  const out: ChatRequest = { model: req.model, messages, max_tokens: req.max_tokens, stream: req.stream === true };
  if (typeof req.temperature === 'number') out.temperature = req.temperature;
  if (typeof req.top_p === 'number') out.top_p = req.top_p;
  if (req.stop_sequences?.length) out.stop = req.stop_sequences;
  if (req.metadata?.user_id) out.user = req.metadata.user_id;
  const tools = (req.tools ?? []).filter((t) => t.input_schema !== undefined || t.type === undefined || t.type === 'custom');
  if (tools.length) {
    out.tools = tools.map((t) => ({
      type: 'function',
      function: { name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.input_schema ?? { type: 'object', properties: {} } },
    }));
    Object.assign(out, toolChoice(req.tool_choice));
  }
  return out;
}

/** Whether a translated request holds blocks only Anthropic can serve. */
export function anthropicOnlyBlocks(body: ChatRequest): string[] {
  const found = new Set<string>();
  for (const m of body.messages)
    if (Array.isArray(m.content)) for (const p of m.content) if (p.type === 'anthropic_only') found.add(String((p as { block_type?: unknown }).block_type));
  return [...found];
}
