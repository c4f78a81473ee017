// Build: esbuild bundles the CLI and every Lambda entry point into prebuilt assets, so
// constructs load them with Code.fromAsset and consumers never bundle at synth time.
import { build } from 'esbuild';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
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
      target: 'node20',
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
await Promise.all(jobs);
