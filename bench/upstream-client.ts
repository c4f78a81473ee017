/**
 * Which client should the Lambda call its providers with: the platform's `fetch` (undici, what the
 * proxy entry uses) or the local server's keep-alive client (lambda/adapters/keep-alive-fetch.ts)?
 *
 * A measuring process (this file with `--measure`; NODE_EXTRA_CA_CERTS names the run's self-signed
 * certificate, so both clients trust the test upstream through Node's own trust store and no
 * production option is touched) calls a fake OpenAI upstream in another process
 * (client-upstream.ts, HTTP and HTTPS on 127.0.0.1) one request at a time, as a Lambda environment
 * does, at two levels:
 *   - handler: the Lambda streaming handler (lambda-stream.ts's createStreamingHandler, an API
 *     Gateway REST event in, a stand-in response stream out) around the gateway core built as
 *     the proxy entry builds it, with the client as the core's `fetch`; an in-memory key store
 *     and a no-op log sink, so the figures hold no store I/O;
 *   - client: the providers' own calls (http-call.ts: postUpstream, then readUpstreamJson or the
 *     stream body read to its end), nothing else.
 * each for a JSON answer and an SSE stream of 50 chunks, over HTTP and HTTPS. The cells take turns
 * in batches (round after round, the order rotating), after a warm-up batch each; CPU per request
 * is the process's `process.cpuUsage()` over a batch, and the ratio is the median over rounds of
 * keep-alive ÷ fetch in the same round. Latency p50/p99 are over every request of every round.
 *
 * A Lambda environment's first request is measured apart: one invocation in each of
 * BENCH_CLIENT_COLD_RUNS fresh processes per client, alternating (fetch loads undici on first use).
 *
 * Environment: BENCH_CLIENT_ROUNDS (6; 0 skips), BENCH_CLIENT_BATCH (requests per cell per round,
 * 100), BENCH_CLIENT_SSE_CHUNKS (50), BENCH_CLIENT_COLD_RUNS (5; 0 skips). Standalone:
 * `node -r @swc-node/register bench/upstream-client.ts`.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { EnvSecretSource } from '../lambda/adapters/env-secrets';
import { createKeepAliveFetch } from '../lambda/adapters/keep-alive-fetch';
import { createStreamingHandler } from '../lambda/adapters/lambda-stream';
import { createGateway } from '../lambda/core/app';
import { validateConfig } from '../lambda/core/config';
import { type HashLookup, type KeyRecord, type KeyStore, generateKey, hashKey } from '../lambda/core/keys';
import type { ProviderCall } from '../lambda/core/provider';
import { postUpstream, readUpstreamJson, streamBody } from '../lambda/providers/http-call';
import { builtinProviders } from '../lambda/providers/registry';
import { CLIENT_BENCH_CONTENT, CLIENT_BENCH_TOKEN } from './client-upstream';
import { startChild, stopper, tsNode } from './processes';
import { median, percentile } from './stats';
import { BENCH_MODEL } from './upstream';

/** Keep-alive must cost at least this much less CPU per request on the Lambda's path to be worth switching. */
export const CLIENT_SWITCH_CPU_RATIO = 0.9;

const LEVELS = ['handler', 'client'] as const;
const PROTOS = ['https', 'http'] as const;
const KINDS = ['json', 'sse'] as const;
const CLIENTS = ['fetch', 'keep-alive'] as const;
type Level = (typeof LEVELS)[number];
type Proto = (typeof PROTOS)[number];
type Kind = (typeof KINDS)[number];
type ClientName = (typeof CLIENTS)[number];

interface CellResult {
  readonly level: Level;
  readonly proto: Proto;
  readonly kind: Kind;
  readonly client: ClientName;
  /** CPU µs per request, one per round. */
  readonly cpuUs: number[];
  readonly latenciesMs: number[];
  readonly failures: number;
}

export interface ClientSide {
  readonly cpuUs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failures: number;
}

