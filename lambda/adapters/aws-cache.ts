/**
 * The response cache's stores on AWS, from the proxy function's environment (set by the
 * ResponseCache construct only when the routing config turns a cache on): entries in the DynamoDB
 * cache table, answers too large for one item in the log bucket under the cache prefix, and for
 * semantic routes the vectors in the Amazon S3 Vectors index. The S3 and S3 Vectors clients load
 * on first use, so a gateway whose answers all fit in DynamoDB and whose routes are exact never
 * loads them; a client that fails to load fails that call only, which the cache turns into a bypass.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CacheBlobStore, CacheStore, VectorIndex, VectorMatch } from '../core/cache/ports';
import { DynamoCacheStore } from '../stores/dynamo-cache-store';
import { ENV_CACHE_BLOB_PREFIX, ENV_CACHE_TABLE, ENV_CACHE_VECTOR_INDEX_ARN, ENV_LOG_BUCKET } from '../contract/env';

type Env = Record<string, string | undefined>;

/** Builds the real store on first use and hands every call to it. */
function lazy<T>(load: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= load());
}

class LazyBlobs implements CacheBlobStore {
  private readonly blobs: () => CacheBlobStore;
  constructor(region: string | undefined, bucket: string, prefix: string | undefined) {
    this.blobs = lazy(() => {
      const { S3CacheBlobStore } = require('./s3-cache-blobs') as typeof import('./s3-cache-blobs');
      const { S3Client } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
      return new S3CacheBlobStore({ client: new S3Client({ region }), bucket, prefix });
    });
  }
  put(id: string, bytes: Uint8Array): Promise<string> {
    return this.blobs().put(id, bytes);
  }
  get(ref: string, signal?: AbortSignal): Promise<Uint8Array> {
    return this.blobs().get(ref, signal);
  }
  delete(ref: string): Promise<void> {
    return this.blobs().delete(ref);
  }
}

class LazyVectors implements VectorIndex {
  private readonly index: () => VectorIndex;
  constructor(region: string | undefined, indexArn: string) {
    this.index = lazy(() => {
      const { S3VectorsIndex } = require('./s3-vectors-index') as typeof import('./s3-vectors-index');
      const { S3VectorsClient } = require('@aws-sdk/client-s3vectors') as typeof import('@aws-sdk/client-s3vectors');
      return new S3VectorsIndex({ client: new S3VectorsClient({ region }), indexArn });
    });
  }
  async put(id: string, vector: readonly number[], partition: string, expiresAt: number): Promise<void> {
    return this.index().put(id, vector, partition, expiresAt);
  }
  async query(vector: readonly number[], partition: string, nowMs: number, minSimilarity: number, signal?: AbortSignal): Promise<VectorMatch | undefined> {
    return this.index().query(vector, partition, nowMs, minSimilarity, signal);
  }
  async delete(ids: readonly string[]): Promise<void> {
    return this.index().delete(ids);
  }
}

/** The cache's stores, or undefined when the stack made no cache table (no route caches). */
export function awsCacheStores(env: Env, dynamo: DynamoDBClient): { store: CacheStore; vectors?: VectorIndex } | undefined {
  const tableName = env[ENV_CACHE_TABLE];
  if (!tableName) return undefined;
  const bucket = env[ENV_LOG_BUCKET];
  const store = new DynamoCacheStore({
    client: dynamo,
    tableName,
    blobs: bucket ? new LazyBlobs(env.AWS_REGION, bucket, env[ENV_CACHE_BLOB_PREFIX]) : undefined,
  });
  const indexArn = env[ENV_CACHE_VECTOR_INDEX_ARN];
  return { store, ...(indexArn ? { vectors: new LazyVectors(env.AWS_REGION, indexArn) } : {}) };
}
