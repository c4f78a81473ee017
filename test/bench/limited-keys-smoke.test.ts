/**
 * Proves the limited-keys section of `npm run bench` runs: four keys (none, rpm+tpm, tpm only,
 * tpm+budget) on one gateway with leases and one without, every request answered, the store
 * writes counted at the gateway's own DynamoDB client. Throughput and latency targets are
 * machine-dependent and belong to the bench; what holds on any machine is asserted.
 */
import { limitedKeyChecks, limitedKeysBench, renderLimitedKeys } from '../../bench/limited-keys';

// Two gateways and an upstream start as TypeScript child processes: slow on a loaded machine.
jest.setTimeout(240_000);

describe('limited-keys bench', () => {
  let report: NonNullable<Awaited<ReturnType<typeof limitedKeysBench>>>;

  beforeAll(async () => {
    const r = await limitedKeysBench({ durationS: 0.3, rounds: 1, connections: 2, exact: true, warmupS: 0 });
    if (!r) throw new Error('the bench was skipped');
    report = r;
  });

  it('answers every request of every key on both gateways', () => {
    for (const rows of [report.leased, report.exact!]) {
      expect(rows.map((r) => r.key)).toEqual(['no limits', 'rpm+tpm', 'tpm only', 'tpm+budget']);
      for (const r of rows) {
        expect(r.failures).toBe(0);
        expect(r.requests).toBeGreaterThan(0);
      }
    }
  });

  it('counts store writes: none for the unlimited key, at least one per request when every request is reserved exactly', () => {
    expect(report.leased[0].writesPerRequest).toBe(0);
    expect(report.exact![0].writesPerRequest).toBe(0);
    // Leases off: a reservation before the call and a settle after it, per request.
    for (const r of report.exact!.slice(1)) expect(r.writesPerRequest).toBeGreaterThanOrEqual(2);
  });

  it('prints both tables and a verdict per limited key', () => {
    const text = renderLimitedKeys(report);
    expect(text).toContain('Leased capacity (the default):');
    expect(text).toContain('Leases off (exact per-request reservation');
    expect(limitedKeyChecks(report.leased).map((c) => c.key)).toEqual(['rpm+tpm', 'tpm only', 'tpm+budget']);
    expect(text.match(/^(PASS|FAIL) {2}/gm)).toHaveLength(3);
  });
});
