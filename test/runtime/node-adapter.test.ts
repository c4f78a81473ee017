/**
 * The Node http adapter with the core behind it (in process, so the log records can be read):
 * a client that goes away part-way through its request body is recorded as a cancelled request
 * (499), not as a gateway failure, and the gateway logs no error for it.
 */
import { connect } from 'node:net';
import type { KeyStore } from '../../lambda/core/keys';
import type { RequestLogRecord } from '../../lambda/core/log-record';
import { DynamoKeyStore } from '../../lambda/stores/dynamo-key-store';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

describe('node adapter: clients that leave early', () => {
  let gw: TestGateway;
  const records: RequestLogRecord[] = [];
  const errorsLogged: string[] = [];
  let recorded: (() => void) | undefined;
  let authenticated: (() => void) | undefined;
  // The real store, telling the test when the gateway has looked a key up (the request is in the core).
  let store!: KeyStore;
  const hookedStore: KeyStore = {
    create: (r, h) => store.create(r, h),
    lookup: async (h) => {
      const found = await store.lookup(h);
      authenticated?.();
      return found;
    },
    get: (id) => store.get(id),
    list: () => store.list(),
    update: (id, p) => store.update(id, p),
    rotate: (...a) => store.rotate(...a),
    lookupByOidcClient: (c) => store.lookupByOidcClient(c),
  };

  beforeAll(async () => {
    gw = await startTestGateway(
      { providers: { mock: { type: 'mock' } }, models: { 'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] } } },
      {
        overrides: {
          keyStore: hookedStore,
          logSink: {
            write: (r) => {
              records.push(r);
              recorded?.();
            },
          },
        },
        logger: { debug() {}, info() {}, warn() {}, error: (m, d) => void errorsLogged.push(`${m} ${JSON.stringify(d)}`) },
      },
    );
    store = new DynamoKeyStore(gw.dynamo, gw.tables.keys);
  });
  afterAll(() => gw.close());

  test('leaving part-way through a large (streamed) body: one record with 499 client_cancelled, no error logged', async () => {
    const { key } = await gw.createKey();
    const written = new Promise<void>((r) => (recorded = r));
    const inCore = new Promise<void>((r) => (authenticated = r));
    const socket = connect(gw.port, '127.0.0.1');
    socket.on('error', () => undefined);
    // Over the adapter's small-body threshold, so the core reads it as a stream.
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Length: 5000000\r\n\r\n{"model":"mock-model","messages":[`,
    );
    socket.write('x'.repeat(100_000));
    await inCore;
    socket.destroy();
    await written;
    expect(records.map((r) => [r.status, r.error_code, r.endpoint])).toEqual([[499, 'client_cancelled', '/v1/chat/completions']]);
    expect(errorsLogged).toEqual([]);
    expect((await fetch(gw.url + '/health')).status).toBe(200);
  });
});
