/**
 * Small pieces every translating provider (anthropic, bedrock, gemini) needs: reading canonical
 * content parts, image data URLs, tool-call arguments, and building canonical chunks.
 */
import {
  type ChatCompletionChunk,
  type ChatMessage,
  type ContentPart,
  type EmbeddingsRequest,
  type FinishReason,
  type ToolCall,
  type Usage,
  UpstreamError,
} from './types';
import { clientFault } from '../core/provider';
import { type FilePartFile, type InlineFile, UPLOADED_FILES_REFUSED, UPLOADED_IMAGES_REFUSED, inlineFileOf } from '../core/file-parts';

/** A request the provider cannot express: the client's fault, answered as 400 without fallback-worthy retries. */
export { clientFault };

/** The text of a message's content (string, or the text parts of an array). */
export function textOf(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((p): p is { type: 'text'; text: string } => p.type === 'text' && typeof (p as { text?: unknown }).text === 'string')
    .map((p) => p.text)
    .join('');
}

/** Content as a list of parts (a string becomes one text part). */
export function partsOf(content: ChatMessage['content']): ContentPart[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  return Array.isArray(content) ? content : [];
}

export type ImageRef = { kind: 'base64'; mediaType: string; data: string } | { kind: 'url'; url: string };

/**
 * An image_url part's reference. Only base64 data URLs and http(s) URLs are accepted; what a
 * provider does with a URL is its own choice (the gateway itself never fetches client URLs).
 */
