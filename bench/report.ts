/** Renders the benchmark's figures as plain-text tables and judges them against the targets. */
import type { BundleReport } from './bundle';
import type { KeyOpsReport } from './dynamo-ops';
import type { EstimationReport } from './estimation';
import type { LoadSummary } from './load';
import type { TtfbSummary } from './ttfb';

/** The targets (issues #2, #3 and #4). */
export const TARGETS = {
  throughputVsPortkey: 2,
  addedP50Ms: 1,
  addedP99Ms: 3,
  gatewayRssMb: 150,
  bundleKb: 400,
  coldImportMs: 60,
  writesPerRequest: 2,
  readsPerRequest: 0,
  /** Token estimate of a 1 MB prompt, in multiples of JSON.parse of the same body (linear, and small beside a request's own cost). */
  estimateVsParse: 25,
  /** Gateway CPU per request against the `baseline` build (a previous commit), when it ran. */
  cpuVsBaseline: 1.05,
} as const;

export interface BenchResults {
  readonly settings: Record<string, string | number>;
  readonly load: LoadSummary[];
  /** Fixed-rate runs at the highest connection count (empty when skipped). */
  readonly paced: LoadSummary[];
  readonly pacedRate: number;
  /** Peak RSS of the gateway process during its runs at the highest connection count. */
  readonly gatewayRssPeakMb?: number;
  readonly gatewayRssIdleMb?: number;
  readonly portkeyRssPeakMb?: number;
  readonly ttfb: TtfbSummary[];
  /** The same stream through POST /v1/responses (direct: the upstream's own Responses API). */
  readonly ttfbResponses?: TtfbSummary[];
  readonly streamHoldMs: number;
  readonly bundle?: BundleReport;
  readonly dynamoOps?: KeyOpsReport[];
  readonly estimation?: EstimationReport;
  /** DynamoDB operations of stored /v1/responses requests, each chained to the last by previous_response_id. */
  readonly responsesOps?: KeyOpsReport;
}

export interface Check {
  readonly name: string;
  readonly measured: string;
  readonly goal: string;
  /** undefined: could not be measured. */
  readonly pass: boolean | undefined;
}

const f = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const signed = (n: number, digits = 2) => (n >= 0 ? '+' : '') + f(n, digits);

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function find(load: readonly LoadSummary[], target: string, connections: number): LoadSummary | undefined {
  return load.find((s) => s.target === target && s.connections === connections);
}

export function loadTable(load: readonly LoadSummary[], withRunP99s = false): string {
  const rows = load.map((s) => {
    const direct = find(load, 'direct', s.connections);
    const portkey = find(load, 'portkey', s.connections);
    const vsDirect = direct && s.target !== 'direct' ? `${signed(s.p50 - direct.p50)} / ${signed(s.p99 - direct.p99)} ms` : '';
    const rpsVsDirect = direct && s.target !== 'direct' ? `${f(s.rps / direct.rps)}×` : '';
    const rpsVsPortkey = portkey && s.target !== 'portkey' && s.target !== 'direct' ? `${f(s.rps / portkey.rps)}×` : '';
    const cpu = s.proxyCpuMsPerRequest !== undefined ? f(s.proxyCpuMsPerRequest * 1000, 0) : '';
    const row = [
      String(s.connections),
      s.target,
      f(s.rps, 0),
      f(s.p50),
      f(s.p99),
      vsDirect,
      rpsVsDirect,
      rpsVsPortkey,
      cpu,
      String(s.requests),
      String(s.failures),
    ];
    return withRunP99s ? [...row, s.runP99s.map((p) => f(p)).join(' ')] : row;
  });
  const header = [
    'conns',
    'target',
    'req/s',
    'p50 ms',
    'p99 ms',
    'added p50/p99 vs direct',
    'req/s vs direct',
    'req/s vs portkey',
    'proxy CPU µs/req',
    'requests',
    'failed',
  ];
  return table(withRunP99s ? [...header, 'p99 ms of each round'] : header, rows);
}

