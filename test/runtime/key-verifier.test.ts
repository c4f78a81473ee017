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
  constructor(private readonly inner: KeyStore) {}
  create(record: KeyRecord, keyHash: string) { return this.inner.create(record, keyHash); }
  lookup(keyHash: string): Promise<HashLookup | undefined> {
    this.lookups++;
    return this.inner.lookup(keyHash);
  }
  get(id: string) { return this.inner.get(id); }
  list() { return this.inner.list(); }
  update(id: string, patch: Partial<KeyRecord>) { return this.inner.update(id, patch); }
  rotate(...args: Parameters<KeyStore['rotate']>) { return this.inner.rotate(...args); }
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

  test('a verified key is served from memory until the TTL is up, then read again', async () => {
    const v = new KeyVerifier(store, { cacheTtlMs: 1000, now: clock });
    const { key, record } = await newKey();
    for (let i = 0; i < 5; i++) expect((await v.verify(key)).id).toBe(record.id);
    expect(store.lookups).toBe(1);
    now += 999;
    await v.verify(key);
    expect(store.lookups).toBe(1);
    now += 1;
    await v.verify(key);
    expect(store.lookups).toBe(2);
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
