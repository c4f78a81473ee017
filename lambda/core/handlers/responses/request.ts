/**
 * /v1/responses: validating a Responses request and translating it to the canonical (chat
 * completions) request every provider speaks. Anything the translation cannot carry is a 400 that
 * names it: an unknown item or content type, or a built-in tool (web search, file search, ...)
 * that only OpenAI itself can run.
 */
import { errors } from '../../errors';
import { withoutSteeringFields } from '../../validate';
import type { ChatMessage, ChatRequest, ContentPart, ToolCall, ToolDefinition } from '../../../apischema/openai';
import type { FunctionTool, InputContentPart, InputItem, MessageItem, ReasoningItem, ResponsesRequest, TextFormat, ToolChoice } from './wire';
import { thinkingBlocksFromEncrypted } from './reasoning-carry';
import { isObject } from '../../is-object';
import { UPLOADED_FILES_REFUSED, checkFileData } from '../../file-parts';

/** Built-in (hosted) tools: OpenAI runs them itself; the gateway does not emulate them. */
export const BUILT_IN_TOOL_TYPES: ReadonlySet<string> = new Set([
  'web_search',
  'web_search_preview',
  'web_search_preview_2025_03_11',
  'web_search_2025_08_26',
  'file_search',
  'code_interpreter',
  'computer_use_preview',
  'computer_use',
  'image_generation',
  'mcp',
  'local_shell',
  'shell',
  'apply_patch',
  'custom',
]);

/** Output items of built-in tools: a conversation holding them can only go back to OpenAI. */
const BUILT_IN_ITEM_TYPES: ReadonlySet<string> = new Set([
  'web_search_call',
  'file_search_call',
  'computer_call',
  'computer_call_output',
  'code_interpreter_call',
  'image_generation_call',
  'local_shell_call',
  'local_shell_call_output',
  'shell_call',
  'shell_call_output',
  'apply_patch_call',
  'apply_patch_call_output',
  'mcp_call',
  'mcp_list_tools',
  'mcp_approval_request',
  'mcp_approval_response',
  'custom_tool_call',
  'custom_tool_call_output',
]);

const MESSAGE_ROLES = new Set(['user', 'assistant', 'system', 'developer']);
const REASONING_EFFORTS = new Set(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']);

function optionalNumber(body: Record<string, unknown>, field: string, min: number, max = Number.MAX_SAFE_INTEGER, integer = false): void {
  const v = body[field];
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v)))
    throw errors.badRequest(`'${field}' must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}.`, field);
}

/** What the validation leaves to the endpoint, which knows the route: parts and items only native targets can take. */
interface Deferred {
  readonly builtInItems: 'refuse' | 'defer';
  readonly uploadedFiles: 'refuse' | 'defer';
}

/**
 * An input_file part (in a user message or a function_call_output): the file itself in `file_data`
 * (a base64 data URL); a `file_id` / `file_url` only for native routes.
 */
function checkFilePart(p: Record<string, unknown>, at: string, role: string, deferred: Deferred): void {
  if (role !== 'user' && role !== 'tool') throw errors.badRequest(`'${at}': files may only be sent in user messages and function_call_output items.`, at);
  if (p.filename !== undefined && p.filename !== null && typeof p.filename !== 'string')
    throw errors.badRequest(`'${at}.filename' must be a string.`, `${at}.filename`);
  if (p.file_data === undefined || p.file_data === null) {
    const field = typeof p.file_id === 'string' ? 'file_id' : typeof p.file_url === 'string' ? 'file_url' : undefined;
    if (field && deferred.uploadedFiles === 'defer') return;
    if (field) throw errors.badRequest(`'${at}.${field}': ${UPLOADED_FILES_REFUSED}`, `${at}.${field}`, 'unsupported_content');
  }
  checkFileData(p.file_data, `${at}.file_data`);
}

