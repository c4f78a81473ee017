/**
 * Test helpers for the audit log: a FileLogSink that lets a test await one request's record
 * (records are written after the response's last byte, so the client can be done first), and
 * readers for what the sink put on disk.
 */
import { readFileSync } from 'node:fs';
import { logFiles, parseRecords } from '../../../bin/cli/log-reader';
import { FileLogSink } from '../../../lambda/adapters/file-log-sink';
import type { LogSink, RequestLogRecord } from '../../../lambda/core/log-record';

export class AwaitableFileSink implements LogSink {
  private readonly inner: FileLogSink;
  private readonly written: RequestLogRecord[] = [];
  /** Write failures (a test that expects none asserts this stays empty). */
  readonly errors: unknown[] = [];
  private waiters: { match: (r: RequestLogRecord) => boolean; resolve: (r: RequestLogRecord) => void }[] = [];

  constructor(readonly logsDir: string) {
    this.inner = new FileLogSink(logsDir, (err) => this.errors.push(err));
  }

  async write(record: RequestLogRecord): Promise<void> {
    await this.inner.write(record);
    this.written.push(record);
    const ready = this.waiters.filter((w) => w.match(record));
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve(record);
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** The first record (already written or still to come) matching `match`, once it is on disk. */
  async waitFor(match: (r: RequestLogRecord) => boolean): Promise<RequestLogRecord> {
    const record = this.written.find(match) ?? (await new Promise<RequestLogRecord>((resolve) => this.waiters.push({ match, resolve })));
    await this.inner.flush(); // the sink writes a turn's records when the turn ends
    return this.readBack(record.request_id);
  }

  /** The record of `requestId`, as read back from the files. */
  recordFor(requestId: string): Promise<RequestLogRecord> {
    return this.waitFor((r) => r.request_id === requestId);
  }

  /** Every record written so far, in write order. */
  all(): RequestLogRecord[] {
    return [...this.written];
  }

  private readBack(requestId: string): RequestLogRecord {
    const found = readLogRecords(this.logsDir).filter((r) => r.request_id === requestId);
    if (found.length !== 1) throw new Error(`expected one record for ${requestId} on disk, found ${found.length}`);
    return found[0];
  }
}

/** Every record in <logsDir>/dt=*\/*.jsonl, duplicates included (tests count them). */
export function readLogRecords(logsDir: string): RequestLogRecord[] {
  return logFiles(logsDir).flatMap((f) => parseRecords(readFileSync(f, 'utf8')));
}
