/** The cache hit-path bench runs end to end on a few requests: every kind measured, hits call no provider, the store ops counted. */
import { cacheHitsBench, renderCacheHits } from '../../bench/cache-hits';

test('measures direct, the uncached gateway and an exact hit; counts store ops and a semantic lookup’s calls', async () => {
  const r = await cacheHitsBench({ BENCH_CACHE_REQUESTS: '100' });
  expect(r!.rows.map((row) => row.kind)).toEqual(['direct (upstream)', 'gateway, uncached', 'gateway, exact hit']);
  for (const row of r!.rows) expect(row.p50Ms).toBeGreaterThan(0);
  expect(r!.providerCallsDuringHits).toBe(0);
  expect([r!.readsPerHit, r!.writesPerHit, r!.readsPerStoredMiss, r!.writesPerStoredMiss]).toEqual([1, 0, 1, 1]);
  expect([r!.embeddingCallsPerSemanticLookup, r!.vectorQueriesPerSemanticLookup]).toEqual([1, 1]);
  expect(renderCacheHits(r)).toMatch(/exact hit vs uncached gateway/);
  expect(renderCacheHits(await cacheHitsBench({ BENCH_CACHE_REQUESTS: '0' }))).toMatch(/skipped/);
});
