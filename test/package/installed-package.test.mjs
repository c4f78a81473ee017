/**
 * The package as its users get it (ARCHITECTURE §17): `npm pack` of this checkout (its prepack
 * builds what it ships), installed into a fresh CDK app in a temp folder next to the same
 * aws-cdk-lib and constructs versions this checkout uses; the README's "Compose it in your own
 * stack" code compiled against the installed types and synthesized as `cdk synth` would run it;
 * and `npx ai-gateway dev` run from that app until /health answers.
 *
 * Run by `npm run test:package` (and .ci/run), not by jest: it packs and installs, which takes
 * a minute. The app is installed with `npm ci` from a lockfile cut from this checkout's own
 * (app-lockfile.mjs), preferring the npm cache: a machine that ran `npm ci` here already holds every
 * package it needs, so the install resolves nothing against the registry and fetches nothing new.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { appLockfile } from './app-lockfile.mjs';

const ROOT = join(import.meta.dirname, '../..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const versionOf = (name) => JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;

let work;
let tarball;
/** What `npm pack --json` reports: the files in the tarball. */
let packed;
let app;

function run(cmd, args, cwd, env = {}) {
  return execFileSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 2 ** 20 });
}

/** The fenced ```ts block of a README section, exactly as a reader copies it. */
function readmeBlock(heading, lang) {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `README has a "${heading}" section`);
  const section = readme.slice(start + heading.length + 2).split(/\n#{1,3} /)[0];
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(section);
  assert.ok(m, `"${heading}" has a \`\`\`${lang} block`);
  return { section, code: m[1] };
}

before(() => {
  work = mkdtempSync(join(tmpdir(), 'gw-package-'));
  // `npm pack` runs prepack (clean + build): what ships is built from this checkout, now.
  const out = run(NPM, ['pack', '--json', '--pack-destination', work], ROOT);
  const report = JSON.parse(out.slice(out.indexOf('[\n')));
  packed = report[0];
  tarball = join(work, packed.filename);
  assert.ok(existsSync(tarball), `npm pack wrote ${tarball}`);
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the tarball holds the built library (constructs, types, Lambda assets, CLI) and no test or bench file', () => {
  const files = packed.files.map((f) => f.path);
  for (const f of [
    'package.json',
    'LICENSE',
    'README.md',
    'bin/ai-gateway.js',
    'dist/cli.js',
    'dist/lib/index.js',
    'dist/lib/index.d.ts',
    'dist/lib/ai-gateway.d.ts',
  ])
    assert.ok(files.includes(f), `${f} is in the tarball`);
  for (const asset of ['proxy', 'admin']) assert.ok(files.includes(`dist/assets/${asset}/index.js`), `the prebuilt ${asset} Lambda asset is in the tarball`);
  const stray = files.filter((f) => /^(test|bench|scripts|lambda|lib|examples)\//.test(f) || /\.test\.|\.ts$/.test(f.replace(/\.d\.ts$/, '')));
  assert.deepEqual(stray, [], 'no sources, tests or bench files');
});

test('aws-cdk-lib and constructs are peer dependencies only; what the CLI loads at run time is a dependency', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  for (const peer of ['aws-cdk-lib', 'constructs']) {
    assert.ok(pkg.peerDependencies[peer], `${peer} is a peer dependency`);
    assert.equal(pkg.dependencies?.[peer], undefined, `${peer} is not a dependency (it would bring a second copy)`);
  }
  // The CLI bundle leaves out only what it must load from node_modules: each of those is a dependency.
  const cli = readFileSync(join(ROOT, 'dist/cli.js'), 'utf8');
  const external = [...cli.matchAll(/require\("([^".][^"]*)"\)/g)].map((m) => m[1]).filter((n) => !n.startsWith('node:') && !['buffer'].includes(n));
  const optional = ['@aws-sdk/signature-v4-crt']; // the SDK's optional native signer, loaded in a try
  for (const name of new Set(external)) if (!optional.includes(name)) assert.ok(pkg.dependencies[name], `${name} (required by dist/cli.js) is a dependency`);
  assert.ok(pkg.dependencies.dynalite, 'dynalite (the embedded store of `ai-gateway dev`) is a dependency');
});

