/**
 * The AWS log sink: buffers records and delivers them with Firehose PutRecordBatch.
 *
 * Guarantees (ARCHITECTURE §9, README "Audit log"):
 * - write() never throws and never waits on the network: the client's response is never delayed.
 * - flush() sends everything buffered (the Lambda entry calls it after the stream ends), in
 *   batches within Firehose's limits (500 records, 4 MiB per call, 1,000 KiB per record).
 * - Only the records Firehose rejects (FailedPutCount / per-record ErrorCode) are re-sent, with
 *   exponential backoff and jitter; a whole call that fails is retried the same way.
 * - Records still undelivered after the last attempt go to the fallback (default: one marked JSON
 *   line on stdout = the function's CloudWatch log), so a Firehose outage loses no record.
 * - Delivery is at-least-once: a retried call may have landed the first time. request_id is the
 *   de-duplication key (the Athena queries de-duplicate on it).
 */
import { PutRecordBatchCommand, type PutRecordBatchCommandOutput } from '@aws-sdk/client-firehose';
import type { BodyStore, LogSink, RequestLogRecord } from '../core/log-record';
import { fitRecord } from '../core/oversized-bodies';
import { type Logger, silentLogger } from '../core/ports';
import { type LogFallback, stdoutFallback } from './log-fallback';

export { FALLBACK_MARKER, type LogFallback, stdoutFallback } from './log-fallback';

/** Firehose quotas for PutRecordBatch (Amazon Data Firehose developer guide, "Quotas"). */
export const FIREHOSE_MAX_RECORD_BYTES = 1_000 * 1024;
export const FIREHOSE_MAX_BATCH_RECORDS = 500;
export const FIREHOSE_MAX_BATCH_BYTES = 4 * 1024 * 1024;

/** The only call the sink makes. A FirehoseClient satisfies it; tests pass a thin stub. */
export interface FirehoseSender {
  send(command: PutRecordBatchCommand, options?: { abortSignal?: AbortSignal }): Promise<PutRecordBatchCommandOutput>;
}

export interface FirehoseLogSinkOptions {
  readonly client: FirehoseSender;
  readonly deliveryStreamName: string;
  readonly logger?: Logger;
  /** Where records go when Firehose keeps rejecting them. @default stdoutFallback */
  readonly fallback?: LogFallback;
  /** Where bodies too large for one Firehose record go (S3). @default - none: such bodies are truncated */
  readonly bodyStore?: BodyStore;
  /** Attempts per record (first send included) before the fallback. @default 4 */
  readonly maxAttempts?: number;
  /** First backoff delay; doubles each attempt, with jitter. @default 100 */
  readonly baseDelayMs?: number;
  /**
   * Time one PutRecordBatch call (or one body store put) may take before it counts as failed (the
   * SDK sets no request timeout by default; a hung call would hold the flush, and the Lambda, until
   * its timeout).
   * @default 5000
   */
  readonly sendTimeoutMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

interface Encoded {
  readonly record: RequestLogRecord;
  readonly data: Uint8Array;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class FirehoseLogSink implements LogSink {
  private buffer: Encoded[] = [];
  private bufferedBytes = 0;
  /** Records being fitted (an oversized body is being stored) before they join the buffer. */
  private readonly preparing = new Set<Promise<void>>();
  /** Sends run one after another, so batches never race and flush() can wait for all of them. */
  private sending: Promise<void> = Promise.resolve();
  private readonly logger: Logger;
  private readonly fallback: LogFallback;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly sendTimeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  /** The injected store, bounded by sendTimeoutMs like the Firehose calls (a hung S3 put must not hold the flush). */
  private readonly bodyStore?: BodyStore;

  constructor(private readonly opts: FirehoseLogSinkOptions) {
    this.logger = opts.logger ?? silentLogger;
    this.fallback = opts.fallback ?? stdoutFallback;
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? 4);
    this.baseDelayMs = opts.baseDelayMs ?? 100;
    this.sendTimeoutMs = opts.sendTimeoutMs ?? 5_000;
    this.sleep = opts.sleep ?? realSleep;
    this.random = opts.random ?? Math.random;
    const store = opts.bodyStore;
    if (store) this.bodyStore = { put: (record, bodies) => this.withTimeout(() => store.put(record, bodies), 'storing the bodies') };
  }

  write(record: RequestLogRecord): void {
    try {
      const data = Buffer.from(JSON.stringify(record) + '\n');
      if (data.byteLength <= FIREHOSE_MAX_RECORD_BYTES) {
        this.enqueue(record, data);
        return;
      }
    } catch (err) {
      this.toFallback([record], `encoding the record failed: ${String(err)}`);
      return;
    }
    const p = fitRecord(record, FIREHOSE_MAX_RECORD_BYTES, this.bodyStore, this.logger)
      .then((fitted) => this.enqueue(fitted))
      .catch((err) => this.toFallback([record], `preparing the record failed: ${String(err)}`));
    this.preparing.add(p);
    void p.finally(() => this.preparing.delete(p));
  }

