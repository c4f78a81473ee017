/** Canonical (OpenAI) chat request → Bedrock Converse input (types only from the SDK: no runtime import here). */
import type {
  ContentBlock,
  ConverseCommandInput,
  DocumentFormat,
  ImageFormat,
  Message,
  Tool,
  ToolChoice,
  ToolResultContentBlock,
} from '@aws-sdk/client-bedrock-runtime';
import type { ChatMessage, ChatRequest, ContentPart } from '../types';
import { type ThinkingBlock, thinkingBlocksOf, thinkingBudgetOf } from '../reasoning';
import { responseToolChoice, responseToolOf } from '../structured-output';
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

const IMAGE_FORMATS: Record<string, ImageFormat> = { 'image/png': 'png', 'image/jpeg': 'jpeg', 'image/jpg': 'jpeg', 'image/gif': 'gif', 'image/webp': 'webp' };

/** Converse's document formats by media type. */
const DOCUMENT_FORMATS: Record<string, DocumentFormat> = {
  'application/pdf': 'pdf',
  'text/plain': 'txt',
  'text/csv': 'csv',
  'text/html': 'html',
  'text/markdown': 'md',
  'text/x-markdown': 'md',
  'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
};

/** Longest document name kept (Converse's limit is not documented beyond its characters; names are labels). */
const MAX_DOCUMENT_NAME = 200;

/**
 * A document name Converse accepts: only ASCII letters and digits, single spaces, hyphens, parentheses and
 * square brackets. Anything else (the dot of an extension included) becomes a hyphen; a name with
 * nothing left is 'document'.
 */
export function documentName(filename: string | undefined): string {
  const name = (filename ?? '')
    .replace(/[^A-Za-z0-9\s()[\]-]+/g, '-')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, MAX_DOCUMENT_NAME)
    .trim();
  return /[A-Za-z0-9]/.test(name) ? name : 'document';
}

/** Converse wants each document of a request named differently: a repeated name gets ' (2)', ' (3)', … */
function uniqueNames(): (name: string) => string {
  const seen = new Set<string>();
  return (name) => {
    let out = name;
    for (let n = 2; seen.has(out); n++) out = `${name} (${n})`;
    seen.add(out);
    return out;
  };
}

/** A file as a document block, or an image block when it is an image Converse reads (an image block has no name). */
function documentBlock(file: FileRef, unique: (name: string) => string): ContentBlock {
  const bytes = new Uint8Array(Buffer.from(file.base64, 'base64'));
  const image = IMAGE_FORMATS[file.mediaType];
  if (image) return { image: { format: image, source: { bytes } } };
  const format = DOCUMENT_FORMATS[file.mediaType];
  if (!format) throw unsupportedFileType(file, 'Bedrock', 'pdf, csv, doc, docx, xls, xlsx, html, txt, md documents and png, jpeg, gif, webp images');
  return { document: { format, name: unique(documentName(file.filename)), source: { bytes } } };
}

function contentBlock(part: ContentPart, unique: (name: string) => string): ContentBlock | undefined {
  if (part.type === 'text') {
    const text = (part as { text?: unknown }).text;
    // Converse rejects blank text blocks.
    return typeof text === 'string' && text.trim() ? { text } : undefined;
  }
  if (part.type === 'image_url') {
    const ref = imageRef(part);
    // Converse takes image bytes (or S3). Fetching a client-supplied URL from inside the VPC would be
    // an SSRF hole, so URL images are refused with a clear message instead.
    if (ref.kind === 'url')
      throw clientFault(
        'Bedrock models need image bytes: send the image as a base64 data URL (the gateway does not fetch image URLs)',
        'unsupported_image_url',
      );
    const format = IMAGE_FORMATS[ref.mediaType];
    if (!format) throw clientFault(`image type '${ref.mediaType}' is not supported by Bedrock (png, jpeg, gif, webp)`, 'unsupported_image_type');
    return { image: { format, source: { bytes: new Uint8Array(Buffer.from(ref.data, 'base64')) } } };
  }
  if (part.type === 'file') return documentBlock(fileRef(part), unique);
  throw clientFault(`content part type '${part.type}' is not supported for Bedrock models`, 'unsupported_content');
}

function blocksOf(content: ChatMessage['content'], unique: (name: string) => string): ContentBlock[] {
  return partsOf(content)
    .map((p) => contentBlock(p, unique))
    .filter((b): b is ContentBlock => b !== undefined);
}

/**
 * A tool message's content as a toolResult's: text, image and document blocks as in a user turn
 * (all text: one text block, as the text was sent; nothing: one blank, since Converse wants content).
 */
function toolResultContent(m: ChatMessage, unique: (name: string) => string): ToolResultContentBlock[] {
  const blocks = inToolResult(m, () => blocksOf(m.content, unique));
  if (blocks.every((b) => b.text !== undefined)) return [{ text: textOf(m.content) || ' ' }];
  return blocks.map((b): ToolResultContentBlock => {
    if (b.image) return { image: b.image };
    if (b.document) return { document: b.document };
    return { text: b.text! };
  });
}

/** Thinking blocks carried back on an assistant turn, as Converse's reasoningContent blocks (first, as Claude requires). */
function reasoningBlock(b: ThinkingBlock): ContentBlock {
  if (b.type === 'redacted_thinking') return { reasoningContent: { redactedContent: new Uint8Array(Buffer.from(b.data, 'base64')) } };
  return { reasoningContent: { reasoningText: { text: b.thinking, ...(b.signature ? { signature: b.signature } : {}) } } };
}

