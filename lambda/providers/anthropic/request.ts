/** Canonical (OpenAI) chat request → Anthropic Messages request. */
import type { ChatMessage, ChatRequest, ContentPart } from '../types';
import {
  type FileRef,
  clientFault,
  conversationOf,
  fileRef,
  forcedToolName,
  imageRef,
  inToolResult,
  partsOf,
  requireSingleChoice,
  stopSequences,
  textOf,
  EARLIER_TOOL_DESCRIPTION,
  toolCallsOf,
  toolsCalledIn,
  unsupportedFileType,
} from '../translate-common';
import { responseToolChoice, responseToolOf } from '../structured-output';
import { thinkingBlocksOf, thinkingBudgetOf } from '../reasoning';
import type { AnthropicBlock, AnthropicMessage, AnthropicRequest, AnthropicToolChoice } from './wire';

/** Anthropic requires max_tokens; used when the client sets none. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

/** The image types Anthropic reads. */
const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

/**
 * A file as a document block: a PDF as its base64 source; a text file (text/plain, text/markdown,
 * text/csv, …) as a plain-text source, the one other source Anthropic reads inline. Its file
 * name is the document's title. An image sent as a file is an image block (a block has no name).
 */
export function documentBlock(file: FileRef): AnthropicBlock {
  const title = file.filename ? { title: file.filename } : {};
  if (file.mediaType === 'application/pdf') return { type: 'document', source: { type: 'base64', media_type: file.mediaType, data: file.base64 }, ...title };
  if (file.mediaType.startsWith('text/'))
    return { type: 'document', source: { type: 'text', media_type: 'text/plain', data: Buffer.from(file.base64, 'base64').toString('utf8') }, ...title };
  if (IMAGE_TYPES.has(file.mediaType)) return { type: 'image', source: { type: 'base64', media_type: file.mediaType, data: file.base64 } };
  throw unsupportedFileType(file, 'Anthropic', 'PDF, text and jpeg, png, gif or webp image files');
}

function contentBlock(part: ContentPart): AnthropicBlock | undefined {
  if (part.type === 'text') {
    const text = (part as { text?: unknown }).text;
    // Anthropic rejects empty text blocks; an empty part carries nothing anyway.
    return typeof text === 'string' && text ? { type: 'text', text } : undefined;
  }
  if (part.type === 'image_url') {
    const ref = imageRef(part);
    // Anthropic fetches URL images itself, so the gateway never has to.
    return ref.kind === 'base64'
      ? { type: 'image', source: { type: 'base64', media_type: ref.mediaType, data: ref.data } }
      : { type: 'image', source: { type: 'url', url: ref.url } };
  }
  if (part.type === 'file') return documentBlock(fileRef(part));
  throw clientFault(`content part type '${part.type}' is not supported for Anthropic models`, 'unsupported_content');
}

function blocksOf(content: ChatMessage['content']): AnthropicBlock[] {
  return partsOf(content)
    .map(contentBlock)
    .filter((b): b is AnthropicBlock => b !== undefined);
}

function assistantBlocks(m: ChatMessage): AnthropicBlock[] {
  // Thinking the client carries back goes first, as Anthropic sent it.
  const blocks: AnthropicBlock[] = [...thinkingBlocksOf(m), ...blocksOf(m.content)];
  for (const tc of toolCallsOf(m)) blocks.push({ type: 'tool_use', id: tc.id, name: tc.name, input: tc.input });
  return blocks;
}

function toolChoice(body: ChatRequest): AnthropicToolChoice | undefined {
  const c = body.tool_choice;
  const noParallel = body.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
  if (c === undefined || c === null) return body.parallel_tool_calls === false && body.tools?.length ? { type: 'auto', ...noParallel } : undefined;
  if (c === 'auto') return { type: 'auto', ...noParallel };
  if (c === 'required') return { type: 'any', ...noParallel };
  if (c === 'none') return { type: 'none' };
  return { type: 'tool', name: forcedToolName(c), ...noParallel };
}

