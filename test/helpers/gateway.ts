/**
 * Starts the real local gateway (Node http + dynalite in-process, in memory) for a test file,
 * with helpers to issue keys through the admin API.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatewayConfig } from '../../lambda/core/config';
import { type LocalGateway, type LocalGatewayOptions, startLocalGateway } from '../../lambda/adapters/local-gateway';

export const ADMIN_TOKEN = 'test-admin-token';

export interface TestGateway extends LocalGateway {
  /** Call the admin API; returns status and parsed JSON. */
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Create a key; returns the plaintext key and its id. */
  createKey(body?: Record<string, unknown>): Promise<{ key: string; id: string; record: any }>;
  /** POST JSON to the gateway with a virtual key. */
  post(path: string, body: unknown, key?: string, headers?: Record<string, string>): Promise<Response>;
}

export async function startTestGateway(config: GatewayConfig, options: Partial<LocalGatewayOptions> = {}): Promise<TestGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gw-test-'));
  const gw = await startLocalGateway({ port: 0, dataDir, inMemory: true, adminToken: ADMIN_TOKEN, config, env: {}, ...options });
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(gw.url + path, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  return {
    ...gw,
    admin,
    async createKey(body = {}) {
      const res = await admin('POST', '/admin/keys', { name: 'test', ...body });
      if (res.status !== 201) throw new Error(`key create failed: ${JSON.stringify(res.body)}`);
      return { key: res.body.key, id: res.body.id, record: res.body };
    },
    post(path, body, key, headers = {}) {
      return fetch(gw.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    },
    async close() {
      await gw.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