export function imageRef(part: ContentPart): ImageRef {
  const image = (part as { image_url?: { url?: unknown; file_id?: unknown } }).image_url;
  const url = image?.url;
  if (typeof url !== 'string') {
    // An uploaded image (a Responses input_image by file_id, deferred for native routes) reaches a
    // translating provider only from a stored conversation sent on to another route.
    if (typeof image?.file_id === 'string') throw clientFault(UPLOADED_IMAGES_REFUSED, 'unsupported_content');
    throw clientFault("an image_url part needs 'image_url.url'");
  }
  const m = /^data:([\w.+-]+\/[\w.+-]+)(?:;[^,;]*)*;base64,(.*)$/s.exec(url);
  if (m) return { kind: 'base64', mediaType: m[1].toLowerCase(), data: m[2] };
  if (/^https?:\/\//i.test(url)) return { kind: 'url', url };
  throw clientFault('image URLs must be base64 data URLs (data:image/png;base64,...) or http(s) URLs');
}

/**
 * A tool message's content translated by `translate`, a 400 saying which tool result it was in: the
 * call id is what a client wrote in every format (tool_call_id, tool_use_id, call_id).
 */
export function inToolResult<T>(m: ChatMessage, translate: () => T): T {
  try {
    return translate();
  } catch (err) {
    if (err instanceof UpstreamError && err.status === 400)
      throw clientFault(`in the tool result for call '${String(m.tool_call_id ?? '')}': ${err.message}`, err.upstreamCode);
    throw err;
  }
}

/** A file part's file: its name (when given), media type and base64 bytes. */
export interface FileRef extends InlineFile {
  readonly filename?: string;
}

/**
 * A `file` part's inline file (the core checked it; checked again here, as any part a provider
 * translates). A file given by id is refused: the gateway has no files of its own.
 */
export function fileRef(part: ContentPart): FileRef {
  const f = (part as { file?: FilePartFile }).file;
  if (typeof f?.file_data !== 'string') throw clientFault(UPLOADED_FILES_REFUSED, 'unsupported_content');
  const inline = inlineFileOf(f.file_data);
  if (!inline)
    throw clientFault("a file part's 'file_data' must be a base64 data URL with the file's media type (data:application/pdf;base64,…)", 'invalid_file');
  return typeof f.filename === 'string' && f.filename ? { ...inline, filename: f.filename } : inline;
}

/** The 400 for a file type a provider cannot read, naming the type, the provider and what it takes. */
export function unsupportedFileType(file: FileRef, provider: string, takes: string) {
  return clientFault(
    `file type '${file.mediaType}'${file.filename ? ` ('${file.filename}')` : ''} is not supported by ${provider} models (${takes})`,
    'unsupported_file_type',
  );
}

/** Tool-call arguments from the client (a JSON string) as an object. */
export function parseToolArguments(args: string | undefined, name: string): Record<string, unknown> {
  if (!args?.trim()) return {};
  try {
    const v = JSON.parse(args);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* reported below */
  }
  throw clientFault(`the arguments of tool call '${name}' must be a JSON object`, 'invalid_tool_arguments');
}

/** The function name of each earlier tool call, by id (providers that key tool results by name need it). */
export function toolNamesById(messages: ChatMessage[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const m of messages) {
    if (!Array.isArray(m.tool_calls)) continue;
    for (const tc of m.tool_calls as Array<Partial<ToolCall> | null>)
      if (typeof tc?.id === 'string' && typeof tc.function?.name === 'string') names.set(tc.id, tc.function.name);
  }
  return names;
}

export function stopSequences(stop: string | string[] | null | undefined): string[] | undefined {
  if (stop === undefined || stop === null) return undefined;
  return Array.isArray(stop) ? stop : [stop];
}

export function usageOf(prompt: number, completion: number): Usage {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

type Delta = ChatCompletionChunk['choices'][number]['delta'];

/** Builds canonical chunks that share one id, model and timestamp. */
export function chunkBuilder(id: string, model: string, created = Math.floor(Date.now() / 1000)) {
  const base = { id, object: 'chat.completion.chunk' as const, created, model };
  return {
    delta: (delta: Delta, finish: FinishReason = null): ChatCompletionChunk => ({ ...base, choices: [{ index: 0, delta, finish_reason: finish }] }),
    usage: (usage: Usage): ChatCompletionChunk => ({ ...base, choices: [], usage }),
  };
}

/**
 * On a native call, notes each upstream event on a chunk as soon as it is read (the answer's
 * `noteEvents`), so the endpoint relays it at once: on the first chunk it produced, or on an empty
 * chunk of its own (no choices, no usage, so limits, pricing, guard, cache and log see nothing new)
 * when it has no canonical meaning (an item's or block's end, a tool's progress, a ping). Riding on
 * the next chunk instead, it would wait as long as the upstream does, and a cut would lose it.
 * Returns the chunks to yield for the event. `pendingId` names the carriers before the first chunk.
 */
export function nativeEventCarrier<E>(
  answer: { noteEvents(chunk: ChatCompletionChunk, events: readonly E[]): void },
  pendingId: string,
  model: string,
): (event: E, chunks: ChatCompletionChunk[]) => ChatCompletionChunk[] {
  /** The latest chunk's id, creation time and model, for the carriers. */
  let header: Pick<ChatCompletionChunk, 'id' | 'object' | 'created' | 'model'> = {
    id: pendingId,
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model,
  };
  return (event, chunks) => {
    if (chunks.length) {
      const { id, object, created, model } = chunks[0];
      header = { id, object, created, model };
    } else chunks = [{ ...header, choices: [] }];
    answer.noteEvents(chunks[0], [event]);
    return chunks;
  };
}

/** JSON from an upstream stream event, or a 'malformed' failure naming the provider. */
export function parseEventJson<T>(data: string, providerName: string): T {
  try {
    return JSON.parse(data) as T;
  } catch {
    throw new UpstreamError('malformed', `${providerName} sent a stream event that is not valid JSON`, 502, 'malformed_response');
  }
}

/** The inputs of an embeddings request, for providers that embed text only (no token arrays). */
export function textInputs(body: EmbeddingsRequest, provider: string): string[] {
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  if (!inputs.every((x): x is string => typeof x === 'string'))
    throw clientFault(`${provider} embeddings take text input only (no token arrays)`, 'unsupported_input');
  return inputs;
}

/** An embedding vector in the client's encoding: floats, or base64 of little-endian float32 (what the openai SDK asks for). */
export function encodeEmbedding(values: number[], format: 'float' | 'base64' | undefined): number[] | string {
  if (format !== 'base64') return values;
  const buf = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) buf.writeFloatLE(values[i], i * 4);
  return buf.toString('base64');
}

export type Turn<B> = { role: 'user' | 'assistant'; blocks: B[] };

/**
 * A chat's messages for providers that take the system prompt apart and need alternating turns
 * (Anthropic, Bedrock, Gemini): system and developer texts are collected; every other message
 * becomes blocks, and blocks for the same role as the previous turn join it (e.g. several tool
 * results); empty block lists add nothing. Other roles are refused, naming the provider.
 */
export function conversationOf<B>(
  messages: ChatMessage[],
  provider: string,
  blocks: { user(m: ChatMessage): B[]; assistant(m: ChatMessage): B[]; tool(m: ChatMessage): B[] },
): { system: string[]; turns: Array<Turn<B>> } {
  const system: string[] = [];
  const turns: Array<Turn<B>> = [];
  const push = (role: Turn<B>['role'], bs: B[]): void => {
    if (!bs.length) return;
    const last = turns[turns.length - 1];
    if (last?.role === role) last.blocks.push(...bs);
    else turns.push({ role, blocks: bs });
  };
  for (const m of messages) {
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push(textOf(m.content));
        break;
      case 'user':
        push('user', blocks.user(m));
        break;
      case 'assistant':
        push('assistant', blocks.assistant(m));
        break;
      case 'tool':
        push('user', blocks.tool(m));
        break;
      default:
        throw clientFault(`message role '${m.role}' is not supported for ${provider} models`);
    }
  }
  return { system, turns };
}