export interface UpstreamClientRow {
  readonly level: Level;
  readonly proto: Proto;
  readonly kind: Kind;
  readonly fetch: ClientSide;
  readonly keepAlive: ClientSide;
  /** keep-alive ÷ fetch CPU per request: the median of the rounds' own ratios. */
  readonly cpuRatio: number;
  readonly p50Ratio: number;
  readonly p99Ratio: number;
}

export interface UpstreamClientReport {
  readonly rounds: number;
  readonly batch: number;
  readonly sseChunks: number;
  /** Why HTTPS was not measured (no openssl), if it was not. */
  readonly tlsSkipped?: string;
  readonly rows: UpstreamClientRow[];
  /** A fresh process's first handler invocation per client (median over `coldRuns` processes each). */
  readonly cold?: { readonly runs: number; readonly proto: Proto } & Record<ClientName, { readonly ms: number; readonly cpuUs: number }>;
}

interface MeasureOptions {
  readonly rounds: number;
  readonly batch: number;
  readonly sseChunks: number;
  readonly urls: Partial<Record<Proto, string>>;
}

const UPSTREAM_KEY = 'sk-bench-upstream-provider-key';
const body = (kind: Kind) =>
  JSON.stringify({
    model: BENCH_MODEL,
    messages: [{ role: 'user', content: 'Say hello.' }],
    max_tokens: 64,
    ...(kind === 'sse' ? { stream: true, stream_options: { include_usage: true } } : {}),
  });

/** One key, in memory: the key check costs what a warm key cache costs, with no store behind it. */
class OneKeyStore implements KeyStore {
  constructor(
    private readonly hash: string,
    private readonly record: KeyRecord,
  ) {}
  async lookup(keyHash: string): Promise<HashLookup | undefined> {
    return keyHash === this.hash ? { record: this.record } : undefined;
  }
  async get(id: string) {
    return id === this.record.id ? this.record : undefined;
  }
  async list() {
    return [this.record];
  }
  async create(): Promise<void> {
    throw new Error('read-only');
  }
  async update() {
    return undefined;
  }
  async lookupByOidcClient() {
    return undefined;
  }
  async rotate() {
    return undefined;
  }
}

/** The Lambda runtime's `awslambda` global, enough for createStreamingHandler: the prelude goes out with the first write. */
function installAwsLambdaStandIn(): void {
  (globalThis as Record<string, unknown>).awslambda = {
    streamifyResponse: (h: unknown) => h,
    HttpResponseStream: {
      from(underlying: Writable, prelude: Record<string, unknown>) {
        underlying.write(JSON.stringify(prelude));
        underlying.write(Buffer.alloc(8));
        return underlying;
      },
    },
  };
}

/** What the runtime's response stream receives; the body is kept only when the request is checked. */
class SinkStream extends Writable {
  readonly parts: Buffer[] = [];
  constructor(private readonly keep: boolean) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
    if (this.keep) this.parts.push(Buffer.from(chunk));
    cb();
  }
}

