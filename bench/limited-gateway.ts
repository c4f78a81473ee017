/**
 * The local gateway as `npm start` runs it (startLocalGateway on a file-backed embedded store), in
 * its own process, with an SDK middleware counting every store command: the limited-keys bench
 * reads the counts from a second listener (`{"url": …, "ops": …}` on stdout) between runs.
 *
 * BENCH_UPSTREAM_URL: the fake upstream; BENCH_ADMIN_TOKEN: the admin token. BENCH_LEASES=off: exact per-request reservations (the
 * limiter before leases), for the side-by-side figure.
 */
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalGateway } from '../lambda/adapters/local-gateway';
import { validateConfig } from '../lambda/core/config';
import { countOperations } from './dynamo-ops';
import { UPSTREAM_PROVIDER_KEY, benchGatewayConfig } from './processes';
import { BENCH_MODEL } from './upstream';

async function main(): Promise<void> {
  const upstreamUrl = process.env.BENCH_UPSTREAM_URL;
  if (!upstreamUrl) throw new Error('BENCH_UPSTREAM_URL is required');
  const dataDir = mkdtempSync(join(tmpdir(), 'gw-bench-limited-'));
  const gw = await startLocalGateway({
    port: 0,
    dataDir,
    adminToken: process.env.BENCH_ADMIN_TOKEN ?? 'bench-admin-token',
    // A price for the bench model, so a USD budget draws on every request.
    config: validateConfig({ ...benchGatewayConfig(upstreamUrl), pricing: { [BENCH_MODEL]: { input: 0.15, output: 0.6 } } }),
    env: { BENCH_UPSTREAM_KEY: UPSTREAM_PROVIDER_KEY },
    ...(process.env.BENCH_LEASES === 'off' ? { leases: { horizonMs: 0 } } : {}),
  });
  const counter = countOperations(gw.dynamo, gw.tables.usage);
  const ops = createServer((req, res) => {
    void (async () => {
      if (req.url === '/reset') counter.reset();
      else await Promise.all([gw.gateway.flush(), counter.settled()]);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(counter.snapshot()));
    })();
  });
  await new Promise<void>((resolve) => ops.listen(0, '127.0.0.1', resolve));
  const stop = async () => {
    ops.close();
    await gw.close();
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  console.log(JSON.stringify({ url: gw.url, ops: `http://127.0.0.1:${(ops.address() as AddressInfo).port}` }));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
