/**
 * Virtual keys end to end through the local gateway (Node http + dynalite in memory): where the key
 * may come from, every rejection and its status, revocation within the cache TTL, expiry, rotation,
 * and that the plaintext key is stored nowhere and echoed nowhere.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { GatewayConfig } from '../../lambda/core/config';
import { generateKey, hashKey, keyHint, newKeyId, type KeyRecord } from '../../lambda/core/keys';
import type { Logger } from '../../lambda/core/ports';
import { DynamoKeyStore } from '../../lambda/stores/dynamo-key-store';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { expectOpenAiError } from '../helpers/openai-error';

const CONFIG: GatewayConfig = {
  providers: { mock: { type: 'mock' } },
  models: {
    'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] },
    'mock-large': { targets: [{ provider: 'mock', model: 'mock-large' }] },
    'gpt-4o': { targets: [{ provider: 'mock', model: 'gpt-4o' }] },
    'gpt-4': { targets: [{ provider: 'mock', model: 'gpt-4' }] },
  },
};

const chat = (model = 'mock-model') => ({ model, messages: [{ role: 'user', content: 'hi' }] });

/** The four places a client may put its key; every one must get identical checks. */
const KEY_HEADERS: Array<[string, (key: string) => Record<string, string>]> = [
  ['Authorization: Bearer', (k) => ({ authorization: `Bearer ${k}` })],
  ['x-api-key', (k) => ({ 'x-api-key': k })],
  ['api-key', (k) => ({ 'api-key': k })],
  ['x-goog-api-key', (k) => ({ 'x-goog-api-key': k })],
];

