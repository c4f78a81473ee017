/**
 * Hot-key spreading. One DynamoDB item takes at most 1,000 write units a second (one partition),
 * and every request writes its subject's item twice, so one item tops out at a few hundred
 * requests a second. A subject whose rpm limit allows more than `rpmPerShard` gets its counters
 * spread over several items; each request picks one at random and each item enforces its share
 * of every limit. See README "Limits and budgets" for the accuracy this costs.
 */
import type { Counters } from './policy';
import type { KeyLimits } from '../keys';

/** 100 requests a second per counters item: 2.5-5x below what one item can take. */
export const DEFAULT_RPM_PER_SHARD = 6_000;
export const MAX_SHARDS = 16;

export function shardCount(limits: KeyLimits, rpmPerShard = DEFAULT_RPM_PER_SHARD): number {
  if (!limits.rpm) return 1;
  return Math.min(MAX_SHARDS, Math.max(1, Math.ceil(limits.rpm / rpmPerShard)));
}

/** Each shard's share of the limits (at least 1 request/token, so a shard can always admit something). */
export function shardLimits(limits: KeyLimits, shards: number): KeyLimits {
  if (shards <= 1) return limits;
  const part = (n: number | undefined) => (n ? Math.max(1, Math.floor(n / shards)) : undefined);
  return {
    rpm: part(limits.rpm),
    tpm: part(limits.tpm),
    tokensPerDay: part(limits.tokensPerDay),
    budgetUsd: limits.budgetUsd ? { amount: limits.budgetUsd.amount / shards, period: limits.budgetUsd.period } : undefined,
  };
}

/** One shard's counters scaled to an estimate for the whole subject (for headers and messages). */
export function scaleCounters(c: Counters, shards: number): Counters {
  if (shards <= 1) return c;
  return {
    requestsMinute: c.requestsMinute * shards,
    tokensMinute: c.tokensMinute * shards,
    tokensDay: c.tokensDay * shards,
    costDay: c.costDay * shards,
    costMonth: c.costMonth * shards,
  };
}

export function sumCounters(all: readonly Counters[]): Counters {
  const out = { requestsMinute: 0, tokensMinute: 0, tokensDay: 0, costDay: 0, costMonth: 0 };
  for (const c of all) for (const k of Object.keys(out) as (keyof Counters)[]) out[k] += c[k];
  return out;
}
