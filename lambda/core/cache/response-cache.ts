/**
 * The response cache (ARCHITECTURE §13) as one service the cache stage calls: look up (exact, then
 * semantic), store a finished answer, purge. Every failure of the cache itself (store down,
 * embedding call failed, lookup slower than its timeout) is a bypass: the caller is told so and
 * serves the request uncached, and the client never sees a cache error nor waits past the lookup
 * timeout.
 */
import type { ResolvedCacheConfig } from './config';
import { semanticParts, type CacheKeyInput } from './key';
import type { CacheEntry, CachePurgeFilter, CacheStore, VectorIndex } from './ports';
import { type Flight, SingleFlight } from './single-flight';
import type { Logger } from '../ports';

/** Embeds `text` with the configured embeddings route `model`. */
export type Embedder = (model: string, text: string, signal: AbortSignal) => Promise<number[]>;

export interface ResponseCacheDeps {
  readonly store: CacheStore;
  /** Semantic vectors; without it, semantic mode looks up exactly only. */
  readonly vectors?: VectorIndex;
  readonly embed?: Embedder;
  readonly now: () => number;
  readonly logger: Logger;
}

/** What the semantic lookup learned, reused when the answer is stored (no second embedding call). */
export interface SemanticPlan {
  readonly partition: string;
  readonly text: string;
  vector?: number[];
}

export type CacheLookup =
  | { readonly status: 'hit'; readonly entry: CacheEntry }
  | { readonly status: 'semantic-hit'; readonly entry: CacheEntry; readonly similarity: number }
  | {
      readonly status: 'miss' | 'bypass';
      /** Why the cache was bypassed, when it failed (the record's cache_error, the CacheErrors metric). */
      readonly error?: string;
      readonly semantic?: SemanticPlan;
      /** Another request in this process is already asking upstream for this answer. */
      readonly flight?: Flight;
    };

export interface LookupRequest {
  readonly id: string;
  readonly key: CacheKeyInput;
  readonly config: ResolvedCacheConfig;
  /** Whether this request may wait on another's identical flight (JSON requests do). */
  readonly mayFollow: boolean;
}

class LookupTimeout extends Error {}

export class ResponseCache {
  readonly flights = new SingleFlight();
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly deps: ResponseCacheDeps) {}

  /** Exact, then (mode semantic) semantic; bounded by the config's lookup timeout. Never throws. */
  async lookup(req: LookupRequest): Promise<CacheLookup> {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(new LookupTimeout(`cache lookup exceeded ${req.config.lookupTimeoutMs} ms`));
      }, req.config.lookupTimeoutMs);
    });
    const semantic = this.semanticPlan(req);
    try {
      const found = await Promise.race([this.find(req, semantic, abort.signal), timeout]);
      if (found) return found;
      const flight = req.mayFollow ? this.flights.following(req.id) : undefined;
      return { status: 'miss', ...(semantic ? { semantic } : {}), ...(flight ? { flight } : {}) };
    } catch (err) {
      const error = err instanceof LookupTimeout ? 'timeout' : err instanceof EmbeddingFailed ? 'embedding_failed' : 'store_unavailable';
      this.deps.logger.warn('cache lookup failed; serving uncached', { error: String(err), cacheError: error });
      return { status: 'bypass', error, ...(semantic ? { semantic } : {}) };
    } finally {
      clearTimeout(timer);
    }
  }

  /** The semantic text and partition, when this request is looked up semantically. */
  semanticPlan(req: Pick<LookupRequest, 'key' | 'config'>): SemanticPlan | undefined {
    const s = req.config.semantic;
    if (req.config.mode !== 'semantic' || !s || !this.deps.vectors || !this.deps.embed) return undefined;
    const parts = semanticParts(req.key, s.maxMessages);
    return parts ? { partition: parts.partition, text: parts.text } : undefined;
  }

  private async find(req: LookupRequest, semantic: SemanticPlan | undefined, signal: AbortSignal): Promise<CacheLookup | undefined> {
    const now = this.deps.now();
    const exact = await this.deps.store.get(req.id, now, signal);
    if (exact) return { status: 'hit', entry: exact };
    const s = req.config.semantic;
    if (!semantic || !s) return undefined;
    semantic.vector = await this.embedding(s.embeddingModel, semantic.text, signal);
    const match = await this.deps.vectors!.query(semantic.vector, semantic.partition, now, s.threshold, signal);
    if (!match) return undefined;
    const entry = await this.deps.store.get(match.id, now, signal);
    if (!entry) {
      // The entry expired or was purged while its vector stayed: drop the vector.
      this.track(this.deps.vectors!.delete([match.id]));
      return undefined;
    }
    return { status: 'semantic-hit', entry, similarity: match.similarity };
  }

  private async embedding(model: string, text: string, signal: AbortSignal): Promise<number[]> {
    try {
      return await this.deps.embed!(model, text, signal);
    } catch (err) {
      throw new EmbeddingFailed(String(err));
    }
  }

  /**
   * Store a finished answer, in the background (the client is not kept waiting): the entry, and its
   * vector when the request was semantic and the answer calls no tools (tool calls are exact only).
   */
  store(entry: CacheEntry, semantic: SemanticPlan | undefined, callsTools: boolean, embeddingModel: string | undefined): void {
    const indexed = semantic && !callsTools && this.deps.vectors && this.deps.embed && embeddingModel ? semantic : undefined;
    this.track(
      (async () => {
        await this.deps.store.put(indexed ? { ...entry, partition: indexed.partition } : entry);
        if (!indexed) return;
        const vector = indexed.vector ?? (await this.deps.embed!(embeddingModel!, indexed.text, AbortSignal.timeout(10_000)));
        await this.deps.vectors!.put(entry.id, vector, indexed.partition, entry.expiresAt);
      })().catch((err) => this.deps.logger.error('storing a cache entry failed', { error: String(err), cacheKey: entry.id.slice(0, 12) })),
    );
  }

  /** Remove the matching entries and their vectors; returns how many entries went. */
  async purge(filter: CachePurgeFilter): Promise<number> {
    const ids = await this.deps.store.purge(filter);
    if (ids.length && this.deps.vectors) await this.deps.vectors.delete(ids);
    return ids.length;
  }

  /** Wait for background writes (Lambda, before the invocation ends; tests). */
  async flush(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private track(p: Promise<unknown>): void {
    const tracked = p.catch(() => undefined);
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }
}

class EmbeddingFailed extends Error {}
