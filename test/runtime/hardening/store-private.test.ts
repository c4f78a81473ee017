/**
 * The embedded store is the gateway's alone (issue 12 item 7): its loopback port answers only
 * requests signed with the random access key id the gateway made at start-up. Another local
 * process (even one speaking DynamoDB with the SDK) and a web page (a CORS preflight, a simple
 * cross-origin POST) get a 403 and no CORS headers; the gateway itself works as before.
 */
import { DynamoDBClient, ListTablesCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { startTestGateway, type TestGateway } from '../../helpers/gateway';

describe('the embedded store is private to its gateway', () => {
  let gw: TestGateway;
  let storeUrl: string;

  beforeAll(async () => {
    gw = await startTestGateway({ providers: { mock: { type: 'mock' } }, models: { m: { targets: [{ provider: 'mock', model: 'm' }] } } });
    const endpoint = await gw.dynamo.config.endpoint!();
    storeUrl = `${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}`;
  });
  afterAll(() => gw.close());

  test('the gateway still reads and writes its store: a key is created and used', async () => {
    const { key } = await gw.createKey({ name: 'private-store' });
    const res = await gw.post('/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'hi' }] }, key);
    expect(res.status).toBe(200);
  });

  test('another process speaking DynamoDB with other credentials is refused', async () => {
    const intruder = new DynamoDBClient({
      endpoint: storeUrl,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    try {
      await expect(intruder.send(new ListTablesCommand({}))).rejects.toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } });
      await expect(intruder.send(new ScanCommand({ TableName: 'gateway-keys' }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    } finally {
      intruder.destroy();
    }
  });

  test('a web page gets no CORS answer: the preflight and a simple cross-origin POST are 403 without Access-Control headers', async () => {
    const preflight = await fetch(storeUrl, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-amz-target,content-type' },
    });
    expect(preflight.status).toBe(403);
    expect([...preflight.headers.keys()].filter((h) => h.startsWith('access-control-'))).toEqual([]);
    const simple = await fetch(storeUrl, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'text/plain', 'x-amz-target': 'DynamoDB_20120810.ListTables' },
      body: '{}',
    });
    expect(simple.status).toBe(403);
    expect(simple.headers.get('access-control-allow-origin')).toBeNull();
    expect(await simple.text()).not.toContain('gateway-keys');
  });

  test("the gateway's own answers from the store carry no CORS headers either", async () => {
    // A request the store admits (the gateway's client) still gets no Access-Control headers back.
    let seen: Record<string, string> = {};
    gw.dynamo.middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        seen = (out.response as { headers: Record<string, string> }).headers;
        return out;
      },
      { step: 'deserialize', name: 'captureStoreHeaders' },
    );
    await gw.dynamo.send(new ListTablesCommand({}));
    expect(Object.keys(seen).filter((h) => h.toLowerCase().startsWith('access-control-'))).toEqual([]);
  });
});
