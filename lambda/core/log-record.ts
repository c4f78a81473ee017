/**
 * Where request log records go (the ports the sinks implement). The record itself is defined once,
 * in the contract's log schema (contract/log-schema.ts), shared with the constructs.
 */
import type { RequestLogRecord } from '../contract/log-schema';

export type { AttemptLog, LogFieldSpec, LogFieldType, RequestLogRecord } from '../contract/log-schema';
export { LOG_RECORD_FIELDS } from '../contract/log-schema';

/**
 * Where bodies too large for one delivery record go (AWS: S3, local: files). `put` returns the
 * pointer stored in the record's body_ref.
 */
export interface BodyStore {
  put(record: Pick<RequestLogRecord, 'request_id' | 'ts'>, bodies: { request_body: string | null; response_body: string | null }): Promise<string>;
}

/**
 * Where records go. Implementations: local JSONL files, Firehose. `write` is called after the
 * response's last byte and must not delay anything: buffer or append asynchronously; the pipeline
 * also guards against a write that throws or rejects.
 */
export interface LogSink {
  write(record: RequestLogRecord): void | Promise<void>;
  /** Flush buffered records (Lambda: before the invocation ends; local: on shutdown). */
  flush?(): Promise<void>;
  /** Flush, then release what the sink holds open (local: the log file, on shutdown). */
  close?(): Promise<void>;
}
