/** Canonical (OpenAI) chat request → Gemini generateContent request. */
import { thinkingBudgetOf } from '../reasoning';
import type { ChatMessage, ChatRequest, ContentPart } from '../types';
import {
  clientFault,
  conversationOf,
  fileRef,
  forcedToolName,
  imageRef,
  inToolResult,
  partsOf,
  stopSequences,
  textOf,
  toolCallsOf,
  toolNamesById,
  unsupportedFileType,
} from '../translate-common';
import { type GeminiContent, type GeminiFunctionResponsePart, type GeminiPart, type GeminiRequest, signatureFromId } from './wire';

/** JSON Schema keywords Gemini's OpenAPI-subset `parameters` rejects. */
const UNSUPPORTED_SCHEMA_KEYS = new Set(['$schema', '$id', '$comment', 'additionalProperties', 'strict']);

export function geminiSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(geminiSchema);
  if (!schema || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([k]) => !UNSUPPORTED_SCHEMA_KEYS.has(k))
      .map(([k, v]) => [k, geminiSchema(v)]),
  );
}

const MIME_BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
};

/** What Gemini reads inline besides images: PDFs, text of any kind (plain, HTML, CSV, Markdown, code, …), audio and video. */
const GEMINI_FILE_TYPES = /^(application\/pdf|(text|image|audio|video)\/[\w.+-]+)$/;

/** A file part's inline file, checked against what Gemini reads. */
function inlineFile(part: ContentPart): { inlineData: { mimeType: string; data: string } } {
  // inlineData carries no name: the file name is not sent.
  const file = fileRef(part);
  if (!GEMINI_FILE_TYPES.test(file.mediaType)) throw unsupportedFileType(file, 'Gemini', 'PDF, text, image, audio and video files');
  return { inlineData: { mimeType: file.mediaType, data: file.base64 } };
}

function mediaPart(part: ContentPart): GeminiPart | undefined {
  if (part.type === 'text') {
    const text = (part as { text?: unknown }).text;
    return typeof text === 'string' ? { text } : undefined;
  }
  if (part.type === 'image_url') {
    const ref = imageRef(part);
    if (ref.kind === 'base64') return { inlineData: { mimeType: ref.mediaType, data: ref.data } };
    // Gemini reads the URL itself (fileData); the gateway never fetches client URLs.
    const ext = /\.([a-z0-9]+)(?:[?#]|$)/i.exec(new URL(ref.url).pathname)?.[1]?.toLowerCase() ?? '';
    return { fileData: { mimeType: MIME_BY_EXTENSION[ext] ?? 'image/jpeg', fileUri: ref.url } };
  }
  if (part.type === 'file') return inlineFile(part);
  throw clientFault(`content part type '${part.type}' is not supported for Gemini models`, 'unsupported_content');
}

/**
 * The media of a tool message: a functionResponse's `parts` (FunctionResponsePart), which carry
 * inline bytes only, so an image by URL is refused rather than fetched or dropped.
 */
function responseMedia(part: ContentPart): GeminiFunctionResponsePart {
  if (part.type === 'image_url') {
    const ref = imageRef(part);
    if (ref.kind === 'url')
      throw clientFault(
        'Gemini takes images in a tool result as bytes only: send the image as a base64 data URL (the gateway does not fetch image URLs)',
        'unsupported_image_url',
      );
    return { inlineData: { mimeType: ref.mediaType, data: ref.data } };
  }
  if (part.type === 'file') return inlineFile(part);
  throw clientFault(`content part type '${part.type}' is not supported in a tool result for Gemini models`, 'unsupported_content');
}

function mediaParts(content: ChatMessage['content']): GeminiPart[] {
  return partsOf(content)
    .map(mediaPart)
    .filter((p): p is GeminiPart => p !== undefined);
}

function toolResponse(m: ChatMessage, names: Map<string, string>): GeminiPart {
  const id = String(m.tool_call_id ?? '');
  const name = names.get(id) ?? (typeof m.name === 'string' ? m.name : undefined);
  if (!name) throw clientFault(`tool message for '${id}' does not follow an assistant tool call with that id`, 'invalid_tool_result');
  const text = textOf(m.content);
  let response: Record<string, unknown> = { content: text };
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) response = parsed;
  } catch {
    /* plain text result */
  }
  // The text is the JSON response; images and files travel beside it in the response's own parts.
  const media = inToolResult(m, () =>
    partsOf(m.content)
      .filter((p) => p.type !== 'text')
      .map(responseMedia),
  );
  return { functionResponse: { name, response, ...(media.length ? { parts: media } : {}) } };
}

