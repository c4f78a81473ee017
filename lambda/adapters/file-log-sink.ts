/**
 * Local log sink: JSONL files under <dataDir>/logs/dt=YYYY-MM-DD/, the same partitioning as S3.
 * Files and folders are private to the user (bodies may hold personal data). A record that cannot
 * be appended (disk full, permissions) goes to the fallback, marked, rather than being lost.
 */
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogSink, RequestLogRecord } from '../core/log-record';
import { type LogFallback, stderrFallback } from './log-fallback';

/**
 * An open file is reused for this long, then closed and opened again: one open/write/close per
 * batch cost more than the batch's own write under load, and reopening now and then means a log
 * file deleted or moved while the gateway runs is recreated within a second instead of swallowing
 * records into an unlinked inode.
 */
const HANDLE_REUSE_MS = 1000;

interface OpenFile {
  readonly path: string;
  readonly handle: FileHandle;
  readonly openedAt: number;
}

interface PendingLine {
  readonly dir: string;
  readonly line: string;
  readonly record: RequestLogRecord;
}

/** Lines waiting for one append, and the promise their writers hold. */
interface Batch {
  readonly lines: PendingLine[];
  readonly written: Promise<void>;
}

export class FileLogSink implements LogSink {
  /**
   * Lines are appended in batches: everything that arrives while an append is in flight goes out
   * in the next one. One append per line (open, write, close) falls behind at a few hundred
   * requests a second, and the backlog then grows without bound in memory. Batches run one after
   * another, so lines never interleave and keep their order.
   */
  private open: (Batch & { start(): void }) | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly madeDirs = new Set<string>();
  /** At most one open file: records arrive in time order, so a new day's file retires the last. */
  private file: OpenFile | undefined;

  constructor(
    private readonly logsDir: string,
    private readonly onError: (err: unknown) => void = () => undefined,
    private readonly fallback: LogFallback = stderrFallback,
    private readonly now: () => number = Date.now,
  ) {}

  write(record: RequestLogRecord): Promise<void> {
    const dt = record.ts.slice(0, 10);
    const entry = { dir: join(this.logsDir, `dt=${dt}`), line: JSON.stringify(record) + '\n', record };
    if (!this.open) {
      const lines: PendingLine[] = [];
      let start!: () => void;
      const started = new Promise<void>((resolve) => (start = resolve));
      const written = started.then(() => this.append(lines));
      const batch = { lines, written, start };
      this.open = batch;
      // The batch closes when the previous append has finished; until then it keeps filling.
      this.chain = this.chain.then(() => {
        if (this.open === batch) this.open = undefined;
        batch.start();
        return written;
      });
    }
    this.open.lines.push(entry);
    return this.open.written;
  }

  private async append(lines: readonly PendingLine[]): Promise<void> {
    const byDir = new Map<string, PendingLine[]>();
    for (const l of lines) {
      const group = byDir.get(l.dir);
      if (group) group.push(l);
      else byDir.set(l.dir, [l]);
    }
    for (const [dir, group] of byDir) {
      try {
        if (!this.madeDirs.has(dir)) {
          await mkdir(dir, { recursive: true, mode: 0o700 });
          this.madeDirs.add(dir);
        }
        await this.appendTo(join(dir, `requests-${process.pid}.jsonl`), group.map((l) => l.line).join(''));
      } catch (err) {
        this.onError(err);
        for (const l of group) {
          try {
            this.fallback(l.record, `writing the log file failed: ${String(err)}`);
          } catch {
            /* nowhere left to write */
          }
        }
      }
    }
  }

  /** Append through the open file, opening (or reopening) it when needed. Runs inside the batch chain only. */
  private async appendTo(path: string, data: string): Promise<void> {
    const at = this.now();
    if (this.file && (this.file.path !== path || at - this.file.openedAt >= HANDLE_REUSE_MS)) await this.closeFile();
    if (!this.file) this.file = { path, handle: await open(path, 'a', 0o600), openedAt: at };
    try {
      await this.file.handle.write(data);
    } catch (err) {
      // A handle that failed once is not trusted again: the next batch opens the file afresh.
      await this.closeFile();
      throw err;
    }
  }

  private async closeFile(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    await file?.handle.close().catch((err: unknown) => this.onError(err));
  }

  flush(): Promise<void> {
    return this.chain;
  }

  /** Write what is pending and close the file (server shutdown). */
  close(): Promise<void> {
    this.chain = this.chain.then(() => this.closeFile());
    return this.chain;
  }
}
