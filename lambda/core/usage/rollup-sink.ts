/**
 * Feeds the usage rollups from the one record each request already produces: a LogSink that
 * writes the record on and adds it to its row's batch. Batches are written together, one write
 * per row: when the sink is flushed (Lambda flushes after every invocation, so one write per
 * request there) or every `flushIntervalMs` in a long-lived process (the local server), so a
 * busy key costs one write a second, not one per request. No request waits for a rollup write;
 * a failed one is logged and never touches the record's own delivery.
 */
import type { LogSink, RequestLogRecord } from '../log-record';
import type { Logger } from '../ports';
import { type RowBatch, type UsageRollups, addToBatch, incrementOf, newBatch, rowIdOf } from './rollups';

export interface RollupSinkOptions {
  /** How long requests gather before their rows are written (long-lived processes). @default 1000 */
  readonly flushIntervalMs?: number;
}

export class RollupLogSink implements LogSink {
  private batches = new Map<string, RowBatch>();
  private timer?: ReturnType<typeof setTimeout>;
  private readonly writing = new Set<Promise<void>>();
  private readonly intervalMs: number;

  constructor(
    private readonly inner: LogSink,
    private readonly rollups: UsageRollups,
    private readonly logger: Logger,
    options: RollupSinkOptions = {},
  ) {
    this.intervalMs = options.flushIntervalMs ?? 1000;
  }

  write(record: RequestLogRecord): void | Promise<void> {
    const inc = incrementOf(record);
    if (inc) {
      const id = rowIdOf(inc);
      let batch = this.batches.get(id);
      if (!batch) this.batches.set(id, (batch = newBatch(inc)));
      addToBatch(batch, inc);
      // Unref'd: a pending rollup never keeps a process alive; shutdown flushes it.
      this.timer ??= setTimeout(() => void this.writeBatches(), this.intervalMs).unref();
    }
    return this.inner.write(record);
  }

  private writeBatches(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batches = [...this.batches.values()];
    this.batches = new Map();
    const done = Promise.all(
      batches.map((b) =>
        this.rollups.add(b).catch((err) => this.logger.warn('usage rollup write failed', { error: String(err), keyId: b.keyId, requests: b.requests })),
      ),
    ).then(() => undefined);
    this.writing.add(done);
    void done.finally(() => this.writing.delete(done));
    return done;
  }

  /** Lambda calls this before the invocation ends: the rollups are written with the records. */
  async flush(): Promise<void> {
    await this.writeBatches();
    await Promise.allSettled([...this.writing]);
    await this.inner.flush?.();
  }

  async close(): Promise<void> {
    await this.writeBatches();
    await Promise.allSettled([...this.writing]);
    await this.inner.close?.();
  }
}
