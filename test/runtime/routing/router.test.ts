/**
 * The router on its own, with a seeded PRNG and an injected clock: weighted load balancing
 * (statistically), groups, cooldowns, retry/backoff decisions and timeouts.
 */
import { CooldownTracker, MAX_COOLDOWN_MS, PROBE_LEASE_MS } from '../../../lambda/core/cooldown';
import type { AttemptLog } from '../../../lambda/core/log-record';
import { ModelCatalog, type ResolvedRoute, type ResolvedTarget } from '../../../lambda/core/models';
import { type AttemptContext, Router, backoffMs, loadBalanceOrder, orderTargets } from '../../../lambda/core/router';
import type { GatewayConfig, ModelRoute } from '../../../lambda/core/config';
import { UpstreamError } from '../../../lambda/providers/types';
import { seededRandom } from './harness';

const providers: GatewayConfig['providers'] = { a: { type: 'mock' }, b: { type: 'mock' }, c: { type: 'mock' } };
const routeOf = (route: ModelRoute, settings: GatewayConfig['settings'] = {}): ResolvedRoute =>
  new ModelCatalog({ providers, models: { r: route }, settings }).route('r');

function fakeClock(start = 1_000_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

function routerWith(opts: { random?: () => number; now?: () => number; cooldowns?: CooldownTracker; sleeps?: number[] } = {}) {
  return new Router({
    now: opts.now ?? (() => 0),
    random: opts.random ?? seededRandom(1),
    sleep: async (ms) => void opts.sleeps?.push(ms),
    cooldowns: opts.cooldowns,
  });
}

/** An attempt function scripted per target id: 'ok' or an error to throw. */
function scripted(script: Record<string, 'ok' | UpstreamError>, calls: string[] = []) {
  return async ({ target }: AttemptContext) => {
    calls.push(target.id);
    const outcome = script[target.id] ?? 'ok';
    if (outcome !== 'ok') throw outcome;
    return target.id;
  };
}

const http = (status: number, retryAfterMs?: number) => new UpstreamError('http', `HTTP ${status}`, status, undefined, retryAfterMs);
const signal = () => new AbortController().signal;

describe('load balancing', () => {
  /** Stated tolerance: ±2 percentage points over 10,000 draws (binomial σ is at most 0.5 pp, so this is 4σ). */
  const DRAWS = 10_000;
  const TOLERANCE = 0.02;

  test('requests follow the weights (1:3:6) within ±2 pp over 10,000 requests, seed 42', async () => {
    const route = routeOf({
      strategy: 'loadbalance',
      targets: [
        { provider: 'a', model: 'm', weight: 1 },
        { provider: 'b', model: 'm', weight: 3 },
        { provider: 'c', model: 'm', weight: 6 },
      ],
    });
    const router = routerWith({ random: seededRandom(42) });
    const served: Record<string, number> = {};
    for (let i = 0; i < DRAWS; i++) {
      const out = await router.execute(route, signal(), [], false, scripted({}));
      served[out.value] = (served[out.value] ?? 0) + 1;
    }
    expect(Math.abs(served['a/m'] / DRAWS - 0.1)).toBeLessThan(TOLERANCE);
    expect(Math.abs(served['b/m'] / DRAWS - 0.3)).toBeLessThan(TOLERANCE);
    expect(Math.abs(served['c/m'] / DRAWS - 0.6)).toBeLessThan(TOLERANCE);
  });

  test('when the picked target fails, the others are tried in weighted order; weight 0 is only a last resort', () => {
    const random = seededRandom(7);
    const items = [
      { id: 'x', weight: 1 },
      { id: 'y', weight: 1 },
      { id: 'z', weight: 0 },
    ];
    const seconds: Record<string, number> = { x: 0, y: 0, z: 0 };
    for (let i = 0; i < DRAWS; i++) {
      const order = loadBalanceOrder(items, random).map((t) => t.id);
      expect(order).toHaveLength(3);
      expect(order[2]).toBe('z');
      seconds[order[1]]++;
    }
    expect(Math.abs(seconds.x / DRAWS - 0.5)).toBeLessThan(TOLERANCE);
  });

  test('a load-balanced group as the first fallback target: spread inside the group, the fallback only after both fail', async () => {
    const route = routeOf({
      targets: [
        {
          strategy: 'loadbalance',
          targets: [
            { provider: 'a', model: 'm' },
            { provider: 'b', model: 'm', weight: 3 },
          ],
        },
        { provider: 'c', model: 'm' },
      ],
    });
    const router = routerWith({ random: seededRandom(3) });
    let b = 0;
    const random = seededRandom(3);
    for (let i = 0; i < DRAWS; i++) {
      const order = orderTargets(route.plan, random).map((t) => t.id);
      expect(order[2]).toBe('c/m');
      if (order[0] === 'b/m') b++;
    }
    expect(Math.abs(b / DRAWS - 0.75)).toBeLessThan(TOLERANCE);

    const calls: string[] = [];
    const out = await router.execute(route, signal(), [], false, scripted({ 'a/m': http(503), 'b/m': http(500) }, calls));
    expect(out.value).toBe('c/m');
    expect(calls.slice(0, 2).sort()).toEqual(['a/m', 'b/m']);
    expect(route.targets.map((t) => t.id)).toEqual(['a/m', 'b/m', 'c/m']); // flattened in config order
  });
});

describe('cooldowns (injected clock)', () => {
  const route = routeOf({
    targets: [
      { provider: 'a', model: 'm' },
      { provider: 'b', model: 'm' },
    ],
    cooldown: { failures: 3, cooldownMs: 30_000 },
  });

  test('after 3 consecutive failures the target is skipped; after the cooldown it is tried again', async () => {
    const clock = fakeClock();
    const router = routerWith({ now: clock.now, cooldowns: new CooldownTracker(clock.now) });
    const calls: string[] = [];
    const failingA = scripted({ 'a/m': http(503) }, calls);
    for (let i = 0; i < 3; i++) await router.execute(route, signal(), [], false, failingA);
    expect(calls.filter((c) => c === 'a/m')).toHaveLength(3);

    calls.length = 0;
    const log: AttemptLog[] = [];
    clock.advance(29_999);
    expect((await router.execute(route, signal(), log, false, failingA)).value).toBe('b/m');
    expect(calls).toEqual(['b/m']);
    expect(log[0]).toMatchObject({ provider: 'a', status: null, error: 'skipped: cooling down for another 1 ms' });

    calls.length = 0;
    clock.advance(1);
    expect((await router.execute(route, signal(), [], false, scripted({}, calls))).value).toBe('a/m');
    expect(calls).toEqual(['a/m']);
  });

  test('a success resets the count: failures must be consecutive', async () => {
    const clock = fakeClock();
    const router = routerWith({ now: clock.now, cooldowns: new CooldownTracker(clock.now) });
    const calls: string[] = [];
    for (const outcome of [http(503), http(503), 'ok' as const, http(503), http(503)]) {
      await router.execute(route, signal(), [], false, scripted({ 'a/m': outcome }));
    }
    await router.execute(route, signal(), [], false, scripted({}, calls));
    expect(calls).toEqual(['a/m']);
  });

  test("client errors don't count; when every target is cooling they are all tried anyway", async () => {
    const clock = fakeClock();
    const cooldowns = new CooldownTracker(clock.now);
    const router = routerWith({ now: clock.now, cooldowns });
    for (let i = 0; i < 5; i++) await expect(router.execute(route, signal(), [], false, scripted({ 'a/m': http(400) }))).rejects.toThrow('HTTP 400');
    expect(cooldowns.coolingUntil('a/m')).toBeUndefined();

    const both = scripted({ 'a/m': http(503), 'b/m': http(503) });
    for (let i = 0; i < 3; i++) await expect(router.execute(route, signal(), [], false, both)).rejects.toThrow('HTTP 503');
    expect(cooldowns.coolingUntil('a/m')).toBeDefined();
    expect(cooldowns.coolingUntil('b/m')).toBeDefined();
    const calls: string[] = [];
    expect((await router.execute(route, signal(), [], false, scripted({}, calls))).value).toBe('a/m');
    expect(calls).toEqual(['a/m']);
  });

  test('a failed probe after a cooldown cools the target again at once, twice as long each time (capped); a success forgets', async () => {
    const clock = fakeClock();
    const cooldowns = new CooldownTracker(clock.now);
    const router = routerWith({ now: clock.now, cooldowns });
    const failingA = scripted({ 'a/m': http(503) });
    for (let i = 0; i < 3; i++) await router.execute(route, signal(), [], false, failingA);
    expect(cooldowns.coolingUntil('a/m')).toBe(clock.now() + 30_000);
    // Each probe that fails: one failure is enough, and the cooldown doubles.
    for (const expected of [60_000, 120_000, 240_000, MAX_COOLDOWN_MS, MAX_COOLDOWN_MS]) {
      clock.advance(cooldowns.coolingUntil('a/m')! - clock.now());
      const calls: string[] = [];
      expect((await router.execute(route, signal(), [], false, scripted({ 'a/m': http(503) }, calls))).value).toBe('b/m');
      expect(calls).toEqual(['a/m', 'b/m']);
      expect(cooldowns.coolingUntil('a/m')).toBe(clock.now() + expected);
    }
    // A probe that succeeds forgets the history: three failures in a row again, for the base length.
    clock.advance(MAX_COOLDOWN_MS);
    await router.execute(route, signal(), [], false, scripted({}));
    for (let i = 0; i < 2; i++) await router.execute(route, signal(), [], false, failingA);
    expect(cooldowns.coolingUntil('a/m')).toBeUndefined();
    await router.execute(route, signal(), [], false, failingA);
    expect(cooldowns.coolingUntil('a/m')).toBe(clock.now() + 30_000);
  });

  test("a provider's Retry-After sets the cooldown's least length, and one longer than the router will wait cools the target at once", async () => {
    const clock = fakeClock();
    const cooldowns = new CooldownTracker(clock.now);
    const router = routerWith({ now: clock.now, cooldowns });
    // Retry-After 90 s (over the 5 s the router waits): one 429 is enough, and it lasts 90 s, not 30.
    const calls: string[] = [];
    expect((await router.execute(route, signal(), [], false, scripted({ 'a/m': http(429, 90_000) }, calls))).value).toBe('b/m');
    expect(calls).toEqual(['a/m', 'b/m']);
    expect(cooldowns.coolingUntil('a/m')).toBe(clock.now() + 90_000);
    // A Retry-After the router waits for does not cool by itself, but lengthens the cooldown it joins.
    const other = new CooldownTracker(clock.now);
    const r2 = routerWith({ now: clock.now, cooldowns: other });
    for (let i = 0; i < 2; i++) await r2.execute(route, signal(), [], false, scripted({ 'a/m': http(429, 2_000) }));
    expect(other.coolingUntil('a/m')).toBeUndefined();
    other.recordFailure('a/m', { failures: 3, cooldownMs: 1_000 }, { retryAfterMs: 45_000 });
    expect(other.coolingUntil('a/m')).toBe(clock.now() + 45_000);
    // Never longer than MAX_COOLDOWN_MS, whatever the provider says.
    const third = new CooldownTracker(clock.now);
    third.recordFailure('a/m', { failures: 3, cooldownMs: 1_000 }, { retryAfterMs: 24 * 3600_000, coolNow: true });
    expect(third.coolingUntil('a/m')).toBe(clock.now() + MAX_COOLDOWN_MS);
  });

  describe('the probe after a cooldown is exclusive', () => {
    /** Cool 'a/m' down, then let the cooldown end. */
    async function cooledThenDue(clock: ReturnType<typeof fakeClock>, cooldowns: CooldownTracker, router: Router) {
      for (let i = 0; i < 3; i++) await router.execute(route, signal(), [], false, scripted({ 'a/m': http(503) }));
      clock.advance(cooldowns.coolingUntil('a/m')! - clock.now());
    }
    /** An attempt function whose call to `heldId` hangs until the test settles it. */
    function heldAt(calls: string[], heldId = 'a/m') {
      let settle!: { ok: () => void; fail: (e: unknown) => void };
      const held = new Promise<void>((ok, fail) => (settle = { ok, fail }));
      const fn = async ({ target }: AttemptContext) => {
        calls.push(target.id);
        if (target.id === heldId) await held;
        return target.id;
      };
      return { fn, settle: () => settle };
    }

    test('while one request probes, the others go to the next target; the probe succeeding opens the target to all', async () => {
      const clock = fakeClock();
      const cooldowns = new CooldownTracker(clock.now);
      const router = routerWith({ now: clock.now, cooldowns });
      await cooledThenDue(clock, cooldowns, router);
      const calls: string[] = [];
      const probe = heldAt(calls);
      const probing = router.execute(route, signal(), [], false, probe.fn);
      expect(calls).toEqual(['a/m']);
      expect(cooldowns.probing('a/m')).toBe(true);
      for (let i = 0; i < 3; i++) {
        const log: AttemptLog[] = [];
        expect((await router.execute(route, signal(), log, false, scripted({}, calls))).value).toBe('b/m');
        expect(log[0]).toMatchObject({ provider: 'a', status: null, error: 'skipped: another request is probing it after its cooldown' });
      }
      expect(calls).toEqual(['a/m', 'b/m', 'b/m', 'b/m']);
      probe.settle().ok();
      expect((await probing).value).toBe('a/m');
      expect(cooldowns.probing('a/m')).toBe(false);
      expect((await router.execute(route, signal(), [], false, scripted({}))).value).toBe('a/m');
    });

    test('a probe that fails cools the target again; one cancelled by its client lets the next request probe', async () => {
      const clock = fakeClock();
      const cooldowns = new CooldownTracker(clock.now);
      const router = routerWith({ now: clock.now, cooldowns });
      await cooledThenDue(clock, cooldowns, router);
      const client = new AbortController();
      const probe = heldAt([]);
      const probing = router.execute(route, client.signal, [], false, probe.fn);
      expect(cooldowns.probing('a/m')).toBe(true);
      client.abort();
      await expect(probing).rejects.toMatchObject({ upstreamCode: 'client_cancelled' });
      // No verdict on the target: it is due again, and the next request is its probe.
      expect(cooldowns.coolingUntil('a/m')).toBeUndefined();
      const calls: string[] = [];
      expect((await router.execute(route, signal(), [], false, scripted({ 'a/m': http(503) }, calls))).value).toBe('b/m');
      expect(calls).toEqual(['a/m', 'b/m']);
      expect(cooldowns.coolingUntil('a/m')).toBe(clock.now() + 60_000);
      expect(cooldowns.probing('a/m')).toBe(false);
    });

    test('a probe that never reports lets go after its lease; a one-target route is still tried while probed', async () => {
      const clock = fakeClock();
      const cooldowns = new CooldownTracker(clock.now);
      const router = routerWith({ now: clock.now, cooldowns });
      await cooledThenDue(clock, cooldowns, router);
      const probe = heldAt([]);
      // The probe never reports; its caller leaves at the end, so its attempt's timers end with the test.
      const probeCaller = new AbortController();
      void router.execute(route, probeCaller.signal, [], false, probe.fn).catch(() => undefined);
      expect(cooldowns.coolingUntil('a/m')).toBe(clock.now() + PROBE_LEASE_MS);
      clock.advance(PROBE_LEASE_MS);
      const calls: string[] = [];
      expect((await router.execute(route, signal(), [], false, scripted({}, calls))).value).toBe('a/m');
      expect(calls).toEqual(['a/m']);

      const only = routeOf({ targets: [{ provider: 'c', model: 'm' }], cooldown: { failures: 1, cooldownMs: 1_000 } });
      await router.execute(only, signal(), [], false, scripted({ 'c/m': http(503) })).catch(() => undefined);
      clock.advance(1_000);
      const held = heldAt([], 'c/m');
      void router.execute(only, signal(), [], false, held.fn).catch(() => undefined);
      expect(cooldowns.probing('c/m')).toBe(true);
      const onlyCalls: string[] = [];
      expect((await router.execute(only, signal(), [], false, scripted({}, onlyCalls))).value).toBe('c/m');
      expect(onlyCalls).toEqual(['c/m']);
      held.settle().ok();
      probeCaller.abort();
    });
  });

  test('failures: 0 turns cooldowns off', async () => {
    const clock = fakeClock();
    const off = routeOf({
      targets: [
        { provider: 'a', model: 'm' },
        { provider: 'b', model: 'm' },
      ],
      cooldown: { failures: 0 },
    });
    const cooldowns = new CooldownTracker(clock.now);
    const router = routerWith({ now: clock.now, cooldowns });
    for (let i = 0; i < 10; i++) await router.execute(off, signal(), [], false, scripted({ 'a/m': http(503) }));
    expect(cooldowns.coolingUntil('a/m')).toBeUndefined();
  });
});

describe('retries and timeouts', () => {
  test('full-jitter exponential backoff, capped; Retry-After wins up to the cap', () => {
    const retry = { backoffMs: 100, maxBackoffMs: 1_000 };
    expect(backoffMs(0, retry, () => 0.5)).toBe(50);
    expect(backoffMs(3, retry, () => 0.5)).toBe(400);
    expect(backoffMs(10, retry, () => 0.99)).toBe(1_000);
    expect(backoffMs(0, retry, () => 0.5, 700)).toBe(700);
    expect(backoffMs(0, retry, () => 0.5, 9_000)).toBe(1_000);
  });

  test('retries the same target with the backoff between, then falls back', async () => {
    const sleeps: number[] = [];
    const route = routeOf({
      targets: [
        { provider: 'a', model: 'm' },
        { provider: 'b', model: 'm' },
      ],
      retry: { attempts: 3, backoffMs: 100 },
    });
    const calls: string[] = [];
    const out = await routerWith({ sleeps, random: () => 0.5 }).execute(route, signal(), [], false, scripted({ 'a/m': http(502) }, calls));
    expect(out.value).toBe('b/m');
    expect(calls).toEqual(['a/m', 'a/m', 'a/m', 'b/m']);
    expect(sleeps).toEqual([50, 100]);
  });

  test('onStatus is configurable: a status left out is answered at once', async () => {
    const route = routeOf({
      targets: [
        { provider: 'a', model: 'm' },
        { provider: 'b', model: 'm' },
      ],
      retry: { onStatus: [503] },
    });
    await expect(routerWith().execute(route, signal(), [], false, scripted({ 'a/m': http(429) }))).rejects.toMatchObject({ status: 429 });
    expect((await routerWith().execute(route, signal(), [], false, scripted({ 'a/m': http(503) }))).value).toBe('b/m');
  });

  test('a provider that ignores the abort signal still cannot hold the request past its timeout', async () => {
    const route = routeOf(
      {
        targets: [
          { provider: 'a', model: 'm' },
          { provider: 'b', model: 'm' },
        ],
      },
      { timeouts: { totalMs: 30 } },
    );
    const hang = async ({ target }: AttemptContext) => (target.id === 'a/m' ? new Promise<string>(() => undefined) : target.id);
    const log: AttemptLog[] = [];
    const out = await routerWith().execute(route, signal(), log, false, hang);
    expect(out.value).toBe('b/m');
    expect(log[0].error).toMatch(/^timeout: a did not answer within 30 ms/);
  });

  test('JSON first-byte timeout stops once headers arrive; the total timeout still applies', async () => {
    const route = routeOf({ targets: [{ provider: 'a', model: 'm' }] }, { timeouts: { firstByteMs: 20, totalMs: 80 } });
    const slowBody = ({ firstByte, signal: s }: AttemptContext) =>
      new Promise<string>((resolve, reject) => {
        setTimeout(firstByte, 5); // headers quickly
        const t = setTimeout(() => resolve('done'), 50); // body after the first-byte limit, within the total
        s.addEventListener('abort', () => {
          clearTimeout(t);
          reject(s.reason);
        });
      });
    expect((await routerWith().execute(route, signal(), [], false, slowBody)).value).toBe('done');
    const tooSlow = ({ firstByte, signal: s }: AttemptContext) =>
      new Promise<string>((_, reject) => {
        setTimeout(firstByte, 5);
        s.addEventListener('abort', () => reject(s.reason));
      });
    await expect(routerWith().execute(route, signal(), [], false, tooSlow)).rejects.toMatchObject({
      kind: 'timeout',
      message: expect.stringMatching(/did not answer within 80 ms/),
    });
  });

  test('the route budget bounds every attempt, retry and backoff together', async () => {
    const route = routeOf({
      targets: [
        { provider: 'a', model: 'm' },
        { provider: 'b', model: 'm' },
      ],
      retry: { attempts: 3, backoffMs: 1 },
      timeouts: { routeMs: 60, firstByteMs: 40 },
    });
    const calls: string[] = [];
    const hang = ({ target, signal: s }: AttemptContext) => {
      calls.push(target.id);
      return new Promise<string>((_, reject) => s.addEventListener('abort', () => reject(s.reason)));
    };
    const router = new Router({ now: Date.now, random: () => 0.5, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) });
    // Every attempt hangs until aborted: only the route's budget can end this (else jest's timeout fails it).
    await expect(router.execute(route, signal(), [], true, hang)).rejects.toMatchObject({ kind: 'timeout' });
    // a/m timed out at 40 ms; its retry got at most the 20 ms left (none at all when a loaded machine
    // fired the first timer late); nothing ran after the budget was spent, so b/m was never tried.
    expect(calls[0]).toBe('a/m');
    expect(calls.length).toBeLessThanOrEqual(2);
    expect(calls).not.toContain('b/m');
  });

  test('a cancelled client stops the router at once, without trying other targets', async () => {
    const route = routeOf({
      targets: [
        { provider: 'a', model: 'm' },
        { provider: 'b', model: 'm' },
      ],
    });
    const client = new AbortController();
    const calls: string[] = [];
    const attempt = ({ target, signal: s }: AttemptContext) => {
      calls.push(target.id);
      setTimeout(() => client.abort(), 1);
      return new Promise<string>((_, reject) => s.addEventListener('abort', () => reject(s.reason)));
    };
    await expect(routerWith().execute(route, client.signal, [], true, attempt)).rejects.toMatchObject({ upstreamCode: 'client_cancelled' });
    expect(calls).toEqual(['a/m']);
  });

  test('a 401 refreshes the credential once and retries once, then moves on', async () => {
    const route = routeOf({
      targets: [
        { provider: 'a', model: 'm' },
        { provider: 'b', model: 'm' },
      ],
    });
    const refreshed: ResolvedTarget[] = [];
    const router = new Router({
      now: () => 0,
      random: Math.random,
      sleep: async () => undefined,
      refreshCredential: (t) => {
        refreshed.push(t);
        return true;
      },
    });
    const calls: string[] = [];
    const out = await router.execute(route, signal(), [], false, scripted({ 'a/m': http(401) }, calls));
    expect(out.value).toBe('b/m');
    expect(calls).toEqual(['a/m', 'a/m', 'b/m']);
    expect(refreshed.map((t) => t.id)).toEqual(['a/m']);
  });
});