function checkContentPart(p: unknown, at: string, role: string, deferred: Deferred): void {
  if (!isObject(p) || typeof p.type !== 'string') throw errors.badRequest(`'${at}' must be an object with a 'type'.`, at);
  switch (p.type) {
    case 'input_text':
    case 'output_text':
      if (typeof p.text !== 'string') throw errors.badRequest(`'${at}.text' must be a string.`, `${at}.text`);
      return;
    case 'refusal':
      if (typeof p.refusal !== 'string') throw errors.badRequest(`'${at}.refusal' must be a string.`, `${at}.refusal`);
      return;
    case 'input_image':
      if (typeof p.image_url !== 'string' && typeof p.file_id === 'string' && deferred.uploadedFiles === 'defer') {
        if (role !== 'user' && role !== 'tool') throw errors.badRequest(`'${at}': images may only be sent in user messages.`, at);
        return;
      }
      if (typeof p.image_url !== 'string')
        throw errors.badRequest(
          `'${at}.image_url' must be an http(s) URL or a base64 data URL (uploaded files, 'file_id', are not available through this gateway).`,
          `${at}.image_url`,
          'unsupported_content',
        );
      if (role !== 'user' && role !== 'tool') throw errors.badRequest(`'${at}': images may only be sent in user messages.`, at);
      return;
    case 'input_file':
      checkFilePart(p, at, role, deferred);
      return;
    case 'input_audio':
    case 'input_video':
      throw errors.badRequest(`'${at}': content type '${p.type}' is not supported by this gateway.`, `${at}.type`, 'unsupported_content');
    default:
      throw errors.badRequest(`'${at}': unknown content type '${p.type}'.`, `${at}.type`, 'unsupported_content');
  }
}

function checkItem(item: unknown, at: string, deferred: Deferred): void {
  if (!isObject(item)) throw errors.badRequest(`'${at}' must be an object.`, at);
  const type = item.type ?? (typeof item.role === 'string' ? 'message' : undefined);
  switch (type) {
    case 'message': {
      if (typeof item.role !== 'string' || !MESSAGE_ROLES.has(item.role))
        throw errors.badRequest(`'${at}.role' must be one of ${[...MESSAGE_ROLES].join(', ')}.`, `${at}.role`);
      if (typeof item.content === 'string') return;
      if (!Array.isArray(item.content)) throw errors.badRequest(`'${at}.content' must be a string or a list of content parts.`, `${at}.content`);
      for (const [j, p] of item.content.entries()) checkContentPart(p, `${at}.content[${j}]`, item.role as string, deferred);
      return;
    }
    case 'function_call':
      for (const f of ['call_id', 'name', 'arguments'])
        if (typeof item[f] !== 'string') throw errors.badRequest(`'${at}.${f}' must be a string.`, `${at}.${f}`);
      return;
    case 'function_call_output':
      if (typeof item.call_id !== 'string') throw errors.badRequest(`'${at}.call_id' must be a string.`, `${at}.call_id`);
      if (typeof item.output === 'string') return;
      if (!Array.isArray(item.output)) throw errors.badRequest(`'${at}.output' must be a string or a list of content parts.`, `${at}.output`);
      for (const [j, p] of item.output.entries()) checkContentPart(p, `${at}.output[${j}]`, 'tool', deferred);
      return;
    case 'reasoning':
      if (item.summary !== undefined && !Array.isArray(item.summary)) throw errors.badRequest(`'${at}.summary' must be a list.`, `${at}.summary`);
      return;
    case 'item_reference':
      throw errors.badRequest(
        `'${at}': item references are not supported by this gateway; send the item itself, or chain with previous_response_id.`,
        `${at}.type`,
        'unsupported_item',
      );
    default:
      if (typeof type === 'string' && BUILT_IN_ITEM_TYPES.has(type)) {
        if (deferred.builtInItems === 'defer') return;
        throw errors.badRequest(`'${at}': '${type}' items come from built-in tools, which this gateway does not run.`, `${at}.type`, 'unsupported_item');
      }
      throw errors.badRequest(`'${at}': unknown item type '${String(type)}'.`, `${at}.type`, 'unsupported_item');
  }
}

