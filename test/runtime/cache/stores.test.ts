/**
 * The cache entry store on dynalite (the same code talks to DynamoDB): round trip, expiry checked
 * on read, answers over the item limit moved to the blob store behind a pointer, and the purge by
 * key, team and model.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileCacheBlobStore } from '../../../lambda/adapters/file-cache-blobs';
import type { CacheEntry } from '../../../lambda/core/cache/ports';
import { DynamoCacheStore } from '../../../lambda/stores/dynamo-cache-store';
import { ensureTables } from '../../../lambda/stores/ensure-tables';
import { type LocalDynamo, startDynalite } from '../../helpers/dynalite';

let db: LocalDynamo;
let dir: string;
const NOW = Date.parse('2026-12-01T00:00:00Z');

beforeAll(async () => {
  db = await startDynalite();
  dir = mkdtempSync(join(tmpdir(), 'gw-cache-'));
});
afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

let table = 0;
async function store(inlineMaxBytes?: number) {
  const tableName = `cache-${++table}`;
  await ensureTables(db.client, { keys: `keys-${table}`, counters: `counters-${table}`, cache: tableName });
  const blobs = new FileCacheBlobStore(join(dir, tableName));
  return { store: new DynamoCacheStore({ client: db.client, tableName, blobs, inlineMaxBytes }), blobDir: join(dir, tableName) };
}

function entry(id: string, patch: Partial<CacheEntry> = {}): CacheEntry {
  return {
    id,
    endpoint: '/v1/chat/completions',
    body: {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: 'cached words' }, finish_reason: 'stop' }],
    },
    promptTokens: 12,
    completionTokens: 3,
    costUsd: 0.00042,
    provider: 'openai',
    model: 'gpt-4o-mini',
    requestedModel: 'chat',
    keyId: 'k1',
    team: 'alpha',
    createdAt: NOW,
    expiresAt: NOW / 1000 + 60,
    ...patch,
  };
}

const hexId = (n: number) => n.toString(16).padStart(64, '0');

test('an entry round-trips with its answer, usage, cost and origin', async () => {
  const { store: s } = await store();
  const e = entry(hexId(1), { partition: 'p1' });
  await s.put(e);
  expect(await s.get(hexId(1), NOW)).toEqual(e);
  expect(await s.get(hexId(2), NOW)).toBeUndefined();
});

test('an expired entry is never served, even before DynamoDB TTL removes it', async () => {
  const { store: s } = await store();
  await s.put(entry(hexId(1)));
  expect(await s.get(hexId(1), NOW + 59_999)).toBeDefined();
  expect(await s.get(hexId(1), NOW + 60_000)).toBeUndefined();
});

test('an answer over the item limit goes to the blob store; the item keeps a pointer', async () => {
  const { store: s, blobDir } = await store(200);
  const big = entry(hexId(3), { body: { data: Array.from({ length: 300 }, (_, i) => ({ index: i, embedding: [Math.sin(i), Math.cos(i)] })) } });
  await s.put(big);
  expect(readdirSync(blobDir)).toEqual([`${hexId(3)}.json.gz`]);
  expect(await s.get(hexId(3), NOW)).toEqual(big);
  // Purging removes the blob with the item.
  expect(await s.purge({})).toEqual([hexId(3)]);
  expect(readdirSync(blobDir)).toEqual([]);
});

test('purge by key, team and model removes exactly the matching entries', async () => {
  const { store: s } = await store();
  await s.put(entry(hexId(1), { keyId: 'k1', team: 'alpha', requestedModel: 'chat' }));
  await s.put(entry(hexId(2), { keyId: 'k2', team: 'alpha', requestedModel: 'other' }));
  await s.put(entry(hexId(3), { keyId: 'k3', team: 'beta', requestedModel: 'chat' }));
  await s.put(entry(hexId(4), { keyId: 'k4', team: null, requestedModel: 'chat' }));
  expect(await s.purge({ team: 'alpha', model: 'chat' })).toEqual([hexId(1)]);
  expect(await s.purge({ keyId: 'k4' })).toEqual([hexId(4)]);
  expect((await s.purge({ model: 'other' })).sort()).toEqual([hexId(2)]);
  expect(await s.get(hexId(3), NOW)).toBeDefined();
  expect(await s.purge({})).toEqual([hexId(3)]);
});

test('the blob store refuses references outside its folder', async () => {
  const blobs = new FileCacheBlobStore(join(dir, 'blobs-only'));
  await expect(blobs.get('file:///etc/passwd')).rejects.toThrow(/outside the cache folder/);
  await expect(blobs.put('../x', new Uint8Array([1]))).rejects.toThrow(/hex digests/);
});