function toolConfig(c: ChatRequest['tool_choice']): GeminiRequest['toolConfig'] {
  if (c === undefined || c === null) return undefined;
  if (c === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (c === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  if (c === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [forcedToolName(c)] } };
}

function generationConfig(body: ChatRequest): Record<string, unknown> | undefined {
  const g: Record<string, unknown> = {};
  const max = body.max_completion_tokens ?? body.max_tokens;
  if (typeof max === 'number') g.maxOutputTokens = max;
  if (typeof body.temperature === 'number') g.temperature = body.temperature;
  if (typeof body.top_p === 'number') g.topP = body.top_p;
  if (typeof body.n === 'number' && body.n > 1) g.candidateCount = body.n;
  const stop = stopSequences(body.stop);
  if (stop) g.stopSequences = stop;
  if (typeof body.seed === 'number') g.seed = body.seed;
  if (typeof body.presence_penalty === 'number') g.presencePenalty = body.presence_penalty;
  if (typeof body.frequency_penalty === 'number') g.frequencyPenalty = body.frequency_penalty;
  const format = body.response_format as { type?: string; json_schema?: { schema?: unknown } } | undefined;
  if (format?.type === 'json_object' || format?.type === 'json_schema') g.responseMimeType = 'application/json';
  if (format?.type === 'json_schema' && format.json_schema?.schema) g.responseJsonSchema = format.json_schema.schema;
  // Reasoning asked in the conventions of reasoning.ts: Gemini's thinking budget, with the thought
  // summaries included so they come back as reasoning. (Without an ask, or with 'none', the model's default applies:
  // some Gemini models cannot turn thinking off.)
  const budget = thinkingBudgetOf(body);
  if (budget !== undefined) g.thinkingConfig = { thinkingBudget: budget, includeThoughts: true };
  return Object.keys(g).length ? g : undefined;
}

export function toGeminiRequest(body: ChatRequest): GeminiRequest {
  const names = toolNamesById(body.messages);
  const { system, turns } = conversationOf<GeminiPart>(body.messages, 'Gemini', {
    user: (m) => mediaParts(m.content),
    assistant: (m) => {
      const parts = mediaParts(m.content);
      for (const tc of toolCallsOf(m)) {
        const signature = signatureFromId(tc.id);
        parts.push({ functionCall: { name: tc.name, args: tc.input }, ...(signature ? { thoughtSignature: signature } : {}) });
      }
      return parts;
    },
    tool: (m) => [toolResponse(m, names)],
  });
  const out: GeminiRequest = { contents: turns.map((t): GeminiContent => ({ role: t.role === 'assistant' ? 'model' : 'user', parts: t.blocks })) };
  if (system.length) out.systemInstruction = { parts: [{ text: system.join('\n\n') }] };
  if (body.tools?.length) {
    out.tools = [
      {
        functionDeclarations: body.tools.map((t) => ({
          name: t.function.name,
          ...(t.function.description ? { description: t.function.description } : {}),
          ...(t.function.parameters ? { parameters: geminiSchema(t.function.parameters) as Record<string, unknown> } : {}),
        })),
      },
    ];
    const tc = toolConfig(body.tool_choice);
    if (tc) out.toolConfig = tc;
  }
  const g = generationConfig(body);
  if (g) out.generationConfig = g;
  return out;
}
