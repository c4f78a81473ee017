/**
 * Per-user limits (`limits.perUser`, ARCHITECTURE §15): each end user of a key is its own counters
 * subject with the key's reserve/settle guarantees. Many users at once through two limiter
 * instances sharing one table: each user is admitted within its own limit plus one reservation,
 * the key's own limit still holds over all of them, and every reservation settles.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { KeyRecord } from '../../../lambda/core/keys';
import { countersOf, inflightOf } from '../../../lambda/stores/counter-item';
import { createDynamoLimiter } from '../../../lambda/stores/dynamo-limiter';
import { windowsAt } from '../../../lambda/core/limits/windows';
import type { GatewayError } from '../../../lambda/core/errors';
import { type LimitsHarness, PROMPT, PROMPT_ESTIMATE, answer, gate, startLimitsHarness, usage } from './harness';

let h: LimitsHarness;
beforeAll(async () => (h = await startLimitsHarness()));
afterAll(() => h.close());

const limiters = () => [0, 1].map(() => createDynamoLimiter({ client: h.gw.dynamo, tableName: h.gw.tables.counters, now: h.clock.now }));

async function userItem(keyId: string, user: string) {
  const out = await h.gw.dynamo.send(
    new GetItemCommand({ TableName: h.gw.tables.counters, Key: { pk: { S: `lim#user#${keyId}#${encodeURIComponent(user)}` } }, ConsistentRead: true }),
  );
  return { counters: countersOf(out.Item, windowsAt(h.clock.now())), inFlight: inflightOf(out.Item).length };
}

test('many users at once: each is admitted within its own tpm plus one reservation, and settles to its real usage', async () => {
  const { record, id } = await h.gw.createKey({ limits: { perUser: { tpm: 1_000 } } });
  const instances = limiters();
  const USERS = 8;
  const PER_USER = 12;
  const NEED = 300;
  const attempts = Array.from({ length: USERS * PER_USER }, (_, i) => {
    const user = `user-${i % USERS}`;
    return instances[i % 2].reserve(record as KeyRecord, { tokens: NEED, costUsd: 0 }, `req_pu_${i}`, user).then(
      (reservation) => ({ user, reservation }),
      (err: GatewayError) => {
        if (err.status !== 429) throw err;
        expect(err.headers['x-gateway-limit']).toBe('user:tpm');
        expect(err.message).toContain(`user '${user}'`);
        return { user, reservation: undefined };
      },
    );
  });
  const outcomes = await Promise.all(attempts);
  for (let u = 0; u < USERS; u++) {
    const mine = outcomes.filter((o) => o.user === `user-${u}` && o.reservation);
    // Rate limits admit while the counter has room for one more (<= 1000 - 300): 0, 300, 600 → 3.
    expect(mine.length * NEED).toBeLessThanOrEqual(1_000 + NEED);
    expect(mine.length).toBe(3);
    const item = await userItem(id, `user-${u}`);
    expect(item).toEqual({ counters: expect.objectContaining({ tokensMinute: 3 * NEED, requestsMinute: 3 }), inFlight: 3 });
  }
  // The key itself has no limits of its own: nothing is counted on it.
  expect((await usage(h.gw, id)).tpm.used).toBe(0);

  await Promise.all(outcomes.map((o, i) => o.reservation && instances[i % 2].settle(o.reservation, { tokens: 40, costUsd: 0 })));
  for (let u = 0; u < USERS; u++) expect(await userItem(id, `user-${u}`)).toEqual({ counters: expect.objectContaining({ tokensMinute: 120 }), inFlight: 0 });
});

test("the key's own limit still bounds all its users together", async () => {
  const { record, id } = await h.gw.createKey({ limits: { rpm: 5, perUser: { rpm: 3 } } });
  const [limiter] = limiters();
  const outcomes = await Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      limiter.reserve(record as KeyRecord, { tokens: 1, costUsd: 0 }, `req_both_${i}`, `u${i % 3}`).then(
        () => 'admitted',
        (err: GatewayError) => err.headers['x-gateway-limit'],
      ),
    ),
  );
  expect(outcomes.filter((o) => o === 'admitted')).toHaveLength(5);
  expect((await usage(h.gw, id)).rpm.used).toBe(5);
  const perUser = await Promise.all(['u0', 'u1', 'u2'].map((u) => userItem(id, u)));
  for (const u of perUser) expect(u.counters.requestsMinute).toBeLessThanOrEqual(3);
  // A user refused by the key's limit holds nothing on its own item either (the partial reservation was given back).
  expect(perUser.reduce((n, u) => n + u.inFlight, 0)).toBe(5);
});

test('a request without an end user is limited by the key only; user ids cannot collide with shard suffixes', async () => {
  const { record, id } = await h.gw.createKey({ limits: { perUser: { rpm: 1 } } });
  const [limiter] = limiters();
  for (let i = 0; i < 3; i++) await limiter.reserve(record as KeyRecord, { tokens: 1, costUsd: 0 }, `req_anon_${i}`);
  await limiter.reserve(record as KeyRecord, { tokens: 1, costUsd: 0 }, 'req_hash_1', 'alice#2');
  // "alice" is a different user from "alice#2", and has room of its own.
  await limiter.reserve(record as KeyRecord, { tokens: 1, costUsd: 0 }, 'req_hash_2', 'alice');
  await expect(limiter.reserve(record as KeyRecord, { tokens: 1, costUsd: 0 }, 'req_hash_3', 'alice#2')).rejects.toMatchObject({ status: 429 });
  expect((await userItem(id, 'alice#2')).counters.requestsMinute).toBe(1);
});

test('through the gateway: many users of one trusted key at once, each admitted within its own tpm plus one reservation', async () => {
  const TPM = 300;
  const USERS = 6;
  const PER_USER = 8;
  const RESERVATION = PROMPT_ESTIMATE + 100;
  const { key } = await h.gw.createKey({ trustUserHeader: true, limits: { perUser: { tpm: TPM } } });
  const hold = gate();
  let atUpstream = 0;
  h.upstream.handle(async (_req, res) => {
    atUpstream++;
    await hold.opened;
    answer(res, { prompt_tokens: 10, completion_tokens: 5 });
  });
  const sent = Array.from({ length: USERS * PER_USER }, (_, i) => {
    const user = `person-${i % USERS}`;
    return h.gw
      .post('/v1/chat/completions', { model: 'gpt-4o', messages: PROMPT, max_tokens: 100 }, key, { 'x-gateway-user': user })
      .then((res) => ({ user, res }));
  });
  // Refusals come back while the admitted requests are held upstream: wait until every request is one or the other.
  let refusedSoFar = 0;
  for (const p of sent) void p.then(({ res }) => void (res.status === 429 && refusedSoFar++));
  while (atUpstream + refusedSoFar < USERS * PER_USER) await new Promise((r) => setTimeout(r, 5));
  hold.open();
  const outcomes = await Promise.all(sent);
  for (let u = 0; u < USERS; u++) {
    const mine = outcomes.filter((o) => o.user === `person-${u}`);
    const admitted = mine.filter((o) => o.res.status === 200).length;
    expect(admitted * RESERVATION).toBeLessThanOrEqual(TPM + RESERVATION);
    // Room for one more while the counter is at most TPM - RESERVATION: 0 and 116 fit, 232 does not.
    expect(admitted).toBe(Math.floor((TPM - RESERVATION) / RESERVATION) + 1);
    for (const o of mine.filter((x) => x.res.status === 429)) expect(o.res.headers.get('x-gateway-limit')).toBe('user:tpm');
  }
  expect(atUpstream).toBe(USERS * 2);
});
