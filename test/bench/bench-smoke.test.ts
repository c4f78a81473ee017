/**
 * Proves `npm run bench` still runs: the whole harness (upstream, gateway and Portkey processes,
 * closed-loop and paced load, streaming first byte, bundle, DynamoDB op count, report) for about
 * a second per piece. Performance targets are machine-dependent and are not asserted here; what
 * is asserted holds on any machine: every request succeeded, a stream is not buffered, and the
 * DynamoDB operation counts per request.
 */
import { checks, renderReport } from '../../bench/report';
import { type BenchOptions, optionsFromEnv, runBench } from '../../bench/run';
import { percentile } from '../../bench/stats';

jest.setTimeout(60_000);

const HOLD_MS = 800;

const options: BenchOptions = {
  durationS: 1,
  rounds: 1,
  connections: [4],
  warmupS: 0,
  pacedRate: 100,
  pacedWarmupS: 0.2,
  pacedSliceS: 0.5,
  targets: ['direct', 'floor', 'gateway', 'portkey'],
  streamHoldMs: HOLD_MS,
  ttfbSamples: 1,
  coldImportRuns: 1,
  dynamoRequests: 3,
  estimateRuns: 2,
};

describe('bench harness', () => {
  let results: Awaited<ReturnType<typeof runBench>>;

  beforeAll(async () => {
    results = await runBench(options);
  });

  it('loads every target without a failed request', () => {
    expect(results.load.map((s) => s.target)).toEqual(['direct', 'floor', 'gateway', 'portkey']);
    expect(results.paced.map((s) => s.target)).toEqual(['direct', 'floor', 'gateway', 'portkey']);
    for (const s of [...results.load, ...results.paced]) {
      expect(s.failures).toBe(0);
      expect(s.requests).toBeGreaterThan(0);
      expect(s.rps).toBeGreaterThan(0);
      expect(s.p50).toBeGreaterThan(0);
      expect(s.p99).toBeGreaterThanOrEqual(s.p50);
    }
    // Paced slices send exactly on schedule: 100 req/s for two 0.5 s slices per target.
    for (const s of results.paced) expect(s.requests).toBe(100);
  });

  it('measures the gateway process memory', () => {
    expect(results.gatewayRssPeakMb).toBeGreaterThan(10);
    // Peak vs idle is not asserted: a GC between the two samples can legitimately shrink RSS.
    expect(results.gatewayRssIdleMb).toBeGreaterThan(10);
  });

  it('sees the first streamed content through the gateway while the upstream still holds the rest', () => {
    const gw = results.ttfb.find((t) => t.target === 'gateway')!;
    const direct = results.ttfb.find((t) => t.target === 'direct')!;
    expect(gw.error).toBeUndefined();
    // Not a speed check: the order of two events of the same stream. The upstream holds the rest for
    // HOLD_MS after its first content, so unbuffered, the first content reaches the client about
    // HOLD_MS before the end, however slow the machine; a buffering proxy delivers both together.
    expect(direct.totalMs - direct.firstContentMs).toBeGreaterThan(HOLD_MS / 2);
    expect(gw.totalMs - gw.firstContentMs).toBeGreaterThan(HOLD_MS / 2);
  });

  it('times the token estimate of a 1 MB prompt against parsing it', () => {
    expect(results.estimation!.estimatedTokens).toBeGreaterThan(150_000);
    expect(results.estimation!.estimateMs).toBeGreaterThan(0);
    expect(results.estimation!.parseMs).toBeGreaterThan(0);
    expect(checks(results).some((c) => c.name.startsWith('token estimate'))).toBe(true);
  });

  it('sees the first /v1/responses event through the gateway while the upstream still holds the rest', () => {
    expect(results.ttfbResponses!.map((t) => t.target)).toEqual(['direct', 'gateway']);
    const gw = results.ttfbResponses!.find((t) => t.target === 'gateway')!;
    expect(gw.error).toBeUndefined();
    // Not buffered: the first event came well before the upstream let go of the rest.
    expect(gw.totalMs - gw.firstContentMs).toBeGreaterThanOrEqual(HOLD_MS / 2);
    expect(gw.totalMs).toBeGreaterThanOrEqual(HOLD_MS);
  });

  it('counts the DynamoDB operations of stored responses: one write each, one read per previous_response_id', () => {
    const k = results.responsesOps!;
    expect(k.writesPerRequest).toBe(1);
    expect(k.uncachedReadsPerRequest).toBe(1);
    expect(Object.keys(k.steady.byCommand)).toEqual(expect.arrayContaining(['PutItem@gateway-counters', 'GetItem@gateway-counters']));
  });

  it('counts DynamoDB operations per request: no uncached read, at most two writes', () => {
    expect(results.dynamoOps!.map((k) => k.key)).toEqual(['no limits', 'rpm+tpm limits']);
    for (const k of results.dynamoOps!) {
      expect(k.uncachedReadsPerRequest).toBe(0);
      const cacheRefills = Math.ceil(k.elapsedMs / 5_000);
      expect(k.readsPerRequest * k.requests).toBeLessThanOrEqual(cacheRefills * k.firstRequest.reads);
      expect(k.writesPerRequest).toBeLessThanOrEqual(2);
      // The first request of a key reads it from the store (cold cache): the counter sees it.
      expect(k.firstRequest.reads).toBeGreaterThan(0);
    }
  });

  it('prints every table and a verdict for every target', () => {
    const text = renderReport(results);
    for (const heading of [
      'Load:',
      'Latency below saturation',
      'Streaming time to first byte',
      'Proxy Lambda bundle',
      'DynamoDB operations per request',
      'Responses API streaming',
      'Stored /v1/responses',
      'Targets',
    ]) {
      expect(text).toContain(heading);
    }
    const list = checks(results);
    expect(list.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^throughput vs Portkey/),
        expect.stringMatching(/^added p50 latency/),
        expect.stringMatching(/^gateway RSS peak/),
      ]),
    );
    for (const c of list) expect(text).toContain(c.name);
  });
});

describe('bench options and statistics', () => {
  it('reads durations and lists from the environment and rejects nonsense', () => {
    const o = optionsFromEnv({ BENCH_DURATION: '0.5', BENCH_CONNECTIONS: '2,8', BENCH_TARGETS: 'direct,gateway' });
    expect(o.durationS).toBe(0.5);
    expect(o.connections).toEqual([2, 8]);
    expect(o.targets).toEqual(['direct', 'gateway']);
    expect(() => optionsFromEnv({ BENCH_DURATION: 'fast' })).toThrow(/BENCH_DURATION/);
    expect(() => optionsFromEnv({ BENCH_TARGETS: 'litellm' })).toThrow(/litellm/);
  });

  it('takes nearest-rank percentiles', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });
});
