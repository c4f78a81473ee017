/** Validating client request bodies: enough to give a clear 400 naming the bad field before any upstream call. */
import { errors } from './errors';
import { checkFilePart } from './file-parts';
import type { ChatRequest, EmbeddingsRequest } from '../apischema/openai';

/**
 * Body fields other gateways and SDKs read to pick an upstream or a credential (LiteLLM, Portkey,
 * SDK option names). This gateway takes both from config only, so no provider ever sees them:
 * they are dropped before a request is handed on, whatever the endpoint and the provider.
 */
export const STEERING_FIELDS: readonly string[] = [
  'api_base',
  'base_url',
  'baseURL',
  'api_key',
  'apiKey',
  'api_version',
  'custom_llm_provider',
  'custom_host',
  'extra_headers',
];

/** A copy of `body` without the steering fields (the same object when it has none). */
export function withoutSteeringFields<T extends Record<string, unknown>>(body: T): T {
  if (!STEERING_FIELDS.some((f) => f in body)) return body;
  const out: Record<string, unknown> = { ...body };
  for (const f of STEERING_FIELDS) delete out[f];
  return out as T;
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

function optionalNumber(body: Record<string, unknown>, field: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  const v = body[field];
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
    throw errors.badRequest(`'${field}' must be a number between ${min} and ${max}.`, field);
}

/** Longest model name accepted: provider ids are far shorter; the name travels in headers and every log record. */
export const MAX_MODEL_NAME_CHARS = 256;

/** Anything but printable Latin-1: control characters cannot go in a header value, nor can characters above U+00FF. */
const NOT_PRINTABLE_LATIN1 = /[^\x20-\x7e\xa0-\xff]/;

/**
 * A model name as the client sent it, checked before any work: it becomes a response header, a
 * log field and (for `provider/model`) part of an upstream request, so it must be short printable
 * Latin-1. One pass over at most MAX_MODEL_NAME_CHARS characters.
 */
export function validateModelName(model: unknown, param = 'model'): string {
  if (typeof model !== 'string' || !model.trim()) throw errors.badRequest(`'${param}' is required and must be a string.`, param);
  if (model.length > MAX_MODEL_NAME_CHARS) throw errors.badRequest(`'${param}' must be at most ${MAX_MODEL_NAME_CHARS} characters.`, param);
  if (NOT_PRINTABLE_LATIN1.test(model))
    throw errors.badRequest(`'${param}' may only contain printable characters (no control characters, nothing beyond Latin-1).`, param);
  return model;
}

export function validateModelField(body: Record<string, unknown>): string {
  return validateModelName(body.model);
}

const TOOL_CHOICE_MODES = new Set(['none', 'auto', 'required']);

/** 'none' | 'auto' | 'required', or an object naming its type (a 'function' choice names the function). */
function validateToolChoice(v: unknown): void {
  if (v === undefined || v === null) return;
  const msg = "'tool_choice' must be 'none', 'auto', 'required' or { type: 'function', function: { name } }.";
  if (typeof v === 'string') {
    if (!TOOL_CHOICE_MODES.has(v)) throw errors.badRequest(msg, 'tool_choice');
    return;
  }
  if (typeof v !== 'object' || Array.isArray(v) || typeof (v as { type?: unknown }).type !== 'string') throw errors.badRequest(msg, 'tool_choice');
  const c = v as { type: string; function?: { name?: unknown } };
  if (c.type === 'function' && (typeof c.function !== 'object' || c.function === null || typeof c.function.name !== 'string'))
    throw errors.badRequest(msg, 'tool_choice');
}

export function validateChatRequest(body: Record<string, unknown>): ChatRequest {
  validateModelField(body);
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw errors.badRequest("'messages' must be a non-empty array.", 'messages');
  body.messages.forEach((m: unknown, i: number) => {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) throw errors.badRequest(`'messages[${i}]' must be an object.`, `messages[${i}]`);
    const msg = m as Record<string, unknown>;
    if (typeof msg.role !== 'string' || !ROLES.has(msg.role))
      throw errors.badRequest(`'messages[${i}].role' must be one of ${[...ROLES].join(', ')}.`, `messages[${i}].role`);
    const c = msg.content;
    if (c !== undefined && c !== null && typeof c !== 'string' && !Array.isArray(c))
      throw errors.badRequest(`'messages[${i}].content' must be a string or an array of content parts.`, `messages[${i}].content`);
    if (Array.isArray(c))
      c.forEach((part: unknown, j: number) => {
        if (typeof part !== 'object' || part === null || typeof (part as { type?: unknown }).type !== 'string')
          throw errors.badRequest(`'messages[${i}].content[${j}]' must be an object with a 'type'.`, `messages[${i}].content[${j}]`);
        if ((part as { type: string }).type === 'file') checkFilePart(part as Record<string, unknown>, `messages[${i}].content[${j}]`);
      });
  });
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw errors.badRequest("'stream' must be a boolean.", 'stream');
  optionalNumber(body, 'max_tokens', 1);
  optionalNumber(body, 'max_completion_tokens', 1);
  optionalNumber(body, 'temperature', 0, 2);
  optionalNumber(body, 'top_p', 0, 1);
  optionalNumber(body, 'n', 1, 128);
  if (body.tools !== undefined && body.tools !== null) {
    if (!Array.isArray(body.tools)) throw errors.badRequest("'tools' must be an array.", 'tools');
    body.tools.forEach((t: unknown, i: number) => {
      const fn = (t as { function?: { name?: unknown } })?.function;
      if (typeof t !== 'object' || t === null || typeof fn?.name !== 'string')
        throw errors.badRequest(`'tools[${i}]' must be { type: 'function', function: { name, parameters } }.`, `tools[${i}]`);
    });
  }
  validateToolChoice(body.tool_choice);
  if (body.stream_options !== undefined && body.stream_options !== null && (typeof body.stream_options !== 'object' || Array.isArray(body.stream_options)))
    throw errors.badRequest("'stream_options' must be an object.", 'stream_options');
  return withoutSteeringFields(body) as unknown as ChatRequest;
}

export function validateEmbeddingsRequest(body: Record<string, unknown>): EmbeddingsRequest {
  validateModelField(body);
  const input = body.input;
  const ok =
    typeof input === 'string' ||
    (Array.isArray(input) &&
      input.length > 0 &&
      input.every((x) => typeof x === 'string' || typeof x === 'number' || (Array.isArray(x) && x.every((n) => typeof n === 'number'))));
  if (!ok) throw errors.badRequest("'input' must be a string or a non-empty array of strings or token arrays.", 'input');
  optionalNumber(body, 'dimensions', 1, 65536);
  return withoutSteeringFields(body) as unknown as EmbeddingsRequest;
}
