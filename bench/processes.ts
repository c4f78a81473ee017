/**
 * The benchmark's servers, each in its own process so that their CPU and resident memory are
 * their own: the fake upstream, our gateway (exactly what `npm start` runs: dist/cli.js dev) and
 * the Portkey gateway (npm @portkey-ai/gateway's Node server).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BENCH_MODEL } from './upstream';

const root = resolve(__dirname, '..');

export interface BenchProcess {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Start a child and wait for `ready` to find what it needs in its stdout (a URL, a line). */
export function startChild(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: (out: string) => string | undefined,
  timeoutMs = 30_000,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => fail(new Error(`${name} did not start within ${timeoutMs} ms`)), timeoutMs);
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${e.message}\n--- ${name} stdout ---\n${out.slice(-2000)}\n--- ${name} stderr ---\n${err.slice(-2000)}`));
    };
    child.stdout!.on('data', (d: Buffer) => {
      if (out.length < 100_000) out += d.toString();
      const url = ready(out);
      if (url) {
        clearTimeout(timer);
        // Keep draining the pipes so a chatty child never blocks on a full pipe
        // (BENCH_CHILD_OUTPUT=1 shows what the children print after start-up, e.g. --trace-gc).
        child.stdout!.removeAllListeners('data');
        if (process.env.BENCH_CHILD_OUTPUT) child.stdout!.pipe(process.stderr);
        else child.stdout!.resume();
        resolvePromise({ child, url });
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      if (err.length < 100_000) err += d.toString();
    });
    child.once('exit', (code, signal) => fail(new Error(`${name} exited early (code ${code}, signal ${signal})`)));
    child.once('error', fail);
  });
}

export function stopper(child: ChildProcess, cleanup: () => void = () => undefined): () => Promise<void> {
  return () =>
    new Promise((done) => {
      const finish = () => {
        cleanup();
        done();
      };
      if (child.exitCode !== null || child.signalCode !== null) return finish();
      child.removeAllListeners('exit');
      const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.once('exit', () => {
        clearTimeout(force);
        finish();
      });
      child.kill('SIGTERM');
    });
}

export const tsNode = ['-r', '@swc-node/register'];

/** The `{"url": …}` line a bench server prints when it is listening. */
const urlLine = (out: string): string | undefined => {
  const line = out.split('\n').find((l) => l.startsWith('{"url"'));
  return line ? (JSON.parse(line) as { url: string }).url : undefined;
};

export async function startUpstreamProcess(streamHoldMs: number): Promise<BenchProcess> {
  const { child, url } = await startChild(
    'upstream',
    process.execPath,
    [...tsNode, 'bench/upstream.ts'],
    { BENCH_STREAM_HOLD_MS: String(streamHoldMs) },
    urlLine,
  );
  return { name: 'upstream', url, pid: child.pid!, stop: stopper(child) };
}

/** The floor reference: a minimal Node proxy in front of the same upstream (bench/floor-proxy.ts). */
export async function startFloorProcess(upstreamUrl: string): Promise<BenchProcess> {
  const { child, url } = await startChild(
    'floor',
    process.execPath,
    [...tsNode, 'bench/floor-proxy.ts'],
    { BENCH_UPSTREAM_URL: upstreamUrl, BENCH_UPSTREAM_KEY: UPSTREAM_PROVIDER_KEY },
    urlLine,
  );
  return { name: 'floor', url, pid: child.pid!, stop: stopper(child) };
}

export interface GatewayProcess extends BenchProcess {
  readonly adminToken: string;
  readonly dataDir: string;
}

export const UPSTREAM_PROVIDER_KEY = 'sk-bench-upstream-provider-key';

/** The gateway config the bench uses: one model routed to the fake upstream as an OpenAI provider. */
export function benchGatewayConfig(upstreamUrl: string) {
  return {
    providers: { upstream: { type: 'openai', baseUrl: `${upstreamUrl}/v1`, apiKey: { env: 'BENCH_UPSTREAM_KEY' } } },
    models: { [BENCH_MODEL]: { targets: [{ provider: 'upstream', model: BENCH_MODEL }] } },
  };
}

/**
 * The node flags `npm start` runs the gateway with (package.json's start script), so the bench
 * measures the same process. (--max-semi-space-size=16: V8's young generation may grow to 16 MB
 * per semi-space, so the stop-the-world scavenges that every request's garbage triggers come half
 * as often as at 8 MB; in interleaved paced runs the gateway's worst latencies went from 12-25 ms
 * to 6-9 ms, at the cost of up to 16 MB more RSS. --heap-growing-percent=100: after a full GC the
 * old space may only double before the next one, instead of V8's up-to-4x for a fast-collecting
 * heap; under 16-connection load peak RSS went from 192-202 MB to 132 MB.)
 */
export function startScriptNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const m = /\bnode((?:\s+--\S+)*)\s+dist\/cli\.js\s+dev\b/.exec(pkg.scripts?.start ?? '');
  return m ? m[1].trim().split(/\s+/).filter(Boolean) : [];
}

/**
 * Our gateway as `npm start` runs it (dist/cli.js dev, built by scripts/build.mjs), on a fresh data
 * dir. `cli` runs another build instead (the `baseline` target: a previous build, side by side).
 */
export async function startGatewayProcess(upstreamUrl: string, cli = join(root, 'dist/cli.js'), name = 'gateway'): Promise<GatewayProcess> {
  readFileSync(cli); // a clear ENOENT when the build has not run
  const dataDir = mkdtempSync(join(tmpdir(), 'gw-bench-'));
  const configPath = join(dataDir, 'gateway.config.json');
  writeFileSync(configPath, JSON.stringify(benchGatewayConfig(upstreamUrl)));
  const adminToken = 'bench-admin-token';
  const { child, url } = await startChild(
    name,
    process.execPath,
    // BENCH_GATEWAY_NODE_ARGS: extra node flags for the gateway only (e.g. --cpu-prof to profile it).
    [...startScriptNodeFlags(), ...(process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean), cli, 'dev'],
    {
      PORT: '0',
      GATEWAY_DATA_DIR: dataDir,
      GATEWAY_CONFIG: configPath,
      GATEWAY_ADMIN_TOKEN: adminToken,
      GATEWAY_LOG_LEVEL: 'warn',
      BENCH_UPSTREAM_KEY: UPSTREAM_PROVIDER_KEY,
    },
    (out) => /listening on (http:\/\/\S+)/.exec(out)?.[1],
  );
  return { name, url, pid: child.pid!, adminToken, dataDir, stop: stopper(child, () => rmSync(dataDir, { recursive: true, force: true })) };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Poll until `url` answers at all (Portkey prints its banner through a spinner, not a parseable line). */
async function waitForHttp(url: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`process serving ${url} exited (code ${child.exitCode})`);
    try {
      await fetch(url);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The Portkey gateway's own Node server (`npx @portkey-ai/gateway`), headless, on a free port. */
export async function startPortkeyProcess(): Promise<BenchProcess> {
  const entry = require.resolve('@portkey-ai/gateway/build/start-server.js', { paths: [root] });
  const port = await freePort();
  const child = spawn(process.execPath, [entry, `--port=${port}`, '--headless'], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.resume();
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(url, child);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return { name: 'portkey', url, pid: child.pid!, stop: stopper(child) };
}

/** Resident set size of a process in bytes (Linux /proc; `ps` elsewhere). */
export function rssBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system) a process has used so far, in ms (Linux /proc). Per-request CPU is
 * far less sensitive than throughput to other work on the machine, so it tells optimisations apart.
 */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** USER_HZ: 100 on every Linux architecture Node supports. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Samples a process's RSS on an interval and keeps the peak. */
export function rssSampler(pid: number, everyMs = 100): { stop(): number | undefined } {
  let peak: number | undefined;
  const sample = () => {
    const v = rssBytes(pid);
    if (v !== undefined && (peak === undefined || v > peak)) peak = v;
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

/** Create a virtual key through the gateway's admin API. */
export async function createBenchKey(gw: { readonly url: string; readonly adminToken: string }, body: Record<string, unknown> = {}): Promise<string> {
  const res = await fetch(`${gw.url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', ...body }),
  });
  const json = (await res.json()) as { key?: string };
  if (res.status !== 201 || !json.key) throw new Error(`creating a bench key failed: ${res.status} ${JSON.stringify(json)}`);
  return json.key;
}
