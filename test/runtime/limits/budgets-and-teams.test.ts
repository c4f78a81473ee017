/** Day and month budgets, team limits, most-restrictive-wins, and limit changes taking effect. */
import { answer, chat, startLimitsHarness, usage, type LimitsHarness } from './harness';

let h: LimitsHarness;
beforeAll(async () => {
  h = await startLimitsHarness({ settings: { keyCacheTtlMs: 5_000 } });
  // 300 tokens at $0.001 = $0.30 real cost per request; the estimate is 117 tokens = $0.117.
  h.upstream.handle((_req, res) => answer(res, { prompt_tokens: 200, completion_tokens: 100 }));
});
afterAll(() => h.close());

async function expectQuota(res: Response, period: 'daily' | 'monthly', resetsAt: string) {
  expect(res.status).toBe(429);
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  const body = await res.json();
  expect(body.error.code).toBe('insufficient_quota');
  expect(body.error.type).toBe('insufficient_quota');
  expect(body.error.message).toContain(`${period} budget`);
  expect(body.error.message).toContain(`resets at ${resetsAt}`);
}

test('daily budget: refused with insufficient_quota once spent, admitted again the next UTC day', async () => {
  h.clock.set('2026-03-10T23:50:00Z');
  const { key, id } = await h.gw.createKey({ limits: { budgetUsd: { amount: 0.5, period: 'day' } } });
  expect((await chat(h.gw, key, { model: 'priced' })).status).toBe(200); // $0.30 spent
  expect((await chat(h.gw, key, { model: 'priced' })).status).toBe(200); // $0.30 + $0.117 reserved fits; $0.60 spent
  const refused = await chat(h.gw, key, { model: 'priced' });
  await expectQuota(refused, 'daily', '2026-03-11T00:00:00.000Z');
  expect(Number(refused.headers.get('retry-after'))).toBe(600);
  expect((await usage(h.gw, id)).budgetUsd.spentUsd).toBeCloseTo(0.6, 9);
  h.clock.set('2026-03-11T00:00:01Z');
  expect((await chat(h.gw, key, { model: 'priced' })).status).toBe(200);
});

test('monthly budget: still refused the next day, admitted again the next month', async () => {
  h.clock.set('2026-04-29T12:00:00Z');
  const { key } = await h.gw.createKey({ limits: { budgetUsd: { amount: 0.5, period: 'month' } } });
  expect((await chat(h.gw, key, { model: 'priced' })).status).toBe(200);
  expect((await chat(h.gw, key, { model: 'priced' })).status).toBe(200);
  await expectQuota(await chat(h.gw, key, { model: 'priced' }), 'monthly', '2026-05-01T00:00:00.000Z');
  h.clock.set('2026-04-30T12:00:00Z');
  await expectQuota(await chat(h.gw, key, { model: 'priced' }), 'monthly', '2026-05-01T00:00:00.000Z');
  h.clock.set('2026-05-01T00:00:00Z');
  expect((await chat(h.gw, key, { model: 'priced' })).status).toBe(200);
});

test('a request whose estimated cost alone exceeds the budget is refused without reaching the upstream', async () => {
  const { key } = await h.gw.createKey({ limits: { budgetUsd: { amount: 0.05, period: 'day' } } });
  const before = h.upstream.received.length;
  const res = await chat(h.gw, key, { model: 'priced' }); // estimate $0.117 > $0.05
  expect(res.status).toBe(429);
  expect((await res.json()).error.code).toBe('insufficient_quota');
  expect(h.upstream.received.length).toBe(before);
});

test("the reservation is priced at the route's most expensive target, since a fallback may serve it; usage at the one that did", async () => {
  h.clock.set('2026-08-03T10:00:00Z');
  const { key, id } = await h.gw.createKey({ limits: { budgetUsd: { amount: 0.5, period: 'day' } } });
  const before = h.upstream.received.length;
  // 116 estimated tokens: $0.116 at the primary's price, $0.58 at the fallback's, over the $0.50 budget.
  const refused = await chat(h.gw, key, { model: 'priced-with-fallback' });
  expect(refused.status).toBe(429);
  expect((await refused.json()).error.message).toContain('this request may cost up to $0.5800');
  expect(h.upstream.received.length).toBe(before);
  // The primary alone fits; a wider budget admits the route, and the primary's real price is what is spent.
  expect((await chat(h.gw, key, { model: 'priced' })).status).toBe(200);
  const roomy = await h.gw.createKey({ limits: { budgetUsd: { amount: 5, period: 'day' } } });
  expect((await chat(h.gw, roomy.key, { model: 'priced-with-fallback' })).status).toBe(200);
  expect((await usage(h.gw, roomy.id)).budgetUsd.spentUsd).toBeCloseTo(0.3, 9);
  expect((await usage(h.gw, id)).budgetUsd.spentUsd).toBeCloseTo(0.3, 9);
});

