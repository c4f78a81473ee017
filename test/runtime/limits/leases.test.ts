/**
 * Leased capacity (issue 20, ARCHITECTURE §8): processes take slices of a subject's room with one
 * conditional write and admit against them in memory. Several limiters (as several gateway
 * processes would) share one counters table on dynalite; the clock is the test's.
 */
import type { KeyRecord } from '../../../lambda/core/keys';
import type { Reservation } from '../../../lambda/core/ports';
import { type DynamoLimiter, createDynamoLimiter } from '../../../lambda/stores/dynamo-limiter';
import { type LimitsHarness, chat, startLimitsHarness, usage } from './harness';

// Hundreds of store round trips per test: generous time on a loaded machine (nothing here measures time).
jest.setTimeout(180_000);

let h: LimitsHarness;
beforeAll(async () => (h = await startLimitsHarness()));
afterAll(() => h.close());

const processes = (n: number, leases = {}) =>
  Array.from({ length: n }, () => createDynamoLimiter({ client: h.gw.dynamo, tableName: h.gw.tables.counters, now: h.clock.now, leases }));

type Outcome = { reservation?: Reservation; refused?: boolean };
const attempt = (l: DynamoLimiter, key: KeyRecord, id: string, tokens = 100, costUsd = 0): Promise<Outcome> =>
  l.reserve(key, { tokens, costUsd }, id).then(
    (reservation) => ({ reservation }),
    (err) => (err.status === 429 ? { refused: true } : Promise.reject(err)),
  );

/** A key busy enough for leases: each process has seen its counters and a few requests this second. */
async function warm(ls: DynamoLimiter[], key: KeyRecord, n = 3) {
  for (const [i, l] of ls.entries())
    for (let j = 0; j < n; j++) {
      const o = await attempt(l, key, `warm_${i}_${j}`);
      if (o.reservation) await l.settle(o.reservation, { tokens: 100, costUsd: 0 });
    }
}

test('a busy key costs a store write every few dozen requests, not two per request', async () => {
  const { record, id } = await h.gw.createKey({ limits: { rpm: 100_000, tpm: 100_000_000 } });
  const [l] = processes(1);
  const writes: string[] = [];
  h.gw.dynamo.middlewareStack.add(
    (next, ctx) => async (args) => {
      if ((args.input as { Key?: { pk?: { S?: string } } }).Key?.pk?.S?.includes(id)) writes.push(ctx.commandName ?? '?');
      return next(args);
    },
    { step: 'initialize', name: `countLeaseWrites_${id}` },
  );
  const send = async (i: number) => {
    const o = await attempt(l, record, `busy_${i}`);
    await l.settle(o.reservation!, { tokens: 80, costUsd: 0 });
  };
  // The first requests reserve exactly (no counters seen yet, no rate yet); then steady load.
  for (let i = 0; i < 20; i++) await send(i);
  writes.length = 0;
  for (let i = 20; i < 220; i++) await send(i);
  const steadyWrites = writes.length;
  await l.shutdown();
  expect(l.stats().leasedRequests).toBeGreaterThan(180);
  expect(steadyWrites / 200).toBeLessThanOrEqual(0.05);
  // Every request is counted once its lease went back: 400 requests, their real tokens, nothing leased.
  const u = await usage(h.gw, id);
  expect(u.rpm.used).toBe(220);
  expect(u.tpm.used).toBe(220 * 80);
  expect(u.rpm.leased).toBe(0);
  expect(u.inFlight).toBe(0);
});

test('four processes with leases, one rpm limit: together they never admit past it', async () => {
  const RPM = 150;
  const { record, id } = await h.gw.createKey({ limits: { rpm: RPM } });
  const ls = processes(4);
  await warm(ls, record);
  const warmed = 4 * 3;
  const outcomes = await Promise.all(Array.from({ length: 300 }, (_, i) => attempt(ls[i % 4], record, `burst_${i}`)));
  const admitted = outcomes.filter((o) => o.reservation).length;
  expect(admitted + warmed).toBeLessThanOrEqual(RPM);
  expect(ls.reduce((n, l) => n + l.stats().leasesTaken, 0)).toBeGreaterThan(0);
  // While leases are out, usage shows them apart from what requests used.
  const during = await usage(h.gw, id);
  expect(during.rpm.used + during.rpm.leased).toBeLessThanOrEqual(RPM);
  for (const [i, o] of outcomes.entries()) if (o.reservation) await ls[i % 4].settle(o.reservation, { tokens: 10, costUsd: 0 });
  await Promise.all(ls.map((l) => l.shutdown()));
  const after = await usage(h.gw, id);
  expect(after.rpm.used).toBe(admitted + warmed);
  expect(after.rpm.leased).toBe(0);
});

