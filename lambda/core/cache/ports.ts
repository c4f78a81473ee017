/**
 * The response cache's ports: where entries live (AWS: DynamoDB with large answers in S3; locally
 * the embedded store with large answers in files), and where semantic vectors live (AWS: Amazon S3
 * Vectors; locally an in-process index under the data dir). The core picks none of them.
 */

/** One stored answer, in the format of the endpoint that made it. */
export interface CacheEntry {
  /** The exact key (key.ts). */
  readonly id: string;
  readonly endpoint: string;
  /** The answer as a JSON client of `endpoint` receives it (assembled from the stream when it was streamed). */
  readonly body: unknown;
  /** The original answer's usage, replayed as is. */
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** What the original answer cost: a hit's `cache_saved_usd`. */
  readonly costUsd: number | null;
  /** Who served the original answer. */
  readonly provider: string;
  readonly model: string;
  /** The model name the client asked for (purge by model). */
  readonly requestedModel: string;
  /** The key and team that made the entry (purge by key or team). */
  readonly keyId: string;
  readonly team: string | null;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Epoch seconds; the entry is never served after it. */
  readonly expiresAt: number;
  /** The semantic partition, when the entry is also in the vector index. */
  readonly partition?: string;
}

/** Which entries a purge removes; every given field must match. No field: every entry. */
export interface CachePurgeFilter {
  readonly keyId?: string;
  readonly team?: string;
  readonly model?: string;
}

export interface CacheStore {
  /** The live entry with this id, or undefined (missing or expired). */
  get(id: string, nowMs: number, signal?: AbortSignal): Promise<CacheEntry | undefined>;
  put(entry: CacheEntry): Promise<void>;
  /** Remove matching entries; returns the removed ids (so their vectors go too). */
  purge(filter: CachePurgeFilter): Promise<string[]>;
}

/** A semantic neighbour: the entry id and its cosine similarity to the query. */
export interface VectorMatch {
  readonly id: string;
  readonly similarity: number;
}

export interface VectorIndex {
  /** Index an entry's vector within its partition, until `expiresAt` (epoch seconds). */
  put(id: string, vector: readonly number[], partition: string, expiresAt: number): Promise<void>;
  /** The most similar live vector in `partition` with a similarity of at least `minSimilarity`, if any. Never crosses partitions. */
  query(vector: readonly number[], partition: string, nowMs: number, minSimilarity: number, signal?: AbortSignal): Promise<VectorMatch | undefined>;
  delete(ids: readonly string[]): Promise<void>;
}

/** Where answers too large for one store item go: AWS S3 (the log bucket), locally files. */
export interface CacheBlobStore {
  /** Store `bytes` under the entry's id; returns the pointer kept in the item. */
  put(id: string, bytes: Uint8Array): Promise<string>;
  get(ref: string, signal?: AbortSignal): Promise<Uint8Array>;
  delete(ref: string): Promise<void>;
}
