/** Server-sent events: reading an upstream stream into events, and encoding events for the client. */
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/**
 * Yields SSE events as they arrive. Ends when the body ends; a body that errors
 * (reset, abort) throws from the iterator so callers can tell a cut stream from a complete one.
 */
export async function* readSseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<EventSourceMessage> {
  const queue: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => queue.push(e) });
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
      while (queue.length) yield queue.shift()!;
    }
    parser.feed(decoder.decode());
    parser.reset({ consume: true });
    while (queue.length) yield queue.shift()!;
  } finally {
    reader.releaseLock();
    // Stop the upstream if the consumer leaves early (client gone, router gave up).
    body.cancel().catch(() => undefined);
  }
}

const encoder = new TextEncoder();

export function encodeSseData(data: unknown): Uint8Array {
  return encoder.encode(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
}

export function encodeSseEvent(event: string, data: unknown): Uint8Array {
  return encoder.encode(`event: ${event}\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
}
