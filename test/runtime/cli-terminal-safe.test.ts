/**
 * Issue 12 item 10: the CLI prints only safe text. A key holder chooses model names (and user agents,
 * which Node's parser already holds to visible text) and, through a careless operator, key and team names; `ai-gateway logs`, `usage` and `keys`
 * print them. Terminal escape sequences (ESC, the 8-bit CSI, carriage returns, bidi overrides) in
 * any of them reach the operator's terminal only as visible escapes, in human output and in --json.
 */
import { ADMIN_TOKEN, startTestGateway } from '../helpers/gateway';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { main } = require('../../bin/ai-gateway.ts') as typeof import('../../bin/ai-gateway');

/** What a terminal would act on: C0 controls but the newline, DEL, C1 controls, direction overrides. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for the control characters the CLI must not print
const TERMINAL_CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const CLEAR_SCREEN = '\x1b[2J\x1b[H';
const HOSTILE = `evil${CLEAR_SCREEN}\x9b31m\r\u202efake`;

test('10: logs, usage and keys print hostile server-provided strings as visible escapes only', async () => {
  const gw = await startTestGateway({
    providers: { mock: { type: 'mock' } },
    models: { 'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] } },
  });
  const out: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
  const err = jest.spyOn(console, 'error').mockImplementation((s: string) => void out.push(s));
  try {
    const { key, id } = await gw.createKey({ name: `name-${HOSTILE}`, team: `team-${HOSTILE}` });
    await gw.post('/v1/chat/completions', { model: `mock-model${HOSTILE}`, messages: [{ role: 'user', content: 'x' }] }, key);
    await gw.post('/v1/chat/completions', { model: 'mock-model', messages: [{ role: 'user', content: 'x' }] }, key);
    await gw.gateway.flush();

    const runs: string[][] = [
      ['logs', '--data-dir', gw.dataDir],
      ['logs', '--data-dir', gw.dataDir, '--json'],
      ['usage', '--data-dir', gw.dataDir],
      ['usage', '--data-dir', gw.dataDir, '--json'],
      ['keys', 'list', '--url', gw.url, '--token', ADMIN_TOKEN],
      ['keys', 'show', id, '--url', gw.url, '--token', ADMIN_TOKEN],
      ['keys', 'show', id, '--url', gw.url, '--token', ADMIN_TOKEN, '--json'],
      ['keys', 'revoke', id, '--url', gw.url, '--token', ADMIN_TOKEN],
    ];
    for (const args of runs) {
      out.length = 0;
      expect(await main(args)).toBe(0);
      const printed = out.join('\n');
      // The hostile strings were printed (escaped), so this run could have leaked them.
      expect(printed).toMatch(/\\x1b|\\u001b/);
      expect(printed).not.toMatch(TERMINAL_CONTROLS);
    }
    // --json stays JSON that decodes to the exact strings.
    out.length = 0;
    await main(['keys', 'show', id, '--url', gw.url, '--token', ADMIN_TOKEN, '--json']);
    expect(JSON.parse(out.join('\n')).name).toBe(`name-${HOSTILE}`);
  } finally {
    log.mockRestore();
    err.mockRestore();
    await gw.close();
  }
});
