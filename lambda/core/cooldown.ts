/**
 * Per-process cooldowns: a target that fails `failures` times in a row is skipped for
 * `cooldownMs`, then tried again. State lives in memory on purpose: each Lambda instance learns
 * on its own within a few requests, and a shared store would put a network round trip (and a
 * new failure mode) in front of every call.
 *
 * After a cooldown the next call is a probe: if it fails, the target cools again at once, for
 * twice as long each time (up to MAX_COOLDOWN_MS), instead of taking `failures` more client
 * requests down with it; a success forgets the history. A provider's Retry-After is a floor on
 * the cooldown's length, and one longer than the router is willing to wait starts the cooldown
 * at once: the provider has said when it will serve again.
 *
 * The probe is exclusive (a circuit breaker's half-open state): while one request is probing a
 * target whose cooldown has ended, others treat it as still cooling, so a recovering provider gets
 * one request, not every request that arrived meanwhile. The probe's verdict (success, failure, or
 * none: a cancel, a client error) ends it; a probe that never reports lets go after PROBE_LEASE_MS.
 */
import type { CooldownConfig } from './config';

interface TargetHealth {
  consecutiveFailures: number;
  coolingUntil: number;
  /** Cooldowns since the last success: the next one lasts cooldownMs × 2^strikes. */
  strikes: number;
  /** While a probe is in flight: when its lease runs out (ms epoch); 0 when none is. */
  probeUntil: number;
}

/** Longest cooldown, however often a target fails or whatever Retry-After it sends. */
export const MAX_COOLDOWN_MS = 300_000;

export interface FailureHints {
  /** The provider's Retry-After, in ms. */
  readonly retryAfterMs?: number;
  /** Start a cooldown now (the router will not wait as long as the provider asked). */
  readonly coolNow?: boolean;
}

/** How long one probe keeps others off a target whose cooldown has ended, if it never reports. */
export const PROBE_LEASE_MS = 30_000;

/** Bound on tracked targets, so direct `provider/model` requests cannot grow the map without limit. */
const MAX_TRACKED = 10_000;

export class CooldownTracker {
  private readonly health = new Map<string, TargetHealth>();

  constructor(private readonly now: () => number) {}

  /** When the target may be tried again (ms epoch): its cooldown's end, or its probe's lease; undefined when it may be tried now. */
  coolingUntil(targetId: string): number | undefined {
    const h = this.health.get(targetId);
    if (!h) return undefined;
    const now = this.now();
    if (h.coolingUntil > now) return h.coolingUntil;
    return h.probeUntil > now ? h.probeUntil : undefined;
  }

  /** Whether another request is probing the target right now. */
  probing(targetId: string): boolean {
    const h = this.health.get(targetId);
    return h !== undefined && h.coolingUntil <= this.now() && h.probeUntil > this.now();
  }

  /**
   * Called right before a call to the target. True when this call is the probe after a cooldown:
   * the caller then ends it with recordSuccess, recordFailure or endProbe.
   */
  startProbe(targetId: string): boolean {
    const h = this.health.get(targetId);
    const now = this.now();
    if (!h || h.strikes === 0 || h.coolingUntil > now || h.probeUntil > now) return false;
    h.probeUntil = now + PROBE_LEASE_MS;
    return true;
  }

  /** The probe ended without a verdict on the target's health (a cancel, a client error): the next call probes. */
  endProbe(targetId: string): void {
    const h = this.health.get(targetId);
    if (h) h.probeUntil = 0;
  }

  /** A failure that says the target is unwell (not the client's fault, not a cancel). Returns true when it starts a cooldown. */
  recordFailure(targetId: string, policy: Required<CooldownConfig>, hints: FailureHints = {}): boolean {
    if (policy.failures <= 0) return false;
    let h = this.health.get(targetId);
    if (!h) {
      if (this.health.size >= MAX_TRACKED) this.health.delete(this.health.keys().next().value as string);
      h = { consecutiveFailures: 0, coolingUntil: 0, strikes: 0, probeUntil: 0 };
      this.health.set(targetId, h);
    }
    const now = this.now();
    h.probeUntil = 0;
    h.consecutiveFailures++;
    const failedProbe = h.strikes > 0 && h.coolingUntil <= now;
    if (h.consecutiveFailures < policy.failures && !failedProbe && !hints.coolNow) return false;
    const backedOff = Math.min(policy.cooldownMs * 2 ** h.strikes, MAX_COOLDOWN_MS);
    const asked = Math.min(hints.retryAfterMs ?? 0, MAX_COOLDOWN_MS);
    h.consecutiveFailures = 0;
    h.strikes++;
    h.coolingUntil = Math.max(h.coolingUntil, now + Math.max(backedOff, asked));
    return true;
  }

  recordSuccess(targetId: string): void {
    this.health.delete(targetId);
  }
}