test('installed into a fresh CDK app, the README example compiles against the shipped types and synthesizes', { timeout: 240_000 }, () => {
  app = join(work, 'app');
  mkdirSync(app);
  const { section, code } = readmeBlock('## Compose it in your own stack', 'ts');
  // The section's first command is the install, as written (the tarball stands in for the registry).
  const install = /```bash\n([^\n]*)/.exec(section)?.[1] ?? '';
  assert.match(install, /^npm install cdk-ai-gateway\b/, 'the section starts with npm install cdk-ai-gateway');
  const peers = { 'aws-cdk-lib': versionOf('aws-cdk-lib'), constructs: versionOf('constructs') };
  const tarballSpec = `file:../${packed.filename}`;
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'my-cdk-app', private: true, dependencies: { ...peers, [pkg.name]: tarballSpec } }, null, 2));
  const lock = appLockfile({ rootLockPath: join(ROOT, 'package-lock.json'), rootDependencies: peers, pkg, tarballPath: tarball, tarballSpec });
  writeFileSync(join(app, 'package-lock.json'), JSON.stringify(lock, null, 2));
  run(NPM, ['ci', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], app);
  const installed = JSON.parse(readFileSync(join(app, 'node_modules/cdk-ai-gateway/package.json'), 'utf8'));
  assert.equal(installed.name, 'cdk-ai-gateway');
  assert.equal(existsSync(join(app, 'node_modules/cdk-ai-gateway/node_modules/aws-cdk-lib')), false, 'one aws-cdk-lib: the app’s own');

  mkdirSync(join(app, 'bin'));
  writeFileSync(join(app, 'bin/app.ts'), code);
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'commonjs',
        moduleResolution: 'node',
        strict: true,
        skipLibCheck: true,
        types: [],
        rootDir: '.',
        outDir: 'build',
      },
      include: ['bin/**/*.ts'],
    }),
  );
  // The checkout's TypeScript, against the app's node_modules: the installed package's .d.ts files.
  run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], app);
  // What `cdk synth` does: run the app with CDK_OUTDIR set (the App then synthesizes on exit).
  const outdir = join(app, 'cdk.out');
  run(process.execPath, ['build/bin/app.js'], app, { CDK_OUTDIR: outdir });
  const templates = readdirSync(outdir).filter((f) => f.endsWith('.template.json'));
  assert.ok(templates.length > 0, 'a stack template was written');
  const resources = templates.flatMap((t) => Object.values(JSON.parse(readFileSync(join(outdir, t), 'utf8')).Resources ?? {}));
  const functions = resources.filter((r) => r.Type === 'AWS::Lambda::Function');
  assert.ok(functions.length >= 2, 'the proxy and admin functions');
  for (const fn of functions.filter((f) => f.Properties.Runtime?.startsWith('nodejs'))) assert.equal(fn.Properties.Runtime, 'nodejs22.x');
  // Each function's code is the prebuilt asset from the package: a folder with index.js, no bundling at synth.
  const assetDirs = readdirSync(outdir).filter((d) => d.startsWith('asset.') && existsSync(join(outdir, d, 'index.js')));
  assert.ok(assetDirs.length >= 2, 'the prebuilt proxy and admin bundles are the functions’ assets');
});

test('`npx ai-gateway --version` answers from the installed package', { timeout: 60_000 }, () => {
  assert.ok(app, 'the app was installed');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  assert.equal(run(NPM, ['exec', '--', 'ai-gateway', '--version'], app).trim(), pkg.version);
});

test('`npx ai-gateway dev` from the app serves /health', { timeout: 120_000 }, async () => {
  assert.ok(app, 'the app was installed');
  const dataDir = join(app, '.gateway');
  const child = spawn(NPM, ['exec', '--', 'ai-gateway', 'dev'], {
    cwd: app,
    env: { ...process.env, PORT: '0', GATEWAY_DATA_DIR: dataDir, OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: npm exec's child goes down with it
  });
  const output = [];
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  try {
    const url = await new Promise((resolve, reject) => {
      const onData = (d) => {
        output.push(String(d));
        const m = /listening on (http:\/\/\S+)/.exec(output.join(''));
        if (m) resolve(m[1]);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', (d) => output.push(String(d)));
      exited.then(({ code }) => reject(new Error(`ai-gateway dev exited (${code}) before listening:\n${output.join('')}`)));
    });
    const res = await fetch(`${url}/health`);
    assert.equal(res.status, 200);
    // The store came up from the installed package: the data dir holds its database.
    assert.ok(existsSync(join(dataDir, 'db')), 'dynalite persisted under the data dir');
  } finally {
    process.kill(-child.pid, 'SIGTERM');
    await exited;
  }
});
