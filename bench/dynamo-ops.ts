/**
 * DynamoDB operations per request on the hot path, counted at the client: an SDK middleware on
 * the local gateway's DynamoDBClient sees every command the gateway sends (key lookups, limiter
 * counters, anything else), so nothing is estimated.
 *
 * The gateway is the real local one (startLocalGateway on in-memory dynalite) with whatever
 * limiter it wires; keys are created through its admin API, one without limits and one with
 * rpm + tpm. After one warm-up request per key (the key cache fills), requests are counted.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startInProcessGateway } from './in-process-gateway';
import { UPSTREAM_PROVIDER_KEY, benchGatewayConfig, createBenchKey } from './processes';
import { BENCH_MODEL, startBenchUpstream } from './upstream';

const READS = new Set(['GetItemCommand', 'BatchGetItemCommand', 'QueryCommand', 'ScanCommand', 'TransactGetItemsCommand']);
const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand', 'TransactWriteItemsCommand']);

export interface OpCounts {
  reads: number;
  /** Writes on the request path (key and counter tables). */
  writes: number;
  /** Usage rollup writes: after the answer, one per row batch (Lambda: per invocation). */
  rollupWrites: number;
  /** command@table → count, to tell key lookups from limiter counters. */
  byCommand: Record<string, number>;
}

/** Counts every command sent through `client`; `settled()` resolves once none is in flight. */
export function countOperations(client: DynamoDBClient, rollupTable?: string) {
  let counts: OpCounts = { reads: 0, writes: 0, rollupWrites: 0, byCommand: {} };
  let inFlight = 0;
  let waiters: Array<() => void> = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      const table = (args.input as { TableName?: string }).TableName ?? '-';
      if (READS.has(command)) counts.reads++;
      else if (WRITES.has(command) && table === rollupTable) counts.rollupWrites++;
      else if (WRITES.has(command)) counts.writes++;
      const label = `${command.replace(/Command$/, '')}@${table}`;
      counts.byCommand[label] = (counts.byCommand[label] ?? 0) + 1;
      inFlight++;
      try {
        return await next(args);
      } finally {
        if (--inFlight === 0) {
          const w = waiters;
          waiters = [];
          for (const resolve of w) resolve();
        }
      }
    },
    { step: 'initialize', name: 'benchOperationCounter' },
  );
  return {
    reset() {
      counts = { reads: 0, writes: 0, rollupWrites: 0, byCommand: {} };
    },
    snapshot(): OpCounts {
      return { ...counts, byCommand: { ...counts.byCommand } };
    },
    settled(): Promise<void> {
      return inFlight === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve));
    },
  };
}

/** The key cache TTL the bench gateway runs with (the default): reads to refill it are expected. */
const KEY_CACHE_TTL_MS = 5_000;

export interface KeyOpsReport {
  readonly key: string;
  readonly requests: number;
  /** Every read, including the key-cache refills its TTL calls for. */
  readonly readsPerRequest: number;
  /** Reads beyond one cache fill per TTL window that the requests spanned. */
  readonly uncachedReadsPerRequest: number;
  readonly elapsedMs: number;
  readonly writesPerRequest: number;
  /** Usage rollup writes per request, flushed after each request as Lambda does after each invocation. */
  readonly rollupWritesPerRequest: number;
  /** Operations of the first (cold key cache) request. */
  readonly firstRequest: OpCounts;
  readonly steady: OpCounts;
}

/** The bench upstream and an in-process gateway routed to it, every store command it sends counted. */
async function startCountedGateway() {
  const upstream = await startBenchUpstream();
  const gw = await startInProcessGateway(
    { ...benchGatewayConfig(upstream.url), settings: { keyCacheTtlMs: KEY_CACHE_TTL_MS } },
    { env: { BENCH_UPSTREAM_KEY: UPSTREAM_PROVIDER_KEY } },
  );
  return { upstream, gw, counter: countOperations(gw.dynamo, gw.tables.usage) };
}

