/**
 * Identity fields in the admin API (ARCHITECTURE §6, §15): `oidcClientId` (unique across keys),
 * `trustUserHeader` and `limits.perUser`, validated strictly, and each record saying how it can be
 * used (its plaintext key, a JWT of its OIDC application, or both).
 */
import { startTestGateway, type TestGateway } from '../../helpers/gateway';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ providers: { mock: { type: 'mock' } }, models: { 'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] } } });
});
afterAll(() => gw.close());

describe('admin identity fields', () => {
  test('create keeps oidcClientId, trustUserHeader and perUser limits, and says the key is usable with a key and a JWT', async () => {
    const { id, record } = await gw.createKey({
      oidcClientId: 'okta-app-1',
      trustUserHeader: true,
      limits: { rpm: 100, perUser: { rpm: 5, budgetUsd: { amount: 1, period: 'day' } } },
    });
    expect(record).toMatchObject({
      oidcClientId: 'okta-app-1',
      trustUserHeader: true,
      limits: { rpm: 100, perUser: { rpm: 5, budgetUsd: { amount: 1, period: 'day' } } },
      usableWith: ['key', 'jwt'],
    });
    expect((await gw.admin('GET', `/admin/keys/${id}`)).body).toMatchObject({ oidcClientId: 'okta-app-1', usableWith: ['key', 'jwt'] });
  });

  test('a key without oidcClientId is usable with its key only', async () => {
    expect((await gw.createKey()).record.usableWith).toEqual(['key']);
  });

  test('one OIDC client binds one key: a second is 409 until the first lets go', async () => {
    const first = await gw.createKey({ oidcClientId: 'shared-app' });
    const second = await gw.admin('POST', '/admin/keys', { name: 'second', oidcClientId: 'shared-app' });
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({ code: 'oidc_client_taken', param: 'oidcClientId' });
    const other = await gw.createKey();
    expect((await gw.admin('PATCH', `/admin/keys/${other.id}`, { oidcClientId: 'shared-app' })).status).toBe(409);

    const unbound = await gw.admin('PATCH', `/admin/keys/${first.id}`, { oidcClientId: null });
    expect(unbound.body.usableWith).toEqual(['key']);
    const moved = await gw.admin('PATCH', `/admin/keys/${other.id}`, { oidcClientId: 'shared-app' });
    expect([moved.status, moved.body.oidcClientId]).toEqual([200, 'shared-app']);
  });

  test('a revoked key gives up its OIDC client', async () => {
    const old = await gw.createKey({ oidcClientId: 'retired-app' });
    await gw.admin('POST', `/admin/keys/${old.id}/revoke`);
    expect((await gw.admin('POST', '/admin/keys', { name: 'successor', oidcClientId: 'retired-app' })).status).toBe(201);
  });

  test.each([
    [{ oidcClientId: '' }, 'oidcClientId'],
    [{ oidcClientId: 'has space' }, 'oidcClientId'],
    [{ oidcClientId: 42 }, 'oidcClientId'],
    [{ trustUserHeader: 'yes' }, 'trustUserHeader'],
    [{ limits: { perUser: 5 } }, 'limits.perUser'],
    [{ limits: { perUser: { rpm: 0 } } }, 'limits.perUser.rpm'],
    [{ limits: { perUser: { rpmm: 1 } } }, 'limits.perUser.rpmm'],
    [{ limits: { perUser: { perUser: { rpm: 1 } } } }, 'limits.perUser.perUser'],
    [{ limits: { perUser: { budgetUsd: { amount: 1 } } } }, 'limits.perUser.budgetUsd'],
  ])('create %j is 400 naming %s', async (body, param) => {
    const res = await gw.admin('POST', '/admin/keys', { name: 'bad', ...body });
    expect(res.status).toBe(400);
    expect(res.body.error.param).toBe(param);
  });

  test('PATCH sets and removes trustUserHeader and perUser limits', async () => {
    const { id } = await gw.createKey();
    const set = await gw.admin('PATCH', `/admin/keys/${id}`, { trustUserHeader: true, limits: { perUser: { tpm: 1000 } } });
    expect(set.body).toMatchObject({ trustUserHeader: true, limits: { perUser: { tpm: 1000 } } });
    const cleared = await gw.admin('PATCH', `/admin/keys/${id}`, { trustUserHeader: null, limits: null });
    expect(cleared.body.trustUserHeader).toBeUndefined();
    expect(cleared.body.limits).toBeUndefined();
  });

  test('team limits cannot carry perUser (it belongs on a key)', async () => {
    const res = await gw.admin('PUT', '/admin/teams/t1', { limits: { perUser: { rpm: 1 } } });
    expect([res.status, res.body.error.param]).toEqual([400, 'limits.perUser']);
  });
});
