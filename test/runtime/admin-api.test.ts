/**
 * The admin HTTP API (ARCHITECTURE §6) on the local gateway: who may call it, what create/patch
 * accept and refuse (naming the field), and that records never carry the key or its hash.
 */
import { hashKey } from '../../lambda/core/keys';
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from '../helpers/gateway';
import { expectOpenAiError } from '../helpers/openai-error';

const RECORD_FIELDS = [
  'id',
  'name',
  'team',
  'createdAt',
  'updatedAt',
  'expiresAt',
  'revokedAt',
  'rotatedAt',
  'models',
  'limits',
  'logging',
  'metadata',
  'hint',
  'oidcClientId',
  'trustUserHeader',
  'usableWith',
];

/** A record as the API shows it: only documented fields, never the key, its hash or store internals. */
function expectCleanRecord(r: Record<string, unknown>, plaintext?: string): void {
  for (const k of Object.keys(r)) expect(RECORD_FIELDS).toContain(k);
  expect(r).not.toHaveProperty('key');
  expect(r).not.toHaveProperty('hash');
  expect(r).not.toHaveProperty('pk');
  if (plaintext) {
    const text = JSON.stringify(r);
    expect(text).not.toContain(plaintext.slice(6));
    expect(text).not.toContain(hashKey(plaintext));
  }
}

