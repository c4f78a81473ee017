/**
 * Leased capacity (ARCHITECTURE §8): a gateway process takes a slice of a subject's remaining
 * capacity in the current minute with ONE conditional write (the same write that holds a single
 * request's reservation, only larger), then admits and settles requests against it in memory.
 *
 * - The store never grants past a limit: a lease is taken only where it fits, like a
 *   reservation. A process admits only within its leases, so admission stays within the limit.
 * - What a lease leaves unused goes back with one write when it ends: at the minute's end, after
 *   `ttlMs`, when the subject's limits change (a new key record), or when the process shuts down.
 *   A process that dies never gives it back: its lease stays counted as used (the safe side).
 * - Size adapts: about `horizonMs` of the subject's observed request rate, never more than
 *   `fraction` of what was left when it was taken; below `minRequests` (a quiet key, or one near its
 *   limit) requests fall back to exact per-request reservations.
 * - The next lease is taken in the background when the current one runs low, so at steady load
 *   no request waits for the store.
 *
 * This module is the in-memory half (accounting, sizing, renewal); the store half (the writes)
 * is handed in by the limiter.
 */
import type { Need } from './policy';

export interface LeaseOptions {
  /** How many ms of the observed request rate one lease covers. 0 turns leasing off. @default 2000 */
  readonly horizonMs?: number;
  /** At most this share of what is left in a window goes into one lease. @default 0.1 */
  readonly fraction?: number;
  /** Smaller leases are not worth a write: requests go exact. @default 4 */
  readonly minRequests?: number;
  /** Largest lease in requests. @default 5000 */
  readonly maxRequests?: number;
  /** A lease ends this long after it was taken at the latest (and always at its minute's end). @default 10000 */
  readonly ttlMs?: number;
}

export interface ResolvedLeaseOptions {
  readonly horizonMs: number;
  readonly fraction: number;
  readonly minRequests: number;
  readonly maxRequests: number;
  readonly ttlMs: number;
}

export function resolveLeaseOptions(o: LeaseOptions = {}): ResolvedLeaseOptions {
  return {
    horizonMs: o.horizonMs ?? 2000,
    fraction: o.fraction ?? 0.1,
    minRequests: o.minRequests ?? 4,
    maxRequests: o.maxRequests ?? 5000,
    ttlMs: o.ttlMs ?? 10_000,
  };
}

type Amounts = { requests: number; tokens: number; nanoUsd: number };

/** One held lease. `H` is the store's handle on the write that holds it. */
export class Lease<H> {
  readonly remaining: Amounts;
  readonly used: Amounts = { requests: 0, tokens: 0, nanoUsd: 0 };
  inFlight = 0;
  ended = false;

  constructor(
    readonly handle: H,
    readonly grant: Need,
    /** The subject's limits when it was taken: a different record voids it. */
    readonly fingerprint: string,
    readonly minute: number,
    readonly endsAt: number,
    /** Which amounts the subject limits: only those bound admission. */
    readonly limited: { readonly requests: boolean; readonly tokens: boolean; readonly nanoUsd: boolean },
  ) {
    this.remaining = { requests: grant.requests, tokens: grant.tokens, nanoUsd: grant.nanoUsd };
  }

  /** Take one request's need, if the lease has room for it in every limited amount. */
  take(need: Need): boolean {
    const r = this.remaining;
    if (this.ended) return false;
    if (r.requests < need.requests) return false; // every lease counts requests (rpm or not)
    if (this.limited.tokens && r.tokens < need.tokens) return false;
    if (this.limited.nanoUsd && r.nanoUsd < need.nanoUsd) return false;
    r.requests -= need.requests;
    r.tokens -= need.tokens;
    r.nanoUsd -= need.nanoUsd;
    this.inFlight++;
    return true;
  }

  /** Settle one request taken from this lease: what it used counts, the rest of its need comes back. */
  give(need: Need, actual: { tokens: number; nanoUsd: number }): void {
    this.used.requests += need.requests;
    this.used.tokens += actual.tokens;
    this.used.nanoUsd += actual.nanoUsd;
    this.remaining.tokens += need.tokens - actual.tokens;
    this.remaining.nanoUsd += need.nanoUsd - actual.nanoUsd;
    this.inFlight--;
  }

  /** Undo a take whose request was refused by another subject: as if it never came. */
  untake(need: Need): void {
    this.remaining.requests += need.requests;
    this.remaining.tokens += need.tokens;
    this.remaining.nanoUsd += need.nanoUsd;
    this.inFlight--;
  }

  /** Share of the grant left in its tightest limited amount (for renewal ahead of time). */
  leftShare(): number {
    const shares = [this.remaining.requests / Math.max(1, this.grant.requests)];
    if (this.limited.tokens && this.grant.tokens > 0) shares.push(this.remaining.tokens / this.grant.tokens);
    if (this.limited.nanoUsd && this.grant.nanoUsd > 0) shares.push(this.remaining.nanoUsd / this.grant.nanoUsd);
    return Math.min(...shares);
  }
}

/** Requests per second of one subject in this process: the busier of this second and the last. */
export class RateTracker {
  private readonly seen = new Map<string, { second: number; count: number; previous: number }>();

  note(subject: string, t: number): void {
    const second = Math.floor(t / 1000);
    const s = this.seen.get(subject);
    if (!s) {
      if (this.seen.size >= 10_000) this.seen.clear();
      this.seen.set(subject, { second, count: 1, previous: 0 });
    } else if (s.second === second) s.count++;
    else {
      s.previous = s.second === second - 1 ? s.count : 0;
      s.second = second;
      s.count = 1;
    }
  }

  perSecond(subject: string, t: number): number {
    const s = this.seen.get(subject);
    if (!s) return 0;
    const second = Math.floor(t / 1000);
    if (s.second === second) return Math.max(s.count, s.previous);
    return s.second === second - 1 ? s.count : 0;
  }
}

/**
 * How many requests' worth to lease, or 0 for exact reservations: the observed rate over the
 * horizon, capped by `fraction` of the room left in every limited window.
 * `room` holds, per limited amount, what is left (limit − counted) and one request's need of it.
 */
export function leaseRequests(ratePerSecond: number, room: readonly { left: number; need: number }[], o: ResolvedLeaseOptions): number {
  if (o.horizonMs <= 0) return 0;
  let n = Math.min(o.maxRequests, Math.ceil((ratePerSecond * o.horizonMs) / 1000));
  for (const r of room) if (r.need > 0) n = Math.min(n, Math.floor((Math.max(0, r.left) * o.fraction) / r.need));
  return n >= o.minRequests ? n : 0;
}
