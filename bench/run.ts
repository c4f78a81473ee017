/**
 * `npm run bench`: the gateway's overhead against a zero-latency upstream, next to the Portkey
 * gateway on the same machine, plus the proxy bundle's size and cold import, and DynamoDB
 * operations per request. Prints tables and PASS/FAIL against each target.
 *
 * Every server runs in its own process (upstream, our gateway as `npm start` runs it, Portkey);
 * load runs are interleaved (round after round of direct → gateway → portkey, the order rotating
 * each round) so machine drift hits all three alike.
 *
 * Environment (all optional):
 *   BENCH_DURATION       seconds per load run (default 5)
 *   BENCH_ROUNDS         interleaved rounds (default 3)
 *   BENCH_CONNECTIONS    comma list (default 1,16)
 *   BENCH_PACED_RATE     req/s for the fixed-rate latency runs at the highest connection count (default 400; 0 skips)
 *   BENCH_WARMUP         seconds of warm-up per target before measuring (default 2)
 *   BENCH_TARGETS        comma list of direct,floor,gateway,portkey (default all four; floor is a
 *                        minimal Node proxy: what any Node proxy adds on this machine)
 *   BENCH_PACED_WARMUP   seconds paced against each target before the paced runs (default 1)
 *   BENCH_PACED_SLICE    seconds a target is paced before the next takes its turn (default 1)
 *   BENCH_STREAM_HOLD_MS how long the upstream holds a stream after its first chunk (default 1000)
 *   BENCH_TTFB_SAMPLES   streaming requests per target (default 5)
 *   BENCH_COLD_RUNS      fresh processes importing the proxy bundle (default 15; 0 skips)
 *   BENCH_DYNAMO_REQUESTS requests per key for the DynamoDB count (default 50; 0 skips)
 *   BENCH_USAGE_REQUESTS requests in the usage page's 90-day query (default 100000; 0 skips)
 *   BENCH_ESTIMATE_RUNS  timed token estimates of a 1 MB prompt (default 20; 0 skips)
 *   BENCH_JSON           also write the results as JSON to this path
 *   BENCH_BASELINE_CLI   a previous build's dist/cli.js: adds the `baseline` target (that build, run
 *                        as the gateway is), so a change is measured against its parent in one run
 */
import { writeFileSync } from 'node:fs';
import { bundleReport } from './bundle';
import { redactionBench, renderRedaction } from './redaction';
import { renderUsageQuery, usageQueryBench } from './usage-query';
import { identityBench, renderIdentity } from './identity';
import { cacheHitsBench, renderCacheHits } from './cache-hits';
import { limitedKeysBench, renderLimitedKeys } from './limited-keys';
import { measureDynamoOps, measureResponsesOps } from './dynamo-ops';
import { modelScopeBench, renderModelScope } from './model-scope';
import { guardBench, renderGuard } from './guard';
import { renderUpstreamClient, upstreamClientBench } from './upstream-client';
import { estimationReport } from './estimation';
import { type LoadRun, type LoadTarget, runLoad, runPercentile, summarise } from './load';
import {
  type BenchProcess,
  type GatewayProcess,
  UPSTREAM_PROVIDER_KEY,
  cpuMs,
  createBenchKey,
  rssBytes,
  rssSampler,
  startGatewayProcess,
  startFloorProcess,
  startPortkeyProcess,
  startScriptNodeFlags,
  startUpstreamProcess,
} from './processes';
import { runPacedInProcess } from './paced';
import { type BenchResults, renderReport } from './report';
import { type TtfbSummary, ttfbSummary } from './ttfb';
import { BENCH_MODEL } from './upstream';

export type TargetName = 'direct' | 'floor' | 'gateway' | 'baseline' | 'portkey';
const TARGET_NAMES: readonly TargetName[] = ['direct', 'floor', 'gateway', 'baseline', 'portkey'];

