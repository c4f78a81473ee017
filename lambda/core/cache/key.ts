/**
 * Cache keys (ARCHITECTURE §13). The exact key hashes everything in the request that shapes the
 * answer: the endpoint, the route (its name and what it is configured to call), the whole body
 * except the fields that do not (`stream`, `stream_options`, `user`, `metadata`), and the headers
 * that change an answer (`anthropic-beta`). It is a deny-list on purpose: a field the gateway does
 * not know yet is part of the key, so a new parameter can cost a hit but never serve a wrong answer.
 *
 * The scope (one key, one team, the whole gateway) is hashed into every key, so an entry made in
 * one scope cannot be found from another: isolation does not depend on a filter being applied.
 *
 * The semantic partition is the same hash with the last user message's text left out: entries are
 * compared by meaning only with those whose everything-else is identical.
 */
import { createHash } from 'node:crypto';
import type { CacheScope } from './config';

/** Fields that change how an answer is delivered, or who asked, but not what it says. */
const NOT_SHAPING = new Set(['stream', 'stream_options', 'user', 'metadata']);

/** Request headers that change an answer. */
export const SHAPING_HEADERS = ['anthropic-beta'] as const;

/** Bumped when the key layout or the stored entry format changes: old entries then simply miss. */
const KEY_VERSION = 'v1';

/** The caller the scope is derived from. */
export interface ScopeOwner {
  readonly id: string;
  readonly team?: string | null;
}

/** The scope an entry lives in. A key without a team is its own team. */
export function scopeId(scope: CacheScope, owner: ScopeOwner): string {
  if (scope === 'gateway') return 'gateway';
  if (scope === 'team' && owner.team) return `team:${owner.team}`;
  return `key:${owner.id}`;
}

/**
 * JSON with object keys sorted, so two bodies that differ only in key order hash alike. Linear in
 * the size of the value; array order is kept (it is meaningful).
 */
export function stableJson(value: unknown): string {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (v === null || typeof v !== 'object') {
      out.push(v === undefined ? 'null' : JSON.stringify(v));
      return;
    }
    if (Array.isArray(v)) {
      out.push('[');
      v.forEach((x, i) => {
        if (i) out.push(',');
        walk(x);
      });
      out.push(']');
      return;
    }
    out.push('{');
    let first = true;
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x === undefined) continue;
      if (!first) out.push(',');
      first = false;
      out.push(JSON.stringify(k), ':');
      walk(x);
    }
    out.push('}');
  };
  walk(value);
  return out.join('');
}

export interface CacheKeyInput {
  /** The endpoint path, e.g. `/v1/chat/completions`. */
  readonly endpoint: string;
  /** The client's request body as sent (parsed JSON). */
  readonly body: Readonly<Record<string, unknown>>;
  /** What the route is configured to call (its targets), so changing a route's targets retires its entries. */
  readonly routeFingerprint: string;
  /** From `scopeId`. */
  readonly scope: string;
  /** The request headers (only SHAPING_HEADERS are read). */
  readonly headers?: Headers;
}

function shapingBody(body: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (!NOT_SHAPING.has(k)) out[k] = v;
  return out;
}

function shapingHeaders(headers: Headers | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of SHAPING_HEADERS) {
    const v = headers?.get(h);
    if (v) out[h] = v;
  }
  return out;
}

function digest(parts: readonly string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\n');
  return h.digest('hex');
}

/** The exact cache key: a hex SHA-256. */
export function exactCacheKey(input: CacheKeyInput): string {
  return digest([
    KEY_VERSION,
    'exact',
    input.scope,
    input.endpoint,
    input.routeFingerprint,
    stableJson(shapingHeaders(input.headers)),
    stableJson(shapingBody(input.body)),
  ]);
}

/** What a semantic lookup compares: the text to embed, within the partition of identical everything-else. */
export interface SemanticParts {
  readonly text: string;
  readonly partition: string;
}

/** Stands in for the last user message's text in the partition hash. */
const TEXT_SLOT = { $cache: 'last-user-text' };

type Message = Record<string, unknown>;

/** The text of a message's content when it is only text (a string, or text parts); undefined otherwise. */
function textOnly(content: unknown, textTypes: readonly string[]): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content) || content.length === 0) return undefined;
  const texts: string[] = [];
  for (const part of content) {
    if (typeof part !== 'object' || part === null) return undefined;
    const p = part as Record<string, unknown>;
    if (!textTypes.includes(p.type as string) || typeof p.text !== 'string') return undefined;
    // A part carrying anything beyond its text (cache_control, citations) is looked up exactly.
    if (Object.keys(p).some((k) => k !== 'type' && k !== 'text')) return undefined;
    texts.push(p.text);
  }
  return texts.join('\n');
}

/** The conversation and the text types of the endpoint's wire format; undefined for endpoints looked up exactly only. */
function conversationOf(endpoint: string, body: Readonly<Record<string, unknown>>): { messages: unknown[]; field: string; textTypes: string[] } | undefined {
  if (endpoint === '/v1/chat/completions' || endpoint === '/v1/messages') {
    return Array.isArray(body.messages) ? { messages: body.messages, field: 'messages', textTypes: ['text'] } : undefined;
  }
  if (endpoint === '/v1/responses') {
    if (typeof body.input === 'string') return { messages: [{ role: 'user', content: body.input }], field: 'input', textTypes: [] };
    return Array.isArray(body.input) ? { messages: body.input, field: 'input', textTypes: ['input_text'] } : undefined;
  }
  return undefined;
}

/**
 * The semantic lookup's text and partition, or undefined when the request is looked up exactly only:
 * an endpoint without a conversation (embeddings), a conversation longer than `maxMessages`, a last
 * message that is not a user's text (images, tool results), or an empty text.
 */
export function semanticParts(input: CacheKeyInput, maxMessages: number): SemanticParts | undefined {
  const conv = conversationOf(input.endpoint, input.body);
  if (!conv || conv.messages.length === 0 || conv.messages.length > maxMessages) return undefined;
  const last = conv.messages[conv.messages.length - 1] as Message;
  if (typeof last !== 'object' || last === null || last.role !== 'user') return undefined;
  if (last.type !== undefined && last.type !== 'message') return undefined;
  const text = textOnly(last.content, conv.textTypes);
  if (!text?.trim()) return undefined;
  const body = shapingBody(input.body);
  if (input.endpoint === '/v1/responses' && typeof input.body.input === 'string') body.input = TEXT_SLOT;
  else body[conv.field] = [...conv.messages.slice(0, -1), { ...last, content: TEXT_SLOT }];
  const partition = digest([
    KEY_VERSION,
    'semantic',
    input.scope,
    input.endpoint,
    input.routeFingerprint,
    stableJson(shapingHeaders(input.headers)),
    stableJson(body),
  ]);
  return { text, partition };
}

/** A short stable fingerprint of a route's configuration. */
export function routeFingerprint(route: unknown): string {
  return digest([stableJson(route)]).slice(0, 16);
}
