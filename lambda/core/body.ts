/** Reading request bodies with a hard size limit, and parsing them as JSON objects. */
import { BufferedRequest } from './buffered-response';
import { errors, requestEndedBy } from './errors';

export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

export async function readBodyText(req: Request, maxBytes: number): Promise<string> {
  const declared = Number(req.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) throw errors.tooLarge(maxBytes);
  if (req instanceof BufferedRequest) {
    if (req.buffered.byteLength > maxBytes) throw errors.tooLarge(maxBytes);
    return req.text();
  }
  if (!req.body) return '';
  const reader = req.body.getReader();
  // The transport aborts the request's signal when the client goes away mid-body (499 in the log)
  // or its body deadline passed (the reason says which): not a gateway failure (500) and not a
  // partial body to parse; cancelling the reader also ends a read that would otherwise wait on a
  // dead socket.
  const onAbort = () => void reader.cancel().catch(() => undefined);
  req.signal.addEventListener('abort', onAbort, { once: true });
  // One growing buffer, not a list of chunks: a body sent a byte at a time arrives as millions of
  // one-byte chunks, and holding each as its own object would cost a hundred times the body.
  let body = new Uint8Array(Math.min(maxBytes, Number.isFinite(declared) && declared > 0 ? Math.floor(declared) : 16 * 1024));
  let size = 0;
  try {
    for (;;) {
      if (req.signal.aborted) throw requestEndedBy(req.signal);
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch {
        throw req.signal.aborted ? requestEndedBy(req.signal) : errors.badRequest('The request body could not be read to its end.', null, 'body_read_failed');
      }
      // Our own cancel on abort ends the read as if the body were complete: it was not.
      if (req.signal.aborted) throw requestEndedBy(req.signal);
      const { done, value } = chunk;
      if (done) break;
      if (size + value.byteLength > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw errors.tooLarge(maxBytes);
      }
      if (size + value.byteLength > body.byteLength) {
        const grown = new Uint8Array(Math.min(maxBytes, Math.max(body.byteLength * 2, size + value.byteLength)));
        grown.set(body.subarray(0, size));
        body = grown;
      }
      body.set(value, size);
      size += value.byteLength;
    }
  } finally {
    req.signal.removeEventListener('abort', onAbort);
  }
  return Buffer.from(body.buffer, body.byteOffset, size).toString('utf8');
}

export async function readJsonObject(req: Request, maxBytes: number): Promise<Record<string, unknown>> {
  const text = await readBodyText(req, maxBytes);
  if (!text.trim()) throw errors.badRequest('The request body is empty; send a JSON object.');
  return parseJsonObject(text);
}

/**
 * Deepest nesting a request body may have. Every step after parsing (validation, token estimation,
 * the upstream body, the log record) walks or serialises the body, and a recursive walk of a body
 * nested a million levels deep overflows the stack; real requests (tool schemas included) stay far
 * below this.
 */
export const MAX_JSON_DEPTH = 128;

/** Whether JSON text nests deeper than `max` arrays/objects; one pass, strings skipped. */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > max) return true;
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
  }
  return false;
}

/** `text` (not blank) parsed as a JSON object, or a 400 saying why it is not one. */
export function parseJsonObject(text: string): Record<string, unknown> {
  if (nestsDeeperThan(text, MAX_JSON_DEPTH))
    throw errors.badRequest(`The request body nests deeper than ${MAX_JSON_DEPTH} levels of arrays and objects.`, null, 'json_too_deep');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw errors.badRequest('The request body is not valid JSON.', null, 'invalid_json');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw errors.badRequest('The request body must be a JSON object.', null, 'invalid_json');
  return parsed as Record<string, unknown>;
}