/**
 * Stop reasons shared by Anthropic and Bedrock Converse (end_turn, stop_sequence, max_tokens,
 * tool_use, …) → OpenAI finish reasons.
 */
export function finishFromStopReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content_filter';
    case null:
    case undefined:
      return null;
    default:
      return 'stop'; // end_turn, stop_sequence, pause_turn, malformed_* (the text so far is all there is)
  }
}

/** Providers that return one answer per call say so rather than silently returning fewer choices. */
export function requireSingleChoice(n: number | null | undefined, provider: string): void {
  if (typeof n === 'number' && n > 1) throw clientFault(`n > 1 is not supported by ${provider} models; send separate requests`, 'unsupported_n');
}

/** An assistant message's tool calls, checked (the chat validator does not look inside them), with parsed arguments. */
export function toolCallsOf(m: ChatMessage): Array<{ id: string; name: string; input: Record<string, unknown> }> {
  const calls: unknown = m.tool_calls;
  if (calls === undefined || calls === null) return [];
  if (!Array.isArray(calls)) throw clientFault("an assistant message's 'tool_calls' must be an array");
  return calls.map((tc: { id?: unknown; function?: { name?: unknown; arguments?: unknown } } | null, i) => {
    const fn = tc?.function;
    if (typeof fn?.name !== 'string' || !fn.name) throw clientFault(`tool_calls[${i}] needs 'function.name'`, 'invalid_tool_call');
    if (fn.arguments !== undefined && fn.arguments !== null && typeof fn.arguments !== 'string')
      throw clientFault(`tool_calls[${i}].function.arguments must be a JSON string`, 'invalid_tool_call');
    return { id: typeof tc?.id === 'string' ? tc.id : '', name: fn.name, input: parseToolArguments(fn.arguments ?? undefined, fn.name) };
  });
}

/** The function a `tool_choice` object forces. */
export function forcedToolName(choice: { function?: { name?: unknown } }): string {
  const name = choice?.function?.name;
  if (typeof name !== 'string' || !name)
    throw clientFault("'tool_choice' must be 'none', 'auto', 'required' or { type: 'function', function: { name } }", 'invalid_tool_choice');
  return name;
}

/**
 * The tools a conversation's history has called, for a request that declares none. Anthropic and
 * Bedrock Converse refuse tool_use/tool_result blocks unless tools are defined, yet a follow-up
 * that only returns a tool's output rightly names no tools (a Responses call with
 * previous_response_id and a function_call_output, say). The calls already happened, so each is
 * declared by name with a schema that accepts any input.
 */
export function toolsCalledIn(messages: readonly ChatMessage[]): string[] {
  const names = new Set<string>();
  for (const m of messages) if (m.role === 'assistant') for (const tc of toolCallsOf(m)) names.add(tc.name);
  return [...names];
}

/** The description of a tool declared only because the history called it. */
export const EARLIER_TOOL_DESCRIPTION = 'Called earlier in this conversation; not offered for this turn.';
