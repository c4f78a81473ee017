/**
 * Issue 12 item 12: admin input is validated as strictly as client input. Numbers that are not
 * finite or not safe integers, unknown fields and team names with the counter keys' separator get a
 * 400 naming the field; PATCH merges limits one by one (§6), `null` removing one.
 */
import { type TestGateway, startTestGateway } from '../../helpers/gateway';

describe('issue 12 item 12: strict admin input', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ providers: { mock: { type: 'mock' } }, models: { 'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] } } });
  });
  afterAll(() => gw.close());

  /** Raw JSON text, so numbers JSON.stringify would refuse to write (1e309) reach the server as a client sends them. */
  const raw = (method: string, path: string, text: string) =>
    fetch(gw.url + path, { method, headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' }, body: text || undefined });

  test.each([
    ['an infinite budget', '{"name":"k","limits":{"budgetUsd":{"amount":1e309,"period":"day"}}}', 'limits.budgetUsd'],
    ['an rpm past 2^53', '{"name":"k","limits":{"rpm":1e300}}', 'limits.rpm'],
    ['an unknown field inside budgetUsd', '{"name":"k","limits":{"budgetUsd":{"amount":5,"period":"day","currency":"EUR"}}}', 'limits.budgetUsd'],
    ['a team name with the counter separator', '{"name":"k","team":"x#1"}', 'team'],
    ['__proto__ in metadata', '{"name":"k","metadata":{"__proto__":"x"}}', 'metadata'],
    ['an oversized metadata value', `{"name":"k","metadata":{"note":"${'x'.repeat(5000)}"}}`, 'metadata'],
  ])('12.1: create with %s is a 400 naming the field', async (_what, body, param) => {
    const res = await raw('POST', '/admin/keys', body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe(param);
  });

  test('12.2: a team named with the separator is refused on the team route too', async () => {
    const res = await raw('PUT', `/admin/teams/${encodeURIComponent('x#1')}`, '{"limits":{"rpm":5}}');
    expect(res.status).toBe(400);
  });

  test('12.4: an oversized key id in the path is a 400, not a store error', async () => {
    const res = await raw('GET', `/admin/keys/key_${'x'.repeat(3000)}`, '');
    expect(res.status).toBe(400);
  });

  test('12.3: PATCH merges limits one by one: a new rpm keeps the budget; null removes one limit; budgetUsd merges field by field', async () => {
    const { id } = await gw.createKey({ limits: { rpm: 10, tpm: 1000, budgetUsd: { amount: 5, period: 'month' } } });
    let res = await gw.admin('PATCH', `/admin/keys/${id}`, { limits: { rpm: 100 } });
    expect(res.status).toBe(200);
    expect(res.body.limits).toEqual({ rpm: 100, tpm: 1000, budgetUsd: { amount: 5, period: 'month' } });
    res = await gw.admin('PATCH', `/admin/keys/${id}`, { limits: { tpm: null, budgetUsd: { amount: 7 } } });
    expect(res.body.limits).toEqual({ rpm: 100, budgetUsd: { amount: 7, period: 'month' } });
    expect((await raw('PATCH', `/admin/keys/${id}`, '{"limits":{"__proto__":{"rpm":1}}}')).status).toBe(400);
    expect((await gw.admin('GET', `/admin/keys/${id}`)).body.limits).toEqual({ rpm: 100, budgetUsd: { amount: 7, period: 'month' } });
  });
});
