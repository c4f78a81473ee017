/** `ai-gateway teams set|show` and `ai-gateway keys usage` against the local gateway's admin API. */
import type * as Cli from '../../../bin/ai-gateway';
// The .ts source by name: bin/ai-gateway.js beside it is the launcher, which jest would pick first.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { main } = require('../../../bin/ai-gateway.ts') as typeof Cli;
import { ADMIN_TOKEN } from '../../helpers/gateway';
import { chat, startLimitsHarness, type LimitsHarness } from './harness';

let h: LimitsHarness;
beforeAll(async () => (h = await startLimitsHarness()));
afterAll(() => h.close());

async function cli(...args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  const err = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  try {
    const code = await main([...args, '--url', h.gw.url, '--token', ADMIN_TOKEN]);
    return { code, out: lines.join('\n') };
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
}

test('teams set then show', async () => {
  const set = await cli('teams', 'set', 'ml', '--tpm', '5000', '--budget-usd', '20', '--budget-period', 'day');
  expect(set.code).toBe(0);
  expect(set.out).toContain('5000 tok/min, $20/day');
  const shown = await cli('teams', 'show', 'ml', '--json');
  expect(JSON.parse(shown.out).limits).toEqual({ tpm: 5000, budgetUsd: { amount: 20, period: 'day' } });
  expect((await cli('teams', 'show', 'nobody')).code).toBe(1);
  expect((await cli('teams', 'set')).code).toBe(2);
});

test('keys usage shows consumption against each limit, the team too', async () => {
  const { key, id } = await h.gw.createKey({ team: 'ml', limits: { rpm: 10, tpm: 1000 } });
  expect((await chat(h.gw, key)).status).toBe(200);
  const { code, out } = await cli('keys', 'usage', id);
  expect(code).toBe(0);
  expect(out).toMatch(/rpm\s+10 req\/min\s+1\s+9/);
  expect(out).toMatch(/tpm\s+1000 tok\/min\s+18\s+982/);
  expect(out).toContain('Team ml (5000 tok/min, $20/day)');
  expect(out).toMatch(/budget\/day\s+\$20\s+\$0\.0001/);
});
