/** Canonical chunk streams: waiting for the first content event, and counting what was delivered. */
import type { ChatCompletionChunk } from '../apischema/openai';

/** A chunk that carries something the client will see as progress (not just the role header). */
export function hasContent(chunk: ChatCompletionChunk): boolean {
  if (chunk.usage && chunk.choices.length === 0) return true;
  for (const c of chunk.choices) {
    const d = c.delta ?? {};
    if (c.finish_reason || (typeof d.content === 'string' && d.content.length > 0) || d.tool_calls?.length || d.refusal) return true;
  }
  return false;
}

export interface PeekedStream {
  /** Chunks read so far, up to and including the first content chunk. */
  readonly buffered: ChatCompletionChunk[];
  readonly rest: AsyncIterator<ChatCompletionChunk>;
  /** The upstream ended before any content (still a valid, empty answer if it ended cleanly). */
  readonly ended: boolean;
}

/**
 * Read until the first content event. Providers send 200 and then an in-band error
 * (`overloaded_error`); everything up to here can still fall back to another target.
 */
export async function peekFirstContent(chunks: AsyncIterable<ChatCompletionChunk>): Promise<PeekedStream> {
  const it = chunks[Symbol.asyncIterator]();
  const buffered: ChatCompletionChunk[] = [];
  for (;;) {
    const { done, value } = await it.next();
    if (done) return { buffered, rest: it, ended: true };
    buffered.push(value);
    if (hasContent(value)) return { buffered, rest: it, ended: false };
  }
}
