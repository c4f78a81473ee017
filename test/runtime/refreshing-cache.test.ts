/**
 * The read-through cache in front of key, team-limit and secret reads: loads are driven by hand
 * (each is a deferred promise) so every interleaving is exact.
 */
import { RefreshingCache } from '../../lambda/core/refreshing-cache';

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A loader whose calls wait until the test settles them, in order. */
function manualLoader<T>() {
  const calls: Deferred<T>[] = [];
  return {
    calls,
    load: () => {
      const d = deferred<T>();
      calls.push(d);
      return d.promise;
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('RefreshingCache', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => (now = 1_000));

  test('concurrent misses share one load', async () => {
    const cache = new RefreshingCache<string, string>({ maxAgeMs: 1000, now: clock });
    const { calls, load } = manualLoader<string>();
    const answers = Promise.all(Array.from({ length: 16 }, () => cache.get('k', load)));
    await tick();
    expect(calls).toHaveLength(1);
    calls[0].resolve('v1');
    expect(await answers).toEqual(Array(16).fill('v1'));
    expect(await cache.get('k', load)).toBe('v1');
    expect(calls).toHaveLength(1);
  });

  test('from 80% of maxAgeMs an entry is served at once while one background load replaces it', async () => {
    const cache = new RefreshingCache<string, string>({ maxAgeMs: 1000, now: clock });
    const { calls, load } = manualLoader<string>();
    const first = cache.get('k', load);
    await tick();
    calls[0].resolve('v1');
    await first;
    now += 799;
    expect(await cache.get('k', load)).toBe('v1');
    await tick();
    expect(calls).toHaveLength(1);
    now += 1; // 80% of maxAgeMs
    expect(await Promise.all([cache.get('k', load), cache.get('k', load), cache.get('k', load)])).toEqual(['v1', 'v1', 'v1']);
    await tick();
    expect(calls).toHaveLength(2);
    calls[1].resolve('v2');
    await tick();
    expect(await cache.get('k', load)).toBe('v2');
    expect(calls).toHaveLength(2);
  });

  test('an entry is never served once maxAgeMs has passed since its load began: callers wait', async () => {
    const cache = new RefreshingCache<string, string>({ maxAgeMs: 1000, now: clock });
    const { calls, load } = manualLoader<string>();
    const first = cache.get('k', load);
    await tick();
    now += 300; // the load took 300 ms: the entry's age counts from when it began
    calls[0].resolve('v1');
    await first;
    now += 700;
    let answered: string | undefined;
    const waiting = cache.get('k', load).then((v) => (answered = v));
    await tick();
    expect(answered).toBeUndefined();
    expect(calls).toHaveLength(2);
    calls[1].resolve('v2');
    await waiting;
    expect(answered).toBe('v2');
  });

  test('invalidate: the next call loads afresh, and a load already in flight is neither joined nor kept', async () => {
    const cache = new RefreshingCache<string, string>({ maxAgeMs: 10_000, now: clock });
    const { calls, load } = manualLoader<string>();
    const before = cache.get('k', load);
    await tick();
    cache.invalidate('k');
    const after = cache.get('k', load);
    await tick();
    expect(calls).toHaveLength(2);
    calls[0].resolve('old');
    calls[1].resolve('new');
    expect(await before).toBe('old'); // asked before the invalidation: concurrent with it
    expect(await after).toBe('new');
    expect(await cache.get('k', load)).toBe('new');
    // The older load finishing last must not overwrite a newer value either.
    cache.invalidate('k');
    const a = cache.get('k', load);
    await tick();
    cache.invalidate('k');
    const b = cache.get('k', load);
    await tick();
    calls[3].resolve('newest');
    await b;
    calls[2].resolve('stale');
    await a;
    expect(await cache.get('k', load)).toBe('newest');
    expect(calls).toHaveLength(4);
  });

  test('invalidateWhere drops every matching entry and trusts no load in flight', async () => {
    const cache = new RefreshingCache<string, { id: string }>({ maxAgeMs: 10_000, now: clock });
    await cache.get('h1', async () => ({ id: 'key-a' }));
    await cache.get('h2', async () => ({ id: 'key-a' }));
    await cache.get('h3', async () => ({ id: 'key-b' }));
    const { calls, load } = manualLoader<{ id: string }>();
    const inFlight = cache.get('h4', load);
    await tick();
    cache.invalidateWhere((v) => v.id === 'key-a');
    calls[0].resolve({ id: 'key-a' });
    await inFlight;
    expect(cache.peek('h1')).toBeUndefined();
    expect(cache.peek('h2')).toBeUndefined();
    expect(cache.peek('h3')).toEqual({ id: 'key-b' });
    expect(cache.peek('h4')).toBeUndefined();
  });

  test('a failed background load is reported and the entry still serves until maxAgeMs, then the error reaches the caller', async () => {
    const reported: unknown[] = [];
    const cache = new RefreshingCache<string, string>({ maxAgeMs: 1000, now: clock, onRefreshError: (e) => reported.push(e) });
    await cache.get('k', async () => 'v1');
    now += 900;
    const failing = () => Promise.reject(new Error('store down'));
    expect(await cache.get('k', failing)).toBe('v1');
    await tick();
    expect(reported).toEqual([new Error('store down')]);
    expect(await cache.get('k', failing)).toBe('v1');
    now += 100;
    await expect(cache.get('k', failing)).rejects.toThrow('store down');
    // Failures are not cached: the next call loads again.
    expect(await cache.get('k', async () => 'v2')).toBe('v2');
  });

  test('staleIfError serves an expired entry when its reload fails (fail open to the last known value)', async () => {
    const cache = new RefreshingCache<string, string>({ maxAgeMs: 1000, now: clock, staleIfError: true });
    await cache.get('k', async () => 'v1');
    now += 5000;
    expect(await cache.get('k', () => Promise.reject(new Error('down')))).toBe('v1');
    // With nothing cached there is nothing to fall back on.
    await expect(cache.get('other', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
  });

  test('undefined values (a read that found nothing) are never kept, and a reload that finds nothing drops the entry', async () => {
    const cache = new RefreshingCache<string, string | undefined>({ maxAgeMs: 1000, now: clock });
    let loads = 0;
    const missing = async () => {
      loads++;
      return undefined;
    };
    expect(await cache.get('k', missing)).toBeUndefined();
    expect(await cache.get('k', missing)).toBeUndefined();
    expect(loads).toBe(2);
    await cache.get('j', async () => 'v1');
    now += 800;
    expect(await cache.get('j', missing)).toBe('v1'); // served; the background reload finds nothing
    await tick();
    expect(cache.peek('j')).toBeUndefined();
  });

  test('maxAgeMs 0 caches nothing', async () => {
    const cache = new RefreshingCache<string, string>({ maxAgeMs: 0, now: clock });
    let loads = 0;
    const load = async () => `v${++loads}`;
    expect(await cache.get('k', load)).toBe('v1');
    expect(await cache.get('k', load)).toBe('v2');
  });

  test('a load in flight for longer than maxAgeMs (hung across a frozen Lambda) is not joined', async () => {
    const cache = new RefreshingCache<string, string>({ maxAgeMs: 1000, now: clock });
    const { calls, load } = manualLoader<string>();
    void cache.get('k', load);
    await tick();
    now += 1000;
    const fresh = cache.get('k', load);
    await tick();
    expect(calls).toHaveLength(2);
    calls[1].resolve('v2');
    expect(await fresh).toBe('v2');
  });

  test('a load that throws at once rejects its callers and leaves nothing behind', async () => {
    const cache = new RefreshingCache<string, string>({ maxAgeMs: 1000, now: clock });
    const throwing = (): Promise<string> => {
      throw new Error('sync failure');
    };
    await expect(cache.get('k', throwing)).rejects.toThrow('sync failure');
    expect(await cache.get('k', async () => 'v1')).toBe('v1');
  });

  test('bounded: past maxEntries the least recently loaded entry is dropped', async () => {
    const cache = new RefreshingCache<string, string>({ maxAgeMs: 10_000, now: clock, maxEntries: 2 });
    await cache.get('a', async () => 'A');
    await cache.get('b', async () => 'B');
    await cache.get('c', async () => 'C');
    expect([cache.peek('a'), cache.peek('b'), cache.peek('c')]).toEqual([undefined, 'B', 'C']);
  });
});
