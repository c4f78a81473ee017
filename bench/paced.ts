/**
 * Latency at a fixed request rate over N keep-alive connections. Closed-loop load (autocannon)
 * drives every target to saturation, where latency is only queueing (Little's law: 16 in flight
 * / throughput), so the overhead a proxy adds per request is only visible below saturation.
 * autocannon's own rate option sends each second's quota in a burst, which queues just the same,
 * so this paces requests evenly: connection i of n sends at t0 + (k·n + i)/rate, or as soon as
 * its previous answer arrives if that is later. Latency is measured from the actual send.
 *
 * `runPacedInProcess` runs every target's rounds in one fresh child process (`node bench/paced.ts`
 * reads its job from BENCH_PACED_JOB and prints the runs as JSON): the load generator's own event
 * loop and garbage collector are then its own, not the orchestrator's, whose heap holds every
 * closed-loop run's latencies by the time the paced runs start. Inside it the targets take turns
 * in short slices (PacedJob.sliceS), so the machine's stalls spread over all of them alike.
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { resolve as resolvePath } from 'node:path';
import type { LoadRun, LoadTarget } from './load';

function once(agent: Agent, url: URL, target: LoadTarget, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = request(
      { agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...target.headers, 'content-length': body.length } },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () =>
          res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - started) / 1e6) : reject(new Error(`status ${res.statusCode}`)),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * One paced run; its `rps` is what was achieved (below `rate` when the target could not keep up).
 * Given an agent, the run uses (and leaves open) its keep-alive connections, so slices of one
 * target's run go over the same connections as a long run would.
 */
export async function runPaced(target: LoadTarget, connections: number, rate: number, durationS: number, shared?: Agent): Promise<LoadRun> {
  const agent = shared ?? new Agent({ keepAlive: true, maxSockets: connections });
  const url = new URL(target.url + '/v1/chat/completions');
  const body = Buffer.from(target.body);
  const latencies: number[] = [];
  let failures = 0;
  const intervalMs = (1000 * connections) / rate;
  const t0 = performance.now() + 20;
  const end = t0 + durationS * 1000;
  const worker = async (i: number) => {
    for (let k = 0; ; k++) {
      const at = t0 + k * intervalMs + (i * intervalMs) / connections;
      if (at >= end) return;
      const wait = at - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      try {
        latencies.push(await once(agent, url, target, body));
      } catch {
        failures++;
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: connections }, (_, i) => worker(i)));
  const elapsedS = (performance.now() - started) / 1000;
  if (!shared) agent.destroy();
  return {
    target: target.name,
    connections,
    durationS: elapsedS,
    rps: latencies.length / elapsedS,
    latencies: Float64Array.from(latencies),
    non2xx: failures,
    errors: 0,
  };
}

export interface PacedJob {
  readonly targets: readonly LoadTarget[];
  readonly connections: number;
  readonly rate: number;
  readonly rounds: number;
  /** Seconds each target is measured per round. */
  readonly durationS: number;
  /**
   * Seconds per slice: a round runs every target for this long in turn, again and again, until
   * each has had `durationS`. A stall of the machine (a noisy neighbour, another process's GC)
   * then lands in some slice of every target instead of in one target's whole run.
   */
  readonly sliceS: number;
  /** Seconds paced against each target before measuring, so every target is measured in its steady state. */
  readonly warmupS: number;
}

/** Merge one target's slices into the run they make up together. */
function joinSlices(slices: readonly LoadRun[]): LoadRun {
  const durationS = slices.reduce((s, r) => s + r.durationS, 0);
  const latencies = Float64Array.from(slices.flatMap((r) => Array.from(r.latencies)));
  return {
    target: slices[0].target,
    connections: slices[0].connections,
    durationS,
    rps: latencies.length / durationS,
    latencies,
    non2xx: slices.reduce((s, r) => s + r.non2xx, 0),
    errors: slices.reduce((s, r) => s + r.errors, 0),
  };
}

/** Every round of every target, slices interleaved (see PacedJob.sliceS); one run per target per round, rounds in order. */
export async function runPacedInterleaved(job: PacedJob): Promise<LoadRun[]> {
  const agents = job.targets.map(() => new Agent({ keepAlive: true, maxSockets: job.connections }));
  try {
    if (job.warmupS > 0) for (const [i, t] of job.targets.entries()) await runPaced(t, job.connections, job.rate, job.warmupS, agents[i]);
    const slices = Math.max(1, Math.round(job.durationS / job.sliceS));
    const sliceS = job.durationS / slices;
    const runs: LoadRun[] = [];
    for (let round = 0; round < job.rounds; round++) {
      const taken: LoadRun[][] = job.targets.map(() => []);
      for (let k = 0; k < slices; k++) {
        // Rotate the order each slice so no target always runs first, or right after another.
        const shift = (round * slices + k) % job.targets.length;
        for (let j = 0; j < job.targets.length; j++) {
          const i = (j + shift) % job.targets.length;
          taken[i].push(await runPaced(job.targets[i], job.connections, job.rate, sliceS, agents[i]));
        }
      }
      runs.push(...taken.map(joinSlices));
    }
    return runs;
  } finally {
    for (const a of agents) a.destroy();
  }
}

type PacedResult = Omit<LoadRun, 'latencies'> & { readonly latencies: number[] };

/** The paced job in a fresh process of its own (see the file comment). */
export function runPacedInProcess(job: PacedJob): Promise<LoadRun[]> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', resolvePath(__dirname, 'paced.ts')], {
    cwd: resolvePath(__dirname, '..'),
    env: { ...process.env, BENCH_PACED_JOB: JSON.stringify(job) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`paced load generator exited with code ${code}`));
      const runs = JSON.parse(out) as PacedResult[];
      resolve(runs.map((run) => ({ ...run, latencies: Float64Array.from(run.latencies) })));
    });
  });
}

async function pacedJobMain(job: PacedJob): Promise<void> {
  const runs = await runPacedInterleaved(job);
  process.stdout.write(JSON.stringify(runs.map((run) => ({ ...run, latencies: Array.from(run.latencies) }))));
}

if (require.main === module && process.env.BENCH_PACED_JOB) {
  pacedJobMain(JSON.parse(process.env.BENCH_PACED_JOB) as PacedJob).catch((err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  });
}
