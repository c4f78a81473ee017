/** `ai-gateway keys create|update|show` with the identity options, against the local gateway's admin API. */
import type * as Cli from '../../../bin/ai-gateway';
// The .ts source by name: bin/ai-gateway.js beside it is the launcher, which jest would pick first.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { main } = require('../../../bin/ai-gateway.ts') as typeof Cli;
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from '../../helpers/gateway';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ providers: { mock: { type: 'mock' } }, models: { 'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] } } });
});
afterAll(() => gw.close());

async function cli(...args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  const err = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  try {
    const code = await main([...args, '--url', gw.url, '--token', ADMIN_TOKEN]);
    return { code, out: lines.join('\n') };
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
}

test('keys create binds an OIDC client, trusts the user header and sets per-user limits; show says how the key is usable', async () => {
  const created = await cli(
    'keys',
    'create',
    '--name',
    'portal',
    '--rpm',
    '100',
    '--oidc-client-id',
    'okta-portal',
    '--trust-user-header',
    'true',
    '--per-user-rpm',
    '5',
    '--per-user-budget-usd',
    '2',
    '--per-user-budget-period',
    'day',
    '--json',
  );
  expect(created.code).toBe(0);
  const rec = JSON.parse(created.out);
  expect(rec).toMatchObject({
    oidcClientId: 'okta-portal',
    trustUserHeader: true,
    limits: { rpm: 100, perUser: { rpm: 5, budgetUsd: { amount: 2, period: 'day' } } },
    usableWith: ['key', 'jwt'],
  });

  const shown = await cli('keys', 'show', rec.id);
  expect(shown.out).toMatch(/usable\s+key or JWT \(OIDC client okta-portal\)/);
  expect(shown.out).toMatch(/users\s+the JWT's user claim; x-gateway-user/);
  expect(shown.out).toMatch(/limits\s+100 req\/min, per user: 5 req\/min, \$2\/day/);

  const updated = await cli('keys', 'update', rec.id, '--oidc-client-id', 'none', '--trust-user-header', 'false', '--json');
  expect(JSON.parse(updated.out)).toMatchObject({ trustUserHeader: false, usableWith: ['key'] });
  expect(JSON.parse(updated.out).oidcClientId).toBeUndefined();
  expect((await cli('keys', 'show', rec.id)).out).toMatch(/usable\s+key\n/);
});

test('a bad --trust-user-header value is a usage error', async () => {
  expect((await cli('keys', 'create', '--name', 'x', '--trust-user-header', 'yes')).code).toBe(2);
});
