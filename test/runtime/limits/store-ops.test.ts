/**
 * The hot path's DynamoDB cost, counted at the client: an SDK middleware on the gateway's client
 * sees every command (key lookups, counter writes). Target: at most 2 writes and no uncached read
 * per request for a key with limits.
 */
import { chat, startLimitsHarness, type LimitsHarness } from './harness';

let h: LimitsHarness;
const sent: string[] = [];
beforeAll(async () => {
  // Exact per-request reservations (leases off): what a quiet key or one near its limit costs.
  // leases.test.ts counts what a busy key costs with leases.
  h = await startLimitsHarness({}, { leases: { horizonMs: 0 } });
  h.gw.dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      // The limiter's and key store's operations; usage rollups are written after the answer (usage tests count those).
      if ((args.input as { TableName?: string }).TableName !== h.gw.tables.usage) sent.push(context.commandName ?? '?');
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
});
afterAll(() => h.close());

async function opsPerRequest(key: string, n: number): Promise<Record<string, number>> {
  expect((await chat(h.gw, key)).status).toBe(200); // warm the key and team caches
  sent.length = 0;
  for (let i = 0; i < n; i++) {
    const res = await chat(h.gw, key);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  }
  const counts: Record<string, number> = {};
  for (const c of sent) counts[c] = (counts[c] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).map(([c, k]) => [c, k / n]));
}

test('a key with rpm, tpm, tokens per day and a budget: 2 writes (reserve + settle) and no read per request', async () => {
  const { key } = await h.gw.createKey({ limits: { rpm: 1000, tpm: 1_000_000, tokensPerDay: 10_000_000, budgetUsd: { amount: 100, period: 'month' } } });
  expect(await opsPerRequest(key, 10)).toEqual({ UpdateItemCommand: 2 });
});

test('a key without limits: no counter operation at all', async () => {
  const { key } = await h.gw.createKey({});
  expect(await opsPerRequest(key, 5)).toEqual({});
});

test('a key whose team has limits: one more write per step for the team item, team limits read from cache', async () => {
  await h.gw.admin('PUT', '/admin/teams/ops-team', { limits: { rpm: 1000 } });
  const { key } = await h.gw.createKey({ team: 'ops-team', limits: { rpm: 1000 } });
  expect(await opsPerRequest(key, 5)).toEqual({ UpdateItemCommand: 4 });
});
