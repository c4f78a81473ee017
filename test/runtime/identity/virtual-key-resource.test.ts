/**
 * The VirtualKey custom resource handler against dynalite (the gateway's real keys table) and a
 * Secrets Manager stand-in over HTTP driven by the real SDK client, reporting to a local
 * ResponseURL the way CloudFormation receives it: create, repeated create, interrupted create,
 * update, replacement, delete, and that the key is never in a response or a log line.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse } from 'aws-lambda';
import { secretsManagerKeySecret } from '../../../lambda/adapters/secrets-manager-key-secret';
import { createVirtualKeyResourceHandler, runCustomResource } from '../../../lambda/adapters/virtual-key-resource';
import { DynamoKeyStore } from '../../../lambda/stores/dynamo-key-store';
import { hashKey } from '../../../lambda/core/keys';
import { startTestGateway, type TestGateway } from '../../helpers/gateway';

/** Secrets Manager as far as the handler uses it (awsJson1_1): GetSecretValue, PutSecretValue. */
function startSecretsFake() {
  const values = new Map<string, string>();
  const calls: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target']);
      const input = JSON.parse(body || '{}');
      calls.push(`${target.split('.')[1]} ${input.SecretId}`);
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (target === 'secretsmanager.GetSecretValue') {
        const v = values.get(input.SecretId);
        if (v === undefined) return void res.writeHead(400).end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'no value' }));
        return void res.end(JSON.stringify({ ARN: input.SecretId, Name: 'vk', SecretString: v, VersionId: 'v1' }));
      }
      if (target === 'secretsmanager.PutSecretValue') {
        values.set(input.SecretId, input.SecretString);
        return void res.end(JSON.stringify({ ARN: input.SecretId, Name: 'vk', VersionId: `v${values.size}` }));
      }
      res.writeHead(400).end(JSON.stringify({ __type: 'UnknownOperationException', message: target }));
    });
  });
  return new Promise<{ url: string; values: Map<string, string>; calls: string[]; close: () => Promise<void> }>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        values,
        calls,
        close: () => new Promise<void>((r) => server.close(() => r())),
      }),
    ),
  );
}

