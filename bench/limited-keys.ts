/**
 * Limits at the speed of an unlimited key (ARCHITECTURE §8, leased capacity): one local gateway
 * process, four keys on the same route — no limits, rpm + tpm, tpm only, tpm + a USD budget, each
 * limit far above the load — measured in interleaved closed-loop rounds (the order rotating each
 * round), with every store command the gateway sends counted at its DynamoDB client. The same
 * keys then run on a gateway with leases off (exact per-request reservations: the limiter before
 * leases), for the side-by-side figure.
 *
 * Targets: each limited key at least 80 % of the unlimited key's throughput, at most 1 ms more
 * p50, and at most 0.05 store writes per request at steady load.
 *
 * Environment: BENCH_LIMITED_DURATION (s per run, 4; 0 skips), BENCH_LIMITED_ROUNDS (3),
 * BENCH_LIMITED_CONNECTIONS (20), BENCH_LIMITED_WARMUP (s per key, 1), BENCH_LIMITED_EXACT (1; 0 skips the
 * leases-off gateway).
 */
import { type LoadRun, type LoadTarget, runLoad, summarise } from './load';
import type { OpCounts } from './dynamo-ops';
import { type BenchProcess, cpuMs, createBenchKey, startChild, startUpstreamProcess, stopper, tsNode } from './processes';
import { BENCH_MODEL } from './upstream';

export const LIMITED_THROUGHPUT_TARGET = 0.8;
export const LIMITED_P50_TARGET_MS = 1;
export const LIMITED_WRITES_TARGET = 0.05;
const ADMIN_TOKEN = 'bench-admin-token';

/** The keys, each limit far above what the bench can send (it measures cost, not rejection). */
const KEYS: ReadonlyArray<{ readonly label: string; readonly limits?: Record<string, unknown> }> = [
  { label: 'no limits' },
  { label: 'rpm+tpm', limits: { rpm: 10_000_000, tpm: 10_000_000_000 } },
  { label: 'tpm only', limits: { tpm: 10_000_000_000 } },
  { label: 'tpm+budget', limits: { tpm: 10_000_000_000, budgetUsd: { amount: 1_000_000, period: 'month' } } },
];

export interface LimitedKeyRow {
  readonly key: string;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly requests: number;
  readonly failures: number;
  /** Store writes on the request path (keys and counters tables) per request; usage rollups apart. */
  readonly writesPerRequest: number;
  readonly rollupWritesPerRequest: number;
  /** The gateway process's CPU per request. */
  readonly cpuUsPerRequest: number;
}

export interface LimitedKeysReport {
  readonly connections: number;
  readonly durationS: number;
  readonly rounds: number;
  readonly leased: readonly LimitedKeyRow[];
  /** The same keys with leases off (exact reservations), when measured. */
  readonly exact?: readonly LimitedKeyRow[];
}

export interface LimitedKeysOptions {
  readonly durationS: number;
  readonly rounds: number;
  readonly connections: number;
  readonly exact: boolean;
  /** Seconds of load per key before the rounds. */
  readonly warmupS: number;
}

export function limitedKeysOptions(env: NodeJS.ProcessEnv = process.env): LimitedKeysOptions | undefined {
  const num = (name: string, dflt: number) => (env[name] === undefined || env[name] === '' ? dflt : Number(env[name]));
  const durationS = num('BENCH_LIMITED_DURATION', 4);
  if (!(durationS > 0)) return undefined;
  return {
    durationS,
    rounds: Math.max(1, Math.round(num('BENCH_LIMITED_ROUNDS', 3))),
    connections: Math.max(1, Math.round(num('BENCH_LIMITED_CONNECTIONS', 20))),
    exact: num('BENCH_LIMITED_EXACT', 1) !== 0,
    warmupS: num('BENCH_LIMITED_WARMUP', 1),
  };
}

interface CountedGateway extends BenchProcess {
  ops(path: 'reset' | 'snapshot'): Promise<OpCounts>;
}

