/**
 * The AWS CacheBlobStore: cached answers too large for one DynamoDB item, as S3 objects
 * `<prefix><id>.json.gz` in the log bucket (its KMS key and TLS-only policy; a lifecycle rule on
 * the prefix removes them after the longest cache TTL).
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { CacheBlobStore } from '../core/cache/ports';

/** The calls the store makes. An S3Client satisfies it. */
export interface S3ObjectClient {
  send(command: PutObjectCommand | GetObjectCommand | DeleteObjectCommand, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

export interface S3CacheBlobStoreOptions {
  readonly client: S3ObjectClient;
  readonly bucket: string;
  /** Key prefix. @default 'cache/' */
  readonly prefix?: string;
}

export class S3CacheBlobStore implements CacheBlobStore {
  private readonly prefix: string;

  constructor(private readonly opts: S3CacheBlobStoreOptions) {
    this.prefix = opts.prefix ?? 'cache/';
  }

  async put(id: string, bytes: Uint8Array): Promise<string> {
    const key = `${this.prefix}${id}.json.gz`;
    await this.opts.client.send(new PutObjectCommand({ Bucket: this.opts.bucket, Key: key, Body: bytes, ContentType: 'application/gzip' }));
    return `s3://${this.opts.bucket}/${key}`;
  }

  async get(ref: string, signal?: AbortSignal): Promise<Uint8Array> {
    const out = (await this.opts.client.send(
      new GetObjectCommand({ Bucket: this.opts.bucket, Key: this.keyOf(ref) }),
      signal ? { abortSignal: signal } : {},
    )) as {
      Body?: { transformToByteArray(): Promise<Uint8Array> };
    };
    if (!out.Body) throw new Error(`cache blob ${ref} has no body`);
    return out.Body.transformToByteArray();
  }

  async delete(ref: string): Promise<void> {
    await this.opts.client.send(new DeleteObjectCommand({ Bucket: this.opts.bucket, Key: this.keyOf(ref) }));
  }

  /** Only objects under this store's bucket and prefix are ever read or removed. */
  private keyOf(ref: string): string {
    const head = `s3://${this.opts.bucket}/`;
    const key = ref.startsWith(head) ? ref.slice(head.length) : '';
    if (!key.startsWith(this.prefix)) throw new Error('cache blob reference outside the cache prefix');
    return key;
  }
}
