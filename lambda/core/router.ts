/**
 * Executes a route: orders its targets (fallback order or weighted random), retries a target
 * with backoff, and moves on when the provider's answer says to (429, 5xx, timeouts, resets).
 * A client error (400) is answered at once. Only the provider's answer triggers a fallback;
 * the gateway's own limits are checked before the router runs.
 */
import type { RetryConfig, TimeoutConfig } from './config';
import type { ResolvedRoute, ResolvedTarget } from './models';
import { UpstreamError } from '../providers/types';
import type { AttemptLog } from './log-record';

export const DEFAULT_RETRY_ON_STATUS = [408, 409, 429, 500, 502, 503, 504, 529];
export const DEFAULT_FIRST_BYTE_TIMEOUT_MS = 120_000;
export const DEFAULT_TOTAL_TIMEOUT_MS = 600_000;

export interface RouterDeps {
  readonly now: () => number;
  readonly random: () => number;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface AttemptContext {
  readonly target: ResolvedTarget;
  readonly signal: AbortSignal;
  readonly timeouts: TimeoutConfig;
}

export interface RouteOutcome<T> {
  readonly value: T;
  readonly target: ResolvedTarget;
}

/** Whether this failure should move on (retry or next target) rather than be answered as is. */
export function isRetryable(err: UpstreamError, retry: RetryConfig): boolean {
  if (err.kind !== 'http') return true; // timeouts, resets, malformed answers, cut streams
  return (retry.onStatus ?? DEFAULT_RETRY_ON_STATUS).includes(err.status ?? 0) || (err.status ?? 0) >= 500;
}

/** Weighted random order without replacement (targets with weight 0 come last, as a last resort). */
export function loadBalanceOrder(targets: readonly ResolvedTarget[], random: () => number): ResolvedTarget[] {
  const pool = targets.filter((t) => t.weight > 0);
  const out: ResolvedTarget[] = [];
  while (pool.length) {
    const total = pool.reduce((s, t) => s + t.weight, 0);
    let r = random() * total;
    let i = 0;
    for (; i < pool.length - 1; i++) {
      r -= pool[i].weight;
      if (r < 0) break;
    }
    out.push(pool.splice(i, 1)[0]);
  }
  return out.concat(targets.filter((t) => t.weight <= 0));
}

export function backoffMs(attempt: number, retry: RetryConfig, random: () => number, retryAfterMs?: number): number {
  const cap = retry.maxBackoffMs ?? 5_000;
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, cap);
  const base = retry.backoffMs ?? 200;
  return Math.min(cap, random() * base * 2 ** attempt); // full jitter
}

export class Router {
  constructor(private readonly deps: RouterDeps) {}

  /**
   * Run `attempt` against the route's targets until one succeeds. `attempt` must throw an
   * UpstreamError for provider failures; anything else propagates at once.
   */
  async execute<T>(
    route: ResolvedRoute,
    clientSignal: AbortSignal,
    attempts: AttemptLog[],
    /** Streams are timed to their first content event; JSON calls to the whole answer. */
    stream: boolean,
    attempt: (ctx: AttemptContext) => Promise<T>,
  ): Promise<RouteOutcome<T>> {
    const order = route.strategy === 'loadbalance' ? loadBalanceOrder(route.targets, this.deps.random) : [...route.targets];
    const tries = Math.max(1, route.retry.attempts ?? 1);
    let last: UpstreamError | undefined;
    for (const target of order) {
      for (let i = 0; i < tries; i++) {
        if (clientSignal.aborted) throw new UpstreamError('timeout', 'client went away', 499, 'client_cancelled');
        const controller = new AbortController();
        const onClientAbort = () => controller.abort(new UpstreamError('timeout', 'client went away', 499, 'client_cancelled'));
        clientSignal.addEventListener('abort', onClientAbort, { once: true });
        const timeouts = target.timeouts;
        const limitMs = stream ? (timeouts.firstByteMs ?? DEFAULT_FIRST_BYTE_TIMEOUT_MS) : (timeouts.totalMs ?? DEFAULT_TOTAL_TIMEOUT_MS);
        const timer = setTimeout(
          () => controller.abort(new UpstreamError('timeout', `${target.provider.name} did not answer within ${limitMs} ms`, 504, 'upstream_timeout')),
          limitMs,
        );
        const started = this.deps.now();
        try {
          const value = await attempt({ target, signal: controller.signal, timeouts });
          attempts.push({ provider: target.provider.name, model: target.model, status: 200, latency_ms: this.deps.now() - started });
          return { value, target };
        } catch (err) {
          if (!(err instanceof UpstreamError)) throw err;
          last = err;
          attempts.push({
            provider: target.provider.name,
            model: target.model,
            status: err.status ?? null,
            latency_ms: this.deps.now() - started,
            error: `${err.kind}: ${err.message}`.slice(0, 500),
          });
          if (err.upstreamCode === 'client_cancelled' || clientSignal.aborted) throw err;
          if (!isRetryable(err, route.retry)) throw err;
          if (i < tries - 1) await this.deps.sleep(backoffMs(i, route.retry, this.deps.random, err.retryAfterMs), clientSignal);
        } finally {
          clearTimeout(timer);
          clientSignal.removeEventListener('abort', onClientAbort);
        }
      }
    }
    throw last ?? new UpstreamError('http', 'no target could serve the request', 502, 'no_targets');
  }
}

export function realSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}
