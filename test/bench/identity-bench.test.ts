/** The JWT identity bench runs end to end on a few requests: every kind measured, the JWKS fetched once. */
import { identityBench, renderIdentity } from '../../bench/identity';

test('measures a virtual key, a reused JWT and fresh RS256/ES256 JWTs, with one JWKS fetch in all', async () => {
  const r = await identityBench({ BENCH_IDENTITY_REQUESTS: '100' });
  expect(r!.rows.map((row) => row.kind)).toEqual([
    'virtual key',
    'JWT, same token',
    'JWT, fresh RS256 token each request',
    'JWT, fresh ES256 token each request',
  ]);
  expect(r!.jwksFetches).toBe(1);
  for (const row of r!.rows) expect(row.p50Ms).toBeGreaterThan(0);
  expect(
    renderIdentity(r)
      .split('\n')
      .filter((l) => /^(PASS|FAIL) JWT/.test(l)),
  ).toHaveLength(3);
  expect(renderIdentity(await identityBench({ BENCH_IDENTITY_REQUESTS: '0' }))).toMatch(/skipped/);
});