function checkTools(tools: unknown): void {
  if (tools === undefined || tools === null) return;
  if (!Array.isArray(tools)) throw errors.badRequest("'tools' must be a list.", 'tools');
  tools.forEach((t, i) => {
    if (!isObject(t) || typeof t.type !== 'string') throw errors.badRequest(`'tools[${i}]' must be an object with a 'type'.`, `tools[${i}]`);
    if (t.type === 'function') {
      if (typeof t.name !== 'string' || !t.name) throw errors.badRequest(`'tools[${i}].name' must be a non-empty string.`, `tools[${i}].name`);
      if (t.parameters !== undefined && t.parameters !== null && !isObject(t.parameters))
        throw errors.badRequest(`'tools[${i}].parameters' must be a JSON Schema object.`, `tools[${i}].parameters`);
    } else if (!BUILT_IN_TOOL_TYPES.has(t.type)) throw errors.badRequest(`'tools[${i}]': unknown tool type '${t.type}'.`, `tools[${i}].type`);
  });
}

function checkToolChoice(v: unknown): void {
  if (v === undefined || v === null) return;
  if (v === 'none' || v === 'auto' || v === 'required') return;
  const msg = "'tool_choice' must be 'none', 'auto', 'required', { type: 'function', name } or { type: 'allowed_tools', mode, tools }.";
  if (!isObject(v) || typeof v.type !== 'string') throw errors.badRequest(msg, 'tool_choice');
  if (v.type === 'function' && typeof v.name !== 'string') throw errors.badRequest(msg, 'tool_choice');
  if (v.type === 'allowed_tools' && (!Array.isArray(v.tools) || !['none', 'auto', 'required'].includes(v.mode as string)))
    throw errors.badRequest(msg, 'tool_choice');
}

function checkTextFormat(text: unknown): void {
  if (text === undefined || text === null) return;
  if (!isObject(text)) throw errors.badRequest("'text' must be an object such as { format: { type: 'json_schema', ... } }.", 'text');
  const f = text.format;
  if (f === undefined || f === null) return;
  if (!isObject(f)) throw errors.badRequest("'text.format' must be an object.", 'text.format');
  if (f.type === 'text' || f.type === 'json_object') return;
  if (f.type === 'json_schema') {
    if (typeof f.name !== 'string' || !f.name) throw errors.badRequest("'text.format.name' is required for a json_schema format.", 'text.format.name');
    if (!isObject(f.schema)) throw errors.badRequest("'text.format.schema' must be a JSON Schema object.", 'text.format.schema');
    return;
  }
  throw errors.badRequest(`'text.format.type' must be text, json_object or json_schema (got ${JSON.stringify(f.type)}).`, 'text.format.type');
}

/**
 * Clear 400s for everything the translation relies on, before any upstream call. Items of built-in
 * tools (`web_search_call`, …) and files given by `file_id` / `file_url` are refused, unless
 * `builtInItems` / `uploadedFiles: 'defer'`: the endpoint then decides once the route is known (only
 * targets that take the Responses API natively can take them).
 */
