/**
 * The built proxy bundle (dist/assets/proxy/index.js), staged the way the ProxyApi construct
 * stages it (index.js + gateway.config.json) and run the way Lambda runs it: required with the
 * environment the construct sets, its handler invoked with an API Gateway REST proxy event
 * through a stand-in `awslambda` global. The AWS services are local: DynamoDB is dynalite;
 * Secrets Manager and Firehose are HTTP fakes speaking their JSON protocols on 127.0.0.1
 * (reached through the SDK's standard AWS_ENDPOINT_URL_<SERVICE> variables).
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import {
  CONFIG_FILE_NAME,
  ENV_COUNTERS_TABLE,
  ENV_KEYS_TABLE,
  ENV_LOG_BODY_PREFIX,
  ENV_LOG_BUCKET,
  ENV_LOG_STREAM,
  ENV_METRICS_ID,
} from '../../lambda/contract/env';
import { startAwsFake } from '../helpers/aws-fakes';
import { json, openAiCompletion, startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

const ROOT = resolve(__dirname, '../..');
const BUNDLE = join(ROOT, 'dist/assets/proxy/index.js');
const PROVIDER_KEY = 'sk-from-secrets-manager-0123456789';

/** The Lambda runtime's response stream, as in lambda-adapter.test.ts: prelude on first write. */
class ResponseSink extends Writable {
  readonly chunks: Buffer[] = [];
  _onBeforeFirstWrite?: (write: (chunk: Uint8Array | string) => void) => void;
  private first = true;
  setContentType() {}
  override write(chunk: any, ...rest: any[]): boolean {
    if (this.first) {
      this.first = false;
      this._onBeforeFirstWrite?.((c) => super.write(c));
    }
    return super.write(chunk, ...rest);
  }
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void) {
    this.chunks.push(Buffer.from(chunk));
    cb();
  }
  parsed() {
    const raw = Buffer.concat(this.chunks);
    const at = raw.indexOf(Buffer.alloc(8));
    const meta = JSON.parse(raw.subarray(0, at).toString());
    return { status: meta.statusCode as number, headers: meta.headers as Record<string, string>, body: raw.subarray(at + 8).toString() };
  }
}

