/**
 * The AWS path as Lambda runs it: the built proxy and admin bundles (dist/assets/<name>/index.js,
 * staged as the constructs stage them) executed by the real AWS Lambda runtime interface client
 * (`aws-lambda-ric`, the client the managed Node.js runtimes are built on), each in its own
 * process, against a fake Runtime API on 127.0.0.1 that reads the streamed response the way API
 * Gateway does (metadata prelude, 8 NUL bytes, payload, error trailers). DynamoDB is dynalite;
 * Secrets Manager and Firehose are HTTP fakes for the real SDK clients; the provider is an HTTP
 * fake speaking OpenAI's wire format. Nothing here stands in for `awslambda`: the runtime client
 * provides it, as on AWS.
 *
 * The stand-in tests (lambda-adapter.test.ts, lambda-bundle.test.ts) are faster; this is the
 * proof for the AWS path.
 */
import type { ServerResponse } from 'node:http';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { buildSync } from 'esbuild';
import {
  CONFIG_FILE_NAME,
  ENV_COUNTERS_TABLE,
  ENV_KEYS_TABLE,
  ENV_LOG_BODY_PREFIX,
  ENV_LOG_BUCKET,
  ENV_LOG_LEVEL,
  ENV_LOG_STREAM,
  ENV_METRICS_ID,
} from '../../lambda/contract/env';
import { startAwsFake } from '../helpers/aws-fakes';
import { openAiChunks, openAiCompletion, json, startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { type FakeRuntimeApi, type InvocationResult, MAX_PRELUDE_BYTES, startFakeRuntimeApi } from '../helpers/lambda-runtime-api';
import { RIC_NATIVE_CLIENT, type RicFunction, startUnderRic } from '../helpers/ric-process';

const ROOT = resolve(__dirname, '../..');
const PROXY_BUNDLE = join(ROOT, 'dist/assets/proxy/index.js');
const ADMIN_BUNDLE = join(ROOT, 'dist/assets/admin/index.js');
const PROVIDER_KEY = 'sk-from-secrets-manager-9876543210';
/** The adapter ends a request this long before the invocation's deadline (DEADLINE_RESERVE_MS). */
const DEADLINE_RESERVE_MS = 3_000;

/** A REST proxy event (API Gateway, Lambda proxy integration) for `resource`, from a recorded fixture. */
function restEvent(method: string, resource: string, params: Record<string, string> | null, body?: unknown, key = ''): APIGatewayProxyEvent {
  const base = JSON.parse(readFileSync(join(__dirname, 'fixtures/apigw/chat-completions.json'), 'utf8').replaceAll('{{VIRTUAL_KEY}}', key));
  const path = resource.replace(/\{(\w+)\+?\}/g, (_, n: string) => params![n]);
  const headers = key ? base.headers : Object.fromEntries(Object.entries(base.headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
  const multiValueHeaders = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]]));
  return {
    ...base,
    httpMethod: method,
    resource,
    path,
    pathParameters: params,
    headers,
    multiValueHeaders,
    body: body === undefined ? null : JSON.stringify(body),
    requestContext: { ...base.requestContext, httpMethod: method, resourcePath: resource },
  };
}

const chatEvent = (body: unknown, key: string) => restEvent('POST', '/v1/{proxy+}', { proxy: 'chat/completions' }, body, key);

/** The SSE events of a streamed body, parsed (the [DONE] marker kept as a string). */
function sseData(body: Buffer): unknown[] {
  return body
    .toString('utf8')
    .split('\n\n')
    .filter((e) => e.startsWith('data: '))
    .map((e) => e.slice('data: '.length))
    .map((d) => (d === '[DONE]' ? d : JSON.parse(d)));
}