function apiGatewayEvent(key: string, kind: Kind): APIGatewayProxyEvent {
  const headers = { Accept: '*/*', Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', Host: 'abc123def4.execute-api.eu-west-1.amazonaws.com' };
  return {
    resource: '/v1/{proxy+}',
    path: '/v1/chat/completions',
    httpMethod: 'POST',
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: { proxy: 'chat/completions' },
    stageVariables: null,
    requestContext: {
      resourcePath: '/v1/{proxy+}',
      httpMethod: 'POST',
      path: '/prod/v1/chat/completions',
      stage: 'prod',
      requestId: 'bench',
      identity: { sourceIp: '203.0.113.7', userAgent: 'bench' },
    } as APIGatewayProxyEvent['requestContext'],
    body: body(kind),
    isBase64Encoded: false,
  };
}

/** A Lambda context far from its deadline (the handler arms its deadline timer per invocation, as on Lambda). */
const lambdaContext = { getRemainingTimeInMillis: () => 300_000 } as unknown as Context;

/** Throws unless `text` is the answer the upstream sent (JSON) or holds every streamed token (SSE). */
function check(text: string, kind: Kind, sseChunks: number, where: string): void {
  if (kind === 'json') {
    if (!text.includes(CLIENT_BENCH_CONTENT)) throw new Error(`${where}: not the upstream's answer: ${text.slice(0, 300)}`);
    return;
  }
  const tokens = text.split(JSON.stringify(CLIENT_BENCH_TOKEN)).length - 1;
  if (tokens !== sseChunks || !text.includes('[DONE]')) throw new Error(`${where}: ${tokens} of ${sseChunks} chunks, or no [DONE]: ${text.slice(-300)}`);
}

type Run = (verify: boolean) => Promise<void>;
type Cell = Omit<CellResult, 'cpuUs' | 'latenciesMs' | 'failures'>;

/** One request of every cell, ready to run: a gateway per protocol and client, as the proxy entry builds it. */
function buildRuns(opts: MeasureOptions): { runs: { cell: Cell; run: Run }[]; close(): void } {
  installAwsLambdaStandIn();
  const keepAlive = createKeepAliveFetch();
  const fetches: Record<ClientName, typeof fetch> = { fetch: globalThis.fetch, 'keep-alive': keepAlive.fetch };
  const key = generateKey();
  const keyStore = new OneKeyStore(hashKey(key), { id: 'bench', name: 'bench', createdAt: new Date().toISOString(), logging: 'metadata', hint: key.slice(-4) });
  const runs: { cell: Cell; run: Run }[] = [];

  for (const proto of PROTOS) {
    const url = opts.urls[proto];
    if (!url) continue;
    for (const client of CLIENTS) {
      const gateway = createGateway({
        config: validateConfig({
          providers: { upstream: { type: 'openai', baseUrl: `${url}/v1`, apiKey: { env: 'BENCH_UPSTREAM_KEY' } } },
          models: { [BENCH_MODEL]: { targets: [{ provider: 'upstream', model: BENCH_MODEL }] } },
        }),
        providers: builtinProviders,
        keyStore,
        secrets: new EnvSecretSource({ BENCH_UPSTREAM_KEY: UPSTREAM_KEY }),
        logSink: { write() {} },
        fetch: fetches[client],
      });
      const handler = createStreamingHandler(() => gateway);
      for (const kind of KINDS) {
        const event = apiGatewayEvent(key, kind);
        runs.push({
          cell: { level: 'handler', proto, kind, client },
          run: async (verify) => {
            const stream = new SinkStream(verify);
            await handler(event, stream, lambdaContext);
            if (verify) check(Buffer.concat(stream.parts).toString('utf8'), kind, opts.sseChunks, `handler ${proto} ${kind} ${client}`);
          },
        });
        const requestBody = body(kind);
        const target = `${url}/v1/chat/completions`;
        runs.push({
          cell: { level: 'client', proto, kind, client },
          run: async (verify) => {
            const call = {
              provider: { name: 'upstream' },
              model: BENCH_MODEL,
              signal: new AbortController().signal,
              fetch: fetches[client],
            } as unknown as ProviderCall;
            const res = await postUpstream(call, target, { authorization: `Bearer ${UPSTREAM_KEY}` }, JSON.parse(requestBody));
            let text = '';
            if (kind === 'json') text = JSON.stringify(await readUpstreamJson(res, call));
            else {
              const reader = streamBody(res, call).getReader();
              const decoder = new TextDecoder();
              for (;;) {
                const { done, value } = await reader.read();
                if (done) break;
                if (verify) text += decoder.decode(value, { stream: true });
              }
            }
            if (verify) check(text, kind, opts.sseChunks, `client ${proto} ${kind} ${client}`);
          },
        });
      }
    }
  }

  return { runs, close: () => keepAlive.close() };
}

async function measure(opts: MeasureOptions): Promise<CellResult[]> {
  const { runs, close } = buildRuns(opts);
  const results = runs.map(({ cell }) => ({ ...cell, cpuUs: [] as number[], latenciesMs: [] as number[], failures: 0 }));
  const batchOf = async (i: number, n: number, record: boolean) => {
    const { run } = runs[i];
    const r = results[i];
    const cpu0 = process.cpuUsage();
    const lat: number[] = [];
    for (let j = 0; j < n; j++) {
      const t0 = performance.now();
      try {
        await run(j === 0);
      } catch (err) {
        // A wrong answer or a failed call: counted, and the first one of a cell is shown.
        if (record && r.failures++ === 0) process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
        if (!record) throw err;
      }
      lat.push(performance.now() - t0);
    }
    const cpu = process.cpuUsage(cpu0);
    if (record) {
      r.cpuUs.push((cpu.user + cpu.system) / n);
      r.latenciesMs.push(...lat);
    }
  };
  // Warm-up: every cell once (a failure here stops the bench: a wrong setup must not be measured).
  for (let i = 0; i < runs.length; i++) await batchOf(i, Math.max(10, Math.ceil(opts.batch / 2)), false);
  for (let round = 0; round < opts.rounds; round++) {
    const order = runs.map((_, i) => (i + round * 3) % runs.length);
    if (round % 2) order.reverse();
    for (const i of order) await batchOf(i, opts.batch, true);
  }
  close();
  return results;
}

/**
 * A Lambda environment's first request: in a fresh process, the time and CPU of one handler
 * invocation (HTTPS when measured, JSON answer) through `client`, the gateway already built (as
 * the entry builds it before the first request is served): a new connection and TLS handshake for
 * either client, and for fetch the loading of undici, which Node defers to its first use.
 */
async function measureCold(opts: MeasureOptions, client: ClientName): Promise<{ ms: number; cpuUs: number }> {
  const proto: Proto = opts.urls.https ? 'https' : 'http';
  const { runs, close } = buildRuns(opts);
  const { run } = runs.find(({ cell }) => cell.level === 'handler' && cell.proto === proto && cell.kind === 'json' && cell.client === client)!;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run(true);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  close();
  return { ms, cpuUs: cpu.user + cpu.system };
}

function side(cell: CellResult): ClientSide {
  const sorted = [...cell.latenciesMs].sort((a, b) => a - b);
  return { cpuUs: median(cell.cpuUs), p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), failures: cell.failures };
}