async function startCountedGateway(upstreamUrl: string, leases: boolean): Promise<CountedGateway> {
  let opsUrl = '';
  const { child, url } = await startChild(
    leases ? 'gateway (leases)' : 'gateway (exact)',
    process.execPath,
    [...tsNode, 'bench/limited-gateway.ts'],
    { BENCH_UPSTREAM_URL: upstreamUrl, BENCH_ADMIN_TOKEN: ADMIN_TOKEN, BENCH_LEASES: leases ? 'on' : 'off', GATEWAY_LOG_LEVEL: 'warn' },
    (out) => {
      const line = out.split('\n').find((l) => l.startsWith('{"url"'));
      if (!line) return undefined;
      const parsed = JSON.parse(line) as { url: string; ops: string };
      opsUrl = parsed.ops;
      return parsed.url;
    },
  );
  return {
    name: 'gateway',
    url,
    pid: child.pid!,
    stop: stopper(child),
    ops: async (path) => (await (await fetch(`${opsUrl}/${path}`)).json()) as OpCounts,
  };
}

const body = JSON.stringify({ model: BENCH_MODEL, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16 });

async function measureGateway(upstreamUrl: string, leases: boolean, opts: LimitedKeysOptions, log: (l: string) => void): Promise<LimitedKeyRow[]> {
  const gw = await startCountedGateway(upstreamUrl, leases);
  try {
    const targets: LoadTarget[] = [];
    for (const k of KEYS) {
      const key = await createBenchKey(
        { url: gw.url, adminToken: ADMIN_TOKEN },
        { name: `bench-${k.label.replace(/\W+/g, '-')}`, ...(k.limits ? { limits: k.limits } : {}) },
      );
      targets.push({ name: k.label, url: gw.url, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body });
    }
    // Warm-up: the key cache fills, leases size themselves to the observed rate, V8 optimises.
    if (opts.warmupS > 0) for (const t of targets) await runLoad(t, opts.connections, opts.warmupS);
    const runs: LoadRun[] = [];
    const counted = new Map<string, { writes: number; rollupWrites: number; requests: number; cpuMs: number }>();
    for (let round = 0; round < opts.rounds; round++) {
      const order = targets.map((_, i) => targets[(i + round) % targets.length]);
      for (const t of order) {
        await gw.ops('reset');
        const cpuBefore = cpuMs(gw.pid) ?? 0;
        const run = await runLoad(t, opts.connections, opts.durationS);
        // Writes that finish after the last answer (settles, lease returns) belong to this run.
        const ops = await gw.ops('snapshot');
        const cpuAfter = cpuMs(gw.pid) ?? 0;
        runs.push(run);
        const requests = run.latencies.length + run.non2xx;
        const c = counted.get(t.name) ?? { writes: 0, rollupWrites: 0, requests: 0, cpuMs: 0 };
        counted.set(t.name, {
          writes: c.writes + ops.writes,
          rollupWrites: c.rollupWrites + ops.rollupWrites,
          requests: c.requests + requests,
          cpuMs: c.cpuMs + (cpuAfter - cpuBefore),
        });
        log(
          `limited keys (${leases ? 'leases' : 'exact'}) round ${round + 1}/${opts.rounds}  ${t.name.padEnd(10)} ${run.rps.toFixed(0).padStart(6)} req/s  ${(ops.writes / Math.max(1, requests)).toFixed(3)} writes/req${run.non2xx + run.errors ? `  (${run.non2xx} non-2xx, ${run.errors} errors)` : ''}`,
        );
      }
    }
    return targets.map((t) => {
      const s = summarise(runs.filter((r) => r.target === t.name));
      const c = counted.get(t.name)!;
      return {
        key: t.name,
        rps: s.rps,
        p50: s.p50,
        p99: s.p99,
        requests: s.requests,
        failures: s.failures,
        writesPerRequest: c.writes / Math.max(1, c.requests),
        rollupWritesPerRequest: c.rollupWrites / Math.max(1, c.requests),
        cpuUsPerRequest: (c.cpuMs * 1000) / Math.max(1, c.requests),
      };
    });
  } finally {
    await gw.stop();
  }
}