test('team limits are shared by the keys of the team, and the answer names the team', async () => {
  h.clock.set('2026-06-01T08:00:10Z');
  const put = await h.gw.admin('PUT', '/admin/teams/research', { limits: { rpm: 3 } });
  expect(put.status).toBe(200);
  expect((await h.gw.admin('GET', '/admin/teams/research')).body.limits).toEqual({ rpm: 3 });
  const a = await h.gw.createKey({ team: 'research' });
  const b = await h.gw.createKey({ team: 'research', limits: { rpm: 100 } });
  const other = await h.gw.createKey({ team: 'ops' });
  expect((await chat(h.gw, a.key)).status).toBe(200);
  expect((await chat(h.gw, b.key)).status).toBe(200);
  expect((await chat(h.gw, a.key)).status).toBe(200);
  const refused = await chat(h.gw, b.key);
  expect(refused.status).toBe(429);
  expect(refused.headers.get('x-gateway-limit')).toBe('team:rpm');
  // The team's limit is the tighter one, so it is what the headers describe.
  expect(refused.headers.get('x-ratelimit-limit-requests')).toBe('3');
  expect((await refused.json()).error.message).toContain("team 'research'");
  // The key part of the refused request was given back: b has 1 request counted, not 2.
  const u = await usage(h.gw, b.id);
  expect(u.rpm.used).toBe(1);
  expect(u.team.usage.rpm).toMatchObject({ limit: 3, used: 3, remaining: 0 });
  expect((await chat(h.gw, other.key)).status).toBe(200);
  expect((await h.gw.admin('GET', '/admin/teams/nobody')).status).toBe(404);
  expect((await h.gw.admin('PUT', '/admin/teams/research', { limits: { rpm: -1 } })).status).toBe(400);
});

test('when several limits are hit, the most restrictive (longest-lasting) one is the answer', async () => {
  h.clock.set('2026-06-02T08:00:10Z');
  const { key } = await h.gw.createKey({ limits: { rpm: 1, tokensPerDay: 200 } });
  expect((await chat(h.gw, key)).status).toBe(200); // 300 real tokens: over the day's 200, and 1 request: the minute's rpm
  const res = await chat(h.gw, key);
  expect(res.status).toBe(429);
  expect(res.headers.get('x-gateway-limit')).toBe('key:tokensPerDay');
  expect((await res.json()).error.message).toMatch(/tokens per day/);
});

test('lowering a key limit via PATCH takes effect on the next request', async () => {
  h.clock.set('2026-06-03T08:00:10Z');
  const { key, id } = await h.gw.createKey({ limits: { rpm: 100 } });
  expect((await chat(h.gw, key)).status).toBe(200);
  expect((await h.gw.admin('PATCH', `/admin/keys/${id}`, { limits: { rpm: 1 } })).status).toBe(200);
  expect((await chat(h.gw, key)).status).toBe(429);
});

test('a limit lowered behind this instance (another instance wrote the store) applies within the key cache TTL', async () => {
  h.clock.set('2026-06-04T08:00:10Z');
  const { key, id } = await h.gw.createKey({ limits: { rpm: 100 } });
  expect((await chat(h.gw, key)).status).toBe(200);
  // Write the store directly, as the admin API of another instance would: this instance's cache is not told.
  const { DynamoKeyStore } = await import('../../../lambda/stores/dynamo-key-store');
  await new DynamoKeyStore(h.gw.dynamo, h.gw.tables.keys).update(id, { limits: { rpm: 1 } });
  h.clock.advance(1_000);
  expect((await chat(h.gw, key)).status).toBe(200); // still cached
  h.clock.advance(5_000);
  expect((await chat(h.gw, key)).status).toBe(429);
});

test('a key or team with a USD budget may not call a model with no price (its spend could not be counted); other keys may', async () => {
  h.clock.set('2026-07-01T09:00:00Z');
  const budgeted = await h.gw.createKey({ limits: { budgetUsd: { amount: 5, period: 'day' } } });
  const before = h.upstream.received.length;
  const res = await chat(h.gw, budgeted.key, { model: 'up/house-llm-7b' });
  expect(res.status).toBe(403);
  const { error } = await res.json();
  expect(error).toMatchObject({ type: 'permission_error', code: 'model_not_priced', param: 'model' });
  expect(error.message).toContain("'up/house-llm-7b' has no price");
  expect(h.upstream.received.length).toBe(before);
  // A team's budget counts the same way.
  expect((await h.gw.admin('PUT', '/admin/teams/finance', { limits: { budgetUsd: { amount: 5, period: 'month' } } })).status).toBe(200);
  const member = await h.gw.createKey({ team: 'finance' });
  expect((await chat(h.gw, member.key, { model: 'up/house-llm-7b' })).status).toBe(403);
  // Priced models are fine for budgeted keys, and keys without a budget may use unpriced ones.
  expect((await chat(h.gw, budgeted.key, { model: 'priced' })).status).toBe(200);
  const rpmOnly = await h.gw.createKey({ limits: { rpm: 100 } });
  expect((await chat(h.gw, rpmOnly.key, { model: 'up/house-llm-7b' })).status).toBe(200);
  expect(h.upstream.received.length).toBe(before + 2);
});