/** Everything the gateway wrote to its logger, so tests can prove keys never reach it. */
function capturingLogger(lines: string[]): Logger {
  const at = (level: string) => (message: string, data?: Record<string, unknown>) => void lines.push(JSON.stringify({ level, message, ...data }));
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('virtual keys', () => {
  let gw: TestGateway;
  let store: DynamoKeyStore;
  const loggerLines: string[] = [];
  /** Offset added to the gateway's clock, so expiry and grace periods are tested without waiting. */
  let clockOffsetMs = 0;
  /** A stopped clock, for checks at an exact instant (a running one may pass it while a loaded machine serves the request). */
  let frozenAt: number | undefined;
  // Long enough that "still cached right after the revoke" holds on a loaded CI machine.
  const TTL_MS = 1000;

  const send = (headers: Record<string, string>, body: unknown = chat()) =>
    fetch(gw.url + '/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  beforeAll(async () => {
    gw = await startTestGateway(
      { ...CONFIG, settings: { keyCacheTtlMs: TTL_MS } },
      { logger: capturingLogger(loggerLines), overrides: { now: () => frozenAt ?? Date.now() + clockOffsetMs } },
    );
    // A second writer on the same table: changes made here bypass this process's verifier, like
    // a revoke served by another Lambda instance.
    store = new DynamoKeyStore(gw.dynamo, gw.tables.keys);
  });
  afterAll(async () => {
    await gw.close();
  });
  afterEach(() => {
    clockOffsetMs = 0;
    frozenAt = undefined;
  });

  describe.each(KEY_HEADERS)('key in %s', (_name, header) => {
    test('a valid key is accepted', async () => {
      const { key } = await gw.createKey();
      const res = await send(header(key));
      expect(res.status).toBe(200);
      expect((await res.json()).choices[0].message.content).toContain('hi');
    });

    test('a wrong key is 401 invalid_api_key', async () => {
      await expectOpenAiError(await send(header(generateKey())), 401, 'invalid_api_key');
    });

    test('a key without the sk-gw- prefix is 401 invalid_api_key', async () => {
      await expectOpenAiError(await send(header('sk-proj-not-a-gateway-key')), 401, 'invalid_api_key');
    });

    test('a revoked key is 403 key_revoked', async () => {
      const { key, id } = await gw.createKey();
      expect((await send(header(key))).status).toBe(200);
      expect((await gw.admin('POST', `/admin/keys/${id}/revoke`)).status).toBe(200);
      await expectOpenAiError(await send(header(key)), 403, 'key_revoked');
    });

    test('a model outside the key globs is 403 model_not_allowed', async () => {
      const { key } = await gw.createKey({ models: ['mock-*'] });
      expect((await send(header(key), chat('mock-large'))).status).toBe(200);
      const err = await expectOpenAiError(await send(header(key), chat('gpt-4o')), 403, 'model_not_allowed');
      expect(err.param).toBe('model');
    });
  });

  test('no key at all is 401 missing_api_key, with a request id', async () => {
    const res = await send({});
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    await expectOpenAiError(res, 401, 'missing_api_key');
  });

  test('an Authorization header that is not Bearer counts as no key', async () => {
    await expectOpenAiError(await send({ authorization: 'Basic dXNlcjpwYXNz' }), 401, 'missing_api_key');
    await expectOpenAiError(await send({ authorization: 'Bearer ' }), 401, 'missing_api_key');
  });

  test('an absurdly long key is rejected without a store lookup error', async () => {
    await expectOpenAiError(await send({ authorization: `Bearer sk-gw-${'a'.repeat(5000)}` }), 401, 'invalid_api_key');
  });

  test('the key is checked before the body: a bad key with malformed JSON is 401, not 400', async () => {
    const res = await fetch(gw.url + '/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${generateKey()}` }, body: '{nope' });
    await expectOpenAiError(res, 401, 'invalid_api_key');
  });

  test('every /v1 route requires a key', async () => {
    await expectOpenAiError(await fetch(gw.url + '/v1/models'), 401, 'missing_api_key');
    await expectOpenAiError(await fetch(gw.url + '/v1/embeddings', { method: 'POST', body: '{}' }), 401, 'missing_api_key');
  });

  describe('model authorization', () => {
    test('globs: * spans any run of characters (including /), ? exactly one', async () => {
      const { key } = await gw.createKey({ models: ['gpt-4?', 'mock/*'] });
      const h = { authorization: `Bearer ${key}` };
      expect((await send(h, chat('gpt-4o'))).status).toBe(200);
      expect((await send(h, chat('mock/anything-at-all'))).status).toBe(200);
      await expectOpenAiError(await send(h, chat('mock-model')), 403, 'model_not_allowed');
      await expectOpenAiError(await send(h, chat('gpt-4')), 403, 'model_not_allowed');
    });

    test('glob metacharacters of regular expressions are literal', async () => {
      const { key } = await gw.createKey({ models: ['mock.model'] });
      await expectOpenAiError(await send({ authorization: `Bearer ${key}` }, chat('mock-model')), 403, 'model_not_allowed');
    });

    test('an unknown model is 404 model_not_found, also via provider/model with an unknown provider', async () => {
      const { key } = await gw.createKey();
      const h = { authorization: `Bearer ${key}` };
      let err = await expectOpenAiError(await send(h, chat('no-such-model')), 404, 'model_not_found');
      expect(err.param).toBe('model');
      err = await expectOpenAiError(await send(h, chat('nowhere/gpt-4o')), 404, 'model_not_found');
    });

    test('provider/model addresses a configured provider directly', async () => {
      const { key } = await gw.createKey();
      const res = await send({ authorization: `Bearer ${key}` }, chat('mock/some-model'));
      expect(res.status).toBe(200);
      expect(res.headers.get('x-gateway-provider')).toBe('mock');
      expect(res.headers.get('x-gateway-model')).toBe('some-model');
    });

    test('embeddings are authorized the same way', async () => {
      const { key } = await gw.createKey({ models: ['mock-*'] });
      const res = await fetch(gw.url + '/v1/embeddings', {
        method: 'POST',
        headers: { 'x-api-key': key, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o', input: 'x' }),
      });
      await expectOpenAiError(res, 403, 'model_not_allowed');
    });

    test('/v1/models lists only the models the key may call', async () => {
      const { key } = await gw.createKey({ models: ['mock-*'] });
      const res = await fetch(gw.url + '/v1/models', { headers: { 'api-key': key } });
      expect(res.status).toBe(200);
      const ids = (await res.json()).data.map((m: { id: string }) => m.id).sort();
      expect(ids).toEqual(['mock-large', 'mock-model']);
    });
  });

  describe('request errors', () => {
    let key: string;
    beforeAll(async () => {
      ({ key } = await gw.createKey());
    });

    test('malformed JSON is 400 invalid_json', async () => {
      const res = await fetch(gw.url + '/v1/chat/completions', {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: '{"model": "mock-model", "messages": [',
      });
      await expectOpenAiError(res, 400, 'invalid_json');
    });

    test('a JSON array or an empty body is 400', async () => {
      const post = (body: string) => fetch(gw.url + '/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${key}` }, body });
      await expectOpenAiError(await post('[1,2]'), 400, 'invalid_json');
      await expectOpenAiError(await post(''), 400);
    });

    test('a bad field is 400 naming the field', async () => {
      const err = await expectOpenAiError(
        await send({ authorization: `Bearer ${key}` }, { model: 'mock-model', messages: [{ role: 'wizard', content: 'x' }] }),
        400,
      );
      expect(err.param).toBe('messages[0].role');
    });

    test('a body over 10 MB is 413 (declared length)', async () => {
      const big = Buffer.alloc(10 * 1024 * 1024 + 1, 0x20);
      const res = await fetch(gw.url + '/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: big });
      const err = await expectOpenAiError(res, 413, 'request_too_large');
      expect(err.message).toBe('Request body exceeds the 10 MB limit.');
    });

    test('a chunked body over 10 MB is 413 (counted while reading)', async () => {
      const piece = new Uint8Array(1024 * 1024).fill(0x20);
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (sent++ < 11) c.enqueue(piece);
          else c.close();
        },
      });
      const res = await fetch(gw.url + '/v1/chat/completions', {
        method: 'POST',
        headers: { authorization: `Bearer ${key}` },
        body,
        // @ts-expect-error Node's fetch needs duplex for a streamed body
        duplex: 'half',
      });
      expect(res.headers.get('transfer-encoding') ?? '').not.toContain('gzip');
      await expectOpenAiError(res, 413, 'request_too_large');
    });

    test('a body just under 10 MB is accepted', async () => {
      const filler = 'a'.repeat(10 * 1024 * 1024 - 200);
      const res = await send({ authorization: `Bearer ${key}` }, { model: 'mock-model', messages: [{ role: 'user', content: filler }] });
      expect(res.status).toBe(200);
    });
  });

  describe('revocation', () => {
    test('a revoke through this process takes effect on the very next request', async () => {
      const { key, id } = await gw.createKey();
      const h = { authorization: `Bearer ${key}` };
      expect((await send(h)).status).toBe(200); // now cached
      await gw.admin('POST', `/admin/keys/${id}/revoke`);
      await expectOpenAiError(await send(h), 403, 'key_revoked');
    });

    test(`a revoke made elsewhere stops the key once keyCacheTtlMs (${TTL_MS} ms here) has passed`, async () => {
      const { key, id } = await gw.createKey();
      const h = { authorization: `Bearer ${key}` };
      expect((await send(h)).status).toBe(200); // cached in this process
      await store.update(id, { revokedAt: new Date().toISOString() }); // bypasses this process's cache
      // Still served from the cache right after: this is the documented window, not a bug.
      expect((await send(h)).status).toBe(200);
      // The gateway's clock moves past the TTL since the entry was loaded: the next request reads
      // the store again and sees the revoke, whatever the real time it took to get here.
      clockOffsetMs = TTL_MS;
      await expectOpenAiError(await send(h), 403, 'key_revoked');
    });
  });

  describe('expiry', () => {
    test('an expired key is 403 key_expired, checked on every use even while cached', async () => {
      const expiresAt = Date.parse(new Date(Date.now() + 60_000).toISOString());
      const { key } = await gw.createKey({ expiresAt: new Date(expiresAt).toISOString() });
      const h = { authorization: `Bearer ${key}` };
      expect((await send(h)).status).toBe(200);
      frozenAt = expiresAt - 100; // 100 ms before expiry: loaded again and cached
      expect((await send(h)).status).toBe(200);
      frozenAt = expiresAt + 1; // just past expiry, well within the cache TTL of that load
      await expectOpenAiError(await send(h), 403, 'key_expired');
    });
  });

  describe('rotation', () => {
    test('without a grace period the old key is 401 at once and the new key works at once', async () => {
      const { key: oldKey, id } = await gw.createKey();
      expect((await send({ authorization: `Bearer ${oldKey}` })).status).toBe(200);
      const rot = await gw.admin('POST', `/admin/keys/${id}/rotate`, {});
      expect(rot.status).toBe(200);
      expect(rot.body.id).toBe(id);
      expect(rot.body.key).toMatch(/^sk-gw-[A-Za-z0-9_-]{43,}$/);
      expect(rot.body.previousKeyValidUntil).toBeUndefined();
      await expectOpenAiError(await send({ authorization: `Bearer ${oldKey}` }), 401, 'invalid_api_key');
      expect((await send({ authorization: `Bearer ${rot.body.key}` })).status).toBe(200);
    });

    test('with a grace period the old key works until it ends, then 401; the new key works throughout', async () => {
      const { key: oldKey, id } = await gw.createKey();
      const rot = await gw.admin('POST', `/admin/keys/${id}/rotate`, { gracePeriodSeconds: 3600 });
      expect(rot.status).toBe(200);
      const validUntil = Date.parse(rot.body.previousKeyValidUntil);
      expect(validUntil).toBeGreaterThan(Date.now() + 3590_000);
      const oldH = { 'x-api-key': oldKey };
      const newH = { 'x-api-key': rot.body.key };
      expect((await send(oldH)).status).toBe(200);
      expect((await send(newH)).status).toBe(200);
      clockOffsetMs = validUntil - Date.now() - 1000;
      expect((await send(oldH)).status).toBe(200);
      clockOffsetMs = validUntil - Date.now() + 1;
      await expectOpenAiError(await send(oldH), 401, 'invalid_api_key');
      expect((await send(newH)).status).toBe(200);
    });

    test('a rotated-out key in grace is still revoked with its key', async () => {
      const { key: oldKey, id } = await gw.createKey();
      const rot = await gw.admin('POST', `/admin/keys/${id}/rotate`, { gracePeriodSeconds: 600 });
      await gw.admin('POST', `/admin/keys/${id}/revoke`);
      await expectOpenAiError(await send({ authorization: `Bearer ${oldKey}` }), 403, 'key_revoked');
      await expectOpenAiError(await send({ authorization: `Bearer ${rot.body.key}` }), 403, 'key_revoked');
    });

    test('a rotation made elsewhere without grace stops the old key within the TTL', async () => {
      const { key: oldKey, id } = await gw.createKey();
      const h = { authorization: `Bearer ${oldKey}` };
      expect((await send(h)).status).toBe(200);
      const next = generateKey();
      await store.rotate(id, hashKey(next), undefined, undefined, keyHint(next));
      expect((await send({ authorization: `Bearer ${next}` })).status).toBe(200);
      clockOffsetMs = TTL_MS; // the old entry's cache time is up
      await expectOpenAiError(await send(h), 401, 'invalid_api_key');
    });
  });

  describe('caching', () => {
    test('a negative result is never cached: a key works at once after failed attempts with it', async () => {
      const key = generateKey();
      const h = { authorization: `Bearer ${key}` };
      await expectOpenAiError(await send(h), 401, 'invalid_api_key');
      await expectOpenAiError(await send(h), 401, 'invalid_api_key');
      const record: KeyRecord = { id: newKeyId(), name: 'late', createdAt: new Date().toISOString(), logging: 'metadata', hint: keyHint(key) };
      await store.create(record, hashKey(key));
      expect((await send(h)).status).toBe(200);
    });
  });

  describe('secrecy', () => {
    test('keys are stored only as SHA-256 hashes: a scan of the table finds no plaintext', async () => {
      const created = await Promise.all([gw.createKey({ name: 'scan-a' }), gw.createKey({ name: 'scan-b' })]);
      const rotated = await gw.admin('POST', `/admin/keys/${created[0].id}/rotate`, { gracePeriodSeconds: 60 });
      const plaintexts = [...created.map((c) => c.key), rotated.body.key as string];
      const items = (await gw.dynamo.send(new ScanCommand({ TableName: gw.tables.keys }))).Items!.map((i) => unmarshall(i));
      const dump = JSON.stringify(items);
      for (const k of plaintexts) {
        expect(dump).not.toContain(k);
        expect(dump).not.toContain(k.slice('sk-gw-'.length, 'sk-gw-'.length + 20)); // no fragment either
        expect(items.some((i) => i.pk === `hash#${hashKey(k)}`)).toBe(true);
      }
      // hashKey really is SHA-256 hex
      expect(hashKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    });

    test('the presented key is never echoed in a response, a log record or a log line', async () => {
      const { key: good, id } = await gw.createKey({ models: ['mock-model'] });
      const wrong = generateKey();
      const odd = 'sk-gw-' + 'Z'.repeat(60);
      const bodies: string[] = [];
      const record = async (res: Response) => {
        bodies.push(res.status + JSON.stringify([...res.headers]) + (await res.text()));
      };
      for (const [, header] of KEY_HEADERS) {
        await record(await send(header(wrong)));
        await record(await send(header(odd)));
        await record(await send(header(good), chat('gpt-4o'))); // 403
        await record(await send(header(good), { model: 'mock-model', messages: 'nope' })); // 400
        await record(await send(header(good))); // 200
      }
      await gw.admin('POST', `/admin/keys/${id}/revoke`);
      await record(await send({ authorization: `Bearer ${good}` }));
      await gw.gateway.flush();
      const logDir = join(gw.dataDir, 'logs');
      const logFiles = readdirSync(logDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.jsonl'));
      expect(logFiles.length).toBeGreaterThan(0);
      const logs = logFiles.map((f) => readFileSync(join(logDir, f), 'utf8')).join('\n');
      expect(logs).toContain(id); // the records are there, carrying the key id...
      for (const k of [good, wrong, odd]) {
        for (const text of [...bodies, logs, ...loggerLines]) expect(text).not.toContain(k.slice(6)); // ...never the key
      }
    });
  });
});