export function summariseCells(cells: readonly CellResult[]): UpstreamClientRow[] {
  const rows: UpstreamClientRow[] = [];
  for (const level of LEVELS)
    for (const proto of PROTOS)
      for (const kind of KINDS) {
        const find = (client: ClientName) => cells.find((c) => c.level === level && c.proto === proto && c.kind === kind && c.client === client);
        const f = find('fetch');
        const k = find('keep-alive');
        if (!f || !k) continue;
        const fetchSide = side(f);
        const keepAliveSide = side(k);
        rows.push({
          level,
          proto,
          kind,
          fetch: fetchSide,
          keepAlive: keepAliveSide,
          cpuRatio: median(k.cpuUs.map((cpu, i) => cpu / f.cpuUs[i])),
          p50Ratio: keepAliveSide.p50Ms / fetchSide.p50Ms,
          p99Ratio: keepAliveSide.p99Ms / fetchSide.p99Ms,
        });
      }
  return rows;
}

/** The figure the decision rests on: the Lambda handler's path, over TLS when it was measured. */
export function upstreamClientVerdict(report: UpstreamClientReport): string {
  const proto: Proto = report.rows.some((r) => r.proto === 'https') ? 'https' : 'http';
  const decisive = report.rows.filter((r) => r.level === 'handler' && r.proto === proto);
  const pct = (ratio: number) => `${ratio <= 1 ? '' : '+'}${((ratio - 1) * 100).toFixed(0)}%`;
  const figures = decisive.map((r) => `${r.kind} CPU ${pct(r.cpuRatio)}, p99 ${pct(r.p99Ratio)}`).join('; ');
  const failures = report.rows.reduce((n, r) => n + r.fetch.failures + r.keepAlive.failures, 0);
  const better = decisive.length > 0 && failures === 0 && decisive.every((r) => r.cpuRatio <= CLIENT_SWITCH_CPU_RATIO);
  return `VERDICT: keep-alive client vs global fetch on the Lambda handler path (${proto}): ${figures}${failures ? `; ${failures} failed requests` : ''} → ${
    better
      ? 'keep-alive is clearly cheaper: use it on Lambda'
      : `not ≥${((1 - CLIENT_SWITCH_CPU_RATIO) * 100).toFixed(0)}% less CPU on every answer kind: keep global fetch on Lambda`
  }`;
}