export function validateResponsesRequest(
  body: Record<string, unknown>,
  opts: { builtInItems?: 'refuse' | 'defer'; uploadedFiles?: 'refuse' | 'defer' } = {},
): ResponsesRequest {
  const deferred: Deferred = { builtInItems: opts.builtInItems ?? 'refuse', uploadedFiles: opts.uploadedFiles ?? 'refuse' };
  if (typeof body.model !== 'string' || !body.model.trim()) throw errors.badRequest("'model' is required and must be a string.", 'model');
  const input = body.input;
  if (input !== undefined && typeof input !== 'string') {
    if (!Array.isArray(input)) throw errors.badRequest("'input' must be a string or a list of items.", 'input');
    for (const [i, item] of input.entries()) checkItem(item, `input[${i}]`, deferred);
  }
  if (input === undefined && typeof body.previous_response_id !== 'string') throw errors.badRequest("'input' is required.", 'input');
  if (body.instructions !== undefined && body.instructions !== null && typeof body.instructions !== 'string')
    throw errors.badRequest("'instructions' must be a string.", 'instructions');
  for (const f of ['stream', 'store', 'parallel_tool_calls', 'background'])
    if (body[f] !== undefined && body[f] !== null && typeof body[f] !== 'boolean') throw errors.badRequest(`'${f}' must be a boolean.`, f);
  if (body.background === true) throw errors.badRequest("'background' responses are not supported by this gateway.", 'background', 'unsupported_parameter');
  if (body.previous_response_id !== undefined && body.previous_response_id !== null && typeof body.previous_response_id !== 'string')
    throw errors.badRequest("'previous_response_id' must be a string.", 'previous_response_id');
  if (body.conversation !== undefined && body.conversation !== null)
    throw errors.badRequest(
      "'conversation' is not supported by this gateway; chain responses with previous_response_id.",
      'conversation',
      'unsupported_parameter',
    );
  optionalNumber(body, 'max_output_tokens', 1, Number.MAX_SAFE_INTEGER, true);
  optionalNumber(body, 'temperature', 0, 2);
  optionalNumber(body, 'top_p', 0, 1);
  checkTools(body.tools);
  checkToolChoice(body.tool_choice);
  checkTextFormat(body.text);
  if (body.metadata !== undefined && body.metadata !== null) {
    const m = body.metadata;
    if (!isObject(m) || Object.keys(m).length > 16 || !Object.values(m).every((v) => typeof v === 'string'))
      throw errors.badRequest("'metadata' must be an object of at most 16 string values.", 'metadata');
  }
  if (body.reasoning !== undefined && body.reasoning !== null) {
    const r = body.reasoning;
    if (!isObject(r)) throw errors.badRequest("'reasoning' must be an object such as { effort: 'medium' }.", 'reasoning');
    if (r.effort !== undefined && r.effort !== null && !REASONING_EFFORTS.has(r.effort as string))
      throw errors.badRequest(`'reasoning.effort' must be one of ${[...REASONING_EFFORTS].join(', ')}.`, 'reasoning.effort');
  }
  return withoutSteeringFields(body) as unknown as ResponsesRequest;
}

/** The request's input as a list of items (a string is one user message). */
export function inputItemsOf(req: ResponsesRequest): InputItem[] {
  if (req.input === undefined) return [];
  if (typeof req.input === 'string') return [{ type: 'message', role: 'user', content: req.input }];
  return req.input.map((item) => (item.type === undefined ? ({ ...item, type: 'message' } as MessageItem) : item));
}

/** The input items of built-in tools a request sends back (where, and their type), once validated with `builtInItems: 'defer'`. */
export function builtInItemsOf(req: ResponsesRequest): Array<{ at: string; type: string }> {
  if (!Array.isArray(req.input)) return [];
  return req.input.flatMap((item, i) => (BUILT_IN_ITEM_TYPES.has(item.type as string) ? [{ at: `input[${i}]`, type: item.type as string }] : []));
}

/** The field naming an uploaded file, for an input_file or input_image part that gives one instead of its content. */
function uploadedFieldOf(p: InputContentPart): 'file_id' | 'file_url' | undefined {
  if (p.type === 'input_file' && typeof p.file_data !== 'string') return typeof p.file_id === 'string' ? 'file_id' : 'file_url';
  if (p.type === 'input_image' && typeof p.image_url !== 'string' && typeof p.file_id === 'string') return 'file_id';
  return undefined;
}

/** An input_file or input_image part that names a file by id (or URL): where, which field, and whether it is an image. */
export interface UploadedFileRef {
  readonly at: string;
  readonly field: 'file_id' | 'file_url';
  readonly image?: true;
}

/**
 * The input_file and input_image parts of a request, in messages and function_call_output items,
 * that name a file by `file_id` / `file_url` (where, and which), once validated with `uploadedFiles: 'defer'`.
 */
export function uploadedFilesOf(req: ResponsesRequest): UploadedFileRef[] {
  return Array.isArray(req.input) ? uploadedFilesIn(req.input, 'input') : [];
}

