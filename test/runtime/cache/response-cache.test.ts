/**
 * The cache service on real parts (dynalite entries, the local vector index, the mock provider's
 * lexical embeddings): exact and semantic hits, isolation between scopes (semantically too), tool
 * answers exact only, and every failure a bypass within the lookup timeout: a store that refuses
 * connections, a store that never answers, an embeddings route that fails.
 */
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { LocalVectorIndex } from '../../../lambda/adapters/local-vector-index';
import { type ResolvedCacheConfig, resolveCacheConfig } from '../../../lambda/core/cache/config';
import { type CacheKeyInput, exactCacheKey, scopeId } from '../../../lambda/core/cache/key';
import type { CacheEntry } from '../../../lambda/core/cache/ports';
import { type Embedder, ResponseCache } from '../../../lambda/core/cache/response-cache';
import { silentLogger } from '../../../lambda/core/ports';
import { lexicalEmbedding } from '../../../lambda/providers/mock/embedding';
import { createDynamoClient } from '../../../lambda/stores/dynamo-client';
import { DynamoCacheStore } from '../../../lambda/stores/dynamo-cache-store';
import { ensureTables } from '../../../lambda/stores/ensure-tables';
import { type LocalDynamo, startDynalite } from '../../helpers/dynalite';

const NOW = Date.parse('2026-12-01T00:00:00Z');
const SEMANTIC: ResolvedCacheConfig = resolveCacheConfig({ mode: 'semantic', semantic: { embeddingModel: 'embed' }, lookupTimeoutMs: 300 });