export interface BenchOptions {
  readonly durationS: number;
  readonly rounds: number;
  readonly connections: readonly number[];
  readonly warmupS: number;
  readonly pacedRate: number;
  readonly pacedWarmupS: number;
  readonly pacedSliceS: number;
  readonly targets: readonly TargetName[];
  /** A previous build's dist/cli.js, for the `baseline` target. */
  readonly baselineCli?: string;
  readonly streamHoldMs: number;
  readonly ttfbSamples: number;
  readonly coldImportRuns: number;
  readonly dynamoRequests: number;
  readonly estimateRuns: number;
}

export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const num = (name: string, dflt: number) => {
    const v = env[name];
    if (v === undefined || v === '') return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got '${v}'`);
    return n;
  };
  const list = (name: string, dflt: string) =>
    (env[name] || dflt)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  // The baseline runs only when a previous build is named.
  const targets = list('BENCH_TARGETS', TARGET_NAMES.filter((t) => t !== 'baseline' || env.BENCH_BASELINE_CLI).join(','));
  if (targets.includes('baseline') && !env.BENCH_BASELINE_CLI)
    throw new Error('BENCH_TARGETS: baseline needs BENCH_BASELINE_CLI (a previous build of dist/cli.js)');
  for (const t of targets) if (!TARGET_NAMES.includes(t as TargetName)) throw new Error(`BENCH_TARGETS: unknown target '${t}'`);
  const connections = list('BENCH_CONNECTIONS', '1,16').map(Number);
  if (connections.some((c) => !Number.isInteger(c) || c < 1)) throw new Error('BENCH_CONNECTIONS must be positive integers');
  return {
    durationS: num('BENCH_DURATION', 5),
    rounds: Math.max(1, Math.round(num('BENCH_ROUNDS', 3))),
    connections,
    warmupS: num('BENCH_WARMUP', 2),
    pacedRate: num('BENCH_PACED_RATE', 400),
    pacedWarmupS: num('BENCH_PACED_WARMUP', 1),
    pacedSliceS: num('BENCH_PACED_SLICE', 1) || 1,
    targets: targets as TargetName[],
    baselineCli: env.BENCH_BASELINE_CLI || undefined,
    streamHoldMs: num('BENCH_STREAM_HOLD_MS', 1000),
    ttfbSamples: Math.max(1, Math.round(num('BENCH_TTFB_SAMPLES', 5))),
    coldImportRuns: Math.round(num('BENCH_COLD_RUNS', 15)),
    dynamoRequests: Math.round(num('BENCH_DYNAMO_REQUESTS', 50)),
    estimateRuns: Math.round(num('BENCH_ESTIMATE_RUNS', 20)),
  };
}

const REQUEST_BODY = JSON.stringify({ model: BENCH_MODEL, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16 });

/** Each target is asked once before any load: a wrong setup must fail loudly, not benchmark errors. */
async function checkTarget(t: LoadTarget): Promise<void> {
  const res = await fetch(t.url + '/v1/chat/completions', { method: 'POST', headers: t.headers, body: t.body });
  const text = await res.text();
  if (res.status !== 200 || !text.includes('chatcmpl-bench'))
    throw new Error(`${t.name} is not serving the bench upstream: ${res.status} ${text.slice(0, 300)}`);
}

export async function runBench(opts: BenchOptions, log: (line: string) => void = () => undefined): Promise<BenchResults> {
  const started: BenchProcess[] = [];
  try {
    log('starting the fake upstream, the gateway and Portkey (each in its own process)…');
    const upstream = await startUpstreamProcess(opts.streamHoldMs);
    started.push(upstream);
    const targets: LoadTarget[] = [];
    const direct: LoadTarget = {
      name: 'direct',
      url: upstream.url,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${UPSTREAM_PROVIDER_KEY}` },
      body: REQUEST_BODY,
    };
    let gateway: GatewayProcess | undefined;
    let portkey: BenchProcess | undefined;
    if (opts.targets.includes('direct')) targets.push(direct);
    let floor: BenchProcess | undefined;
    if (opts.targets.includes('floor')) {
      floor = await startFloorProcess(upstream.url);
      started.push(floor);
      targets.push({ name: 'floor', url: floor.url, headers: { 'content-type': 'application/json' }, body: REQUEST_BODY });
    }
    if (opts.targets.includes('gateway')) {
      gateway = await startGatewayProcess(upstream.url);
      started.push(gateway);
      const key = await createBenchKey(gateway);
      targets.push({ name: 'gateway', url: gateway.url, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: REQUEST_BODY });
    }
    let baseline: GatewayProcess | undefined;
    if (opts.targets.includes('baseline') && opts.baselineCli) {
      baseline = await startGatewayProcess(upstream.url, opts.baselineCli, 'baseline');
      started.push(baseline);
      const key = await createBenchKey(baseline);
      targets.push({
        name: 'baseline',
        url: baseline.url,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: REQUEST_BODY,
      });
    }
    if (opts.targets.includes('portkey')) {
      portkey = await startPortkeyProcess();
      started.push(portkey);
      targets.push({
        name: 'portkey',
        url: portkey.url,
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${UPSTREAM_PROVIDER_KEY}`,
          'x-portkey-provider': 'openai',
          'x-portkey-custom-host': `${upstream.url}/v1`,
        },
        body: REQUEST_BODY,
      });
    }
    for (const t of targets) await checkTarget(t);
    const gatewayRssIdleMb = gateway ? (rssBytes(gateway.pid) ?? NaN) / 2 ** 20 : undefined;

    if (opts.warmupS > 0) {
      log(`warming up (${opts.warmupS} s per target)…`);
      for (const t of targets) await runLoad(t, Math.max(...opts.connections), opts.warmupS);
    }

    const top = Math.max(...opts.connections);
    const runs: LoadRun[] = [];
    let gatewayRssPeak: number | undefined;
    let portkeyRssPeak: number | undefined;
    for (let round = 0; round < opts.rounds; round++) {
      // Rotate the order each round so no target always runs first (or right after another).
      const order = targets.map((_, i) => targets[(i + round) % targets.length]);
      for (const c of opts.connections) {
        for (const t of order) {
          const proc =
            t.name === 'gateway' ? gateway : t.name === 'baseline' ? baseline : t.name === 'portkey' ? portkey : t.name === 'floor' ? floor : undefined;
          const sampler = proc && c === top ? rssSampler(proc.pid) : undefined;
          const cpuBefore = proc ? cpuMs(proc.pid) : undefined;
          const measured = await runLoad(t, c, opts.durationS);
          const cpuAfter = proc ? cpuMs(proc.pid) : undefined;
          const run: LoadRun =
            cpuBefore !== undefined && cpuAfter !== undefined
              ? { ...measured, proxyCpuMsPerRequest: (cpuAfter - cpuBefore) / Math.max(1, measured.latencies.length) }
              : measured;
          const peak = sampler?.stop();
          if (peak !== undefined && t.name === 'gateway') gatewayRssPeak = Math.max(gatewayRssPeak ?? 0, peak);
          if (peak !== undefined && t.name === 'portkey') portkeyRssPeak = Math.max(portkeyRssPeak ?? 0, peak);
          runs.push(run);
          log(
            `round ${round + 1}/${opts.rounds}  ${String(c).padStart(3)} conns  ${t.name.padEnd(8)} ${run.rps.toFixed(0).padStart(6)} req/s${run.proxyCpuMsPerRequest !== undefined ? `  ${(run.proxyCpuMsPerRequest * 1000).toFixed(0)} µs CPU/req` : ''}${run.non2xx + run.errors ? `  (${run.non2xx} non-2xx, ${run.errors} errors)` : ''}`,
          );
        }
      }
    }
    const load = opts.connections.flatMap((c) => targets.map((t) => summarise(runs.filter((r) => r.target === t.name && r.connections === c))));

    const pacedRuns: LoadRun[] = [];
    if (opts.pacedRate > 0) {
      log(`paced runs: ${opts.rounds} × ${opts.durationS} s per target at ${opts.pacedRate} req/s, targets taking turns every ${opts.pacedSliceS} s…`);
      pacedRuns.push(
        ...(await runPacedInProcess({
          targets,
          connections: top,
          rate: opts.pacedRate,
          rounds: opts.rounds,
          durationS: opts.durationS,
          sliceS: opts.pacedSliceS,
          warmupS: opts.pacedWarmupS,
        })),
      );
      for (const [i, run] of pacedRuns.entries()) {
        log(
          `round ${Math.floor(i / targets.length) + 1}/${opts.rounds}  ${String(top).padStart(3)} conns @ ${opts.pacedRate} req/s  ${run.target.padEnd(8)} p50 ${runPercentile(run, 50).toFixed(2)} ms  p99 ${runPercentile(run, 99).toFixed(2)} ms${run.non2xx ? `  (${run.non2xx} failed)` : ''}`,
        );
      }
    }
    const paced = pacedRuns.length ? targets.map((t) => summarise(pacedRuns.filter((r) => r.target === t.name))) : [];

    log('measuring streaming time to first byte…');
    const ttfb: TtfbSummary[] = [];
    for (const t of targets) ttfb.push(await ttfbSummary(t, opts.ttfbSamples));
    // The same stream asked through the Responses API: direct is the upstream's own /v1/responses,
    // the gateway translates to chat completions upstream and back into Responses events.
    log('measuring /v1/responses streaming time to first event…');
    const ttfbResponses: TtfbSummary[] = [];
    for (const t of targets.filter((x) => x.name === 'direct' || x.name === 'gateway')) ttfbResponses.push(await ttfbSummary(t, opts.ttfbSamples, 'responses'));

    for (const p of started.splice(0).reverse()) await p.stop();

    let bundle: BenchResults['bundle'];
    if (opts.coldImportRuns > 0) {
      log('measuring the proxy bundle…');
      bundle = bundleReport(opts.coldImportRuns);
    }
    let dynamoOps: BenchResults['dynamoOps'];
    let responsesOps: BenchResults['responsesOps'];
    if (opts.dynamoRequests > 0) {
      log('counting DynamoDB operations per request…');
      dynamoOps = await measureDynamoOps(opts.dynamoRequests);
      responsesOps = await measureResponsesOps(opts.dynamoRequests);
    }
    let estimation: BenchResults['estimation'];
    if (opts.estimateRuns > 0) {
      log('timing the token estimate…');
      estimation = estimationReport(opts.estimateRuns);
    }

    const mb = (b: number | undefined) => (b === undefined ? undefined : b / 2 ** 20);
    return {
      settings: {
        durationS: opts.durationS,
        rounds: opts.rounds,
        connections: opts.connections.join('/'),
        warmupS: opts.warmupS,
        pacedRate: opts.pacedRate,
        pacedWarmupS: opts.pacedWarmupS,
        pacedSliceS: opts.pacedSliceS,
        gatewayNodeFlags: startScriptNodeFlags().join(' ') || 'none',
        node: process.version,
        cpus: require('node:os').availableParallelism?.() ?? require('node:os').cpus().length,
      },
      load,
      paced,
      pacedRate: opts.pacedRate,
      gatewayRssPeakMb: mb(gatewayRssPeak),
      gatewayRssIdleMb,
      portkeyRssPeakMb: mb(portkeyRssPeak),
      ttfb,
      ttfbResponses,
      streamHoldMs: opts.streamHoldMs,
      bundle,
      dynamoOps,
      estimation,
      responsesOps,
    };
  } finally {
    for (const p of started.reverse()) await p.stop().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const opts = optionsFromEnv();
  const results = await runBench(opts, (line) => console.error(line));
  console.log('\n' + renderReport(results));
  console.log('\n' + renderLimitedKeys(await limitedKeysBench(undefined, (line) => console.error(line))));
  // CPU only, in this process: after the servers have stopped.
  console.log('\n' + renderRedaction(redactionBench()));
  console.log('\n' + renderUsageQuery(await usageQueryBench()));
  console.log('\n' + renderIdentity(await identityBench()));
  console.log('\n' + renderCacheHits(await cacheHitsBench()));
  console.log('\n' + renderModelScope(modelScopeBench()));
  console.log('\n' + renderGuard(await guardBench()));
  // Its own processes (an upstream, a measuring process): after the servers have stopped.
  console.log('\n' + renderUpstreamClient(await upstreamClientBench(undefined, (line) => console.error(line))));
  if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(results, null, 2));
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  });
}