/** The same, in a list of items named `list` (a request's `input`, or a stored conversation). */
export function uploadedFilesIn(items: readonly InputItem[], list: string): UploadedFileRef[] {
  return items.flatMap((item, i) => {
    const [parts, key] =
      item.type === 'function_call_output' ? [item.output, 'output'] : (item.type ?? 'message') === 'message' ? [(item as MessageItem).content, 'content'] : [];
    if (!Array.isArray(parts)) return [];
    return (parts as InputContentPart[]).flatMap((p, j) => {
      const field = uploadedFieldOf(p);
      return field ? [{ at: `${list}[${i}].${key}[${j}]`, field, ...(p.type === 'input_image' ? { image: true as const } : {}) }] : [];
    });
  });
}

/** The built-in tools a request asks for (only OpenAI targets can run them). */
export function builtInToolsOf(req: ResponsesRequest): string[] {
  const found = new Set<string>();
  for (const t of (req.tools ?? []) as Array<{ type: string }>) if (t.type !== 'function') found.add(t.type);
  const c: unknown = req.tool_choice;
  if (isObject(c) && c.type !== 'function' && c.type !== 'allowed_tools') found.add(String(c.type));
  return [...found];
}

function contentParts(content: MessageItem['content']): ContentPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return content.map((p: InputContentPart): ContentPart => {
    switch (p.type) {
      case 'input_image': {
        // An image by file_id reaches here only for a route of native targets (they are sent the client's own body).
        const ref = typeof p.image_url === 'string' ? { url: p.image_url } : { file_id: p.file_id };
        return { type: 'image_url', image_url: { ...ref, ...(p.detail ? { detail: p.detail } : {}) } as { url: string } };
      }
      case 'refusal':
        return { type: 'text', text: p.refusal };
      case 'input_file': {
        // A file_id / file_url part reaches here only for a route of native targets (they are sent the client's own body).
        const ref =
          typeof p.file_data === 'string'
            ? { file_data: p.file_data }
            : typeof p.file_id === 'string'
              ? { file_id: p.file_id }
              : { file_url: p.file_url ?? '' };
        return { type: 'file', file: { ...(typeof p.filename === 'string' ? { filename: p.filename } : {}), ...ref } };
      }
      default:
        return { type: 'text', text: p.text };
    }
  });
}

/** Content as a plain string when it is only text (most providers take that most simply). */
function compactContent(parts: ContentPart[]): string | ContentPart[] {
  return parts.every((p) => p.type === 'text') ? parts.map((p) => (p as { text: string }).text).join('') : parts;
}

/** A function's output as a tool message's content: text, images and files as in a user message. */
function toolOutputContent(output: Extract<InputItem, { type: 'function_call_output' }>['output']): string | ContentPart[] {
  if (typeof output === 'string') return output;
  return compactContent(contentParts(output));
}

/**
 * Conversation items → canonical messages. Consecutive function calls (and the assistant text or
 * reasoning just before them) become one assistant message with tool_calls, as chat completions
 * has them; each function_call_output becomes a tool message.
 */
export function itemsToMessages(items: readonly InputItem[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  /** The assistant message still open for more text, reasoning or tool calls. */
  let assistant: ChatMessage | undefined;
  const openAssistant = (): ChatMessage => {
    if (!assistant) {
      assistant = { role: 'assistant', content: null };
      out.push(assistant);
    }
    return assistant;
  };
  for (const item of items) {
    switch (item.type) {
      case 'message': {
        const m = item as MessageItem;
        if (m.role === 'assistant') {
          const a = openAssistant();
          const text = compactContent(contentParts(m.content));
          const prior = typeof a.content === 'string' ? a.content : '';
          a.content = prior + (typeof text === 'string' ? text : text.map((p) => (p as { text?: string }).text ?? '').join(''));
          // Text after tool calls starts a new turn.
          if (a.tool_calls?.length) assistant = undefined;
        } else {
          assistant = undefined;
          out.push({ role: m.role, content: compactContent(contentParts(m.content)) });
        }
        break;
      }
      case 'function_call': {
        const a = openAssistant();
        const call: ToolCall = { id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments } };
        a.tool_calls = [...(a.tool_calls ?? []), call];
        break;
      }
      case 'function_call_output':
        assistant = undefined;
        out.push({ role: 'tool', tool_call_id: item.call_id, content: toolOutputContent(item.output) });
        break;
      case 'reasoning': {
        // Signed thinking goes back to the provider that made it; a bare summary is not resent.
        const blocks = thinkingBlocksFromEncrypted((item as ReasoningItem).encrypted_content);
        if (blocks.length) {
          if (assistant?.content || assistant?.tool_calls?.length) assistant = undefined;
          const a = openAssistant();
          a.thinking_blocks = [...((a.thinking_blocks as unknown[]) ?? []), ...blocks];
        }
        break;
      }
    }
  }
  return out;
}