export function checks(r: BenchResults): Check[] {
  const out: Check[] = [];
  const top = Math.max(...r.load.map((s) => s.connections));
  for (const s of r.load.filter((x) => x.target === 'gateway')) {
    const base = find(r.load, 'baseline', s.connections);
    if (base?.proxyCpuMsPerRequest !== undefined && s.proxyCpuMsPerRequest !== undefined) {
      const ratio = s.proxyCpuMsPerRequest / base.proxyCpuMsPerRequest;
      out.push({
        name: `gateway CPU per request vs the baseline build @${s.connections} conns`,
        measured: `${f(ratio, 3)}× (${f(s.proxyCpuMsPerRequest * 1000, 0)} vs ${f(base.proxyCpuMsPerRequest * 1000, 0)} µs)`,
        goal: `≤ ${TARGETS.cpuVsBaseline}×`,
        pass: ratio <= TARGETS.cpuVsBaseline,
      });
    }
    const pk = find(r.load, 'portkey', s.connections);
    out.push({
      name: `throughput vs Portkey @${s.connections} conns`,
      measured: pk ? `${f(s.rps / pk.rps)}× (${f(s.rps, 0)} vs ${f(pk.rps, 0)} req/s)` : 'portkey not run',
      goal: `≥ ${TARGETS.throughputVsPortkey}×`,
      pass: pk ? s.rps / pk.rps >= TARGETS.throughputVsPortkey : undefined,
    });
  }
  // Latency overhead is judged below saturation (the paced runs) when they ran: at saturation a
  // closed loop's latency is connections / throughput, which the throughput check already covers.
  const lat = r.paced.length ? r.paced : r.load;
  const where = r.paced.length ? `@${top} conns, ${r.pacedRate} req/s` : `@${top} conns, closed loop`;
  const gwL = find(lat, 'gateway', top);
  const directL = find(lat, 'direct', top);
  // The floor proxy's own overhead shows how much of the gateway's is the machine's (any Node proxy pays it).
  const floorL = find(lat, 'floor', top);
  const floorNote = (pick: (s: LoadSummary) => number) => (floorL && directL ? `; a minimal Node proxy: ${signed(pick(floorL) - pick(directL))} ms` : '');
  out.push({
    name: `added p50 latency vs direct ${where}`,
    measured: gwL && directL ? `${signed(gwL.p50 - directL.p50)} ms (${f(gwL.p50)} vs ${f(directL.p50)}${floorNote((s) => s.p50)})` : 'n/a',
    goal: `≤ ${TARGETS.addedP50Ms} ms`,
    pass: gwL && directL ? gwL.p50 - directL.p50 <= TARGETS.addedP50Ms : undefined,
  });
  out.push({
    name: `added p99 latency vs direct ${where}`,
    measured: gwL && directL ? `${signed(gwL.p99 - directL.p99)} ms (${f(gwL.p99)} vs ${f(directL.p99)}${floorNote((s) => s.p99)})` : 'n/a',
    goal: `≤ ${TARGETS.addedP99Ms} ms`,
    pass: gwL && directL ? gwL.p99 - directL.p99 <= TARGETS.addedP99Ms : undefined,
  });
  out.push({
    name: `gateway RSS peak under ${top}-conn load`,
    measured:
      r.gatewayRssPeakMb !== undefined
        ? `${f(r.gatewayRssPeakMb, 1)} MB (idle ${f(r.gatewayRssIdleMb ?? NaN, 1)}${r.portkeyRssPeakMb !== undefined ? `, portkey ${f(r.portkeyRssPeakMb, 1)}` : ''})`
        : 'n/a',
    goal: `≤ ${TARGETS.gatewayRssMb} MB`,
    pass: r.gatewayRssPeakMb !== undefined ? r.gatewayRssPeakMb <= TARGETS.gatewayRssMb : undefined,
  });
  const gwT = r.ttfb.find((t) => t.target === 'gateway');
  const dT = r.ttfb.find((t) => t.target === 'direct');
  out.push({
    name: 'streaming: first content through gateway (not buffered)',
    measured: gwT && dT ? `${f(gwT.firstContentMs)} ms vs direct ${f(dT.firstContentMs)} ms (${signed(gwT.firstContentMs - dT.firstContentMs)})` : 'n/a',
    goal: `first content < ${r.streamHoldMs / 2} ms (upstream holds the rest ${r.streamHoldMs} ms)`,
    pass: gwT && !gwT.error ? gwT.firstContentMs < r.streamHoldMs / 2 : undefined,
  });
  const gwR = r.ttfbResponses?.find((t) => t.target === 'gateway');
  const dR = r.ttfbResponses?.find((t) => t.target === 'direct');
  out.push({
    name: 'responses streaming: first output_text.delta through gateway (not buffered)',
    measured:
      gwR && dR
        ? `${f(gwR.firstContentMs)} ms vs direct ${f(dR.firstContentMs)} ms (${signed(gwR.firstContentMs - dR.firstContentMs)}; chat completions ${gwT && dT ? signed(gwT.firstContentMs - dT.firstContentMs) : 'n/a'})`
        : 'n/a',
    goal: `first content < ${r.streamHoldMs / 2} ms (upstream holds the rest ${r.streamHoldMs} ms)`,
    pass: gwR && !gwR.error ? gwR.firstContentMs < r.streamHoldMs / 2 : undefined,
  });
  if (r.responsesOps) {
    const k = r.responsesOps;
    out.push({
      name: 'stored /v1/responses: DynamoDB writes/request beyond the key (one per stored response)',
      measured: f(k.writesPerRequest),
      goal: '≤ 1',
      pass: k.writesPerRequest <= 1,
    });
    out.push({
      name: 'stored /v1/responses: DynamoDB uncached reads/request (one per previous_response_id)',
      measured: f(k.uncachedReadsPerRequest),
      goal: '≤ 1',
      pass: k.uncachedReadsPerRequest <= 1,
    });
  }
  const b = r.bundle;
  out.push({
    name: 'proxy Lambda bundle size (minified)',
    measured: b ? (b.built ? `${f(b.sizeKb, 1)} KB` : 'not built') : 'skipped',
    goal: `≤ ${TARGETS.bundleKb} KB`,
    pass: b?.built ? b.sizeKb <= TARGETS.bundleKb : undefined,
  });
  out.push({
    name: `proxy bundle cold import (median${b?.built ? ` of ${b.importRuns}` : ''})`,
    measured: b ? (b.built ? (b.coldImportMs !== undefined ? `${f(b.coldImportMs, 1)} ms` : `import failed`) : 'not built') : 'skipped',
    goal: `≤ ${TARGETS.coldImportMs} ms`,
    pass: b?.built && b.coldImportMs !== undefined ? b.coldImportMs <= TARGETS.coldImportMs : undefined,
  });
  const e = r.estimation;
  if (e)
    out.push({
      name: `token estimate of a ${f(e.bodyKb / 1024, 1)} MB prompt (median of ${e.runs})`,
      measured: `${f(e.estimateMs / e.parseMs, 1)}× JSON.parse of the body (${f(e.estimateMs)} vs ${f(e.parseMs)} ms)`,
      goal: `≤ ${TARGETS.estimateVsParse}×`,
      pass: e.estimateMs / e.parseMs <= TARGETS.estimateVsParse,
    });
  for (const k of r.dynamoOps ?? []) {
    out.push({
      name: `DynamoDB writes/request, key with ${k.key}`,
      measured: f(k.writesPerRequest),
      goal: `≤ ${TARGETS.writesPerRequest}`,
      pass: k.writesPerRequest <= TARGETS.writesPerRequest,
    });
    out.push({
      name: `usage rollup writes/request (after the answer), key with ${k.key}`,
      measured: f(k.rollupWritesPerRequest),
      goal: '≤ 1',
      pass: k.rollupWritesPerRequest <= 1,
    });
    out.push({
      name: `DynamoDB uncached reads/request, key with ${k.key}`,
      measured: `${f(k.uncachedReadsPerRequest)} (all reads ${f(k.readsPerRequest)}, incl. key-cache TTL refills)`,
      goal: `${TARGETS.readsPerRequest}`,
      pass: k.uncachedReadsPerRequest <= TARGETS.readsPerRequest,
    });
  }
  return out;
}