/** CloudFormation's side: a pre-signed URL that receives the handler's PUT. */
function startResponseSink() {
  const received: CloudFormationCustomResourceResponse[] = [];
  const raw: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      raw.push(body);
      received.push(JSON.parse(body));
      res.writeHead(200).end();
    });
  });
  return new Promise<{ url: string; received: typeof received; raw: string[]; close: () => Promise<void> }>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/cfn-response?X-Amz-Signature=abc`,
        received,
        raw,
        close: () => new Promise<void>((r) => server.close(() => r())),
      }),
    ),
  );
}

const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app/gateway-key-AbCdEf';
const STACK = 'arn:aws:cloudformation:us-east-1:123456789012:stack/AppStack/0b1c2d3e';

let gw: TestGateway;
let secrets: Awaited<ReturnType<typeof startSecretsFake>>;
let sink: Awaited<ReturnType<typeof startResponseSink>>;
let logLines: string[];
let resource: ReturnType<typeof createVirtualKeyResourceHandler>;
let n = 0;

beforeAll(async () => {
  gw = await startTestGateway({ providers: { mock: { type: 'mock' } }, models: { 'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] } } });
  secrets = await startSecretsFake();
  sink = await startResponseSink();
});
afterAll(async () => {
  await gw.close();
  await secrets.close();
  await sink.close();
});
beforeEach(() => {
  logLines = [];
  const log = (level: string) => (message: string, data?: Record<string, unknown>) => void logLines.push(`${level} ${message} ${JSON.stringify(data ?? {})}`);
  resource = createVirtualKeyResourceHandler({
    keyStore: (table) => new DynamoKeyStore(gw.dynamo, table),
    secret: secretsManagerKeySecret({ region: 'us-east-1', endpoint: secrets.url, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
  });
});

function props(spec: Record<string, unknown>, secretArn = SECRET) {
  return { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:issuer', KeysTable: gw.tables.keys, SecretArn: secretArn, Spec: JSON.stringify(spec) };
}

function event(type: 'Create' | 'Update' | 'Delete', spec: Record<string, unknown>, extra: Record<string, unknown> = {}): CloudFormationCustomResourceEvent {
  return {
    RequestType: type,
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:issuer',
    ResponseURL: sink.url,
    StackId: STACK,
    RequestId: `req-${++n}`,
    LogicalResourceId: 'AppKey1A2B3C4D',
    ResourceType: 'Custom::AiGatewayVirtualKey',
    ResourceProperties: props(spec),
    ...extra,
  } as CloudFormationCustomResourceEvent;
}

const run = (e: CloudFormationCustomResourceEvent) => runCustomResource(e, resource, fetch);
const store = () => new DynamoKeyStore(gw.dynamo, gw.tables.keys);
const chat = (key: string) => gw.post('/v1/chat/completions', { model: 'mock-model', messages: [{ role: 'user', content: 'hi' }] }, key);

function expectNoKeyLeaked(key: string) {
  expect(sink.raw.join('\n')).not.toContain(key);
  expect(logLines.join('\n')).not.toContain(key);
  expect(sink.raw.join('\n')).not.toContain(hashKey(key));
}

describe('VirtualKey custom resource', () => {
  beforeEach(() => secrets.values.clear());

  test('Create issues a key into the secret, records it, reports only its id, and the key works', async () => {
    const res = await run(event('Create', { name: 'checkout-service', team: 'payments', models: ['mock-*'], limits: { rpm: 60, perUser: { rpm: 5 } } }));
    expect(res).toMatchObject({ Status: 'SUCCESS', LogicalResourceId: 'AppKey1A2B3C4D', Data: { KeyId: res.PhysicalResourceId } });
    expect(sink.received.at(-1)).toEqual(res);
    const key = secrets.values.get(SECRET)!;
    expect(key).toMatch(/^sk-gw-/);
    const record = await store().get(res.PhysicalResourceId);
    expect(record).toMatchObject({ name: 'checkout-service', team: 'payments', models: ['mock-*'], limits: { rpm: 60, perUser: { rpm: 5 } } });
    expect(record!.metadata).toEqual({ createdBy: 'cloudformation', stack: 'AppStack', resource: 'AppKey1A2B3C4D' });
    expect((await chat(key)).status).toBe(200);
    expectNoKeyLeaked(key);
  });

  test('a repeated Create (CloudFormation retry) adopts the key it already issued', async () => {
    const e = event('Create', { name: 'retried' });
    const first = await run(e);
    const key = secrets.values.get(SECRET)!;
    const before = (await store().list()).length;
    const again = await run(e);
    expect(again.PhysicalResourceId).toBe(first.PhysicalResourceId);
    expect(secrets.values.get(SECRET)).toBe(key);
    expect((await store().list()).length).toBe(before);
    expect((await chat(key)).status).toBe(200);
  });

  test('a Create interrupted after the secret write issues a fresh key in its place', async () => {
    secrets.values.set(SECRET, 'sk-gw-written-but-never-recorded-0123456789abcdef');
    const res = await run(event('Create', { name: 'interrupted' }));
    const key = secrets.values.get(SECRET)!;
    expect(key).not.toBe('sk-gw-written-but-never-recorded-0123456789abcdef');
    expect((await store().lookup(hashKey(key)))?.record.id).toBe(res.PhysicalResourceId);
  });

  test('Update changes the record in place (removed props are removed) and keeps the key', async () => {
    const created = await run(event('Create', { name: 'svc', team: 'a', limits: { rpm: 10 } }));
    const key = secrets.values.get(SECRET)!;
    const update = event(
      'Update',
      { name: 'svc-renamed', models: ['mock-model'], logging: 'redacted' },
      { PhysicalResourceId: created.PhysicalResourceId, OldResourceProperties: props({ name: 'svc', team: 'a', limits: { rpm: 10 } }) },
    );
    const res = await run(update);
    expect(res).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: created.PhysicalResourceId });
    const record = await store().get(created.PhysicalResourceId);
    expect(record).toMatchObject({ name: 'svc-renamed', models: ['mock-model'], logging: 'redacted' });
    expect(record!.team).toBeUndefined();
    expect(record!.limits).toBeUndefined();
    expect(secrets.values.get(SECRET)).toBe(key);
    // The repeat of an Update is the same Update.
    expect((await run(update)).Status).toBe('SUCCESS');
  });

  test('an Update that moves the key to another secret issues a new key (CloudFormation then deletes the old)', async () => {
    const created = await run(event('Create', { name: 'moving' }));
    const other = `${SECRET}-2`;
    const res = await run({
      ...event('Update', { name: 'moving' }, { PhysicalResourceId: created.PhysicalResourceId, OldResourceProperties: props({ name: 'moving' }) }),
      ResourceProperties: props({ name: 'moving' }, other),
    } as CloudFormationCustomResourceEvent);
    expect(res.PhysicalResourceId).not.toBe(created.PhysicalResourceId);
    expect(secrets.values.get(other)).toMatch(/^sk-gw-/);
  });

  test('Delete revokes the key (and is safe to repeat, or to receive after a failed Create)', async () => {
    const created = await run(event('Create', { name: 'doomed', oidcClientId: 'doomed-app' }));
    const key = secrets.values.get(SECRET)!;
    const del = event('Delete', { name: 'doomed', oidcClientId: 'doomed-app' }, { PhysicalResourceId: created.PhysicalResourceId });
    expect((await run(del)).Status).toBe('SUCCESS');
    expect((await store().get(created.PhysicalResourceId))?.revokedAt).toEqual(expect.any(String));
    expect((await chat(key)).status).toBe(403);
    expect(await store().lookupByOidcClient('doomed-app')).toBeUndefined();
    expect((await run(del)).Status).toBe('SUCCESS');
    expect((await run(event('Delete', { name: 'x' }, { PhysicalResourceId: 'failed-req-0' }))).Status).toBe('SUCCESS');
  });

  test('an invalid spec fails the resource with a reason naming the field, and writes no secret', async () => {
    secrets.calls.length = 0;
    const res = await run(event('Create', { name: 'bad', limits: { rpm: -1 } }));
    expect(res.Status).toBe('FAILED');
    expect(res.Reason).toMatch(/limits\.rpm/);
    expect(secrets.values.has(SECRET)).toBe(false);
    expect(secrets.calls.some((c) => c.startsWith('PutSecretValue'))).toBe(false);
  });
});
