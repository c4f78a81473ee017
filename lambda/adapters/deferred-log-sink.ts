/**
 * A LogSink that loads the real sink only when it is first flushed. On Lambda the real sink is
 * Firehose (plus S3 for oversized bodies): loading those SDK clients costs tens of milliseconds,
 * and flush runs after the client has its last byte, so deferring keeps that cost off the first
 * request's critical path. Records written before the load are handed over in order.
 */
import type { LogSink, RequestLogRecord } from '../core/log-record';
import { type Logger, silentLogger } from '../core/ports';

/** Records kept while the real sink cannot be loaded, so a broken deployment cannot exhaust memory. */
const MAX_PENDING = 10_000;

export class DeferredLogSink implements LogSink {
  private pending: RequestLogRecord[] = [];
  private sink?: LogSink;
  private loading?: Promise<LogSink>;

  constructor(
    private readonly load: () => Promise<LogSink>,
    private readonly logger: Logger = silentLogger,
  ) {}

  write(record: RequestLogRecord): void | Promise<void> {
    if (this.sink) return this.sink.write(record);
    if (this.pending.length >= MAX_PENDING) {
      const dropped = this.pending.shift();
      this.logger.error('log sink not loaded; dropping the oldest pending record', { requestId: dropped?.request_id });
    }
    this.pending.push(record);
  }

  async flush(): Promise<void> {
    if (!this.sink) {
      try {
        this.loading ??= this.load();
        this.sink = await this.loading;
      } catch (err) {
        // Keep the records for the next flush; a later invocation may load it.
        this.loading = undefined;
        this.logger.error('loading the log sink failed', { error: String(err), pending: this.pending.length });
        return;
      }
      const records = this.pending;
      this.pending = [];
      for (const record of records) await this.sink.write(record);
    }
    await this.sink.flush?.();
  }
}
