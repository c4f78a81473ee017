/**
 * lib/ (what `cdk synth` loads) reaches the runtime only through its contract (lambda/contract),
 * so synth never loads the gateway's router, providers, stores or adapters. Loads the library's
 * entry in a fresh Node process and lists every lambda/ module that came with it.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');

/** The lambda/ modules loading `entry` brings in, relative to the project root. */
function lambdaModulesLoadedBy(entry: string): string[] {
  const script = `require(${JSON.stringify(join(ROOT, entry))});
const root = ${JSON.stringify(ROOT + '/')};
process.stdout.write(JSON.stringify(Object.keys(require.cache).filter((f) => f.startsWith(root + 'lambda/')).map((f) => f.slice(root.length))));`;
  const out = execFileSync(process.execPath, ['-r', '@swc-node/register', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(out) as string[];
}

/** The routing config's schema, written in core and re-exported by the contract: validators importing nothing else. */
const CONFIG_SCHEMA = [
  'lambda/core/config.ts',
  'lambda/core/cache/config.ts',
  'lambda/core/identity/config.ts',
  'lambda/core/openai-compatible-presets.ts',
  'lambda/core/is-object.ts',
  'lambda/core/guard/config.ts',
  'lambda/core/pii-types.ts',
];

test('loading the construct library loads only the contract and the config schema from lambda/', () => {
  const loaded = lambdaModulesLoadedBy('lib/index.ts');
  expect(loaded).toContain('lambda/contract/index.ts');
  expect(loaded.filter((f) => !f.startsWith('lambda/contract/') && !CONFIG_SCHEMA.includes(f))).toEqual([]);
});

test('the config schema the contract re-exports imports nothing else of the runtime', () => {
  const loaded = lambdaModulesLoadedBy('lambda/contract/config.ts');
  expect(loaded.filter((f) => !f.startsWith('lambda/contract/') && !CONFIG_SCHEMA.includes(f))).toEqual([]);
});