export function renderUpstreamClient(report: UpstreamClientReport | undefined): string {
  if (!report) return 'Upstream client (Lambda path): skipped (BENCH_CLIENT_ROUNDS=0)';
  const lines = [
    `Upstream client on the Lambda path: global fetch (undici) vs keep-alive-fetch (node:http/https agents), one request at a time; ${report.rounds} rounds × ${report.batch} requests per cell, SSE ${report.sseChunks} chunks; CPU = process.cpuUsage per request (median of rounds), ratio = keep-alive ÷ fetch (median of per-round ratios)`,
    ...(report.tlsSkipped ? [`HTTPS not measured: ${report.tlsSkipped}`] : []),
    '',
    '| level   | proto | answer | fetch CPU µs | keep-alive CPU µs | CPU ratio | fetch p50 ms | keep-alive p50 ms | fetch p99 ms | keep-alive p99 ms | p99 ratio | failures |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of report.rows)
    lines.push(
      `| ${r.level} | ${r.proto} | ${r.kind} | ${r.fetch.cpuUs.toFixed(0)} | ${r.keepAlive.cpuUs.toFixed(0)} | ${r.cpuRatio.toFixed(2)} | ${r.fetch.p50Ms.toFixed(3)} | ${r.keepAlive.p50Ms.toFixed(3)} | ${r.fetch.p99Ms.toFixed(3)} | ${r.keepAlive.p99Ms.toFixed(3)} | ${r.p99Ratio.toFixed(2)} | ${r.fetch.failures + r.keepAlive.failures} |`,
    );
  if (report.cold) {
    const c = report.cold;
    lines.push(
      '',
      `First invocation of a fresh process (handler, ${c.proto}, JSON; median of ${c.runs} processes per client): fetch ${c.fetch.ms.toFixed(1)} ms, ${(c.fetch.cpuUs / 1000).toFixed(1)} ms CPU; keep-alive ${c['keep-alive'].ms.toFixed(1)} ms, ${(c['keep-alive'].cpuUs / 1000).toFixed(1)} ms CPU`,
    );
  }
  lines.push('', upstreamClientVerdict(report));
  return lines.join('\n');
}

/** A self-signed certificate for 127.0.0.1, made for this run; undefined with the reason when openssl is missing. */
function selfSignedCert(dir: string): { cert: string; key: string } | { skipped: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    return { cert, key };
  } catch (err) {
    return { skipped: `openssl could not make a certificate (${err instanceof Error ? err.message : String(err)})` };
  }
}

const RESULT_PREFIX = 'UPSTREAM_CLIENT_RESULT ';

