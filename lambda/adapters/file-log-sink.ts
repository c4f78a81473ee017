/**
 * Local log sink: JSONL files under <dataDir>/logs/dt=YYYY-MM-DD/, the same partitioning as S3.
 * Files and folders are private to the user (bodies may hold personal data). A record that cannot
 * be appended (disk full, permissions) goes to the fallback, marked, rather than being lost.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogSink, RequestLogRecord } from '../core/log-record';
import { type LogFallback, stderrFallback } from './log-fallback';

export class FileLogSink implements LogSink {
  private chain: Promise<void> = Promise.resolve();
  private readonly madeDirs = new Set<string>();

  constructor(
    private readonly logsDir: string,
    private readonly onError: (err: unknown) => void = () => undefined,
    private readonly fallback: LogFallback = stderrFallback,
  ) {}

  write(record: RequestLogRecord): Promise<void> {
    const dt = record.ts.slice(0, 10);
    const dir = join(this.logsDir, `dt=${dt}`);
    const line = JSON.stringify(record) + '\n';
    // Appends are chained so lines never interleave and a flush waits for all of them.
    this.chain = this.chain
      .then(async () => {
        if (!this.madeDirs.has(dir)) {
          await mkdir(dir, { recursive: true, mode: 0o700 });
          this.madeDirs.add(dir);
        }
        await appendFile(join(dir, `requests-${process.pid}.jsonl`), line, { mode: 0o600 });
      })
      .catch((err) => {
        this.onError(err);
        try {
          this.fallback(record, `writing the log file failed: ${String(err)}`);
        } catch {
          /* nowhere left to write */
        }
      });
    return this.chain;
  }

  flush(): Promise<void> {
    return this.chain;
  }
}
