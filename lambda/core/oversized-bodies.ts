/**
 * Keeping a log record deliverable. A delivery channel has a per-record size limit (Firehose:
 * 1,000 KiB); a record whose bodies push it over moves the full bodies to a BodyStore and keeps
 * short previews plus a pointer (body_ref). When the store itself fails the record is still
 * delivered with truncated bodies: losing a body beats losing the record.
 */
import type { BodyStore, RequestLogRecord } from './log-record';
import type { Logger } from './ports';

/** Characters of each body kept inline when the full body moves out of the record. */
export const BODY_PREVIEW_CHARS = 4096;

export const TRUNCATION_MARKER = '…[truncated]';

export function recordBytes(record: RequestLogRecord): number {
  return Buffer.byteLength(JSON.stringify(record)) + 1;
}

export function truncateChars(body: string | null, maxChars: number, marker = TRUNCATION_MARKER): string | null {
  if (body === null || body.length <= maxChars) return body;
  return body.slice(0, maxChars) + marker;
}

function withPreviews(record: RequestLogRecord, marker: string, bodyRef: string | null): RequestLogRecord {
  return {
    ...record,
    request_body: truncateChars(record.request_body, BODY_PREVIEW_CHARS, marker),
    response_body: truncateChars(record.response_body, BODY_PREVIEW_CHARS, marker),
    body_ref: bodyRef,
  };
}

/** Returns a record of at most `maxBytes` serialised (JSON line) bytes, offloading bodies if needed. */
export async function fitRecord(record: RequestLogRecord, maxBytes: number, store: BodyStore | undefined, logger: Logger): Promise<RequestLogRecord> {
  if (recordBytes(record) <= maxBytes) return record;
  if (store) {
    try {
      const ref = await store.put(record, { request_body: record.request_body, response_body: record.response_body });
      return withPreviews(record, '…[truncated; full body at body_ref]', ref);
    } catch (err) {
      logger.error('storing an oversized log body failed; logging previews only', { error: String(err), requestId: record.request_id });
    }
  }
  return withPreviews(record, '…[truncated; body too large for the log record]', null);
}