describe('admin API', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({ providers: { mock: { type: 'mock' } }, models: { 'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] } } });
  });
  afterAll(async () => {
    await gw.close();
  });

  const call = (method: string, path: string, headers: Record<string, string>, body?: unknown) =>
    fetch(gw.url + path, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });

  describe('authorization', () => {
    const ROUTES: Array<[string, string]> = [
      ['POST', '/admin/keys'],
      ['GET', '/admin/keys'],
      ['GET', '/admin/keys/key_x'],
      ['PATCH', '/admin/keys/key_x'],
      ['POST', '/admin/keys/key_x/revoke'],
      ['POST', '/admin/keys/key_x/rotate'],
      ['GET', '/admin/keys/key_x/usage'],
      ['GET', '/admin/nothing-here'],
    ];
    const BAD_CREDENTIALS: Array<[string, Record<string, string>]> = [
      ['none', {}],
      ['wrong token', { authorization: 'Bearer not-the-token' }],
      ['token with a suffix', { authorization: `Bearer ${ADMIN_TOKEN}x` }],
      ['token as Basic', { authorization: `Basic ${ADMIN_TOKEN}` }],
      ['token in x-api-key', { 'x-api-key': ADMIN_TOKEN }],
    ];
    test.each(ROUTES)('%s %s is 401 with a wrong admin credential, and nothing changes', async (method, path) => {
      const before = (await gw.admin('GET', '/admin/keys')).body.data.length;
      for (const [, headers] of BAD_CREDENTIALS) {
        const err = await expectOpenAiError(
          await call(method, path, headers, method === 'GET' ? undefined : { name: 'sneaky' }),
          401,
          'invalid_admin_credential',
        );
        expect(err.type).toBe('authentication_error');
      }
      expect((await gw.admin('GET', '/admin/keys')).body.data.length).toBe(before);
    });

    test('every admin answer, success or error, carries its own x-request-id', async () => {
      const ok = await call('GET', '/admin/keys', { authorization: `Bearer ${ADMIN_TOKEN}` });
      const denied = await call('GET', '/admin/keys', {});
      const ids = [ok.headers.get('x-request-id'), denied.headers.get('x-request-id')];
      for (const id of ids) expect(id).toMatch(/^req_[0-9a-f]{32}$/);
      expect(ids[0]).not.toBe(ids[1]);
    });

    test('a virtual key is not an admin credential', async () => {
      const { key } = await gw.createKey();
      await expectOpenAiError(await call('GET', '/admin/keys', { authorization: `Bearer ${key}` }), 401, 'invalid_admin_credential');
    });
  });

  describe('create', () => {
    test('201 with the record, the key once, and the id; the record fields are documented ones', async () => {
      const body = {
        name: 'svc',
        team: 'ml',
        models: ['mock-*'],
        limits: { rpm: 10, tpm: 1000, tokensPerDay: 50000, budgetUsd: { amount: 5, period: 'day' } },
        expiresAt: '2999-01-01T00:00:00Z',
        logging: 'redacted',
        metadata: { owner: 'a@b.c' },
      };
      const res = await gw.admin('POST', '/admin/keys', body);
      expect(res.status).toBe(201);
      const { key, ...record } = res.body;
      expect(key).toMatch(/^sk-gw-[A-Za-z0-9_-]{43,}$/);
      expect(Buffer.from(key.slice(6), 'base64url').length).toBeGreaterThanOrEqual(32);
      // Echoed as given, except the expiry, normalised to a full ISO timestamp.
      expect(record).toMatchObject({ ...body, expiresAt: '2999-01-01T00:00:00.000Z', hint: key.slice(-4) });
      expect(record.id).toMatch(/^key_/);
      expectCleanRecord(record, key);
      expect(JSON.stringify(res.body)).not.toContain(hashKey(key));
    });

    test('two keys never collide', async () => {
      const [a, b] = await Promise.all([gw.createKey(), gw.createKey()]);
      expect(a.key).not.toBe(b.key);
      expect(a.id).not.toBe(b.id);
    });

    test('logging defaults to metadata', async () => {
      expect((await gw.createKey()).record.logging).toBe('metadata');
    });

    test.each([
      [{}, 'name'],
      [{ name: '' }, 'name'],
      [{ name: 42 }, 'name'],
      [{ name: 'x'.repeat(201) }, 'name'],
      [{ name: 'a', team: 7 }, 'team'],
      [{ name: 'a', models: 'gpt-*' }, 'models'],
      [{ name: 'a', models: [''] }, 'models'],
      [{ name: 'a', limits: [] }, 'limits'],
      [{ name: 'a', limits: { rpm: 0 } }, 'limits.rpm'],
      [{ name: 'a', limits: { tpm: 1.5 } }, 'limits.tpm'],
      [{ name: 'a', limits: { tokensPerDay: '5' } }, 'limits.tokensPerDay'],
      [{ name: 'a', limits: { rps: 1 } }, 'limits.rps'],
      [{ name: 'a', limits: { budgetUsd: { amount: 5, period: 'week' } } }, 'limits.budgetUsd'],
      [{ name: 'a', limits: { budgetUsd: { amount: -1, period: 'day' } } }, 'limits.budgetUsd'],
      [{ name: 'a', limits: { budgetUsd: 5 } }, 'limits.budgetUsd'],
      [{ name: 'a', expiresAt: 'tomorrow' }, 'expiresAt'],
      [{ name: 'a', expiresAt: '2000-01-01T00:00:00Z' }, 'expiresAt'],
      [{ name: 'a', logging: 'everything' }, 'logging'],
      [{ name: 'a', metadata: { n: 1 } }, 'metadata'],
      [{ name: 'a', metadata: ['x'] }, 'metadata'],
    ])('create %j is 400 naming %s', async (body, param) => {
      const res = await call('POST', '/admin/keys', { authorization: `Bearer ${ADMIN_TOKEN}` }, body);
      const err = await expectOpenAiError(res, 400);
      expect(err.param).toBe(param);
      expect(err.message).toContain(param.split('.')[0]);
    });

    test('malformed JSON is 400 and creates nothing', async () => {
      const before = (await gw.admin('GET', '/admin/keys')).body.data.length;
      const res = await fetch(gw.url + '/admin/keys', { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: '{"name":' });
      await expectOpenAiError(res, 400, 'invalid_json');
      expect((await gw.admin('GET', '/admin/keys')).body.data.length).toBe(before);
    });

    test('an admin body over 64 KB is 413', async () => {
      const res = await call('POST', '/admin/keys', { authorization: `Bearer ${ADMIN_TOKEN}` }, { name: 'a', metadata: { big: 'x'.repeat(70 * 1024) } });
      const err = await expectOpenAiError(res, 413, 'request_too_large');
      expect(err.message).toBe('Request body exceeds the 64 KB limit.');
    });
  });

  describe('list, show, usage', () => {
    test('list and show return clean records', async () => {
      const { key, id } = await gw.createKey({ name: 'listed' });
      const list = await gw.admin('GET', '/admin/keys');
      expect(list.status).toBe(200);
      expect(list.body.object).toBe('list');
      const mine = list.body.data.find((r: { id: string }) => r.id === id);
      expect(mine.name).toBe('listed');
      for (const r of list.body.data) expectCleanRecord(r);
      expectCleanRecord(mine, key);
      const show = await gw.admin('GET', `/admin/keys/${id}`);
      expect(show.status).toBe(200);
      expect(show.body).toEqual(mine);
    });

    test('an unknown id is 404 key_not_found on every per-key route', async () => {
      for (const [method, path] of [
        ['GET', '/admin/keys/key_nope'],
        ['PATCH', '/admin/keys/key_nope'],
        ['POST', '/admin/keys/key_nope/revoke'],
        ['POST', '/admin/keys/key_nope/rotate'],
        ['GET', '/admin/keys/key_nope/usage'],
      ]) {
        await expectOpenAiError(
          await call(method, path, { authorization: `Bearer ${ADMIN_TOKEN}` }, method === 'PATCH' ? { name: 'x' } : undefined),
          404,
          'key_not_found',
        );
      }
    });

    test('usage answers with the key limits', async () => {
      const { id } = await gw.createKey({ limits: { rpm: 3 } });
      const res = await gw.admin('GET', `/admin/keys/${id}/usage`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id, limits: { rpm: 3 } });
    });

    test('a wrong method on a known admin route is 405, an unknown admin path 404', async () => {
      await expectOpenAiError(await call('DELETE', '/admin/keys', { authorization: `Bearer ${ADMIN_TOKEN}` }), 405, 'method_not_allowed');
      await expectOpenAiError(await call('GET', '/admin/keys/a/b/c', { authorization: `Bearer ${ADMIN_TOKEN}` }), 404, 'route_not_found');
    });
  });

  describe('patch', () => {
    test('changes the given fields, leaves others, and null removes optional ones', async () => {
      const { id, key } = await gw.createKey({ name: 'p', team: 't', models: ['a'], expiresAt: '2999-01-01T00:00:00Z' });
      const res = await gw.admin('PATCH', `/admin/keys/${id}`, { models: ['mock-*'], team: null, expiresAt: null, limits: { rpm: 5 } });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id, name: 'p', models: ['mock-*'], limits: { rpm: 5 } });
      expect(res.body.team).toBeUndefined();
      expect(res.body.expiresAt).toBeUndefined();
      expect(res.body.updatedAt).toEqual(expect.any(String));
      expectCleanRecord(res.body, key);
      expect((await gw.admin('GET', `/admin/keys/${id}`)).body).toEqual(res.body);
    });

    test('a patch takes effect on the next request in this process', async () => {
      const { id, key } = await gw.createKey();
      const chat = () => gw.post('/v1/chat/completions', { model: 'mock-model', messages: [{ role: 'user', content: 'x' }] }, key);
      expect((await chat()).status).toBe(200);
      await gw.admin('PATCH', `/admin/keys/${id}`, { models: ['other-*'] });
      await expectOpenAiError(await chat(), 403, 'model_not_allowed');
    });

    test.each([
      [{ hash: 'abc' }, 'hash'],
      [{ id: 'key_other' }, 'id'],
      [{ revokedAt: null }, 'revokedAt'],
      [{ hint: 'zzzz' }, 'hint'],
      [{ key: 'sk-gw-x' }, 'key'],
      [{ name: null }, 'name'],
      [{ name: '  ' }, 'name'],
      [{ models: [1] }, 'models'],
      [{ limits: { rpm: -1 } }, 'limits.rpm'],
      [{ expiresAt: '1999-01-01T00:00:00Z' }, 'expiresAt'],
      [{ logging: 'loud' }, 'logging'],
      [{ metadata: 'x' }, 'metadata'],
    ])('patch %j is 400 naming %s and changes nothing', async (body, param) => {
      const { id } = await gw.createKey({ name: 'keep' });
      const before = (await gw.admin('GET', `/admin/keys/${id}`)).body;
      const err = await expectOpenAiError(await call('PATCH', `/admin/keys/${id}`, { authorization: `Bearer ${ADMIN_TOKEN}` }, body), 400);
      expect(err.param).toBe(param);
      expect((await gw.admin('GET', `/admin/keys/${id}`)).body).toEqual(before);
    });
  });

  describe('revoke and rotate', () => {
    test('revoke answers the clean record with revokedAt, and is idempotent', async () => {
      const { id, key } = await gw.createKey();
      const first = await gw.admin('POST', `/admin/keys/${id}/revoke`);
      expect(first.status).toBe(200);
      expect(first.body.revokedAt).toEqual(expect.any(String));
      expectCleanRecord(first.body, key);
      const again = await gw.admin('POST', `/admin/keys/${id}/revoke`);
      expect(again.body.revokedAt).toBe(first.body.revokedAt);
    });

    test('rotate answers { id, key, ... } without the hash; the record keeps its id', async () => {
      const { id, key: oldKey } = await gw.createKey({ name: 'rot' });
      const res = await gw.admin('POST', `/admin/keys/${id}/rotate`);
      expect(res.status).toBe(200);
      const { key, ...record } = res.body;
      expect(record.id).toBe(id);
      expect(key).not.toBe(oldKey);
      expect(record.hint).toBe(key.slice(-4));
      expect(record.rotatedAt).toEqual(expect.any(String));
      expectCleanRecord(record, key);
      expectCleanRecord(record, oldKey);
    });

    test.each([[-1], [1.5], ['60'], [7 * 24 * 3600 + 1]])('rotate with gracePeriodSeconds %j is 400', async (grace) => {
      const { id } = await gw.createKey();
      const err = await expectOpenAiError(
        await call('POST', `/admin/keys/${id}/rotate`, { authorization: `Bearer ${ADMIN_TOKEN}` }, { gracePeriodSeconds: grace }),
        400,
      );
      expect(err.param).toBe('gracePeriodSeconds');
    });

    test('a revoked key cannot be rotated (409)', async () => {
      const { id } = await gw.createKey();
      await gw.admin('POST', `/admin/keys/${id}/revoke`);
      await expectOpenAiError(await call('POST', `/admin/keys/${id}/rotate`, { authorization: `Bearer ${ADMIN_TOKEN}` }, {}), 409, 'key_revoked');
    });
  });
});