export async function measureDynamoOps(requestsPerKey: number): Promise<KeyOpsReport[]> {
  const { upstream, gw, counter } = await startCountedGateway();
  const call = async (key: string) => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: BENCH_MODEL, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16 }),
    });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`bench request answered ${res.status}`);
    // Writes that finish after the response (settlement, logs) belong to this request too.
    await gw.gateway.flush();
    await counter.settled();
  };
  try {
    const keys = [
      { label: 'no limits', key: await createBenchKey(gw, { name: 'bench-unlimited' }) },
      { label: 'rpm+tpm limits', key: await createBenchKey(gw, { name: 'bench-limited', limits: { rpm: 1_000_000, tpm: 1_000_000_000 } }) },
    ];
    const out: KeyOpsReport[] = [];
    for (const { label, key } of keys) {
      await counter.settled();
      counter.reset();
      await call(key);
      const firstRequest = counter.snapshot();
      counter.reset();
      const started = performance.now();
      for (let i = 0; i < requestsPerKey; i++) await call(key);
      const elapsedMs = performance.now() - started;
      const steady = counter.snapshot();
      // A cache entry lives KEY_CACHE_TTL_MS from the fill, so the requests may refill it once per
      // window they span (each refill costs what the first request's lookup cost).
      const refills = Math.ceil(elapsedMs / KEY_CACHE_TTL_MS);
      const uncached = Math.max(0, steady.reads - refills * firstRequest.reads);
      out.push({
        key: label,
        requests: requestsPerKey,
        readsPerRequest: steady.reads / requestsPerKey,
        uncachedReadsPerRequest: uncached / requestsPerKey,
        elapsedMs,
        writesPerRequest: steady.writes / requestsPerKey,
        rollupWritesPerRequest: steady.rollupWrites / requestsPerKey,
        firstRequest,
        steady,
      });
    }
    return out;
  } finally {
    await gw.close();
    await upstream.close();
  }
}

/**
 * DynamoDB operations of stored /v1/responses requests: each one stores its response (one write)
 * and chains to the previous one with previous_response_id (one read), on a key without limits,
 * so every command counted is the response store's, or a key-cache refill.
 */
export async function measureResponsesOps(requests: number): Promise<KeyOpsReport> {
  const { upstream, gw, counter } = await startCountedGateway();
  let previous: string | undefined;
  const call = async (key: string) => {
    const res = await fetch(`${gw.url}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: BENCH_MODEL, input: 'Say hello.', max_output_tokens: 16, ...(previous ? { previous_response_id: previous } : {}) }),
    });
    const body = (await res.json()) as { id?: string };
    if (res.status !== 200 || !body.id) throw new Error(`bench /v1/responses request answered ${res.status}`);
    previous = body.id;
    await gw.gateway.flush();
    await counter.settled();
  };
  try {
    const key = await createBenchKey(gw, { name: 'bench-responses' });
    await counter.settled();
    counter.reset();
    await call(key);
    const firstRequest = counter.snapshot();
    counter.reset();
    const started = performance.now();
    for (let i = 0; i < requests; i++) await call(key);
    const elapsedMs = performance.now() - started;
    const steady = counter.snapshot();
    // Reads on the keys table are the key cache's refills; every other read is the response store's.
    const keyReads = Object.entries(steady.byCommand)
      .filter(([c]) => c.endsWith(`@${gw.tables.keys}`))
      .reduce((n, [, count]) => n + count, 0);
    return {
      key: 'stored responses, chained',
      requests,
      readsPerRequest: steady.reads / requests,
      uncachedReadsPerRequest: (steady.reads - keyReads) / requests,
      elapsedMs,
      writesPerRequest: steady.writes / requests,
      rollupWritesPerRequest: steady.rollupWrites / requests,
      firstRequest,
      steady,
    };
  } finally {
    await gw.close();
    await upstream.close();
  }
}
