/**
 * The local gateway in the bench's own process, on an in-memory store and a fresh data dir, for
 * the benches that count its store operations or time its core (they need its DynamoDB client and
 * internals, not a process of its own). `close()` also removes the data dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalGateway, type LocalGatewayOptions, startLocalGateway } from '../lambda/adapters/local-gateway';
import { validateConfig } from '../lambda/core/config';

export const IN_PROCESS_ADMIN_TOKEN = 'bench-admin';

export async function startInProcessGateway(config: unknown, options: Pick<LocalGatewayOptions, 'env' | 'overrides'> = {}): Promise<LocalGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gw-bench-'));
  const gw = await startLocalGateway({
    port: 0,
    inMemory: true,
    dataDir,
    adminToken: IN_PROCESS_ADMIN_TOKEN,
    config: validateConfig(config),
    env: options.env ?? {},
    ...(options.overrides ? { overrides: options.overrides } : {}),
  });
  return {
    ...gw,
    async close() {
      await gw.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
