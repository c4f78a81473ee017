/**
 * The AWS BodyStore: bodies too large for one Firehose record become one S3 object per request,
 * `<prefix>dt=YYYY-MM-DD/<request_id>.json` holding `{ request_id, request_body, response_body }`.
 * The bucket is the log bucket (same KMS key, lifecycle and access policy as the records).
 */
import { PutObjectCommand, type PutObjectCommandOutput } from '@aws-sdk/client-s3';
import type { BodyStore } from '../core/log-record';

/** The only call the store makes. An S3Client satisfies it. */
export interface S3Putter {
  send(command: PutObjectCommand): Promise<PutObjectCommandOutput>;
}

export interface S3BodyStoreOptions {
  readonly client: S3Putter;
  readonly bucket: string;
  /** Key prefix. @default 'bodies/' */
  readonly prefix?: string;
}

/** Object key for a record's bodies: date-partitioned like the records, named by the de-duplication key. */
export function bodyObjectKey(prefix: string, record: { request_id: string; ts: string }): string {
  return `${prefix}dt=${record.ts.slice(0, 10)}/${encodeURIComponent(record.request_id)}.json`;
}

export class S3BodyStore implements BodyStore {
  private readonly prefix: string;

  constructor(private readonly opts: S3BodyStoreOptions) {
    this.prefix = opts.prefix ?? 'bodies/';
  }

  async put(record: { request_id: string; ts: string }, bodies: { request_body: string | null; response_body: string | null }): Promise<string> {
    const key = bodyObjectKey(this.prefix, record);
    await this.opts.client.send(
      new PutObjectCommand({
        Bucket: this.opts.bucket,
        Key: key,
        Body: JSON.stringify({ request_id: record.request_id, ...bodies }),
        ContentType: 'application/json',
      }),
    );
    return `s3://${this.opts.bucket}/${key}`;
  }
}
