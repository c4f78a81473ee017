/**
 * Latency at a fixed request rate over N keep-alive connections. Closed-loop load (autocannon)
 * drives every target to saturation, where latency is only queueing (Little's law: 16 in flight
 * / throughput), so the overhead a proxy adds per request is only visible below saturation.
 * autocannon's own rate option sends each second's quota in a burst, which queues just the same,
 * so this paces requests evenly: connection i of n sends at t0 + (k·n + i)/rate, or as soon as
 * its previous answer arrives if that is later. Latency is measured from the actual send.
 *
 * `runPacedInProcess` runs it in a fresh child process (`node bench/paced.ts` reads its job from
 * BENCH_PACED_JOB and prints the run as JSON): the load generator's own event loop and garbage
 * collector are then its own, not the orchestrator's, whose heap holds every closed-loop run's
 * latencies by the time the paced runs start.
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
        res.on('end', () => (res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - started) / 1e6) : reject(new Error(`status ${res.statusCode}`))));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** One paced run; its `rps` is what was achieved (below `rate` when the target could not keep up). */
export async function runPaced(target: LoadTarget, connections: number, rate: number, durationS: number): Promise<LoadRun> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
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
  agent.destroy();
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

interface PacedJob {
  readonly target: LoadTarget;
  readonly connections: number;
  readonly rate: number;
  readonly durationS: number;
  /** Seconds paced the same way before measuring, so every target is measured in its steady state. */
  readonly warmupS: number;
}

type PacedResult = Omit<LoadRun, 'latencies'> & { readonly latencies: number[] };

/** One paced run in a fresh process of its own (see the file comment). */
export function runPacedInProcess(target: LoadTarget, connections: number, rate: number, durationS: number, warmupS = 1): Promise<LoadRun> {
  const job: PacedJob = { target, connections, rate, durationS, warmupS };
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
      const run = JSON.parse(out) as PacedResult;
      resolve({ ...run, latencies: Float64Array.from(run.latencies) });
    });
  });
}

async function pacedJobMain(job: PacedJob): Promise<void> {
  if (job.warmupS > 0) await runPaced(job.target, job.connections, job.rate, job.warmupS);
  const run = await runPaced(job.target, job.connections, job.rate, job.durationS);
  process.stdout.write(JSON.stringify({ ...run, latencies: Array.from(run.latencies) }));
}

if (require.main === module && process.env.BENCH_PACED_JOB) {
  pacedJobMain(JSON.parse(process.env.BENCH_PACED_JOB) as PacedJob).catch((err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  });
}
