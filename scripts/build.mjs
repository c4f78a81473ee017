// Build: esbuild bundles the CLI and every Lambda entry point into prebuilt assets, so
// constructs load them with Code.fromAsset and consumers never bundle at synth time.
import { build } from 'esbuild';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv[2]; // 'cli' to build just the CLI (npm start), 'lambda' just the Lambda assets (cdk synth)

const common = { bundle: true, platform: 'node', sourcemap: false, logLevel: 'warning', legalComments: 'none' };

const jobs = [];
if (only !== 'lambda')
  jobs.push(
    build({
      ...common,
      entryPoints: [join(root, 'bin/ai-gateway.ts')],
      outfile: join(root, 'dist/cli.js'),
      target: 'node22',
      // dynalite loads a native LevelDB binding: it stays a runtime dependency.
      external: ['dynalite'],
    }),
  );

// Lambda entry points: lambda/entry/<name>.ts → dist/assets/<name>/index.js (Node.js 22, arm64).
const entryDir = join(root, 'lambda/entry');
if (only !== 'cli' && existsSync(entryDir)) {
  for (const file of readdirSync(entryDir).filter((f) => f.endsWith('.ts'))) {
    const name = file.replace(/\.ts$/, '');
    const outdir = join(root, 'dist/assets', name);
    mkdirSync(outdir, { recursive: true });
    jobs.push(
      build({
        ...common,
        entryPoints: [join(entryDir, file)],
        outfile: join(outdir, 'index.js'),
        target: 'node22',
        minify: true,
        metafile: false,
        // The Node.js 22 Lambda runtime ships AWS SDK v3: bundling it would make the proxy ~870 KB
        // (over the 400 KB budget) and is not faster to load, since SDK start-up is module
        // evaluation, not file size. The entries load the SDK lazily, when first needed.
        external: ['@aws-sdk/*', '@smithy/*'],
      }),
    );
  }
}
// The usage page (/ui): its script bundled with uPlot for browsers, beside its HTML and styles. The CLI
// serves it from dist/ui; the proxy Lambda from the ui/ folder of its asset.
const uiDir = join(root, 'dist/ui');
mkdirSync(uiDir, { recursive: true });
await build({
  entryPoints: [join(root, 'lambda/ui/app.ts')],
  outfile: join(uiDir, 'app.js'),
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2020',
  minify: true,
  logLevel: 'warning',
  legalComments: 'none',
});
copyFileSync(join(root, 'lambda/ui/index.html'), join(uiDir, 'index.html'));
copyFileSync(join(root, 'lambda/ui/app.css'), join(uiDir, 'app.css'));
copyFileSync(join(root, 'node_modules/uplot/dist/uPlot.min.css'), join(uiDir, 'uplot.css'));

await Promise.all(jobs);
if (only !== 'cli' && existsSync(join(root, 'dist/assets/proxy'))) cpSync(uiDir, join(root, 'dist/assets/proxy/ui'), { recursive: true });
