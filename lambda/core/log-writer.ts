/**
 * Writes request records to the log sink without ever failing or delaying the request: a sink that
 * throws or rejects is logged, and writes still in flight are tracked so `flush` (the Lambda adapter,
 * before the invocation ends) can wait for them.
 */
import type { LogSink, RequestLogRecord } from './log-record';
import type { Logger } from './ports';

export class LogWriter {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly sink: LogSink,
    private readonly logger: Logger,
  ) {}

  write(record: RequestLogRecord): void {
    try {
      const written = this.sink.write(record);
      // A sink that writes synchronously (the local file) leaves nothing to track.
      if (written) {
        const p = written.catch((err) => this.logger.error('log sink failed', { error: String(err), requestId: record.request_id }));
        this.pending.add(p);
        void p.finally(() => this.pending.delete(p));
      }
    } catch (err) {
      this.logger.error('log sink failed', { error: String(err), requestId: record.request_id });
    }
  }

  async flush(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    await this.sink.flush?.();
  }
}
