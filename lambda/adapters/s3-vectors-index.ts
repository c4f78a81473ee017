/**
 * The AWS semantic index: Amazon S3 Vectors. One vector per cached entry, keyed by the entry's
 * exact key, with filterable metadata `partition` (scope + everything-else hash) and `expiresAt`
 * (epoch seconds). A query asks for the single nearest vector inside the partition and still alive,
 * so entries of another scope are excluded by the service before any distance is compared. The
 * index uses the cosine metric: distance = 1 - similarity.
 *
 * S3 Vectors has no TTL: expired vectors are filtered out of queries, and removed by a purge or
 * when a hit finds its entry gone.
 */
import { DeleteVectorsCommand, PutVectorsCommand, QueryVectorsCommand } from '@aws-sdk/client-s3vectors';
import type { VectorIndex, VectorMatch } from '../core/cache/ports';

/** The calls the index makes. An S3VectorsClient satisfies it. */
export interface S3VectorsSender {
  send(command: PutVectorsCommand | QueryVectorsCommand | DeleteVectorsCommand, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/** The index, by ARN (as the construct passes it) or by bucket and index name. */
export type S3VectorsIndexOptions = { readonly client: S3VectorsSender } & (
  | { readonly indexArn: string }
  | { readonly vectorBucketName: string; readonly indexName: string }
);

/** DeleteVectors takes at most this many keys per call. */
const DELETE_BATCH = 500;

export class S3VectorsIndex implements VectorIndex {
  constructor(private readonly opts: S3VectorsIndexOptions) {}

  private get target(): { indexArn: string } | { vectorBucketName: string; indexName: string } {
    const o = this.opts;
    return 'indexArn' in o ? { indexArn: o.indexArn } : { vectorBucketName: o.vectorBucketName, indexName: o.indexName };
  }

  async put(id: string, vector: readonly number[], partition: string, expiresAt: number): Promise<void> {
    await this.opts.client.send(
      new PutVectorsCommand({ ...this.target, vectors: [{ key: id, data: { float32: [...vector] }, metadata: { partition, expiresAt } }] }),
    );
  }

  async query(vector: readonly number[], partition: string, nowMs: number, minSimilarity: number, signal?: AbortSignal): Promise<VectorMatch | undefined> {
    const out = (await this.opts.client.send(
      new QueryVectorsCommand({
        ...this.target,
        topK: 1,
        queryVector: { float32: [...vector] },
        filter: { $and: [{ partition: { $eq: partition } }, { expiresAt: { $gt: Math.floor(nowMs / 1000) } }] },
        returnDistance: true,
      }),
      signal ? { abortSignal: signal } : undefined,
    )) as { vectors?: { key?: string; distance?: number }[] };
    const best = out.vectors?.[0];
    if (!best?.key || typeof best.distance !== 'number') return undefined;
    const similarity = 1 - best.distance;
    return similarity >= minSimilarity ? { id: best.key, similarity } : undefined;
  }

  async delete(ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += DELETE_BATCH)
      await this.opts.client.send(new DeleteVectorsCommand({ ...this.target, keys: ids.slice(i, i + DELETE_BATCH) }));
  }
}
