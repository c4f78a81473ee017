/**
 * The last resort of every log sink: when a record cannot be delivered (Firehose keeps rejecting
 * it, the disk is full), it is written as one marked JSON line to a process stream. On Lambda
 * stdout is the function's CloudWatch log, so nothing is lost: a Logs Insights query or a
 * subscription filter on the marker recovers the records.
 *   {"ai_gateway_log_fallback":1,"reason":"…","record":{…}}
 */
import type { RequestLogRecord } from '../core/log-record';
import { truncateChars } from '../core/oversized-bodies';

export const FALLBACK_MARKER = 'ai_gateway_log_fallback';

/** CloudWatch Logs caps one event at 256 KB: fallback lines keep their bodies well below this. */
const FALLBACK_MAX_BODY_CHARS = 64 * 1024;

export type LogFallback = (record: RequestLogRecord, reason: string) => void;

export function fallbackLine(record: RequestLogRecord, reason: string): string {
  const slim = {
    ...record,
    request_body: truncateChars(record.request_body, FALLBACK_MAX_BODY_CHARS),
    response_body: truncateChars(record.response_body, FALLBACK_MAX_BODY_CHARS),
  };
  return JSON.stringify({ [FALLBACK_MARKER]: 1, reason, record: slim }) + '\n';
}

/** Lambda: stdout is the function's CloudWatch log. */
export const stdoutFallback: LogFallback = (record, reason) => void process.stdout.write(fallbackLine(record, reason));

/** Local server: stderr, beside the server's own log lines. */
export const stderrFallback: LogFallback = (record, reason) => void process.stderr.write(fallbackLine(record, reason));
