/** Local log sink: JSONL files under <dataDir>/logs/dt=YYYY-MM-DD/, the same partitioning as S3. */
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogSink, RequestLogRecord } from '../core/log-record';

export class FileLogSink implements LogSink {
  private chain: Promise<void> = Promise.resolve();
  private readonly madeDirs = new Set<string>();

  constructor(private readonly logsDir: string, private readonly onError: (err: unknown) => void = () => undefined) {}

  write(record: RequestLogRecord): Promise<void> {
    const dt = record.ts.slice(0, 10);
    const dir = join(this.logsDir, `dt=${dt}`);
    const line = JSON.stringify(record) + '\n';
    // Appends are chained so lines never interleave and a flush waits for all of them.
    this.chain = this.chain
      .then(async () => {
        if (!this.madeDirs.has(dir)) {
          await mkdir(dir, { recursive: true });
          this.madeDirs.add(dir);
        }
        await appendFile(join(dir, `requests-${process.pid}.jsonl`), line, { mode: 0o600 });
      })
      .catch(this.onError);
    return this.chain;
  }

  flush(): Promise<void> {
    return this.chain;
  }
}