test('a quiet key near its limit is exact: no lease, the limit to the request', async () => {
  const { key, id } = await h.gw.createKey({ limits: { rpm: 5 } });
  const statuses: number[] = [];
  for (let i = 0; i < 7; i++) statuses.push((await chat(h.gw, key)).status);
  expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
  const u = await usage(h.gw, id);
  expect(u.rpm).toMatchObject({ used: 5, leased: 0, remaining: 0 });
});

test('budgets stay strict with leases: concurrent processes never spend past the budget', async () => {
  // $0.001 per token (harness pricing); each request reserves 100 tokens = $0.10; budget $5.
  const { record, id } = await h.gw.createKey({ limits: { budgetUsd: { amount: 5, period: 'day' } } });
  const ls = processes(3);
  const cost = 0.1;
  for (const [i, l] of ls.entries())
    for (let j = 0; j < 3; j++) {
      const o = await attempt(l, record, `bwarm_${i}_${j}`, 100, cost);
      await l.settle(o.reservation!, { tokens: 100, costUsd: cost });
    }
  const outcomes = await Promise.all(Array.from({ length: 70 }, (_, i) => attempt(ls[i % 3], record, `budget_${i}`, 100, cost)));
  const admitted = outcomes.filter((o) => o.reservation).length;
  expect((admitted + 9) * cost).toBeLessThanOrEqual(5 + 1e-9);
  for (const [i, o] of outcomes.entries()) if (o.reservation) await ls[i % 3].settle(o.reservation, { tokens: 100, costUsd: cost });
  await Promise.all(ls.map((l) => l.shutdown()));
  const u = await usage(h.gw, id);
  expect(u.budgetUsd.spentUsd).toBeCloseTo((admitted + 9) * cost, 6);
  expect(u.budgetUsd.spentUsd).toBeLessThanOrEqual(5 + 1e-9);
});

test('a lowered limit voids the leases taken under the old one; what they held goes back', async () => {
  // Under 6000 rpm: one counters item (a spread key's shards would split the lowered limit).
  const { record, id } = await h.gw.createKey({ limits: { rpm: 5_000 } });
  const [l] = processes(1);
  await warm([l], record, 20);
  expect(l.stats().leasesTaken).toBeGreaterThan(0);
  expect((await usage(h.gw, id)).rpm.leased).toBeGreaterThan(0);
  // The key cache hands the limiter the new record: the old lease ends and its unused part returns.
  const lowered: KeyRecord = { ...record, limits: { rpm: 30 } };
  const outcomes: Outcome[] = [];
  for (let i = 0; i < 40; i++) outcomes.push(await attempt(l, lowered, `low_${i}`));
  await l.idle();
  const admitted = outcomes.filter((o) => o.reservation).length;
  expect(20 + admitted).toBeLessThanOrEqual(30);
  expect(20 + admitted).toBeGreaterThanOrEqual(27); // the old lease's room came back to be used
  for (const o of outcomes) if (o.reservation) await l.settle(o.reservation, { tokens: 1, costUsd: 0 });
  await l.shutdown();
});

test('a key no request uses any more (revoked) gives its lease back once the lease ends', async () => {
  const { record, id } = await h.gw.createKey({ limits: { rpm: 10_000 } });
  const { record: other } = await h.gw.createKey({ limits: { rpm: 10_000 } });
  const [l] = processes(1, { ttlMs: 5_000 });
  await warm([l], record, 20);
  expect((await usage(h.gw, id)).rpm.leased).toBeGreaterThan(0);
  // Revoked: no more requests for it. Past the lease's end, any request of the process sweeps it back.
  h.clock.advance(6_000);
  const o = await attempt(l, other, 'sweeper');
  await l.settle(o.reservation!, { tokens: 1, costUsd: 0 });
  await l.idle();
  const u = await usage(h.gw, id);
  expect(u.rpm.leased).toBe(0);
  await l.shutdown();
});

test('a process that dies keeps its lease counted (the safe side), and a lease is never given back twice', async () => {
  const { record, id } = await h.gw.createKey({ limits: { rpm: 1_000 } });
  const [dead, alive] = processes(2);
  await warm([dead], record, 20);
  const held = (await usage(h.gw, id)).rpm;
  expect(held.leased).toBeGreaterThan(0);
  // The dead process never returns it: the other sees that room as taken.
  const o = await attempt(alive, record, 'after-death');
  await alive.settle(o.reservation!, { tokens: 1, costUsd: 0 });
  const still = (await usage(h.gw, id)).rpm;
  expect(still.leased).toBe(held.leased);
  expect(still.remaining).toBe(held.remaining - 1);
  // Returned once (shutdown), and a second shutdown returns nothing more.
  await dead.shutdown();
  const once = (await usage(h.gw, id)).rpm;
  await dead.shutdown();
  const twice = (await usage(h.gw, id)).rpm;
  expect(once).toEqual(twice);
  expect(once.used).toBe(21);
  expect(once.leased).toBe(0);
  await alive.shutdown();
});
