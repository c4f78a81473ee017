/**
 * The upstream-client bench runs end to end on a few requests: both clients at both levels, over
 * HTTP and HTTPS (a certificate made for the run), every answer checked, a fresh process's first
 * invocation timed, a verdict printed. Figures are machine-dependent and not asserted.
 */
import { execFileSync } from 'node:child_process';
import { renderUpstreamClient, upstreamClientBench } from '../../bench/upstream-client';

jest.setTimeout(120_000);

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

test('measures global fetch and the keep-alive client on the Lambda handler path and on the bare provider call, with no failed request', async () => {
  const r = await upstreamClientBench({ BENCH_CLIENT_ROUNDS: '1', BENCH_CLIENT_BATCH: '3', BENCH_CLIENT_COLD_RUNS: '1' });
  const protos = hasOpenssl ? ['https', 'http'] : ['http'];
  expect(r!.rows.map((row) => `${row.level} ${row.proto} ${row.kind}`)).toEqual(
    ['handler', 'client'].flatMap((level) => protos.flatMap((proto) => ['json', 'sse'].map((kind) => `${level} ${proto} ${kind}`))),
  );
  for (const row of r!.rows) {
    expect(row.fetch.failures + row.keepAlive.failures).toBe(0);
    expect(row.fetch.cpuUs).toBeGreaterThan(0);
    expect(row.keepAlive.p50Ms).toBeGreaterThan(0);
    expect(row.cpuRatio).toBeGreaterThan(0);
  }
  expect(r!.cold!.fetch.ms).toBeGreaterThan(0);
  expect(r!.cold!['keep-alive'].ms).toBeGreaterThan(0);
  const text = renderUpstreamClient(r);
  expect(text).toMatch(/^VERDICT: keep-alive client vs global fetch on the Lambda handler path/m);
  expect(renderUpstreamClient(await upstreamClientBench({ BENCH_CLIENT_ROUNDS: '0' }))).toMatch(/skipped/);
});