describe(`the built bundles under the AWS Lambda runtime interface client (next-invocation client: ${RIC_NATIVE_CLIENT ? 'native addon' : 'JavaScript'})`, () => {
  const timeline: string[] = [];
  let upstream: FakeUpstream;
  let gw: TestGateway;
  const aws = startAwsFake({ 'prod/openai': PROVIDER_KEY }, timeline);
  let proxyApi: FakeRuntimeApi;
  let adminApi: FakeRuntimeApi;
  let proxy: RicFunction;
  let admin: RicFunction;
  let stage: string;
  let key: string;
  /** Gateway request ids (x-request-id) of every proxy invocation, for the one-record check. */
  const proxyRequestIds: string[] = [];

  beforeAll(async () => {
    for (const bundle of [PROXY_BUNDLE, ADMIN_BUNDLE]) {
      if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run 'node scripts/build.mjs' (npm test does)`);
    }
    upstream = await startFakeUpstream();
    // Dynalite with the gateway's tables; the functions reach it only through the DynamoDB endpoint.
    gw = await startTestGateway({ providers: { mock: { type: 'mock' } } });
    const awsUrl = await aws.start();
    const dynamoEndpoint = await gw.dynamo.config.endpoint!();
    // The embedded store admits only its gateway's credentials: the functions sign with them.
    const storeKey = (await gw.dynamo.config.credentials()).accessKeyId;
    proxyApi = await startFakeRuntimeApi(timeline);
    adminApi = await startFakeRuntimeApi();

    // Staged as ProxyApi and AdminApi stage them: the bundle, and for the proxy its routing config.
    stage = mkdtempSync(join(ROOT, 'dist', 'ric-e2e-'));
    for (const name of ['proxy', 'admin']) mkdirSync(join(stage, name));
    copyFileSync(PROXY_BUNDLE, join(stage, 'proxy/index.js'));
    copyFileSync(ADMIN_BUNDLE, join(stage, 'admin/index.js'));
    writeFileSync(
      join(stage, 'proxy', CONFIG_FILE_NAME),
      JSON.stringify({
        providers: { openai: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: { secret: 'prod/openai' } } },
        models: { 'gpt-4o': { targets: [{ provider: 'openai', model: 'gpt-4o' }] } },
      }),
    );
    const env = {
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: storeKey,
      AWS_SECRET_ACCESS_KEY: storeKey,
      AWS_SESSION_TOKEN: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: `${dynamoEndpoint.protocol}//${dynamoEndpoint.hostname}:${dynamoEndpoint.port}`,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: awsUrl,
      AWS_ENDPOINT_URL_FIREHOSE: awsUrl,
      [ENV_KEYS_TABLE]: gw.tables.keys,
      [ENV_COUNTERS_TABLE]: gw.tables.counters,
      [ENV_LOG_STREAM]: 'gateway-log-stream',
      [ENV_LOG_BUCKET]: 'gateway-log-bucket',
      [ENV_LOG_BODY_PREFIX]: 'bodies/',
      [ENV_METRICS_ID]: 'ric-test-gateway',
      [ENV_LOG_LEVEL]: 'error',
    };
    proxy = startUnderRic({ taskRoot: join(stage, 'proxy'), runtimeApi: proxyApi.address, env });
    admin = startUnderRic({ taskRoot: join(stage, 'admin'), runtimeApi: adminApi.address, env });
    await Promise.all([proxy.whileRunning(proxyApi.idle()), admin.whileRunning(adminApi.idle())]);

    // The key comes from the admin function, as on AWS (AWS_IAM on the admin resources is API Gateway's job).
    const created = await admin.whileRunning(adminApi.invoke(restEvent('POST', '/admin/keys', null, { name: 'ric', logging: 'full' })).result);
    if (created.prelude?.statusCode !== 201) throw new Error(`admin key creation failed: ${created.body.toString()}`);
    key = JSON.parse(created.body.toString()).key;
  });

  afterAll(async () => {
    await Promise.all([proxy?.stop(), admin?.stop()]);
    await Promise.all([proxyApi?.close(), adminApi?.close(), aws.close(), upstream?.close(), gw?.close()]);
    if (stage) rmSync(stage, { recursive: true, force: true });
  });

  /** Invoke the proxy function and wait for the runtime to be idle again (the invocation fully done). */
  async function invokeProxy(event: APIGatewayProxyEvent, remainingMs?: number, during?: (inv: ReturnType<FakeRuntimeApi['invoke']>) => void) {
    const inv = proxyApi.invoke(event, { remainingMs });
    during?.(inv);
    const result = await proxy.whileRunning(inv.result);
    await proxy.whileRunning(proxyApi.idle());
    const requestId = result.prelude?.headers?.['x-request-id'];
    if (requestId) proxyRequestIds.push(requestId);
    return { inv, result, requestId: requestId! };
  }

  const recordsOf = (requestId: string) => aws.firehoseRecords.filter((r) => r.record.request_id === requestId).map((r) => r.record);

  test('the admin bundle issues a key through the metadata prelude (201) that the proxy bundle then accepts', async () => {
    const shown = await admin.whileRunning(adminApi.invoke(restEvent('GET', '/admin/keys', null)).result);
    expect(shown.prelude?.statusCode).toBe(200);
    expect(JSON.parse(shown.body.toString()).data).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'ric' })]));
    expect(key).toMatch(/^sk-gw-/);
  });

  test('a JSON answer: the prelude as API Gateway parses it (status, headers, no framing headers, under 16 KB) on a streamed response', async () => {
    upstream.handle((_req, res) => json(res, 200, openAiCompletion('from the runtime client')));
    const { result, requestId } = await invokeProxy(chatEvent({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, key));
    expect(result.mode).toBe('streaming');
    expect(result.requestHeaders['content-type']).toBe('application/vnd.awslambda.http-integration-response');
    expect(result.preludeBytes).toBeLessThan(MAX_PRELUDE_BYTES);
    // Only the keys API Gateway reads; cookies, when present, as a list of their own.
    expect(Object.keys(result.prelude!).every((k) => ['statusCode', 'headers', 'multiValueHeaders', 'cookies'].includes(k))).toBe(true);
    expect(result.prelude!.cookies === undefined || Array.isArray(result.prelude!.cookies)).toBe(true);
    expect(result.prelude!.statusCode).toBe(200);
    const headers = result.prelude!.headers!;
    expect(headers['content-type']).toMatch(/^application\/json/);
    expect(headers['x-gateway-provider']).toBe('openai');
    for (const framing of ['content-length', 'transfer-encoding', 'connection', 'keep-alive']) expect(headers).not.toHaveProperty(framing);
    expect(JSON.parse(result.body.toString()).choices[0].message.content).toBe('from the runtime client');
    expect(result.trailers).toEqual({});
    // The provider key came from Secrets Manager and went upstream, never to the response or the record.
    expect(upstream.received.at(-1)!.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    expect(result.body.toString()).not.toContain(PROVIDER_KEY);
    expect(recordsOf(requestId)).toEqual([expect.objectContaining({ status: 200, provider: 'openai', client_ip: '203.0.113.7' })]);
  });

  test('a wrong key: 401 in the OpenAI error shape through the prelude, and recorded', async () => {
    const { result, requestId } = await invokeProxy(
      chatEvent({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }, 'sk-gw-wrong-0000000000000000000000000000'),
    );
    expect(result.prelude!.statusCode).toBe(401);
    expect(JSON.parse(result.body.toString()).error.code).toBe('invalid_api_key');
    expect(recordsOf(requestId)).toEqual([expect.objectContaining({ status: 401 })]);
  });

  test('a streamed answer: each chunk reaches the Runtime API as the upstream produces it, not at the end', async () => {
    const chunks = openAiChunks(['Hel', 'lo'], 'gpt-4o', { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
    let released = false;
    // The upstream sends its first word, then nothing more until that word has reached the
    // Runtime API. A buffering adapter never lets it through: the request then hangs until the
    // invocation deadline ends it (gateway_timeout), and this test fails on its status.
    let gate: Promise<void> = Promise.resolve();
    upstream.handle(async (_req, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify(chunks[0])}\n\ndata: ${JSON.stringify(chunks[1])}\n\n`);
      await gate;
      released = true;
      timeline.push('upstream sent the rest');
      for (const c of chunks.slice(2)) res.write(`data: ${JSON.stringify(c)}\n\n`);
      res.end('data: [DONE]\n\n');
    });
    const { result, requestId } = await invokeProxy(
      chatEvent({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'stream' }] }, key),
      DEADLINE_RESERVE_MS + 10_000,
      (inv) => (gate = inv.bodyContains('"Hel"')),
    );
    // The stream completed: only possible if the first word reached the Runtime API while the
    // upstream still held back the rest (a buffered answer ends in gateway_timeout here instead).
    const events = sseData(result.body);
    expect(events.at(-1)).toBe('[DONE]');
    expect(released).toBe(true);
    expect(result.bodyChunks.length).toBeGreaterThan(1);
    expect(result.bodyChunks[0].toString()).not.toContain('[DONE]');
    expect(result.prelude!.statusCode).toBe(200);
    expect(result.prelude!.headers!['content-type']).toMatch(/^text\/event-stream/);
    expect(
      events
        .filter((e): e is { choices: { delta?: { content?: string } }[] } => typeof e === 'object')
        .map((e) => e.choices[0]?.delta?.content ?? '')
        .join(''),
    ).toBe('Hello');
    expect(result.trailers).toEqual({});
    expect(recordsOf(requestId)).toEqual([expect.objectContaining({ status: 200, stream: true, completion_tokens: 2, response_body: 'Hello' })]);
  });

  test('an upstream cut mid-stream: an in-band error event, no end marker, no error trailers (the function did not fail), recorded', async () => {
    const chunks = openAiChunks(['Hel', 'lo'], 'gpt-4o');
    let gate: Promise<void> = Promise.resolve();
    upstream.handle(async (_req, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify(chunks[0])}\n\ndata: ${JSON.stringify(chunks[1])}\n\n`);
      await gate;
      res.socket!.destroy();
    });
    const { result, requestId } = await invokeProxy(
      chatEvent({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'cut' }] }, key),
      DEADLINE_RESERVE_MS + 20_000,
      (inv) => (gate = inv.bodyContains('"Hel"')),
    );
    expect(result.prelude!.statusCode).toBe(200);
    const events = sseData(result.body);
    expect(events).not.toContain('[DONE]');
    const last = events.at(-1) as { error?: { code?: string } };
    expect(last.error?.code).toMatch(/^upstream_/);
    expect(result.trailers).toEqual({});
    expect(recordsOf(requestId)).toEqual([expect.objectContaining({ stream: true, error_code: last.error!.code, response_body: 'Hel' })]);
  });

  test('the invocation deadline: the request is ended as a gateway timeout and its record flushed before the runtime asks for the next event', async () => {
    const chunks = openAiChunks(['Hel', 'lo'], 'gpt-4o');
    // The upstream answers and then hangs: only the deadline can end this invocation.
    upstream.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify(chunks[0])}\n\ndata: ${JSON.stringify(chunks[1])}\n\n`);
    });
    const { inv, result, requestId } = await invokeProxy(
      chatEvent({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hang' }] }, key),
      DEADLINE_RESERVE_MS + 1_500,
    );
    expect(result.body.toString()).toContain('gateway_timeout');
    expect(result.body.toString()).not.toContain('[DONE]');
    expect(result.trailers).toEqual({});
    expect(recordsOf(requestId)).toEqual([expect.objectContaining({ status: 504, error_code: 'gateway_timeout', stream: true })]);
    const invoked = timeline.indexOf(`invoke ${inv.requestId}`);
    const flushed = timeline.indexOf(`firehose ${requestId}`);
    const nextAfter = timeline.findIndex((e, i) => i > invoked && e === 'next');
    expect(invoked).toBeGreaterThanOrEqual(0);
    expect(flushed).toBeGreaterThan(invoked);
    expect(flushed).toBeLessThan(nextAfter);
  });

  test('on AWS a client that leaves mid-stream changes nothing the function sees: the answer runs to its end and the key is charged what the provider reported', async () => {
    // Lambda keeps reading a streamed response after the client's connection breaks and tells the
    // function nothing, as this Runtime API does: the record cannot say 499, and the limits must
    // count the whole answer the provider bills.
    const made = await admin.whileRunning(
      adminApi.invoke(restEvent('POST', '/admin/keys', null, { name: 'abandoned', limits: { tokensPerDay: 1_000_000 } })).result,
    );
    const { key: abandonedKey, id } = JSON.parse(made.body.toString());
    const usage = { prompt_tokens: 7, completion_tokens: 40, total_tokens: 47 };
    upstream.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const c of openAiChunks(['An answer ', 'nobody reads'], 'gpt-4o', usage)) res.write(`data: ${JSON.stringify(c)}\n\n`);
      res.end('data: [DONE]\n\n');
    });
    const { inv, result, requestId } = await invokeProxy(
      chatEvent({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'then leave' }] }, abandonedKey),
    );
    // The settle (a DynamoDB write, as this key has limits) comes before the record, and the record
    // before the invocation ends: it was at Firehose before the runtime asked for the next event.
    const invoked = timeline.indexOf(`invoke ${inv.requestId}`);
    expect(timeline.indexOf(`firehose ${requestId}`)).toBeGreaterThan(invoked);
    expect(timeline.indexOf(`firehose ${requestId}`)).toBeLessThan(timeline.findIndex((e, i) => i > invoked && e === 'next'));
    expect(sseData(result.body).at(-1)).toBe('[DONE]');
    expect(recordsOf(requestId)).toEqual([expect.objectContaining({ status: 200, error_code: null, total_tokens: 47, cost_usd: (7 * 2.5 + 40 * 10) / 1e6 })]);
    const report = await admin.whileRunning(adminApi.invoke(restEvent('GET', '/admin/keys/{id}/usage', { id })).result);
    const charged = JSON.parse(report.body.toString()).usage;
    expect(charged.tokensPerDay.used).toBe(usage.total_tokens);
    expect(charged.spentUsd.day).toBeCloseTo((7 * 2.5 + 40 * 10) / 1e6, 9);
    expect(charged.inFlight).toBe(0);
  });

  test('a health check (GET /health) answers through the prelude', async () => {
    const { result } = await invokeProxy(restEvent('GET', '/health', null));
    expect(result.prelude!.statusCode).toBe(200);
    expect(JSON.parse(result.body.toString())).toEqual(expect.objectContaining({ status: 'ok' }));
  });

  test('one log record per invocation: every proxy request reached Firehose exactly once and printed one EMF document', async () => {
    expect(proxyRequestIds.length).toBeGreaterThanOrEqual(6);
    const logged = aws.firehoseRecords.map((r) => r.record.request_id);
    for (const id of proxyRequestIds) expect(logged.filter((l) => l === id)).toHaveLength(1);
    expect(logged).toHaveLength(proxyRequestIds.length);
    const emf = proxy.stdout
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((d) => d._aws);
    expect(emf).toHaveLength(proxyRequestIds.length);
    expect(emf.every((d) => d.Gateway === 'ric-test-gateway' && d.Requests === 1)).toBe(true);
    expect(proxy.stderr.join('\n')).not.toContain(PROVIDER_KEY);
    expect(proxy.stdout.join('\n')).not.toContain(key);
  });
});

describe('the streaming adapter under the runtime client: a failure after the first byte', () => {
  let api: FakeRuntimeApi;
  let fn: RicFunction;
  let stage: string;

  beforeAll(async () => {
    stage = mkdtempSync(join(ROOT, 'dist', 'ric-fails-'));
    buildSync({
      entryPoints: [join(__dirname, 'fixtures/ric/fails-mid-stream.ts')],
      outfile: join(stage, 'index.js'),
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      logLevel: 'silent',
    });
    api = await startFakeRuntimeApi();
    fn = startUnderRic({ taskRoot: stage, runtimeApi: api.address, env: {} });
    await fn.whileRunning(api.idle());
  });
  afterAll(async () => {
    await fn?.stop();
    await api?.close();
    if (stage) rmSync(stage, { recursive: true, force: true });
  });

  test('is handed to the runtime after the flush: the stream ends with the error trailers, not as if complete', async () => {
    const result: InvocationResult = await fn.whileRunning(api.invoke(restEvent('GET', '/health', null)).result);
    await fn.whileRunning(api.idle());
    expect(result.prelude!.statusCode).toBe(200);
    expect(result.body.toString()).toBe('data: {"first":"chunk"}\n\n');
    expect(result.trailers['lambda-runtime-function-error-type']).toBe('Error');
    const reported = JSON.parse(Buffer.from(result.trailers['lambda-runtime-function-error-body'], 'base64').toString('utf8'));
    expect(reported).toEqual(expect.objectContaining({ errorType: 'Error', errorMessage: 'the answer failed after its first byte' }));
    expect(fn.stdout).toContain('app flushed');
  });
});
