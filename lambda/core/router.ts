/**
 * Executes a route: orders its targets (fallback order, weighted random, or groups of both),
 * skips targets in cooldown, retries a target with backoff, and moves on when the provider's
 * answer says to (429, 5xx, timeouts, resets, malformed or cut answers). A client error (400) is
 * answered at once. Only the provider's answer triggers a fallback: the gateway's own limits are
 * checked before the router runs.
 */
import type { RetryConfig, TimeoutConfig } from './config';
import type { CooldownTracker } from './cooldown';
import { requestEndedBy } from './errors';
import type { AttemptLog } from './log-record';
import { type ResolvedGroup, type ResolvedRoute, type ResolvedTarget, isGroup } from './models';
import { UpstreamError } from './provider';

export const DEFAULT_RETRY_ON_STATUS = [408, 409, 429, 500, 502, 503, 504, 529];
export const DEFAULT_FIRST_BYTE_TIMEOUT_MS = 120_000;
export const DEFAULT_TOTAL_TIMEOUT_MS = 600_000;
/** Whole-route budget: below API Gateway's 5-minute idle cut, so the client gets our error, not a dropped connection. */
export const DEFAULT_ROUTE_BUDGET_MS = 290_000;
export const DEFAULT_BACKOFF_MS = 200;
export const DEFAULT_MAX_BACKOFF_MS = 5_000;

export interface RouterDeps {
  readonly now: () => number;
  readonly random: () => number;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Per-process target health; without it nothing is ever skipped. */
  readonly cooldowns?: CooldownTracker;
  /**
   * Drop the target's cached provider credential after the provider rejected it (401/403).
   * Returns whether a retry can use a fresh credential (false: the target has none).
   */
  readonly refreshCredential?: (target: ResolvedTarget) => boolean | Promise<boolean>;
}

export interface AttemptContext {
  readonly target: ResolvedTarget;
  readonly signal: AbortSignal;
  readonly timeouts: TimeoutConfig;
  /** The upstream's response headers arrived: stops a JSON call's first-byte timer. */
  readonly firstByte: () => void;
}

export interface RouteOutcome<T> {
  readonly value: T;
  readonly target: ResolvedTarget;
  /** Aborts the committed upstream call (a stream's idle limit, its maximum duration, a client gone). */
  readonly abort: (reason?: unknown) => void;
}

const budgetSpent = (route: ResolvedRoute) =>
  new UpstreamError(
    'timeout',
    `route '${route.name}' used up its time budget of ${route.timeouts.routeMs ?? DEFAULT_ROUTE_BUDGET_MS} ms`,
    504,
    'upstream_timeout',
  );
/**
 * The request ended while the route ran: the client went away (499), or the transport's own
 * deadline came (the Lambda adapter's gateway timeout, which keeps its code to the log).
 */
const requestEnded = (signal: AbortSignal) => {
  const why = requestEndedBy(signal);
  return why.code === 'client_cancelled'
    ? new UpstreamError('timeout', 'client went away', 499, 'client_cancelled')
    : new UpstreamError('timeout', why.message, why.status, why.code);
};

/** An upstream 401/403: the gateway's provider credential was rejected. */
export const isAuthFailure = (err: UpstreamError) => err.kind === 'http' && (err.status === 401 || err.status === 403);

/** Whether this failure should move on (retry or next target) rather than be answered as is. */
export function isRetryable(err: UpstreamError, retry: RetryConfig): boolean {
  if (err.kind !== 'http') return true; // timeouts, resets, malformed answers, in-band errors, cut streams
  return (retry.onStatus ?? DEFAULT_RETRY_ON_STATUS).includes(err.status ?? 0) || (err.status ?? 0) >= 500;
}

/** Weighted random order without replacement (weight 0 comes last, as a last resort). */
export function loadBalanceOrder<T extends { readonly weight: number }>(items: readonly T[], random: () => number): T[] {
  const pool = items.filter((t) => t.weight > 0);
  const out: T[] = [];
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
  return out.concat(items.filter((t) => t.weight <= 0));
}

/** The order this request tries the route's targets in: groups are expanded where they stand. */
export function orderTargets(group: ResolvedGroup, random: () => number): ResolvedTarget[] {
  const members = group.strategy === 'loadbalance' ? loadBalanceOrder(group.members, random) : group.members;
  return members.flatMap((m) => (isGroup(m) ? orderTargets(m, random) : [m]));
}

export function backoffMs(attempt: number, retry: RetryConfig, random: () => number, retryAfterMs?: number): number {
  const cap = retry.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, cap);
  const base = retry.backoffMs ?? DEFAULT_BACKOFF_MS;
  return Math.min(cap, random() * base * 2 ** attempt); // full jitter
}

function attemptLog(target: ResolvedTarget, status: number | null, latency: number, error?: string): AttemptLog {
  return { provider: target.provider.name, model: target.model, status, latency_ms: latency, ...(error ? { error: error.slice(0, 500) } : {}) };
}