function toolsToCanonical(tools: FunctionTool[] | undefined, choice: ToolChoice | undefined): ToolDefinition[] | undefined {
  let fns = (tools ?? []).filter((t) => t.type === 'function');
  // allowed_tools narrows the tools the model may call this turn.
  if (isObject(choice) && choice.type === 'allowed_tools') {
    const allowed = new Set(choice.tools.map((t) => t.name));
    fns = fns.filter((t) => allowed.has(t.name));
  }
  if (!fns.length) return undefined;
  return fns.map((t) => ({
    type: 'function',
    function: {
      name: t.name,
      ...(t.description ? { description: t.description } : {}),
      parameters: t.parameters ?? { type: 'object', properties: {} },
      ...(typeof t.strict === 'boolean' ? { strict: t.strict } : {}),
    },
  }));
}

function toolChoiceToCanonical(choice: ToolChoice | undefined): ChatRequest['tool_choice'] | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (typeof choice === 'string') return choice;
  if (choice.type === 'function') return { type: 'function', function: { name: choice.name } };
  if (choice.type === 'allowed_tools') return choice.mode;
  return undefined;
}

function responseFormatOf(format: TextFormat | undefined): Record<string, unknown> | undefined {
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  return {
    type: 'json_schema',
    json_schema: {
      name: format.name,
      schema: format.schema,
      ...(format.description ? { description: format.description } : {}),
      ...(typeof format.strict === 'boolean' ? { strict: format.strict } : {}),
    },
  };
}

/** OpenAI's reasoning_effort for a Responses effort ('xhigh' is 'high' to chat completions). */
function reasoningEffortOf(req: ResponsesRequest): string | undefined {
  const effort = req.reasoning?.effort;
  if (!effort) return undefined;
  return effort === 'xhigh' ? 'high' : effort;
}

/**
 * The canonical request for a Responses request whose conversation is `items` (earlier turns
 * from the store, then this request's input). Instructions go first as a system message.
 */
export function responsesToCanonical(req: ResponsesRequest, items: readonly InputItem[]): ChatRequest {
  const messages: ChatMessage[] = [];
  if (typeof req.instructions === 'string' && req.instructions) messages.push({ role: 'system', content: req.instructions });
  messages.push(...itemsToMessages(items));
  if (!messages.some((m) => m.role !== 'system')) throw errors.badRequest("'input' must hold at least one message.", 'input');
  const out: ChatRequest = { model: req.model, messages, stream: req.stream === true };
  if (typeof req.max_output_tokens === 'number') out.max_completion_tokens = req.max_output_tokens;
  if (typeof req.temperature === 'number') out.temperature = req.temperature;
  if (typeof req.top_p === 'number') out.top_p = req.top_p;
  const user = req.safety_identifier ?? req.user;
  if (typeof user === 'string' && user) out.user = user;
  const tools = toolsToCanonical(req.tools, req.tool_choice);
  if (tools) {
    out.tools = tools;
    const choice = toolChoiceToCanonical(req.tool_choice);
    if (choice) out.tool_choice = choice;
    if (req.parallel_tool_calls === false) out.parallel_tool_calls = false;
  }
  const format = responseFormatOf(req.text?.format);
  if (format) out.response_format = format;
  const effort = reasoningEffortOf(req);
  if (effort) out.reasoning_effort = effort;
  return out;
}
