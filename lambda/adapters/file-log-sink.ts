/**
 * Local log sink: JSONL files under <dataDir>/logs/dt=YYYY-MM-DD/, the same partitioning as S3.
 * Files and folders are private to the user (bodies may hold personal data). A record that cannot
 * be appended (disk full, permissions) goes to the fallback, marked, rather than being lost.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { LogSink, RequestLogRecord } from '../core/log-record';
import { type LogFallback, stderrFallback } from './log-fallback';

/**
 * An open file is reused for this long, then closed and opened again: opening per record cost more
 * than the write itself under load, and reopening now and then means a log file deleted or moved
 * while the gateway runs is recreated within a second instead of swallowing records into an
 * unlinked inode.
 */
const HANDLE_REUSE_MS = 1000;

interface Partition {
  readonly dir: string;
  readonly path: string;
}

interface OpenFile {
  readonly path: string;
  readonly fd: number;
  readonly openedAt: number;
}

/**
 * The records of one event-loop turn are appended with one synchronous write() of their JSON lines,
 * at the end of that turn (setImmediate). Lines are a few KB into the page cache, which takes
 * microseconds; the write() call itself was the cost (about 4% of the gateway's CPU at 16
 * connections, one per record), so under load a turn's records share one. The asynchronous
 * alternative (a FileHandle write per batch through libuv's thread pool) cost more CPU per request
 * than that, woke a pool thread per batch on a machine whose cores the requests need, and kept each
 * batch's records and promises alive across young-generation GCs. Synchronous writes also keep
 * lines whole and in order with no queue to bound: at most one turn's records wait, and `flush()`
 * and `close()` write them at once. (A crash loses at most that turn's records.)
 */
export class FileLogSink implements LogSink {
  private readonly madeDirs = new Set<string>();
  /** Partition folder and file per day, so a record does not build its path anew. */
  private readonly partitions = new Map<string, Partition>();
  /** At most one open file: records arrive in time order, so a new day's file retires the last. */
  private file: OpenFile | undefined;

  constructor(
    private readonly logsDir: string,
    private readonly onError: (err: unknown) => void = () => undefined,
    private readonly fallback: LogFallback = stderrFallback,
    private readonly now: () => number = Date.now,
  ) {}

  /** This turn's records and their lines, written together when the turn ends. */
  private pending: Array<{ readonly record: RequestLogRecord; readonly line: string }> = [];
  private scheduled: NodeJS.Immediate | undefined;

  write(record: RequestLogRecord): void {
    this.pending.push({ record, line: JSON.stringify(record) + '\n' });
    this.scheduled ??= setImmediate(() => this.drain());
  }

  /** Write the waiting records: one write() per day's file they fall in (one, but at midnight). */
  private drain(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const batch = this.pending;
    this.pending = [];
    for (let start = 0; start < batch.length; ) {
      const day = batch[start].record.ts.slice(0, 10);
      let end = start + 1;
      while (end < batch.length && batch[end].record.ts.slice(0, 10) === day) end++;
      const part = batch.slice(start, end);
      try {
        this.append(this.partition(day), Buffer.from(part.map((p) => p.line).join('')));
      } catch (err) {
        this.onError(err);
        for (const { record } of part)
          try {
            this.fallback(record, `writing the log file failed: ${String(err)}`);
          } catch {
            /* nowhere left to write */
          }
      }
      start = end;
    }
  }

  private partition(day: string): Partition {
    let partition = this.partitions.get(day);
    if (partition === undefined) {
      if (this.partitions.size > 7) this.partitions.clear(); // a long-running gateway sees a new day daily
      const dir = join(this.logsDir, `dt=${day}`);
      partition = { dir, path: join(dir, `requests-${process.pid}.jsonl`) };
      this.partitions.set(day, partition);
    }
    return partition;
  }

  /** Append through the open file, opening (or reopening) it when needed. */
  private append({ dir, path }: Partition, line: Buffer): void {
    const at = this.now();
    if (this.file && (this.file.path !== path || at - this.file.openedAt >= HANDLE_REUSE_MS)) this.closeFile();
    if (!this.file) {
      if (!this.madeDirs.has(dir)) {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        this.madeDirs.add(dir);
      }
      this.file = { path, fd: openSync(path, 'a', 0o600), openedAt: at };
    }
    try {
      // write() on a regular file may still write less than asked (a full disk part-way).
      for (let off = 0; off < line.length; ) {
        const written = writeSync(this.file.fd, line, off);
        if (written <= 0) throw new Error('the log file accepted no more bytes');
        off += written;
      }
    } catch (err) {
      // A descriptor that failed once is not trusted again: the next record opens the file afresh.
      this.closeFile();
      throw err;
    }
  }

  private closeFile(): void {
    const file = this.file;
    this.file = undefined;
    if (!file) return;
    try {
      closeSync(file.fd);
    } catch (err) {
      this.onError(err);
    }
  }

  /** Every record written so far is on disk (in the page cache) when this returns. */
  async flush(): Promise<void> {
    this.drain();
  }

  /** Write what waits, then close the file (server shutdown). */
  async close(): Promise<void> {
    this.drain();
    this.closeFile();
  }
}