let db: LocalDynamo;
let silent: Server;
/** The silent store's open connections, ended when the file is done. */
const silentSockets = new Set<import('node:net').Socket>();
let silentPort: number;
beforeAll(async () => {
  db = await startDynalite();
  await ensureTables(db.client, { keys: 'keys', counters: 'counters', cache: 'cache' });
  // A store that accepts connections and never answers.
  silent = createServer((socket) => {
    silentSockets.add(socket);
    socket.on('close', () => silentSockets.delete(socket));
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  silentPort = (silent.address() as AddressInfo).port;
});
afterAll(async () => {
  await db.close();
  // The hung lookup's connection is still open (the store never answered): end it, or it outlives the file.
  for (const socket of silentSockets) socket.destroy();
  await new Promise<void>((r) => silent.close(() => r()));
});

const embeddings: string[] = [];
const lexical: Embedder = async (_model, text) => (embeddings.push(text), lexicalEmbedding(text));

function cache(opts: { store?: DynamoCacheStore; embed?: Embedder } = {}) {
  return new ResponseCache({
    store: opts.store ?? new DynamoCacheStore({ client: db.client, tableName: 'cache' }),
    vectors: new LocalVectorIndex(),
    embed: opts.embed ?? lexical,
    now: () => NOW,
    logger: silentLogger,
  });
}

function request(text: string, owner: { id: string; team?: string }, config = SEMANTIC) {
  const key: CacheKeyInput = {
    endpoint: '/v1/chat/completions',
    routeFingerprint: 'r',
    scope: scopeId(config.scope, owner),
    body: { model: 'chat', messages: [{ role: 'user', content: text }] },
  };
  return { id: exactCacheKey(key), key, config, mayFollow: true };
}

function entryFor(id: string, answer: string, owner: { id: string; team?: string }): CacheEntry {
  return {
    id,
    endpoint: '/v1/chat/completions',
    body: { object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' }] },
    promptTokens: 5,
    completionTokens: 2,
    costUsd: 0.001,
    provider: 'mock',
    model: 'm',
    requestedModel: 'chat',
    keyId: owner.id,
    team: owner.team ?? null,
    createdAt: NOW,
    expiresAt: NOW / 1000 + 3600,
  };
}

async function remember(c: ResponseCache, text: string, answer: string, owner: { id: string; team?: string }, callsTools = false) {
  const req = request(text, owner);
  const first = await c.lookup(req);
  expect(first.status).toBe('miss');
  c.store(entryFor(req.id, answer, owner), first.status === 'miss' ? first.semantic : undefined, callsTools, 'embed');
  await c.flush();
}

const alice = { id: 'k-alice', team: 'alpha' };
const andy = { id: 'k-andy', team: 'alpha' };
const bob = { id: 'k-bob', team: 'beta' };
const solo = { id: 'k-solo' };

test('an exact hit, then a paraphrase is a semantic hit with its similarity; one embedding per lookup', async () => {
  const c = cache();
  await remember(c, 'Summarize this contract', 'A summary.', alice);
  const exact = await c.lookup(request('Summarize this contract', alice));
  expect(exact).toMatchObject({ status: 'hit', entry: { body: { choices: [{ message: { content: 'A summary.' } }] } } });
  embeddings.length = 0;
  const para = await c.lookup(request('Give me a summary of this contract', alice));
  expect(para.status).toBe('semantic-hit');
  expect(para.status === 'semantic-hit' && para.similarity).toBeGreaterThanOrEqual(0.95);
  expect(embeddings).toEqual(['Give me a summary of this contract']);
  expect((await c.lookup(request('Translate this invoice', alice))).status).toBe('miss');
});

test('scopes are isolated, exactly and semantically: team shares, another team or a teamless key never sees it', async () => {
  const c = cache();
  await remember(c, 'What is our refund policy?', 'Alpha secret policy.', alice);
  expect((await c.lookup(request('What is our refund policy?', andy))).status).toBe('hit');
  for (const other of [bob, solo]) {
    expect((await c.lookup(request('What is our refund policy?', other))).status).toBe('miss');
    expect((await c.lookup(request('Tell me our refund policy', other))).status).toBe('miss');
  }
  // Key scope: not even a teammate.
  const keyScoped = resolveCacheConfig({ mode: 'semantic', scope: 'key', semantic: { embeddingModel: 'embed' } });
  const r = request('Key scoped question', alice, keyScoped);
  const miss = await c.lookup(r);
  c.store(entryFor(r.id, 'mine', alice), miss.status === 'miss' ? miss.semantic : undefined, false, 'embed');
  await c.flush();
  expect((await c.lookup(request('Key scoped question', alice, keyScoped))).status).toBe('hit');
  expect((await c.lookup(request('Key scoped question', andy, keyScoped))).status).toBe('miss');
});

test('a tool-call answer is served exactly but never to a paraphrase', async () => {
  const c = cache();
  await remember(c, 'Weather in Paris tomorrow', 'call lookup()', alice, true);
  expect((await c.lookup(request('Weather in Paris tomorrow', alice))).status).toBe('hit');
  expect((await c.lookup(request('Tell me the weather in Paris tomorrow', alice))).status).toBe('miss');
});

test('a store that refuses connections is a bypass, not an error', async () => {
  const client = createDynamoClient({ endpoint: 'http://127.0.0.1:1', maxAttempts: 1 });
  const down = new DynamoCacheStore({ client, tableName: 'cache' });
  const res = await cache({ store: down }).lookup(request('anything', alice));
  client.destroy();
  expect(res).toMatchObject({ status: 'bypass', error: 'store_unavailable' });
});

test('a store that never answers is a bypass after the lookup timeout', async () => {
  const client = createDynamoClient({ endpoint: `http://127.0.0.1:${silentPort}`, maxAttempts: 1 });
  const hung = new DynamoCacheStore({ client, tableName: 'cache' });
  const res = await cache({ store: hung }).lookup(request('anything', alice));
  client.destroy();
  expect(res).toMatchObject({ status: 'bypass', error: 'timeout' });
});

test('a failing embeddings route is a bypass; the exact part still works', async () => {
  const failing: Embedder = async () => {
    throw new Error('embeddings route answered 503');
  };
  const c = cache({ embed: failing });
  expect(await c.lookup(request('Fresh question', alice))).toMatchObject({ status: 'bypass', error: 'embedding_failed' });
  const req = request('Stored exactly', alice);
  c.store(entryFor(req.id, 'x', alice), undefined, false, undefined);
  await c.flush();
  expect((await c.lookup(req)).status).toBe('hit');
});

test('purge removes entries and their vectors, by key', async () => {
  const c = cache();
  await remember(c, 'Purge me please now', 'bye', { id: 'k-purge', team: 'gamma' });
  expect(await c.purge({ keyId: 'k-purge' })).toBe(1);
  expect((await c.lookup(request('Purge me please now', { id: 'k-purge', team: 'gamma' }))).status).toBe('miss');
});

test('single flight: while one request leads, an identical JSON miss follows it and gets its entry', async () => {
  const c = cache();
  const req = request('Burst question', alice);
  const lead = await c.lookup(req);
  expect(lead.status === 'miss' && lead.flight).toBeFalsy();
  const settle = c.flights.lead(req.id);
  const follower = await c.lookup(req);
  expect(follower.status).toBe('miss');
  const flight = follower.status === 'miss' ? follower.flight : undefined;
  expect(flight).toBeDefined();
  expect((await c.lookup({ ...req, mayFollow: false })).status === 'miss').toBe(true);
  const entry = entryFor(req.id, 'shared', alice);
  settle(entry);
  await expect(flight!.result).resolves.toBe(entry);
  expect(c.flights.size).toBe(0);
});
