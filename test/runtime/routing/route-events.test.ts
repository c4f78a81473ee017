/**
 * The router notes what the request's metrics count as it happens (a fallback, a cooling target
 * passed over), so the metrics never re-read the attempts log. Injected clock, scripted attempts.
 */
import { CooldownTracker } from '../../../lambda/core/cooldown';
import { ModelCatalog, type ResolvedRoute } from '../../../lambda/core/models';
import type { AttemptContext, RouteEvents } from '../../../lambda/core/router';
import { Router } from '../../../lambda/core/router';
import type { GatewayConfig, ModelRoute } from '../../../lambda/core/config';
import { UpstreamError } from '../../../lambda/core/provider';

const providers: GatewayConfig['providers'] = { a: { type: 'mock' }, b: { type: 'mock' } };
const routeOf = (route: ModelRoute): ResolvedRoute => new ModelCatalog({ providers, models: { r: route } }).route('r');
const twoTargets = routeOf({
  targets: [
    { provider: 'a', model: 'm' },
    { provider: 'b', model: 'm' },
  ],
  retry: { attempts: 2, backoffMs: 1 },
  cooldown: { failures: 1, cooldownMs: 30_000 },
});
const http503 = () => new UpstreamError('http', 'HTTP 503', 503);
const signal = () => new AbortController().signal;
const fresh = (): RouteEvents => ({ fellBack: false, skippedCooling: false });

/** Fails the targets in `failing` (each time), serves the others. */
const failing =
  (...ids: string[]) =>
  async ({ target }: AttemptContext) => {
    if (ids.includes(target.id)) throw http503();
    return target.id;
  };

function router(now = () => 1_000_000) {
  return new Router({ now, random: () => 0, sleep: async () => undefined, cooldowns: new CooldownTracker(now) });
}

test('served by the first target: no fallback, no skip', async () => {
  const events = fresh();
  await router().execute(twoTargets, signal(), [], false, failing(), undefined, events);
  expect(events).toEqual({ fellBack: false, skippedCooling: false });
});

test('the first target fails and the second serves: a fallback', async () => {
  const events = fresh();
  const out = await router().execute(twoTargets, signal(), [], false, failing('a/m'), undefined, events);
  expect(out.value).toBe('b/m');
  expect(events).toEqual({ fellBack: true, skippedCooling: false });
});

test('retries of one target that then serves are not a fallback', async () => {
  let calls = 0;
  const flaky = async ({ target }: AttemptContext) => {
    if (++calls === 1) throw http503();
    return target.id;
  };
  const events = fresh();
  const route = routeOf({ targets: [{ provider: 'a', model: 'm' }], retry: { attempts: 2, backoffMs: 1 } });
  await router().execute(route, signal(), [], false, flaky, undefined, events);
  expect(calls).toBe(2);
  expect(events).toEqual({ fellBack: false, skippedCooling: false });
});

test('a cooling first target passed over: a cooldown skip and a fallback, noted as the router skips it', async () => {
  const r = router();
  await r.execute(twoTargets, signal(), [], false, failing('a/m'), undefined, fresh()); // a/m now cools down
  const events = fresh();
  const attempts: unknown[] = [];
  const out = await r.execute(twoTargets, signal(), attempts as never, false, failing(), undefined, events);
  expect(out.value).toBe('b/m');
  expect(attempts).toHaveLength(2); // the skip of a/m, then b/m
  expect(events).toEqual({ fellBack: true, skippedCooling: true });
});
