/**
 * The response cache's hit path (ARCHITECTURE §13): time per JSON chat request over HTTP for
 *   - direct: the fake upstream itself (zero latency, prebuilt answer);
 *   - gateway, uncached: a route with the cache off (the gateway's own overhead);
 *   - gateway, exact hit: the same request answered from the cache (one DynamoDB read, no provider call);
 * the kinds taking turns in batches, the order rotating, so a stall of the shared machine lands on
 * all of them. Target: an exact hit adds no more than 1 ms p50 over the uncached gateway and calls
 * no provider. Also counted, on the local gateway's real stores: cache-store operations per request
 * (target: one read on every request, one write per stored answer), and for a semantic lookup its
 * calls (one embedding, one vector query).
 *
 * Environment: BENCH_CACHE_REQUESTS (per kind, default 2000; 0 skips). Standalone:
 * `node -r @swc-node/register bench/cache-hits.ts`.
 */
import { startInProcessGateway } from './in-process-gateway';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { LocalVectorIndex } from '../lambda/adapters/local-vector-index';
import type { CacheEntry, CachePurgeFilter, CacheStore, VectorIndex } from '../lambda/core/cache/ports';
import { DynamoCacheStore } from '../lambda/stores/dynamo-cache-store';
import { percentile } from './stats';

export const CACHE_HIT_ADDED_P50_TARGET_MS = 1;

export interface CacheHitRow {
  readonly kind: string;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface CacheHitReport {
  readonly requests: number;
  readonly rows: CacheHitRow[];
  /** Exact hit p50 minus the uncached gateway's p50. */
  readonly hitAddedP50Ms: number;
  readonly providerCallsDuringHits: number;
  /** Cache-store operations per request: on hits, and on misses that store. */
  readonly readsPerHit: number;
  readonly writesPerHit: number;
  readonly readsPerStoredMiss: number;
  readonly writesPerStoredMiss: number;
  /** Per semantic lookup (a paraphrase served semantically). */
  readonly embeddingCallsPerSemanticLookup: number;
  readonly vectorQueriesPerSemanticLookup: number;
}

const COMPLETION = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'A cached answer of ordinary length.', refusal: null }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 },
});

export async function cacheHitsBench(env: NodeJS.ProcessEnv = process.env): Promise<CacheHitReport | undefined> {
  const requests = Number(env.BENCH_CACHE_REQUESTS ?? 2000);
  if (!requests) return undefined;
  let chatCalls = 0;
  let embeddingCalls = 0;
  const upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url?.endsWith('/embeddings')) {
        embeddingCalls++;
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            object: 'list',
            model: 'e',
            data: [{ object: 'embedding', index: 0, embedding: [1, 0, 0] }],
            usage: { prompt_tokens: 1, total_tokens: 1 },
          }),
        );
        return;
      }
      chatCalls++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(COMPLETION);
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

  // Counting wrappers around the real stores (the entries on the embedded store, the local vector index).
  const ops = { get: 0, put: 0, query: 0 };
  const holder: { store?: CacheStore } = {};
  const store: CacheStore = {
    get(id: string, now: number, signal?: AbortSignal) {
      ops.get++;
      return holder.store!.get(id, now, signal);
    },
    put(e: CacheEntry) {
      ops.put++;
      return holder.store!.put(e);
    },
    purge: (f: CachePurgeFilter) => holder.store!.purge(f),
  };
  const index = new LocalVectorIndex();
  const vectors: VectorIndex = {
    put: (id, v, p, e) => index.put(id, v, p, e),
    query(v, p, now, min) {
      ops.query++;
      return index.query(v, p, now, min);
    },
    delete: (ids) => index.delete(ids),
  };
  const target = { provider: 'up', model: 'gpt-4o-mini' };
  const gw = await startInProcessGateway(
    {
      providers: { up: { type: 'openai', baseUrl: `${upstreamUrl}/v1`, apiKey: { env: 'UP_KEY' } } },
      models: {
        uncached: { targets: [target], cache: { mode: 'off' } },
        cached: { targets: [target], cache: { mode: 'exact' } },
        semantic: { targets: [target], cache: { mode: 'semantic', semantic: { embeddingModel: 'embed' } } },
        embed: { targets: [{ provider: 'up', model: 'e' }] },
      },
      settings: { keyCacheTtlMs: 60_000 },
    },
    { env: { UP_KEY: 'sk-bench' }, overrides: { logSink: { write() {} }, cache: { store, vectors } } },
  );
  holder.store = new DynamoCacheStore({ client: gw.dynamo, tableName: gw.tables.cache! });
  try {
    const created = await fetch(`${gw.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: 'Bearer bench-admin', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench' }),
    });
    const { key } = (await created.json()) as { key: string };
    const body = (model: string, text = 'hello') => JSON.stringify({ model, messages: [{ role: 'user', content: text }], max_tokens: 16 });
    const once = async (url: string, payload: string, auth = true) => {
      const t0 = performance.now();
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${key}` } : {}) },
        body: payload,
      });
      await res.arrayBuffer();
      const ms = performance.now() - t0;
      if (res.status !== 200) throw new Error(`cache bench request answered ${res.status}`);
      return { ms, cache: res.headers.get('x-gateway-cache') };
    };
    const chatUrl = `${gw.url}/v1/chat/completions`;
    // The entry the hits are served from.
    await once(chatUrl, body('cached'));
    await gw.gateway.flush();
    const kinds: [string, () => Promise<{ ms: number; cache: string | null }>][] = [
      ['direct (upstream)', () => once(`${upstreamUrl}/v1/chat/completions`, body('gpt-4o-mini'), false)],
      ['gateway, uncached', () => once(chatUrl, body('uncached'))],
      ['gateway, exact hit', () => once(chatUrl, body('cached'))],
    ];
    const samples = new Map<string, number[]>(kinds.map(([k]) => [k, []]));
    for (const [, run] of kinds) for (let i = 0; i < 100; i++) await run();
    let hitRequests = 0;
    let callsDuringHits = 0;
    const before = { get: ops.get, put: ops.put };
    const batch = 100;
    for (let round = 0; round * batch < requests; round++) {
      for (let j = 0; j < kinds.length; j++) {
        const [kind, run] = kinds[(round + j) % kinds.length];
        const into = samples.get(kind)!;
        const calls = chatCalls;
        for (let i = 0; i < batch; i++) {
          const r = await run();
          into.push(r.ms);
          if (kind === 'gateway, exact hit') {
            if (r.cache !== 'hit') throw new Error(`expected a hit, got ${r.cache}`);
            hitRequests++;
          }
        }
        if (kind === 'gateway, exact hit') callsDuringHits += chatCalls - calls;
      }
    }
    const readsPerHit = (ops.get - before.get) / hitRequests;
    const writesPerHit = (ops.put - before.put) / hitRequests;

    // Misses that store: distinct questions.
    const missBefore = { get: ops.get, put: ops.put };
    const misses = 50;
    for (let i = 0; i < misses; i++) await once(chatUrl, body('cached', `question ${i}`));
    await gw.gateway.flush();
    const readsPerStoredMiss = (ops.get - missBefore.get) / misses;
    const writesPerStoredMiss = (ops.put - missBefore.put) / misses;

    // A semantic lookup: store one answer, then ask a different text that the (constant) embeddings make identical.
    await once(chatUrl, body('semantic', 'summarize the contract'));
    await gw.gateway.flush();
    const sem = { embed: embeddingCalls, query: ops.query };
    const semantic = await once(chatUrl, body('semantic', 'give me a summary of the contract'));
    if (semantic.cache !== 'semantic-hit') throw new Error(`expected a semantic hit, got ${semantic.cache}`);

    const stats = kinds.map(([kind]) => {
      const s = samples.get(kind)!.sort((a, b) => a - b);
      return { kind, p50Ms: percentile(s, 50), p99Ms: percentile(s, 99) };
    });
    return {
      requests,
      rows: stats,
      hitAddedP50Ms: stats[2].p50Ms - stats[1].p50Ms,
      providerCallsDuringHits: callsDuringHits,
      readsPerHit,
      writesPerHit,
      readsPerStoredMiss,
      writesPerStoredMiss,
      embeddingCallsPerSemanticLookup: embeddingCalls - sem.embed,
      vectorQueriesPerSemanticLookup: ops.query - sem.query,
    };
  } finally {
    await gw.close();
    await new Promise<void>((r) => upstream.close(() => r()));
  }
}