/** How the attempts log marks a target passed over. */
export const SKIPPED_PREFIX = 'skipped: ';

/** What the router did that the request's metrics count, recorded by the router as it does it. */
export interface RouteEvents {
  /** A target other than the first one tried (or passed over) was tried, passed over or served. */
  fellBack: boolean;
  /** A target was passed over because it was cooling down, or another request was probing it. */
  skippedCooling: boolean;
}

/** The attempts log of one execution, noting in `events` what the metrics count as each entry is made. */
function attemptRecorder(attempts: AttemptLog[], events: RouteEvents | undefined) {
  let first: ResolvedTarget | undefined;
  return (target: ResolvedTarget, entry: AttemptLog, skipped = false) => {
    attempts.push(entry);
    if (!events) return;
    first ??= target;
    // Retries of one target are not fallbacks; another target (by provider and model) is.
    if (target.provider.name !== first.provider.name || target.model !== first.model) events.fellBack = true;
    if (skipped) events.skippedCooling = true;
  };
}

/** The attempts-log entry of a target skipped because it is cooling down, or because another request is probing it. */
function skippedLog(target: ResolvedTarget, cooldowns: CooldownTracker, now: number): AttemptLog {
  const why = cooldowns.probing(target.id)
    ? 'another request is probing it after its cooldown'
    : `cooling down for another ${cooldowns.coolingUntil(target.id)! - now} ms`;
  return attemptLog(target, null, 0, SKIPPED_PREFIX + why);
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
    /** Streams are timed to their first content event; JSON calls to their headers and whole answer. */
    stream: boolean,
    attempt: (ctx: AttemptContext) => Promise<T>,
    /** Told of every failed attempt (the caller charges what a provider may bill for it). */
    onAttemptFailed?: (target: ResolvedTarget, err: UpstreamError) => void,
    /** Where fallbacks and cooldown skips are noted as they happen (the request's metrics). */
    events?: RouteEvents,
  ): Promise<RouteOutcome<T>> {
    const log = attemptRecorder(attempts, events);
    const tries = Math.max(1, route.retry.attempts ?? 1);
    const maxWait = route.retry.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
    const cooldowns = this.deps.cooldowns;
    const deadline = this.deps.now() + (route.timeouts.routeMs ?? DEFAULT_ROUTE_BUDGET_MS);
    let last: UpstreamError | undefined;
    const candidates = this.withoutCoolingTargets(orderTargets(route.plan, this.deps.random), log);
    // Every target was cooling, so all are tried anyway (never fail without a single upstream call).
    const forced = cooldowns !== undefined && candidates.length > 0 && cooldowns.coolingUntil(candidates[0].id) !== undefined;
    for (const target of candidates) {
      // While earlier targets were tried, another request may have started probing this one.
      if (cooldowns && !forced && target !== candidates[0] && cooldowns.coolingUntil(target.id) !== undefined) {
        log(target, skippedLog(target, cooldowns, this.deps.now()), true);
        continue;
      }
      // The first call after a cooldown is the probe; others skip the target until it reports.
      const probe = cooldowns?.startProbe(target.id) ?? false;
      let credentialRefreshed = false;
      try {
        for (let i = 0; i < tries; ) {
          if (clientSignal.aborted) throw requestEnded(clientSignal);
          const started = this.deps.now();
          if (started >= deadline) throw last ?? budgetSpent(route);
          try {
            const { value, abort } = await this.attemptOnce(target, stream, clientSignal, attempt, deadline - started);
            log(target, attemptLog(target, 200, this.deps.now() - started));
            cooldowns?.recordSuccess(target.id);
            return { value, target, abort };
          } catch (err) {
            if (!(err instanceof UpstreamError)) throw err;
            log(target, attemptLog(target, err.status ?? null, this.deps.now() - started, `${err.kind}: ${err.message}`));
            onAttemptFailed?.(target, err);
            if (err.upstreamCode === 'client_cancelled' || clientSignal.aborted) throw err;
            last = err;
            if (isAuthFailure(err)) {
              // A rotated provider key: read the secret again and retry once; then move on.
              if (!credentialRefreshed && (await this.deps.refreshCredential?.(target))) {
                credentialRefreshed = true;
                continue;
              }
              cooldowns?.recordFailure(target.id, route.cooldown);
              break;
            }
            if (!isRetryable(err, route.retry)) throw err;
            // The provider asked for longer than we are willing to wait: another target may serve
            // now, and later requests should not knock on this one before it said it would serve.
            const waitTooLong = err.retryAfterMs !== undefined && err.retryAfterMs > maxWait;
            cooldowns?.recordFailure(target.id, route.cooldown, { retryAfterMs: err.retryAfterMs, coolNow: waitTooLong });
            i++;
            if (i >= tries || waitTooLong || cooldowns?.coolingUntil(target.id) !== undefined) break;
            await this.deps.sleep(Math.min(backoffMs(i - 1, route.retry, this.deps.random, err.retryAfterMs), deadline - this.deps.now()), clientSignal);
          }
        }
      } finally {
        // A verdict (success, failure) already ended the probe; a cancel or a client error did not.
        if (probe) cooldowns!.endProbe(target.id);
      }
    }
    throw last ?? new UpstreamError('http', 'no target could serve the request', 502, 'no_targets');
  }

  /**
   * Drop targets in cooldown (noting each skip in the attempts log). When every target is
   * cooling, try them all anyway, soonest-recovering first: a request is never failed without a
   * single upstream call.
   */
  private withoutCoolingTargets(order: ResolvedTarget[], log: ReturnType<typeof attemptRecorder>): ResolvedTarget[] {
    const cooldowns = this.deps.cooldowns;
    // The common case, on every request: nothing is cooling, and nothing needs building.
    if (!cooldowns || order.every((t) => cooldowns.coolingUntil(t.id) === undefined)) return order;
    const until = new Map(order.map((t) => [t, cooldowns.coolingUntil(t.id)]));
    const ready = order.filter((t) => until.get(t) === undefined);
    if (!ready.length) return [...order].sort((a, b) => until.get(a)! - until.get(b)!);
    const now = this.deps.now();
    for (const t of order) if (until.get(t) !== undefined) log(t, skippedLog(t, cooldowns, now), true);
    return ready;
  }

  /**
   * One call to one target under its timeouts. The attempt races its own abort signal, so a
   * provider that ignores the signal still cannot hold the client past the timeout. Built by hand
   * rather than with Promise.race over an "aborted" promise: this runs on every request, and the
   * race's extra promises, listener and second timer were a measurable share of what each request
   * allocated (bench/).
   */
  private attemptOnce<T>(
    target: ResolvedTarget,
    stream: boolean,
    clientSignal: AbortSignal,
    attempt: (ctx: AttemptContext) => Promise<T>,
    /** What is left of the route's budget. */
    budgetMs: number,
  ): Promise<{ value: T; abort: (reason?: unknown) => void }> {
    const controller = new AbortController();
    const abort = (reason?: unknown) => controller.abort(reason);
    const onClientAbort = () => controller.abort(requestEnded(clientSignal));
    clientSignal.addEventListener('abort', onClientAbort, { once: true });
    const { timeouts } = target;
    const name = target.provider.name;
    const timedOut = (what: string) => controller.abort(new UpstreamError('timeout', `${name} ${what}`, 504, 'upstream_timeout'));
    // The whole answer: a JSON call's total timeout or the route's remaining budget, whichever ends
    // first (one timer for both). Streams: the budget until committed; their idle limits come later.
    const totalMs = stream ? undefined : (timeouts.totalMs ?? DEFAULT_TOTAL_TIMEOUT_MS);
    const answerTimer =
      totalMs !== undefined && totalMs <= budgetMs
        ? setTimeout(() => timedOut(`did not answer within ${totalMs} ms`), totalMs)
        : setTimeout(() => timedOut(`did not answer before the route's time budget ran out (${Math.round(budgetMs)} ms left)`), budgetMs);
    // Streams: until the first content event. JSON: until the headers (only when configured).
    const firstByteMs = stream ? (timeouts.firstByteMs ?? DEFAULT_FIRST_BYTE_TIMEOUT_MS) : timeouts.firstByteMs;
    let firstByteTimer =
      firstByteMs === undefined
        ? undefined
        : setTimeout(() => timedOut(`${stream ? 'sent no content' : 'sent no response headers'} within ${firstByteMs} ms`), firstByteMs);
    const firstByte = () => {
      if (stream) return;
      clearTimeout(firstByteTimer);
      firstByteTimer = undefined;
    };
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = () => {
        settled = true;
        clearTimeout(answerTimer);
        clearTimeout(firstByteTimer);
        controller.signal.removeEventListener('abort', onAbort);
      };
      const fail = (err: unknown) => {
        if (settled) return;
        settle();
        controller.abort(err); // never leave a failed attempt's socket open
        clientSignal.removeEventListener('abort', onClientAbort);
        reject(err);
      };
      // A timeout or the client leaving ends the attempt now, whatever the provider does.
      const onAbort = () => fail(controller.signal.reason);
      controller.signal.addEventListener('abort', onAbort, { once: true });
      let call: Promise<T>;
      try {
        call = attempt({ target, signal: controller.signal, timeouts, firstByte });
      } catch (err) {
        return fail(err);
      }
      call.then((value) => {
        if (settled) return;
        settle();
        // The client listener stays: a client leaving mid-stream still aborts the committed call.
        resolve({ value, abort });
      }, fail);
    });
  }
}

export function realSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}