const verdict = (pass: boolean | undefined) => (pass === undefined ? 'N/A' : pass ? 'PASS' : 'FAIL');

export function renderReport(r: BenchResults): string {
  const parts: string[] = [];
  parts.push(
    `Settings: ${Object.entries(r.settings)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
  );
  parts.push('\nLoad: POST /v1/chat/completions (JSON), closed loop, interleaved rounds; req/s = median of rounds, p50/p99 over all rounds');
  parts.push(loadTable(r.load));
  if (r.paced.length) {
    parts.push(
      `\nLatency below saturation: ${Math.max(...r.paced.map((p) => p.connections))} keep-alive connections, requests paced evenly at ${r.pacedRate} req/s in total (req/s = achieved)`,
    );
    parts.push(loadTable(r.paced, true));
  }
  parts.push(`\nStreaming time to first byte (median; the upstream holds the rest of the stream for ${r.streamHoldMs} ms)`);
  parts.push(
    table(
      ['target', 'first byte ms', 'first content ms', 'end ms', 'added first content vs direct'],
      r.ttfb.map((t) => {
        const d = r.ttfb.find((x) => x.target === 'direct');
        if (t.error) return [t.target, 'n/a', 'n/a', 'n/a', `failed: ${t.error}`];
        return [
          t.target,
          f(t.ttfbMs),
          f(t.firstContentMs),
          f(t.totalMs),
          d && t.target !== 'direct' ? `${signed(t.firstContentMs - d.firstContentMs)} ms` : '',
        ];
      }),
    ),
  );
  if (r.ttfbResponses?.length) {
    parts.push(
      `\nResponses API streaming: POST /v1/responses, time to first event (median; direct is the upstream's own /v1/responses, the gateway serves it through chat completions upstream)`,
    );
    const chat = (name: string) => r.ttfb.find((t) => t.target === name);
    parts.push(
      table(
        ['target', 'first event ms', 'first output_text.delta ms', 'end ms', 'added first content vs direct', 'chat completions: added first content'],
        r.ttfbResponses.map((t) => {
          const d = r.ttfbResponses!.find((x) => x.target === 'direct');
          if (t.error) return [t.target, 'n/a', 'n/a', 'n/a', `failed: ${t.error}`, ''];
          const c = chat(t.target);
          const cd = chat('direct');
          return [
            t.target,
            f(t.ttfbMs),
            f(t.firstContentMs),
            f(t.totalMs),
            d && t.target !== 'direct' ? `${signed(t.firstContentMs - d.firstContentMs)} ms` : '',
            c && cd && t.target !== 'direct' && !c.error ? `${signed(c.firstContentMs - cd.firstContentMs)} ms` : '',
          ];
        }),
      ),
    );
  }
  if (r.bundle) {
    parts.push('\nProxy Lambda bundle');
    const b = r.bundle;
    parts.push(
      b.built
        ? `  ${b.path}: ${f(b.sizeKb, 1)} KB; cold import ${b.coldImportMs !== undefined ? `${f(b.coldImportMs, 1)} ms median of ${b.importRuns} fresh processes; first invocation after it (builds the gateway, loads the AWS SDK clients) ${b.firstInvokeMs !== undefined ? f(b.firstInvokeMs, 1) : '?'} ms` : `FAILED:\n    ${b.importError?.replace(/\n/g, '\n    ')}`}`
        : `  not built (${b.path} does not exist: scripts/build.mjs builds it from lambda/entry/proxy.ts)`,
    );
  }
  if (r.dynamoOps) {
    parts.push("\nDynamoDB operations per request (counted by an SDK middleware on the gateway's client; after one warm-up request per key)");
    parts.push(
      table(
        [
          'key',
          'requests',
          'in ms',
          'reads/req',
          'uncached reads/req',
          'writes/req',
          'rollup writes/req',
          'steady-state commands',
          'first request (cold cache)',
        ],
        r.dynamoOps.map((k) => [
          k.key,
          String(k.requests),
          f(k.elapsedMs, 0),
          f(k.readsPerRequest),
          f(k.uncachedReadsPerRequest),
          f(k.writesPerRequest),
          f(k.rollupWritesPerRequest),
          Object.entries(k.steady.byCommand)
            .map(([c, n]) => `${c}×${n}`)
            .join(' ') || 'none',
          Object.entries(k.firstRequest.byCommand)
            .map(([c, n]) => `${c}×${n}`)
            .join(' ') || 'none',
        ]),
      ),
    );
  }
  if (r.responsesOps) {
    const k = r.responsesOps;
    parts.push(
      `\nStored /v1/responses: DynamoDB operations per request (${k.requests} requests, each chained to the last by previous_response_id; key without limits, so every command is the response store's or the key's)`,
    );
    parts.push(
      `  reads/req ${f(k.readsPerRequest)} (uncached ${f(k.uncachedReadsPerRequest)}), writes/req ${f(k.writesPerRequest)}; steady-state commands: ${
        Object.entries(k.steady.byCommand)
          .map(([c, n]) => `${c}×${n}`)
          .join(' ') || 'none'
      }`,
    );
  }
  parts.push('\nTargets');
  parts.push(
    table(
      ['check', 'measured', 'goal', 'result'],
      checks(r).map((c) => [c.name, c.measured, c.goal, verdict(c.pass)]),
    ),
  );
  return parts.join('\n');
}
