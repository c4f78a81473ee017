/**
 * The usage page's data path (ARCHITECTURE §16): how long `GET /v1/usage?days=90` takes for a key
 * whose team made 100,000 requests over 90 days, on the local gateway (dynalite), and how many
 * DynamoDB operations the read costs. The rollups are written the way the gateway writes them
 * (one row batch per key per day), so the query reads what production would.
 *
 * Environment: BENCH_USAGE_REQUESTS (default 100000; 0 skips), BENCH_USAGE_KEYS (keys in the team, default 10).
 */
import { startInProcessGateway } from './in-process-gateway';
import { DynamoUsageRollups } from '../lambda/stores/dynamo-usage-rollups';
import { type RowIncrement, addToBatch, newBatch } from '../lambda/core/usage/rollups';
import { countOperations } from './dynamo-ops';
import { percentile } from './stats';

export interface UsageQueryReport {
  readonly requests: number;
  readonly keys: number;
  readonly days: number;
  readonly rows: number;
  readonly samples: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  /** DynamoDB commands one page load sends (Query pages included). */
  readonly opsPerRead: number;
}

export const USAGE_QUERY_TARGET_MS = 200;
const DAYS = 90;
const MODELS = ['openai/gpt-4o', 'anthropic/claude-sonnet-4-5', 'bedrock/amazon.nova-pro-v1:0'];

export async function usageQueryBench(env: NodeJS.ProcessEnv = process.env): Promise<UsageQueryReport | undefined> {
  const requests = Number(env.BENCH_USAGE_REQUESTS ?? 100_000);
  const keys = Math.max(1, Number(env.BENCH_USAGE_KEYS ?? 10));
  if (!requests) return undefined;
  const gw = await startInProcessGateway({ providers: { mock: { type: 'mock' } }, models: { m: { targets: [{ provider: 'mock', model: 'm' }] } } });
  try {
    const created = await fetch(`${gw.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: 'Bearer bench-admin', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'busy-app', team: 'bench-team' }),
    });
    const { key, id } = (await created.json()) as { key: string; id: string };
    const rollups = new DynamoUsageRollups(gw.dynamo, gw.tables.usage);
    const now = Date.now();
    const perRow = Math.ceil(requests / (DAYS * keys));
    let rows = 0;
    // Oldest day first, as traffic writes them (a new day's first write retires the previous row's recent slots).
    for (let d = DAYS - 1; d >= 0; d--) {
      const day = new Date(now - d * 86_400_000).toISOString().slice(0, 10);
      for (let k = 0; k < keys; k++) {
        const keyId = k === 0 ? id : `key_bench_${k}`;
        let batch: ReturnType<typeof newBatch> | undefined;
        for (let i = 0; i < perRow; i++) {
          const inc: RowIncrement = {
            day,
            keyId,
            keyName: k === 0 ? 'busy-app' : `app-${k}`,
            team: 'bench-team',
            requests: 1,
            errors: i % 50 === 0 ? 1 : 0,
            promptTokens: 200,
            completionTokens: 80,
            costNanoUsd: 1_300_000,
            cacheHits: i % 10 === 0 ? 1 : 0,
            cacheSavedNanoUsd: i % 10 === 0 ? 1_300_000 : 0,
            model: MODELS[i % MODELS.length],
            recent: {
              id: `req_${d}_${k}_${i}`,
              ts: `${day}T12:00:00.000Z`,
              endpoint: '/v1/chat/completions',
              model: 'gpt-4o',
              status: 200,
              latencyMs: 420,
              tokens: 280,
              costUsd: 0.0013,
              cache: null,
              stream: false,
            },
          };
          batch ??= newBatch(inc);
          addToBatch(batch, inc);
        }
        if (batch) {
          await rollups.add(batch);
          rows++;
        }
      }
    }
    const counter = countOperations(gw.dynamo, gw.tables.usage);
    const read = async () => {
      const res = await fetch(`${gw.url}/v1/usage?days=${DAYS}`, { headers: { authorization: `Bearer ${key}` } });
      if (res.status !== 200) throw new Error(`usage read answered ${res.status}`);
      await res.arrayBuffer();
    };
    for (let i = 0; i < 3; i++) await read(); // warm the key cache and the JIT
    const samples: number[] = [];
    counter.reset();
    const runs = 20;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await read();
      samples.push(performance.now() - t0);
    }
    const ops = counter.snapshot();
    const opsPerRead = Object.values(ops.byCommand).reduce((a, b) => a + b, 0) / runs;
    samples.sort((a, b) => a - b);
    return {
      requests: perRow * DAYS * keys,
      keys,
      days: DAYS,
      rows,
      samples: runs,
      p50Ms: percentile(samples, 50),
      p95Ms: percentile(samples, 95),
      opsPerRead,
    };
  } finally {
    await gw.close();
  }
}

export function renderUsageQuery(r: UsageQueryReport | undefined): string {
  if (!r) return 'Usage page query: skipped (BENCH_USAGE_REQUESTS=0)';
  const pass = r.p50Ms <= USAGE_QUERY_TARGET_MS;
  return [
    `Usage page query (GET /v1/usage?days=${r.days}, local gateway on dynalite)`,
    `  ${r.requests.toLocaleString('en-US')} requests of a team of ${r.keys} keys over ${r.days} days = ${r.rows} rollup rows`,
    `  p50 ${r.p50Ms.toFixed(1)} ms, p95 ${r.p95Ms.toFixed(1)} ms over ${r.samples} reads; ${r.opsPerRead.toFixed(2)} DynamoDB commands per read`,
    `  target p50 ≤ ${USAGE_QUERY_TARGET_MS} ms: ${pass ? 'PASS' : 'FAIL'}`,
  ].join('\n');
}