export async function limitedKeysBench(
  opts: LimitedKeysOptions | undefined = limitedKeysOptions(),
  log: (l: string) => void = () => undefined,
): Promise<LimitedKeysReport | undefined> {
  if (!opts) return undefined;
  const upstream = await startUpstreamProcess(0);
  try {
    const leased = await measureGateway(upstream.url, true, opts, log);
    const exact = opts.exact ? await measureGateway(upstream.url, false, opts, log) : undefined;
    return { connections: opts.connections, durationS: opts.durationS, rounds: opts.rounds, leased, ...(exact ? { exact } : {}) };
  } finally {
    await upstream.stop();
  }
}

export interface LimitedKeyCheck {
  readonly key: string;
  readonly throughputRatio: number;
  readonly addedP50Ms: number;
  readonly writesPerRequest: number;
  readonly pass: boolean;
}

/** Each limited key against the unlimited key of the same gateway and run. */
export function limitedKeyChecks(rows: readonly LimitedKeyRow[]): LimitedKeyCheck[] {
  const unlimited = rows.find((r) => r.key === 'no limits');
  if (!unlimited) return [];
  return rows
    .filter((r) => r !== unlimited)
    .map((r) => {
      const throughputRatio = r.rps / unlimited.rps;
      const addedP50Ms = r.p50 - unlimited.p50;
      return {
        key: r.key,
        throughputRatio,
        addedP50Ms,
        writesPerRequest: r.writesPerRequest,
        pass: throughputRatio >= LIMITED_THROUGHPUT_TARGET && addedP50Ms <= LIMITED_P50_TARGET_MS && r.writesPerRequest <= LIMITED_WRITES_TARGET,
      };
    });
}

function table(title: string, rows: readonly LimitedKeyRow[]): string[] {
  const unlimited = rows.find((r) => r.key === 'no limits');
  const out = [
    title,
    '| key | req/s | × unlimited | p50 ms | p99 ms | store writes/req | rollup writes/req | CPU µs/req | failed |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows)
    out.push(
      `| ${r.key} | ${r.rps.toFixed(0)} | ${unlimited ? (r.rps / unlimited.rps).toFixed(2) : '-'} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.writesPerRequest.toFixed(3)} | ${r.rollupWritesPerRequest.toFixed(3)} | ${r.cpuUsPerRequest.toFixed(0)} | ${r.failures} |`,
    );
  return out;
}

export function renderLimitedKeys(r: LimitedKeysReport | undefined): string {
  if (!r) return 'Limited keys: skipped (BENCH_LIMITED_DURATION=0)';
  const lines = [
    `Limited keys on one route: ${r.connections} connections, ${r.rounds} interleaved rounds × ${r.durationS} s per key (same gateway process)`,
    '',
    ...table('Leased capacity (the default):', r.leased),
  ];
  if (r.exact) lines.push('', ...table('Leases off (exact per-request reservation, the limiter before leases):', r.exact));
  lines.push(
    '',
    `Targets (each limited key vs the unlimited key): ≥ ${LIMITED_THROUGHPUT_TARGET * 100} % throughput, ≤ +${LIMITED_P50_TARGET_MS} ms p50, ≤ ${LIMITED_WRITES_TARGET} store writes/request`,
  );
  for (const c of limitedKeyChecks(r.leased))
    lines.push(
      `${c.pass ? 'PASS' : 'FAIL'}  ${c.key.padEnd(10)} ${(c.throughputRatio * 100).toFixed(0)} % throughput, ${c.addedP50Ms >= 0 ? '+' : ''}${c.addedP50Ms.toFixed(2)} ms p50, ${c.writesPerRequest.toFixed(3)} writes/req`,
    );
  return lines.join('\n');
}

if (require.main === module) {
  limitedKeysBench(limitedKeysOptions(), (l) => console.error(l))
    .then((r) => console.log(renderLimitedKeys(r)))
    .catch((err) => {
      console.error(err instanceof Error ? err.stack : err);
      process.exit(1);
    });
}
