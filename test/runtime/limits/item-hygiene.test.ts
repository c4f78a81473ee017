/**
 * The counters item stays small: attributes of ended windows are removed by the next write, and a
 * reservation whose owner died (never settled) leaves `inflight` after 20 minutes.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { createDynamoLimiter } from '../../../lambda/stores/dynamo-limiter';
import type { KeyRecord } from '../../../lambda/core/keys';
import { startLimitsHarness, type LimitsHarness } from './harness';

let h: LimitsHarness;
beforeAll(async () => (h = await startLimitsHarness()));
afterAll(() => h.close());

async function rawItem(keyId: string) {
  const out = await h.gw.dynamo.send(new GetItemCommand({ TableName: h.gw.tables.counters, Key: { pk: { S: `lim#key#${keyId}` } }, ConsistentRead: true }));
  return out.Item ?? {};
}

test('attributes of ended windows are removed; a lost reservation is cleaned out of inflight', async () => {
  // Exact reservations: a lease's return write would clean the lost member before the test looks.
  const limiter = createDynamoLimiter({ client: h.gw.dynamo, tableName: h.gw.tables.counters, now: h.clock.now, leases: { horizonMs: 0 } });
  const { record, id } = await h.gw.createKey({ limits: { tpm: 100_000, tokensPerDay: 1_000_000 } });
  const key = record as KeyRecord;
  h.clock.set('2026-07-01T10:00:10Z');
  const minute0 = Math.floor(h.clock.t / 60_000);

  const lost = await limiter.reserve(key, { tokens: 100, costUsd: 0 }, 'req_lost'); // its Lambda "dies": never settled
  expect(lost.headers['x-ratelimit-limit-tokens']).toBeDefined();
  const first = await limiter.reserve(key, { tokens: 10, costUsd: 0 }, 'req_a');
  await limiter.settle(first, { tokens: 5, costUsd: 0 });
  expect(Object.keys(await rawItem(id))).toEqual(expect.arrayContaining([`tm${minute0}`, `rm${minute0}`]));

  h.clock.advance(21 * 60_000);
  const later = await limiter.reserve(key, { tokens: 10, costUsd: 0 }, 'req_b');
  const afterReserve = await rawItem(id);
  expect(Object.keys(afterReserve).filter((k) => k === `tm${minute0}` || k === `rm${minute0}`)).toEqual([]);
  expect(afterReserve.inflight.SS).toEqual(expect.arrayContaining([expect.stringContaining('req_lost'), expect.stringContaining('req_b')]));
  await limiter.settle(later, { tokens: 7, costUsd: 0 });
  const afterSettle = await rawItem(id);
  expect(afterSettle.inflight).toBeUndefined();
  // The day counter kept everything, including the lost reservation (it expires with its window).
  expect(Number(afterSettle[`td${Math.floor(h.clock.t / 86_400_000)}`].N)).toBe(100 + 5 + 7);
  // Settling the lost reservation late (its owner came back) finds it gone and changes nothing.
  await limiter.settle(lost, { tokens: 1, costUsd: 0 });
  expect(Number((await rawItem(id))[`td${Math.floor(h.clock.t / 86_400_000)}`].N)).toBe(112);
});
