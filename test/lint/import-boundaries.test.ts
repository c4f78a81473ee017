/**
 * The architecture's import boundaries are enforced by `npm run lint` (Biome's noRestrictedImports,
 * per folder, in biome.jsonc). Each case lints a one-line probe placed in that folder of a scratch
 * copy of the layout, with the project's own lint config, and checks the import is refused (or,
 * for the controls, allowed): a rule that silently stopped matching would fail here.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const ROOT = join(__dirname, '../..');
const BIOME = join(ROOT, 'node_modules/@biomejs/biome/bin/biome');

let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'gw-lint-'));
  // The project's config, minus its git integration (the scratch folder is no repository).
  const config = readFileSync(join(ROOT, 'biome.jsonc'), 'utf8')
    .replace(/^\s*"\$schema".*$/m, '')
    .replace(/^\s*"vcs".*$/m, '');
  writeFileSync(join(scratch, 'biome.jsonc'), config);
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The noRestrictedImports findings for `source` placed at `path`. */
function restrictedImports(path: string, source: string): string[] {
  const file = join(scratch, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, source);
  let out: string;
  try {
    out = execFileSync(process.execPath, [BIOME, 'lint', '--reporter=json', '--colors=off', path], { cwd: scratch, encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    out = String((err as { stdout?: string }).stdout ?? '');
  } finally {
    rmSync(file);
  }
  const report = JSON.parse(out) as { diagnostics: { category: string }[] };
  return report.diagnostics.filter((d) => d.category === 'lint/style/noRestrictedImports').map((d) => d.category);
}

const probe = (specifier: string) => `import * as m from '${specifier}';\nexport const used = m;\n`;

test.each([
  ['lambda/core/probe.ts', '../adapters/node-server'],
  ['lambda/core/handlers/probe.ts', '../../adapters/console-logger'],
  ['lambda/core/probe.ts', 'node:http'],
  ['lambda/core/probe.ts', 'http'],
  ['lambda/core/probe.ts', 'aws-cdk-lib'],
  ['lambda/core/probe.ts', 'aws-cdk-lib/aws-lambda'],
  ['lambda/core/probe.ts', 'aws-lambda'],
  ['lambda/core/probe.ts', '../providers/registry'],
  ['lambda/core/handlers/probe.ts', '../../providers/anthropic/wire'],
  ['lambda/core/handlers/messages/probe.ts', '../../../providers/bedrock/claude-native'],
  ['lambda/apischema/probe.ts', '../core/provider'],
  ['lambda/apischema/probe.ts', '../providers/types'],
  ['lambda/providers/openai/probe.ts', '../../stores/dynamo-key-store'],
  ['lib/probe.ts', '../lambda/core/router'],
  ['lib/probe.ts', '../lambda/adapters/emf-metrics'],
  ['lib/private/probe.ts', '../../lambda/core/config'],
  ['lib/probe.ts', '../lambda/stores/dynamo-key-store'],
  ['lambda/contract/probe.ts', '../adapters/emf-metrics'],
  ['lambda/contract/probe.ts', '../stores/dynamo-client'],
  ['lambda/providers/probe.ts', '../stores/dynamo-client'],
])('%s may not import %s', (path, specifier) => {
  expect(restrictedImports(path, probe(specifier))).toHaveLength(1);
});

test.each([
  ['lambda/core/probe.ts', './errors'],
  ['lambda/core/probe.ts', 'node:crypto'],
  ['lambda/core/probe.ts', './provider'],
  ['lambda/core/handlers/probe.ts', '../../apischema/anthropic'],
  ['lambda/providers/anthropic/probe.ts', '../../core/provider'],
  ['lambda/adapters/probe.ts', '../providers/registry'],
  ['lib/probe.ts', '../lambda/contract'],
  ['lib/private/probe.ts', '../../lambda/contract'],
  ['lib/probe.ts', 'aws-cdk-lib/aws-iam'],
  ['lambda/adapters/probe.ts', 'node:http'],
  ['lambda/adapters/probe.ts', '../core/app'],
  ['lambda/providers/openai/probe.ts', '../translate-common'],
])('%s may import %s', (path, specifier) => {
  expect(restrictedImports(path, probe(specifier))).toEqual([]);
});