describe('the built proxy bundle, run as Lambda runs it', () => {
  let gw: TestGateway;
  let upstream: FakeUpstream;
  const aws = startAwsFake({ 'prod/openai': PROVIDER_KEY });
  let stage: string;
  let handler: (event: APIGatewayProxyEvent, stream: Writable) => Promise<void>;
  let key: string;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run 'node scripts/build.mjs' (npm test does)`);
    upstream = await startFakeUpstream((_req, res) => json(res, 200, openAiCompletion('from the bundle')));
    gw = await startTestGateway({ providers: { mock: { type: 'mock' } } });
    ({ key } = await gw.createKey({ name: 'bundle', logging: 'full' }));
    const awsUrl = await aws.start();
    const dynamoEndpoint = await gw.dynamo.config.endpoint!();
    // The embedded store admits only its gateway's credentials: the functions sign with them.
    const storeKey = (await gw.dynamo.config.credentials()).accessKeyId;

    // Staged like ProxyApi stages it: the bundle plus the routing config beside it.
    stage = mkdtempSync(join(ROOT, 'dist', 'lambda-e2e-'));
    copyFileSync(BUNDLE, join(stage, 'index.js'));
    writeFileSync(
      join(stage, CONFIG_FILE_NAME),
      JSON.stringify({
        providers: { openai: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: { secret: 'prod/openai' } } },
        models: { 'gpt-4o': { targets: [{ provider: 'openai', model: 'gpt-4o-2024-08-06' }] } },
      }),
    );
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: storeKey,
      AWS_SECRET_ACCESS_KEY: storeKey,
      AWS_ENDPOINT_URL_DYNAMODB: `${dynamoEndpoint.protocol}//${dynamoEndpoint.hostname}:${dynamoEndpoint.port}`,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: awsUrl,
      AWS_ENDPOINT_URL_FIREHOSE: awsUrl,
      [ENV_KEYS_TABLE]: gw.tables.keys,
      [ENV_COUNTERS_TABLE]: gw.tables.counters,
      [ENV_LOG_STREAM]: 'gateway-log-stream',
      [ENV_LOG_BUCKET]: 'gateway-log-bucket',
      [ENV_LOG_BODY_PREFIX]: 'bodies/',
      [ENV_METRICS_ID]: 'bundle-test-gateway',
      GATEWAY_LOG_LEVEL: 'error',
    });
    (globalThis as any).awslambda = {
      streamifyResponse: (h: unknown) => h,
      HttpResponseStream: {
        from(s: ResponseSink, prelude: object) {
          s._onBeforeFirstWrite = (write) => {
            write(JSON.stringify(prelude));
            write(new Uint8Array(8));
          };
          return s;
        },
      },
    };
    handler = require(join(stage, 'index.js')).handler;
  });

  afterAll(async () => {
    process.env = savedEnv;
    delete (globalThis as any).awslambda;
    rmSync(stage, { recursive: true, force: true });
    await gw.close();
    await upstream.close();
    await aws.close();
  });

  function event(body: unknown, virtualKey: string): APIGatewayProxyEvent {
    const base = JSON.parse(readFileSync(join(__dirname, 'fixtures/apigw/chat-completions.json'), 'utf8').replaceAll('{{VIRTUAL_KEY}}', virtualKey));
    return { ...base, body: JSON.stringify(body) };
  }

  test('a chat request: key from DynamoDB, provider key from Secrets Manager, the log record to Firehose after the response', async () => {
    const sink = new ResponseSink();
    const stdout: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout.push(String(chunk));
      return true;
    });
    try {
      await handler(event({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, key), sink);
    } finally {
      spy.mockRestore();
    }
    // One CloudWatch EMF document for the request, on the function's stdout.
    const emf = stdout.map((l) => JSON.parse(l)).filter((d) => d._aws);
    expect(emf).toEqual([expect.objectContaining({ Gateway: 'bundle-test-gateway', Model: 'openai/gpt-4o-2024-08-06', Requests: 1 })]);
    const res = sink.parsed();
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).choices[0].message.content).toBe('from the bundle');

    expect(aws.secretReads).toEqual(['prod/openai']);
    const got = upstream.received.at(-1)!;
    expect(got.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    expect(got.rawBody).not.toContain(key);

    // The handler returned only after flushing: the record is already at Firehose.
    const delivered = aws.firehoseRecords.filter((r) => r.record.request_id === res.headers['x-request-id']);
    expect(delivered).toHaveLength(1);
    expect(delivered[0].stream).toBe('gateway-log-stream');
    expect(delivered[0].record).toEqual(
      expect.objectContaining({ endpoint: '/v1/chat/completions', status: 200, provider: 'openai', model: 'gpt-4o-2024-08-06', client_ip: '203.0.113.7' }),
    );
    expect(JSON.stringify(delivered[0].record)).not.toContain(key);
    expect(JSON.stringify(delivered[0].record)).not.toContain(PROVIDER_KEY);
  });

  test('the provider key is cached across invocations of the same container', async () => {
    const before = aws.secretReads.length;
    const sink = new ResponseSink();
    await handler(event({ model: 'gpt-4o', messages: [{ role: 'user', content: 'again' }] }, key), sink);
    expect(sink.parsed().status).toBe(200);
    expect(aws.secretReads.length).toBe(before);
  });

  test('providers are called over pooled connections: consecutive invocations share one, and one the provider closed while the environment was frozen costs no failed request', async () => {
    const answeredOn: Array<number | undefined> = [];
    const served = new WeakSet<object>();
    let closeReused = false;
    upstream.handle((_r, res: ServerResponse) => {
      const socket = res.socket!;
      // The provider's idle timer closed this connection during the freeze: the request written to
      // it after the thaw meets a closed socket and gets no answer.
      if (closeReused && served.has(socket)) return void socket.destroy();
      served.add(socket);
      answeredOn.push(socket.remotePort);
      json(res, 200, openAiCompletion('pooled'));
    });
    const invoke = async () => {
      const sink = new ResponseSink();
      await handler(event({ model: 'gpt-4o', messages: [{ role: 'user', content: 'pool' }] }, key), sink);
      return sink.parsed();
    };
    for (let i = 0; i < 2; i++) expect((await invoke()).status).toBe(200);
    expect(answeredOn).toHaveLength(2);
    expect(answeredOn[1]).toBe(answeredOn[0]);
    closeReused = true;
    const res = await invoke();
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).choices[0].message.content).toBe('pooled');
    expect(answeredOn).toHaveLength(3);
    expect(answeredOn[2]).not.toBe(answeredOn[0]);
    upstream.handle((_req, r) => json(r, 200, openAiCompletion('from the bundle')));
  });

  test('a wrong key is refused before any provider or secret is touched, and still logged', async () => {
    const calls = upstream.received.length;
    const reads = aws.secretReads.length;
    const sink = new ResponseSink();
    await handler(event({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }, 'sk-gw-wrong-000000000000000000000000000000'), sink);
    const res = sink.parsed();
    expect(res.status).toBe(401);
    expect(upstream.received.length).toBe(calls);
    expect(aws.secretReads.length).toBe(reads);
    expect(aws.firehoseRecords.some((r) => r.record.request_id === res.headers['x-request-id'] && r.record.status === 401)).toBe(true);
  });
});