export function toAnthropicRequest(body: ChatRequest, model: string): AnthropicRequest {
  requireSingleChoice(body.n, 'Anthropic');
  // Anthropic wants alternating turns: consecutive same-role messages (e.g. several tool results) merge.
  const { system, turns } = conversationOf<AnthropicBlock>(body.messages, 'Anthropic', {
    user: (m) => blocksOf(m.content),
    assistant: assistantBlocks,
    // A tool_result holds text, image and document blocks: files and images go in as they would in a user turn.
    tool: (m) => {
      const parts = inToolResult(m, () => blocksOf(m.content));
      const content = parts.every((b) => b.type === 'text') ? textOf(m.content) : parts;
      return [{ type: 'tool_result', tool_use_id: String(m.tool_call_id ?? ''), content }];
    },
  });
  const budget = thinkingBudgetOf(body);
  const asked = body.max_completion_tokens ?? body.max_tokens ?? undefined;
  // With thinking, max_tokens covers the thinking too and must exceed its budget.
  if (budget !== undefined && asked !== undefined && asked <= budget)
    throw clientFault(`max_tokens (${asked}) must be greater than the thinking budget (${budget} tokens) on Anthropic models.`, 'invalid_max_tokens');
  const out: AnthropicRequest = {
    model,
    max_tokens: asked ?? (budget ?? 0) + ANTHROPIC_DEFAULT_MAX_TOKENS,
    messages: turns.map((t): AnthropicMessage => ({ role: t.role, content: t.blocks })),
  };
  if (budget !== undefined) out.thinking = { type: 'enabled', budget_tokens: budget };
  if (system.length) out.system = system.join('\n\n');
  // Anthropic refuses temperature and top_k with thinking, and top_p below 0.95.
  // OpenAI allows temperature up to 2, Anthropic up to 1.
  if (typeof body.temperature === 'number' && budget === undefined) out.temperature = Math.min(body.temperature, 1);
  if (typeof body.top_p === 'number' && (budget === undefined || body.top_p >= 0.95)) out.top_p = body.top_p;
  const stop = stopSequences(body.stop);
  if (stop) out.stop_sequences = stop;
  if (typeof body.user === 'string') out.metadata = { user_id: body.user };
  if (body.tools?.length) {
    out.tools = body.tools.map((t) => ({
      name: t.function.name,
      ...(t.function.description ? { description: t.function.description } : {}),
      input_schema: t.function.parameters ?? { type: 'object', properties: {} },
    }));
  }
  const choice = toolChoice(body);
  if (choice && out.tools) out.tool_choice = choice;
  if (!out.tools) {
    const earlier = toolsCalledIn(body.messages);
    if (earlier.length) {
      out.tools = earlier.map((name) => ({ name, description: EARLIER_TOOL_DESCRIPTION, input_schema: { type: 'object' } }));
      out.tool_choice = { type: 'none' };
    }
  }
  // response_format: the JSON answer travels as one more tool the model must call (structured-output.ts).
  const responseTool = responseToolOf(body);
  if (responseTool) {
    out.tools = [...(out.tools ?? []), { name: responseTool.name, description: responseTool.description, input_schema: responseTool.schema }];
    const how = responseToolChoice(body);
    const noParallel = body.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
    if (how === 'response_tool') out.tool_choice = { type: 'tool', name: responseTool.name };
    else if (how === 'any_tool') out.tool_choice = { type: 'any', ...noParallel };
  }
  // Anthropic refuses a forced tool (tool_choice 'required' or named, and so response_format) with thinking.
  if (budget !== undefined && (out.tool_choice?.type === 'any' || out.tool_choice?.type === 'tool'))
    throw clientFault(
      'A forced tool call (tool_choice "required" or a named function, or response_format) cannot be combined with reasoning on Anthropic models.',
      'unsupported_with_reasoning',
    );
  if (body.stream) out.stream = true;
  return out;
}
