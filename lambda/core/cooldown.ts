/**
 * Per-process cooldowns: a target that fails `failures` times in a row is skipped for
 * `cooldownMs`, then tried again. State lives in memory on purpose: each Lambda instance learns
 * on its own within a few requests, and a shared store would put a network round trip (and a
 * new failure mode) in front of every call.
 */
import type { CooldownConfig } from './config';

interface TargetHealth {
  consecutiveFailures: number;
  coolingUntil: number;
}

/** Bound on tracked targets, so direct `provider/model` requests cannot grow the map without limit. */
const MAX_TRACKED = 10_000;

export class CooldownTracker {
  private readonly health = new Map<string, TargetHealth>();

  constructor(private readonly now: () => number) {}

  /** When the target's cooldown ends (ms epoch), or undefined when it may be tried now. */
  coolingUntil(targetId: string): number | undefined {
    const h = this.health.get(targetId);
    return h && h.coolingUntil > this.now() ? h.coolingUntil : undefined;
  }

  /** A failure that says the target is unwell (not the client's fault, not a cancel). Returns true when it starts a cooldown. */
  recordFailure(targetId: string, policy: Required<CooldownConfig>): boolean {
    if (policy.failures <= 0) return false;
    let h = this.health.get(targetId);
    if (!h) {
      if (this.health.size >= MAX_TRACKED) this.health.delete(this.health.keys().next().value as string);
      h = { consecutiveFailures: 0, coolingUntil: 0 };
      this.health.set(targetId, h);
    }
    h.consecutiveFailures++;
    if (h.consecutiveFailures < policy.failures) return false;
    h.consecutiveFailures = 0;
    h.coolingUntil = this.now() + policy.cooldownMs;
    return true;
  }

  recordSuccess(targetId: string): void {
    this.health.delete(targetId);
  }
}
