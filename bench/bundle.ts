/**
 * The proxy Lambda bundle (dist/assets/proxy/index.js, built by scripts/build.mjs): its size,
 * the median time a fresh Node process takes to import it (module evaluation only: the entry
 * builds the gateway lazily), and the median time of the first invocation after that import
 * (GET /health: builds the gateway, loading config and the AWS SDK clients), which is what an
 * on-demand cold start adds beyond the import.
 *
 * Each import runs in a new process beside a copy of the bundle, with the routing config the
 * constructs would ship next to it and the environment they would set, and with a minimal
 * `awslambda` global (the Lambda runtime provides the real one). Modules the bundle leaves
 * external (the AWS SDK, which the runtime ships) are resolved from node_modules, so their load
 * time counts too.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ENV_COUNTERS_TABLE, ENV_KEYS_TABLE } from '../lambda/contract/env';
import { ENV_LOG_STREAM, CONFIG_FILE_NAME } from '../lambda/contract/env';
import { median } from './stats';

export const PROXY_BUNDLE = resolve(__dirname, '../dist/assets/proxy/index.js');

export type BundleReport =
  | { readonly built: false; readonly path: string }
  | {
      readonly built: true;
      readonly path: string;
      readonly sizeKb: number;
      readonly coldImportMs?: number;
      /** First invocation after the cold import (builds the gateway: config, SDK clients). */
      readonly firstInvokeMs?: number;
      readonly importRuns: number;
      readonly importError?: string;
    };

/** The script each fresh process runs: stub the runtime global, time the require, print ms. */
const IMPORT_PROBE = `
globalThis.awslambda = {
  streamifyResponse: (h) => h,
  HttpResponseStream: { from: (stream) => stream },
};
const { performance } = require('node:perf_hooks');
const { Writable } = require('node:stream');
const t0 = performance.now();
const { handler } = require(process.argv[1]);
const importMs = performance.now() - t0;
const sink = new Writable({ write(_c, _e, cb) { cb(); } });
const health = { httpMethod: 'GET', path: '/health', resource: '/health', headers: {}, multiValueHeaders: {}, body: null, isBase64Encoded: false, pathParameters: null, queryStringParameters: null, requestContext: { identity: { sourceIp: '127.0.0.1' } } };
const t1 = performance.now();
Promise.resolve(handler(health, sink, { getRemainingTimeInMillis: () => 30000 })).then(() => {
  process.stdout.write(JSON.stringify({ importMs, firstInvokeMs: performance.now() - t1 }));
});
`;

export function measureColdImport(bundlePath: string, runs: number): { ms: number; firstInvokeMs: number } | { error: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gw-bundle-'));
  try {
    const copy = join(dir, 'index.js');
    copyFileSync(bundlePath, copy);
    writeFileSync(join(dir, CONFIG_FILE_NAME), JSON.stringify({ providers: { mock: { type: 'mock' } }, models: {} }));
    const env = {
      PATH: process.env.PATH,
      // The bundle leaves the AWS SDK external (the Node.js 22 Lambda runtime provides it); resolve
      // it from this repo's node_modules the way the runtime resolves its own copy.
      NODE_PATH: resolve(__dirname, '../node_modules'),
      AWS_REGION: 'us-east-1',
      [ENV_KEYS_TABLE]: 'bench-keys',
      [ENV_COUNTERS_TABLE]: 'bench-counters',
      [ENV_LOG_STREAM]: 'bench-log-stream',
    };
    const imports: number[] = [];
    const invokes: number[] = [];
    for (let i = 0; i < runs; i++) {
      const out = execFileSync(process.execPath, ['-e', IMPORT_PROBE, copy], { cwd: dir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const probe = JSON.parse(out) as { importMs: number; firstInvokeMs: number };
      imports.push(probe.importMs);
      invokes.push(probe.firstInvokeMs);
    }
    return { ms: median(imports), firstInvokeMs: median(invokes) };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return { error: (e.stderr || e.message).trim().split('\n').slice(0, 6).join('\n') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function bundleReport(runs: number, bundlePath = PROXY_BUNDLE): BundleReport {
  if (!existsSync(bundlePath)) return { built: false, path: bundlePath };
  const sizeKb = statSync(bundlePath).size / 1024;
  const imported = measureColdImport(bundlePath, runs);
  return 'ms' in imported
    ? { built: true, path: bundlePath, sizeKb, coldImportMs: imported.ms, firstInvokeMs: imported.firstInvokeMs, importRuns: runs }
    : { built: true, path: bundlePath, sizeKb, importRuns: runs, importError: imported.error };
}
