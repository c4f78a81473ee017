/**
 * How the cache reads and replays one endpoint's answers. A stored answer is what a JSON client of
 * that endpoint receives; a streamed answer is assembled into that form from the very events the
 * client was sent, and a hit is replayed as that endpoint's stream (several events, the original
 * usage) or JSON, whichever the client asked for. An assembler that meets an event it cannot replay
 * faithfully gives up: that answer is not stored, rather than stored wrong.
 */
import type { EventSourceMessage } from 'eventsource-parser';

/** Assembles a streamed answer from the client's SSE events. */
export interface StreamAssembler {
  /** Feed one event, in order. */
  event(e: EventSourceMessage): void;
  /** The assembled answer if the stream ended complete and successful (its end marker seen, no error), else undefined. */
  result(): unknown | undefined;
}

export interface ReplayOptions {
  /** Chat completions: the client's `stream_options.include_usage`. */
  readonly includeUsage?: boolean;
}

export interface Usage {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

export interface CacheCodec {
  /** Whether this endpoint's answers can be streamed at all (embeddings cannot). */
  readonly streams: boolean;
  assembler(): StreamAssembler;
  /** The answer as a stream: the bytes of each SSE event, end marker included. */
  replay(body: unknown, options: ReplayOptions): Uint8Array[];
  /** The usage the answer reports, if any. */
  usage(body: unknown): Usage | undefined;
  /** The answer with `usage` filled in (a stream whose client did not ask for usage carried none). */
  withUsage(body: unknown, usage: Usage): unknown;
  /** The answer calls tools: such answers are served exactly only, never to a paraphrase. */
  callsTools(body: unknown): boolean;
}

/**
 * Text in stream-sized pieces: a few words each, whitespace kept, so joining the pieces gives the
 * text back exactly. Linear in the text.
 */
export function pieces(text: string, maxChars = 24): string[] {
  const out: string[] = [];
  let current = '';
  for (const word of text.match(/\s*\S+\s*|\s+/g) ?? []) {
    if (current && current.length + word.length > maxChars) {
      out.push(current);
      current = '';
    }
    current += word;
  }
  if (current) out.push(current);
  return out;
}

export { isObject } from '../../is-object';

/** JSON of an SSE event's data, or undefined when it is not JSON. */
export function parseData(e: EventSourceMessage): unknown {
  try {
    return JSON.parse(e.data);
  } catch {
    return undefined;
  }
}
