/**
 * Closed-loop load with autocannon. Latencies are taken from autocannon's per-response event
 * (sub-millisecond hrtime) rather than its integer-millisecond histogram, because the targets
 * are about a millisecond of overhead.
 */
import autocannon from 'autocannon';
import { median, percentile } from './stats';

export interface LoadTarget {
  readonly name: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface LoadRun {
  readonly target: string;
  readonly connections: number;
  readonly durationS: number;
  /** 2xx responses per second over the run. */
  readonly rps: number;
  /** 2xx latencies in ms, in arrival order. */
  readonly latencies: Float64Array;
  readonly non2xx: number;
  readonly errors: number;
  /** CPU ms the proxy process spent per 2xx response (set by the caller that knows the process). */
  readonly proxyCpuMsPerRequest?: number;
}

export async function runLoad(target: LoadTarget, connections: number, durationS: number): Promise<LoadRun> {
  let latencies = new Float64Array(1 << 16);
  let n = 0;
  let non2xx = 0;
  const started = process.hrtime.bigint();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      { url: target.url + '/v1/chat/completions', method: 'POST', headers: target.headers, body: target.body, connections, duration: durationS, timeout: 10 },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status < 200 || status > 299) {
        non2xx++;
        return;
      }
      if (n === latencies.length) {
        const bigger = new Float64Array(latencies.length * 2);
        bigger.set(latencies);
        latencies = bigger;
      }
      latencies[n++] = ms;
    });
  });
  const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    target: target.name,
    connections,
    durationS: elapsedS,
    rps: n / elapsedS,
    latencies: latencies.slice(0, n),
    non2xx,
    errors: result.errors + result.timeouts,
  };
}

/** A percentile of one run's latencies. */
export const runPercentile = (run: LoadRun, p: number): number => percentile(Float64Array.from(run.latencies).sort(), p);

/** One figure per (target, connections) from several interleaved runs. */
export interface LoadSummary {
  readonly target: string;
  readonly connections: number;
  readonly runs: number;
  /** Median of the runs' throughput. */
  readonly rps: number;
  /** Percentiles over every latency of every run. */
  readonly p50: number;
  readonly p99: number;
  /** Each run's own p99, in run order: how much the pooled figure moves between rounds. */
  readonly runP99s: readonly number[];
  readonly requests: number;
  readonly failures: number;
  /** Median over the runs of the proxy's CPU ms per request (undefined for direct). */
  readonly proxyCpuMsPerRequest?: number;
}

export function summarise(runs: readonly LoadRun[]): LoadSummary {
  if (runs.length === 0) throw new Error('no runs to summarise');
  const total = runs.reduce((s, r) => s + r.latencies.length, 0);
  const all = new Float64Array(total);
  let at = 0;
  for (const r of runs) {
    all.set(r.latencies, at);
    at += r.latencies.length;
  }
  all.sort();
  return {
    target: runs[0].target,
    connections: runs[0].connections,
    runs: runs.length,
    rps: median(runs.map((r) => r.rps)),
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    runP99s: runs.map((r) => runPercentile(r, 99)),
    requests: total,
    failures: runs.reduce((s, r) => s + r.non2xx + r.errors, 0),
    proxyCpuMsPerRequest: runs[0].proxyCpuMsPerRequest === undefined ? undefined : median(runs.map((r) => r.proxyCpuMsPerRequest ?? NaN)),
  };
}