  /** Deliver everything written so far. Never rejects: what Firehose does not take goes to the fallback. */
  async flush(): Promise<void> {
    await Promise.all([...this.preparing]);
    this.scheduleSend();
    await this.sending;
  }

  private enqueue(record: RequestLogRecord, data: Uint8Array = Buffer.from(JSON.stringify(record) + '\n')): void {
    this.buffer.push({ record, data });
    this.bufferedBytes += data.byteLength;
    // A full batch goes out at once, so a busy container never holds more than one batch in memory.
    if (this.buffer.length >= FIREHOSE_MAX_BATCH_RECORDS || this.bufferedBytes >= FIREHOSE_MAX_BATCH_BYTES) this.scheduleSend();
  }

  private scheduleSend(): void {
    this.sending = this.sending.then(() => this.drain()).catch((err) => this.logger.error('firehose sink drain failed', { error: String(err) }));
  }

  private async drain(): Promise<void> {
    while (this.buffer.length) {
      const batch = this.takeBatch();
      await this.sendWithRetry(batch);
    }
  }

  /** The longest prefix of the buffer within the batch limits (always at least one record). */
  private takeBatch(): Encoded[] {
    let bytes = 0;
    let n = 0;
    while (n < this.buffer.length && n < FIREHOSE_MAX_BATCH_RECORDS) {
      const size = this.buffer[n].data.byteLength;
      if (n > 0 && bytes + size > FIREHOSE_MAX_BATCH_BYTES) break;
      bytes += size;
      n++;
    }
    const batch = this.buffer.splice(0, n);
    this.bufferedBytes -= bytes;
    return batch;
  }

  private async sendWithRetry(batch: Encoded[]): Promise<void> {
    let pending = batch;
    let lastError = '';
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      try {
        const out = await this.sendOnce(pending);
        const rejected = this.rejected(pending, out);
        if (!rejected.records.length) return;
        pending = rejected.records;
        lastError = rejected.error;
      } catch (err) {
        lastError = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      }
      this.logger.warn('firehose did not take all log records', { attempt, pending: pending.length, error: lastError });
      if (attempt < this.maxAttempts) await this.sleep(this.backoff(attempt));
    }
    this.toFallback(
      pending.map((e) => e.record),
      `firehose rejected the record after ${this.maxAttempts} attempts: ${lastError}`,
    );
  }

  /** One PutRecordBatch call, abandoned after sendTimeoutMs. */
  private sendOnce(records: Encoded[]): Promise<PutRecordBatchCommandOutput> {
    const command = new PutRecordBatchCommand({ DeliveryStreamName: this.opts.deliveryStreamName, Records: records.map((e) => ({ Data: e.data })) });
    return this.withTimeout((abortSignal) => this.opts.client.send(command, { abortSignal }), 'PutRecordBatch');
  }

  /** Run `call`, failing with a TimeoutError (and aborting it) when it takes longer than sendTimeoutMs. */
  private async withTimeout<T>(call: (signal: AbortSignal) => Promise<T>, what: string): Promise<T> {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // Settle the race first, so the failure names the timeout rather than the abort it causes.
        reject(Object.assign(new Error(`${what} took longer than ${this.sendTimeoutMs} ms`), { name: 'TimeoutError' }));
        abort.abort();
      }, this.sendTimeoutMs);
    });
    try {
      return await Promise.race([call(abort.signal), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The records of a PutRecordBatch answer that carry an ErrorCode (responses are in request order). */
  private rejected(sent: Encoded[], out: PutRecordBatchCommandOutput): { records: Encoded[]; error: string } {
    if (!out.FailedPutCount) return { records: [], error: '' };
    const responses = out.RequestResponses ?? [];
    // An answer that reports failures without saying which: re-send them all (duplicates are de-duplicated on request_id).
    if (responses.length !== sent.length) return { records: sent, error: `${out.FailedPutCount} records failed` };
    const records = sent.filter((_, i) => responses[i].ErrorCode);
    const first = responses.find((r) => r.ErrorCode);
    return { records, error: first ? `${first.ErrorCode}: ${first.ErrorMessage ?? ''}` : `${out.FailedPutCount} records failed` };
  }

  private backoff(attempt: number): number {
    const ceiling = this.baseDelayMs * 2 ** (attempt - 1);
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  private toFallback(records: RequestLogRecord[], reason: string): void {
    this.logger.error('log records sent to the fallback', { count: records.length, reason, requestIds: records.map((r) => r.request_id) });
    for (const record of records) {
      try {
        this.fallback(record, reason);
      } catch (err) {
        this.logger.error('log fallback failed', { error: String(err), requestId: record.request_id });
      }
    }
  }
}