/** Run this file as a measuring process and return what it printed after RESULT_PREFIX. */
function runMeasuring(args: string[], env: NodeJS.ProcessEnv): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...tsNode, 'bench/upstream-client.ts', ...args],
      { cwd: join(__dirname, '..'), env, maxBuffer: 64 * 2 ** 20 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${err.message}\n${stderr.slice(-3000)}`));
        const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
        if (!line) return reject(new Error(`the measuring process printed no result:\n${stdout.slice(-2000)}${stderr.slice(-2000)}`));
        resolve(JSON.parse(line.slice(RESULT_PREFIX.length)));
      },
    );
  });
}

export async function upstreamClientBench(
  env: NodeJS.ProcessEnv = process.env,
  log: (line: string) => void = () => undefined,
): Promise<UpstreamClientReport | undefined> {
  const rounds = Math.round(Number(env.BENCH_CLIENT_ROUNDS ?? 6));
  if (!rounds) return undefined;
  const batch = Math.max(1, Math.round(Number(env.BENCH_CLIENT_BATCH ?? 100)));
  const sseChunks = Math.max(1, Math.round(Number(env.BENCH_CLIENT_SSE_CHUNKS ?? 50)));
  const coldRuns = Math.round(Number(env.BENCH_CLIENT_COLD_RUNS ?? 5));
  const dir = mkdtempSync(join(tmpdir(), 'gw-bench-tls-'));
  let stopUpstream: (() => Promise<void>) | undefined;
  try {
    const tls = selfSignedCert(dir);
    const tlsEnv = 'cert' in tls ? { BENCH_TLS_CERT: tls.cert, BENCH_TLS_KEY: tls.key } : {};
    const { child, url: line } = await startChild(
      'client-upstream',
      process.execPath,
      [...tsNode, 'bench/client-upstream.ts'],
      { ...tlsEnv, BENCH_CLIENT_SSE_CHUNKS: String(sseChunks) },
      (out) => out.split('\n').find((l) => l.startsWith('{"url"')),
    );
    stopUpstream = stopper(child);
    const { url, tlsUrl } = JSON.parse(line) as { url: string; tlsUrl?: string };
    const options: MeasureOptions = { rounds, batch, sseChunks, urls: { http: url, ...(tlsUrl ? { https: tlsUrl } : {}) } };
    log(`upstream client: ${rounds} rounds × ${batch} requests per cell, in a measuring process of its own…`);
    const childEnv = { ...process.env, ...('cert' in tls ? { NODE_EXTRA_CA_CERTS: tls.cert } : {}) };
    const cells = (await runMeasuring(['--measure', JSON.stringify(options)], childEnv)) as CellResult[];
    let cold: UpstreamClientReport['cold'];
    if (coldRuns > 0) {
      log(`upstream client: first invocation in ${coldRuns} fresh processes per client…`);
      const samples: Record<ClientName, { ms: number; cpuUs: number }[]> = { fetch: [], 'keep-alive': [] };
      for (let i = 0; i < coldRuns; i++)
        for (const client of i % 2 ? [...CLIENTS].reverse() : CLIENTS)
          samples[client].push((await runMeasuring(['--cold', client, JSON.stringify(options)], childEnv)) as { ms: number; cpuUs: number });
      const med = (client: ClientName) => ({ ms: median(samples[client].map((x) => x.ms)), cpuUs: median(samples[client].map((x) => x.cpuUs)) });
      cold = { runs: coldRuns, proto: tlsUrl ? 'https' : 'http', fetch: med('fetch'), 'keep-alive': med('keep-alive') };
    }
    return { rounds, batch, sseChunks, ...('skipped' in tls ? { tlsSkipped: tls.skipped } : {}), rows: summariseCells(cells), ...(cold ? { cold } : {}) };
  } finally {
    await stopUpstream?.();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const [mode, ...args] = process.argv.slice(2);
  const measured =
    mode === '--measure'
      ? measure(JSON.parse(args[0]) as MeasureOptions)
      : mode === '--cold'
        ? measureCold(JSON.parse(args[1]) as MeasureOptions, args[0] as ClientName)
        : undefined;
  if (measured)
    measured.then(
      (result) => process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`),
      (err) => {
        console.error(err instanceof Error ? err.stack : err);
        process.exit(1);
      },
    );
  else
    upstreamClientBench(process.env, (l) => console.error(l)).then(
      (report) => console.log(renderUpstreamClient(report)),
      (err) => {
        console.error(err instanceof Error ? err.stack : err);
        process.exit(1);
      },
    );
}
