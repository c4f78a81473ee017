/**
 * Concurrent identical misses in one process share one upstream call: the first becomes the leader
 * and calls on; the others wait for the leader's answer and are served it as a hit. A leader whose
 * answer cannot be stored (an error, a cut stream, no-store) releases them with nothing, and each
 * then calls on by itself, as if the cache were not there.
 */
import type { CacheEntry } from './ports';

export interface Flight {
  /** The leader's entry, or undefined when it has none to share. */
  readonly result: Promise<CacheEntry | undefined>;
}

export class SingleFlight {
  private readonly flights = new Map<string, { flight: Flight; settle: (e: CacheEntry | undefined) => void }>();

  /** The flight in progress for `id`, if another request leads one. */
  following(id: string): Flight | undefined {
    return this.flights.get(id)?.flight;
  }

  /** Lead the flight for `id`; the returned function settles it (once) with the entry or nothing. */
  lead(id: string): (entry: CacheEntry | undefined) => void {
    let settle!: (e: CacheEntry | undefined) => void;
    const result = new Promise<CacheEntry | undefined>((res) => (settle = res));
    const slot = { flight: { result }, settle };
    this.flights.set(id, slot);
    let done = false;
    return (entry) => {
      if (done) return;
      done = true;
      if (this.flights.get(id) === slot) this.flights.delete(id);
      settle(entry);
    };
  }

  get size(): number {
    return this.flights.size;
  }
}
