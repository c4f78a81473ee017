/**
 * Every field of a log record has a size limit, so no request can make a record that a delivery
 * channel refuses (Firehose: 1,000 KiB a record). Bodies are bounded separately (and moved to a
 * body store when they do not fit: oversized-bodies.ts); every other string field is cut here to
 * the size below, with a marker saying it was cut. README "Audit log" lists these sizes.
 */
import type { RequestLogRecord } from './log-record';
import { TRUNCATION_MARKER, truncateChars } from './oversized-bodies';

/** Characters kept of each non-body string field (before the truncation marker). */
export const RECORD_FIELD_MAX_CHARS: Readonly<Partial<Record<keyof RequestLogRecord, number>>> = {
  request_id: 128,
  key_id: 128,
  key_name: 512,
  team: 512,
  endpoint: 512,
  requested_model: 512,
  provider: 512,
  model: 512,
  error_code: 128,
  client_ip: 128,
  user_agent: 1024,
  // Identify refuses longer end-user ids; the bound is a second line of defence.
  user_id: 512,
  attempts: 64 * 1024,
  guard: 64 * 1024,
  body_ref: 2048,
};

/** `record` with every bounded field cut to its size (the same object when nothing was too long). */
export function boundRecordFields(record: RequestLogRecord): RequestLogRecord {
  let out: RequestLogRecord | undefined;
  for (const [field, max] of Object.entries(RECORD_FIELD_MAX_CHARS) as [keyof RequestLogRecord, number][]) {
    const value = record[field];
    if (typeof value !== 'string' || value.length <= max) continue;
    out ??= { ...record };
    (out as unknown as Record<string, unknown>)[field] = truncateChars(value, max, TRUNCATION_MARKER);
  }
  return out ?? record;
}
