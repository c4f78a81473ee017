/**
 * Reading the local request log back: <dataDir>/logs/dt=YYYY-MM-DD/*.jsonl, the layout the file
 * sink writes (and the S3 layout on AWS). Records are de-duplicated on request_id, like the Athena
 * queries, and a torn last line (a crash mid-append) is skipped, not fatal.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RequestLogRecord } from '../../lambda/core/log-record';

export function logsDirFor(env: Record<string, string | undefined>, dataDir?: string): string {
  return join(resolve(dataDir ?? env.GATEWAY_DATA_DIR ?? '.gateway'), 'logs');
}

/** The JSONL files of the partitions from `sinceDay` (YYYY-MM-DD) on, oldest partition first. */
export function logFiles(logsDir: string, sinceDay?: string): string[] {
  if (!existsSync(logsDir)) return [];
  return readdirSync(logsDir)
    .filter((d) => /^dt=\d{4}-\d{2}-\d{2}$/.test(d) && (!sinceDay || d.slice(3) >= sinceDay))
    .sort()
    .flatMap((d) =>
      readdirSync(join(logsDir, d))
        .filter((f) => f.endsWith('.jsonl'))
        .sort()
        .map((f) => join(logsDir, d, f)),
    );
}

/** Parse JSONL text; lines that are not a record are skipped. */
export function parseRecords(text: string): RequestLogRecord[] {
  const out: RequestLogRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as RequestLogRecord;
      if (r && typeof r.request_id === 'string' && typeof r.ts === 'string') out.push(r);
    } catch {
      /* a torn line */
    }
  }
  return out;
}

/** Every record (one per request_id), in time order. */
export function readRecords(logsDir: string, sinceDay?: string): RequestLogRecord[] {
  const seen = new Set<string>();
  const out: RequestLogRecord[] = [];
  for (const file of logFiles(logsDir, sinceDay)) {
    for (const r of parseRecords(readFileSync(file, 'utf8'))) {
      if (seen.has(r.request_id)) continue;
      seen.add(r.request_id);
      out.push(r);
    }
  }
  return out.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
}
