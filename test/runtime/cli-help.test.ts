/** The CLI answers --help and --version with exit 0, and each command has its own help. */
import type * as Cli from '../../bin/ai-gateway';
// The .ts source by name: bin/ai-gateway.js beside it is the launcher, which jest would pick first.
const { main } = require('../../bin/ai-gateway.ts') as typeof Cli;
import { version } from '../../package.json';

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const error = jest.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  try {
    return { code: await main(argv), out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

test.each([['--version'], ['-v'], ['version']])('%s prints the package version and exits 0', async (flag) => {
  expect(await run([flag])).toEqual({ code: 0, out: version, err: '' });
});

test.each([['--help'], ['-h'], ['help']])('%s prints every command and exits 0', async (flag) => {
  const { code, out } = await run([flag]);
  expect(code).toBe(0);
  for (const cmd of ['dev', 'keys create', 'keys rotate', 'teams set', 'logs', 'usage', 'ui-link']) expect(out).toContain(`ai-gateway ${cmd}`);
  expect(out).toContain('--version');
});

test.each([
  ['dev', 'HOST'],
  ['keys', '--grace-seconds'],
  ['teams', 'Limits shared by every key of the team'],
  ['logs', '--follow'],
  ['usage', 'Spend and tokens per key per day'],
])('%s has its own help (help CMD and CMD --help), mentioning %s', async (cmd, mentions) => {
  for (const argv of [
    ['help', cmd],
    [cmd, '--help'],
  ]) {
    const { code, out } = await run(argv);
    expect(code).toBe(0);
    expect(out).toContain(mentions);
    // Only that command's usage lines.
    const commands = new Set([...out.matchAll(/^ai-gateway (\S+)/gm)].map((m) => m[1]));
    expect([...commands]).toEqual([cmd]);
  }
});

test('no command, or help for an unknown one, prints the usage and exits 2', async () => {
  expect((await run([])).code).toBe(2);
  expect((await run(['help', 'nope'])).code).toBe(2);
});
