/**
 * The key verifier's cache, against the real key store on dynalite (wrapped only to count reads):
 * what is read when, what is never cached, how the cache is bounded, and that a store outage
 * fails closed.
 */
import { generateKey, hashKey, type HashLookup, KeyVerifier, keyHint, type KeyRecord, type KeyStore, newKeyId } from '../../lambda/core/keys';
import { DynamoKeyStore } from '../../lambda/stores/dynamo-key-store';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { expectOpenAiError } from '../helpers/openai-error';

const CONFIG = { providers: { mock: { type: 'mock' as const } }, models: { 'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] } } };

/** The real store, counting lookups. */
class CountingStore implements KeyStore {
  lookups = 0;
  /** The newest lookup, so a test can wait for a background re-read to land. */
  lastLookup: Promise<unknown> = Promise.resolve();
  constructor(private readonly inner: KeyStore) {}
  create(record: KeyRecord, keyHash: string) {
    return this.inner.create(record, keyHash);
  }
  lookup(keyHash: string): Promise<HashLookup | undefined> {
    this.lookups++;
    const result = this.inner.lookup(keyHash);
    this.lastLookup = result;
    return result;
  }
  get(id: string) {
    return this.inner.get(id);
  }
  list() {
    return this.inner.list();
  }
  update(id: string, patch: Partial<KeyRecord>) {
    return this.inner.update(id, patch);
  }
  rotate(...args: Parameters<KeyStore['rotate']>) {
    return this.inner.rotate(...args);
  }
  lookupByOidcClient(clientId: string) {
    return this.inner.lookupByOidcClient(clientId);
  }
}

/** Wait until a background re-read has started, finished, and been written into the cache. */
async function settled(store: CountingStore): Promise<void> {
  await new Promise((r) => setImmediate(r));
  await store.lastLookup.catch(() => undefined);
  await new Promise((r) => setImmediate(r));
}

describe('KeyVerifier', () => {
  let gw: TestGateway;
  let store: CountingStore;
  let now = 1_000_000;
  const clock = () => now;

  async function newKey(extra: Partial<KeyRecord> = {}): Promise<{ key: string; record: KeyRecord }> {
    const key = generateKey();
    const record: KeyRecord = { id: newKeyId(), name: 'v', createdAt: new Date().toISOString(), logging: 'metadata', hint: keyHint(key), ...extra };
    await store.create(record, hashKey(key));
    return { key, record };
  }

  beforeAll(async () => {
    gw = await startTestGateway(CONFIG);
    store = new CountingStore(new DynamoKeyStore(gw.dynamo, gw.tables.keys));
  });
  afterAll(() => gw.close());
  beforeEach(() => {
    store.lookups = 0;
  });

  test('a verified key is served from memory, re-read in the background from 80% of the TTL, and never served past it', async () => {
    const v = new KeyVerifier(store, { cacheTtlMs: 1000, now: clock });
    const { key, record } = await newKey();
    for (let i = 0; i < 5; i++) expect((await v.verify(key)).id).toBe(record.id);
    expect(store.lookups).toBe(1);
    now += 799;
    await v.verify(key);
    expect(store.lookups).toBe(1);
    // From 80% of the TTL: answered from memory at once, one re-read starts behind it.
    now += 1;
    await Promise.all([v.verify(key), v.verify(key), v.verify(key)]);
    await settled(store);
    expect(store.lookups).toBe(2);
    // Revoked in the store by another instance: the background re-read picks it up.
    await store.update(record.id, { revokedAt: new Date().toISOString() });
    now += 800;
    await v.verify(key); // served (still young), starts the re-read that sees the revocation
    await settled(store);
    await expect(v.verify(key)).rejects.toMatchObject({ status: 403, code: 'key_revoked' });
  });

  test('an entry past the TTL is never served: the request waits for the store', async () => {
    const v = new KeyVerifier(store, { cacheTtlMs: 1000, now: clock });
    const { key, record } = await newKey();
    await v.verify(key);
    await store.update(record.id, { revokedAt: new Date().toISOString() });
    now += 1000;
    await expect(v.verify(key)).rejects.toMatchObject({ status: 403, code: 'key_revoked' });
    expect(store.lookups).toBe(2);
  });

  test('concurrent requests for a key that is not cached share one store read', async () => {
    const v = new KeyVerifier(store, { cacheTtlMs: 1000, now: clock });
    const { key, record } = await newKey();
    const results = await Promise.all(Array.from({ length: 16 }, () => v.verify(key)));
    expect(results.every((r) => r.id === record.id)).toBe(true);
    expect(store.lookups).toBe(1);
  });

  test('an unknown key reads the store every time (no negative cache)', async () => {
    const v = new KeyVerifier(store, { cacheTtlMs: 60_000, now: clock });
    const key = generateKey();
    for (let i = 0; i < 3; i++) await expect(v.verify(key)).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
    expect(store.lookups).toBe(3);
  });

  test('malformed keys are refused without reading the store', async () => {
    const v = new KeyVerifier(store, { cacheTtlMs: 1000, now: clock });
    await expect(v.verify(undefined)).rejects.toMatchObject({ status: 401, code: 'missing_api_key' });
    await expect(v.verify('sk-proj-abc')).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
    await expect(v.verify('sk-gw-' + 'x'.repeat(500))).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
    expect(store.lookups).toBe(0);
  });

  test('the cache is bounded: past maxEntries the oldest entry is dropped', async () => {
    const v = new KeyVerifier(store, { cacheTtlMs: 60_000, now: clock, maxEntries: 2 });
    const [a, b, c] = await Promise.all([newKey(), newKey(), newKey()]);
    await v.verify(a.key);
    await v.verify(b.key);
    await v.verify(c.key); // evicts a
    expect(store.lookups).toBe(3);
    await v.verify(c.key);
    await v.verify(b.key);
    expect(store.lookups).toBe(3);
    await v.verify(a.key);
    expect(store.lookups).toBe(4);
  });

  test('invalidate drops every cached hash of a key (current and rotated-out in grace)', async () => {
    const v = new KeyVerifier(store, { cacheTtlMs: 60_000, now: clock });
    const { key: oldKey, record } = await newKey();
    await v.verify(oldKey);
    const next = generateKey();
    await store.rotate(record.id, hashKey(next), undefined, new Date(Date.now() + 60_000).toISOString(), keyHint(next));
    await v.verify(next);
    expect(store.lookups).toBe(2);
    v.invalidate(record.id);
    await v.verify(oldKey);
    await v.verify(next);
    expect(store.lookups).toBe(4);
  });

  test('a cached expiry is checked on every use', async () => {
    const v = new KeyVerifier(store, { cacheTtlMs: 60_000, now: clock });
    const { key } = await newKey({ expiresAt: new Date(now + 500).toISOString() });
    await v.verify(key);
    now += 499;
    await v.verify(key);
    now += 1;
    await expect(v.verify(key)).rejects.toMatchObject({ status: 403, code: 'key_expired' });
    expect(store.lookups).toBe(1);
  });

  test('a store that cannot be read fails closed: 503 key_store_unavailable with Retry-After, nothing leaked', async () => {
    const broken = new (class extends CountingStore {
      override lookup(): Promise<HashLookup | undefined> {
        return Promise.reject(new Error('connect ECONNREFUSED 10.0.0.1:443 table gateway-keys arn:aws:dynamodb:secret'));
      }
    })(store);
    const failing = await startTestGateway(CONFIG, { overrides: { keyStore: broken } });
    try {
      const res = await failing.post('/v1/chat/completions', { model: 'mock-model', messages: [{ role: 'user', content: 'x' }] }, generateKey());
      expect(res.headers.get('retry-after')).toBe('1');
      const err = await expectOpenAiError(res, 503, 'key_store_unavailable');
      expect(err.message).not.toMatch(/ECONNREFUSED|arn:|gateway-keys/);
    } finally {
      await failing.close();
    }
  });
});