/** Converse's reasoning switch is model-specific (additionalModelRequestFields): Claude's `thinking` is the one mapped. */
const isClaude = (modelId: string) => /(^|\.)anthropic\.claude|^arn:.*anthropic\.claude/.test(modelId);

function toolChoice(c: ChatRequest['tool_choice']): ToolChoice | undefined {
  if (c === 'required') return { any: {} };
  if (c === 'auto') return { auto: {} };
  if (c && typeof c === 'object') return { tool: { name: forcedToolName(c) } };
  return undefined;
}

export function toConverseInput(body: ChatRequest, modelId: string): ConverseCommandInput {
  requireSingleChoice(body.n, 'Bedrock');
  let hasToolBlocks = false;
  const unique = uniqueNames();
  // Converse needs alternating turns: consecutive same-role messages (e.g. several tool results) merge.
  const { system, turns } = conversationOf<ContentBlock>(body.messages, 'Bedrock', {
    user: (m) => blocksOf(m.content, unique),
    assistant: (m) => {
      const blocks = [...thinkingBlocksOf(m).map(reasoningBlock), ...blocksOf(m.content, unique)];
      for (const tc of toolCallsOf(m)) {
        hasToolBlocks = true;
        blocks.push({ toolUse: { toolUseId: tc.id, name: tc.name, input: tc.input as never } });
      }
      return blocks;
    },
    tool: (m) => {
      hasToolBlocks = true;
      return [{ toolResult: { toolUseId: String(m.tool_call_id ?? ''), content: toolResultContent(m, unique) } }];
    },
  });
  const input: ConverseCommandInput = { modelId, messages: turns.map((t): Message => ({ role: t.role, content: t.blocks })) };
  const sys = system.filter((s) => s.trim());
  if (sys.length) input.system = sys.map((text) => ({ text }));
  const inference: NonNullable<ConverseCommandInput['inferenceConfig']> = {};
  const max = body.max_completion_tokens ?? body.max_tokens;
  if (typeof max === 'number') inference.maxTokens = max;
  if (typeof body.temperature === 'number') inference.temperature = body.temperature;
  if (typeof body.top_p === 'number') inference.topP = body.top_p;
  const stop = stopSequences(body.stop);
  if (stop) inference.stopSequences = stop;
  const budget = thinkingBudgetOf(body);
  if (budget !== undefined) {
    if (!isClaude(modelId))
      throw clientFault(
        `Reasoning (reasoning_effort or thinking) is mapped for Anthropic Claude models on Bedrock only, not '${modelId}'.`,
        'unsupported_reasoning',
      );
    // As on Anthropic's own API: maxTokens covers the thinking and must exceed its budget; no
    // temperature or forced tool with thinking (checked by Bedrock too, with a less clear message).
    if (typeof max === 'number' && max <= budget)
      throw clientFault(`max_tokens (${max}) must be greater than the thinking budget (${budget} tokens) on Anthropic models.`, 'invalid_max_tokens');
    if (typeof max !== 'number') inference.maxTokens = budget + 4096;
    delete inference.temperature;
    if (typeof inference.topP === 'number' && inference.topP < 0.95) delete inference.topP;
    input.additionalModelRequestFields = { thinking: { type: 'enabled', budget_tokens: budget } } as never;
  }
  if (Object.keys(inference).length) input.inferenceConfig = inference;
  // Converse has no "none" tool choice: tools are left out instead, unless the history holds tool
  // blocks (which Converse only accepts alongside a toolConfig).
  if (body.tools?.length && (body.tool_choice !== 'none' || hasToolBlocks)) {
    const tools: Tool[] = body.tools.map((t) => ({
      toolSpec: {
        name: t.function.name,
        ...(t.function.description ? { description: t.function.description } : {}),
        inputSchema: { json: (t.function.parameters ?? { type: 'object', properties: {} }) as never },
      },
    }));
    const choice = body.tool_choice === 'none' ? undefined : toolChoice(body.tool_choice);
    input.toolConfig = { tools, ...(choice ? { toolChoice: choice } : {}) };
  }
  // Converse refuses tool blocks without a toolConfig, and has no "none" choice to offer them with.
  if (!input.toolConfig && hasToolBlocks) {
    const earlier = toolsCalledIn(body.messages);
    if (earlier.length)
      input.toolConfig = {
        tools: earlier.map((name) => ({ toolSpec: { name, description: EARLIER_TOOL_DESCRIPTION, inputSchema: { json: { type: 'object' } as never } } })),
      };
  }
  // response_format: the JSON answer travels as one more tool the model must call (structured-output.ts).
  // Converse honours a forced tool choice for Anthropic and Mistral models; others answer 400.
  const responseTool = responseToolOf(body);
  if (responseTool) {
    const spec: Tool = { toolSpec: { name: responseTool.name, description: responseTool.description, inputSchema: { json: responseTool.schema as never } } };
    const how = responseToolChoice(body);
    const toolChoiceFor: ToolChoice | undefined =
      how === 'response_tool' ? { tool: { name: responseTool.name } } : how === 'any_tool' ? { any: {} } : input.toolConfig?.toolChoice;
    input.toolConfig = { tools: [...(input.toolConfig?.tools ?? []), spec], ...(toolChoiceFor ? { toolChoice: toolChoiceFor } : {}) };
  }
  if (budget !== undefined && (input.toolConfig?.toolChoice?.any || input.toolConfig?.toolChoice?.tool))
    throw clientFault(
      'A forced tool call (tool_choice "required" or a named function, or response_format) cannot be combined with reasoning on Anthropic models.',
      'unsupported_with_reasoning',
    );
  return input;
}