export function renderCacheHits(r: CacheHitReport | undefined): string {
  if (!r) return 'Cache hit path: skipped (BENCH_CACHE_REQUESTS=0)';
  const direct = r.rows[0].p50Ms;
  const lines = [
    `Cache hit path: time per JSON chat request over HTTP, ${r.requests} requests per kind (zero-latency upstream)`,
    '| kind | p50 ms | p99 ms | p50 ÷ direct |',
    '|---|---:|---:|---:|',
    ...r.rows.map((row) => `| ${row.kind} | ${row.p50Ms.toFixed(3)} | ${row.p99Ms.toFixed(3)} | ${(row.p50Ms / direct).toFixed(2)} |`),
    `exact hit vs uncached gateway: ${r.hitAddedP50Ms >= 0 ? '+' : ''}${r.hitAddedP50Ms.toFixed(3)} ms p50 (target ≤ ${CACHE_HIT_ADDED_P50_TARGET_MS} ms): ${r.hitAddedP50Ms <= CACHE_HIT_ADDED_P50_TARGET_MS ? 'PASS' : 'FAIL'}`,
    `provider calls during hits: ${r.providerCallsDuringHits} (target 0): ${r.providerCallsDuringHits === 0 ? 'PASS' : 'FAIL'}`,
    `cache store ops: ${r.readsPerHit.toFixed(2)} reads + ${r.writesPerHit.toFixed(2)} writes per hit; ${r.readsPerStoredMiss.toFixed(2)} reads + ${r.writesPerStoredMiss.toFixed(2)} writes per stored miss (target 1 read each, 1 write per stored answer): ${r.readsPerHit === 1 && r.writesPerHit === 0 && r.readsPerStoredMiss === 1 && r.writesPerStoredMiss === 1 ? 'PASS' : 'FAIL'}`,
    `semantic lookup: ${r.embeddingCallsPerSemanticLookup} embedding call(s), ${r.vectorQueriesPerSemanticLookup} vector quer${r.vectorQueriesPerSemanticLookup === 1 ? 'y' : 'ies'} (target 1 and 1)`,
  ];
  return lines.join('\n');
}

if (require.main === module) {
  cacheHitsBench().then((r) => console.log(renderCacheHits(r)));
}
