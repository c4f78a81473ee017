/**
 * A read-through cache for store reads on the request path whose age must stay bounded (a key
 * that may be revoked, a team limit that may change, a provider secret that may be rotated).
 *
 * Why not a plain TTL map: when a busy entry expires, every request that arrives while it is
 * being read again waits for the store, and each starts its own read. Measured on the local
 * gateway at 400 req/s, that herd (16 concurrent lookups of two GetItems each) stalled every
 * request for 20-50 ms once per TTL and set the gateway's p99. So:
 * - single flight: concurrent reads of one entry share one load;
 * - refresh ahead: an entry past REFRESH_AT of its maximum age is still served while one
 *   background load replaces it, so an entry in steady use never expires under its callers;
 * - the bound holds: an entry is never served once `maxAgeMs` has passed since its load began;
 *   callers then wait for a new load;
 * - `invalidate` takes effect for the next call: the entry is dropped, and a load that was in
 *   flight may neither answer later callers nor write its (possibly older) result back.
 */

export interface RefreshingCacheOptions {
  /** An entry is never served once this long has passed since its load began. 0 disables caching. */
  readonly maxAgeMs: number;
  readonly now: () => number;
  /** Largest number of entries; past it the least recently loaded is dropped. @default 10000 */
  readonly maxEntries?: number;
  /**
   * When a load fails and an entry older than maxAgeMs exists, serve it instead of failing.
   * For reads that fail open to the last known value (team limits); never for credentials.
   * @default false
   */
  readonly staleIfError?: boolean;
  /** Where failed background refreshes are reported (the caller was already answered). */
  readonly onRefreshError?: (err: unknown) => void;
}

/** The share of maxAgeMs from which an entry is refreshed in the background. */
const REFRESH_AT = 0.8;

interface Entry<V> {
  readonly value: V;
  /** When the load that produced it began: the conservative age for the bound. */
  readonly loadedAt: number;
}

interface Flight<V> {
  readonly promise: Promise<V>;
  readonly startedAt: number;
}

export class RefreshingCache<K, V> {
  private readonly entries = new Map<K, Entry<V>>();
  private readonly flights = new Map<K, Flight<V>>();
  /** Bumped by every invalidation: a load begun under an older generation writes nothing back. */
  private generation = 0;
  private readonly refreshAfterMs: number;

  constructor(private readonly options: RefreshingCacheOptions) {
    this.refreshAfterMs = options.maxAgeMs * REFRESH_AT;
  }

  /** The value for `key`: from memory when young enough, else from `load` (shared with concurrent callers). */
  get(key: K, load: () => Promise<V>): Promise<V> {
    const { maxAgeMs, now } = this.options;
    if (maxAgeMs <= 0) return load();
    const at = now();
    const entry = this.entries.get(key);
    if (entry) {
      const age = at - entry.loadedAt;
      if (age < maxAgeMs) {
        if (age >= this.refreshAfterMs) this.refreshInBackground(key, load, at);
        return Promise.resolve(entry.value);
      }
    }
    return this.loadShared(key, load, at, entry);
  }

  /** What the cache holds for `key`, however old, without loading. */
  peek(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  /** Forget `key` now; a load already in flight for it neither answers later callers nor is kept. */
  invalidate(key: K): void {
    this.generation++;
    this.entries.delete(key);
    this.flights.delete(key);
  }

  /** Forget every entry whose value matches (e.g. every hash of one key id). */
  invalidateWhere(matches: (value: V) => boolean): void {
    this.generation++;
    for (const [key, entry] of this.entries) if (matches(entry.value)) this.entries.delete(key);
    // Which key an in-flight load belongs to is known only when it ends: none may be trusted.
    this.flights.clear();
  }

  private refreshInBackground(key: K, load: () => Promise<V>, at: number): void {
    if (this.currentFlight(key, at)) return;
    this.startFlight(key, load, at).catch((err: unknown) => this.options.onRefreshError?.(err));
  }

  private async loadShared(key: K, load: () => Promise<V>, at: number, stale: Entry<V> | undefined): Promise<V> {
    const flight = this.currentFlight(key, at);
    try {
      return await (flight ? flight.promise : this.startFlight(key, load, at));
    } catch (err) {
      if (this.options.staleIfError && stale && this.entries.get(key) === stale) return stale.value;
      throw err;
    }
  }

  /**
   * The load in flight for `key`, unless it began so long ago that its answer would already be
   * too old to serve (a read hung across a frozen Lambda): then a new one starts.
   */
  private currentFlight(key: K, at: number): Flight<V> | undefined {
    const flight = this.flights.get(key);
    return flight && at - flight.startedAt < this.options.maxAgeMs ? flight : undefined;
  }

  private startFlight(key: K, load: () => Promise<V>, at: number): Promise<V> {
    const generation = this.generation;
    const flight: { promise?: Promise<V>; readonly startedAt: number } = { startedAt: at };
    flight.promise = (async () => {
      // Yield once so that the flight is registered before a load that throws at once settles it.
      await undefined;
      try {
        const value = await load();
        if (generation === this.generation) this.store(key, value, at);
        return value;
      } finally {
        if (this.flights.get(key) === flight) this.flights.delete(key);
      }
    })();
    this.flights.set(key, flight as Flight<V>);
    return flight.promise;
  }

  /** An undefined value (a read that found nothing) is never kept; it drops what was there. */
  private store(key: K, value: V, loadedAt: number): void {
    // Delete first so a reloaded entry moves to the back of the eviction order.
    this.entries.delete(key);
    if (value === undefined) return;
    const max = this.options.maxEntries ?? 10_000;
    if (this.entries.size >= max) this.entries.delete(this.entries.keys().next().value as K);
    this.entries.set(key, { value, loadedAt });
  }
}
