/**
 * When the counter store fails: budgets (and unknown team limits) fail closed with 503 and no
 * upstream call; request-rate limits follow rateLimitFailMode. And an SDK retry of a counter write
 * that had already applied does not count twice.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoClient } from '../../../lambda/stores/dynamo-client';
import { createDynamoLimiter, type DynamoLimiter } from '../../../lambda/stores/dynamo-limiter';
import type { KeyRecord } from '../../../lambda/core/keys';
import type { Logger } from '../../../lambda/core/ports';
import { chat, startLimitsHarness, usage, type LimitsHarness } from './harness';

/** A client for a store that is down: nothing listens on port 1, so every call is refused at once. */
const deadStore = () => createDynamoClient({ endpoint: 'http://127.0.0.1:1', region: 'us-east-1', maxAttempts: 1 });

function captureLogger() {
  const lines: { level: string; message: string; data?: Record<string, unknown> }[] = [];
  const log = (level: string) => (message: string, data?: Record<string, unknown>) => void lines.push({ level, message, data });
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  return { lines, logger };
}

describe.each(['closed', 'open'] as const)('counter store unreachable, rateLimitFailMode=%s', (failMode) => {
  let h: LimitsHarness;
  let limiter: DynamoLimiter;
  const log = captureLogger();
  beforeAll(async () => {
    h = await startLimitsHarness(
      {},
      {
        limiter: (_client, table) =>
          (limiter = createDynamoLimiter({ client: deadStore(), tableName: table, failMode, logger: log.logger, metricsGatewayId: 'gw-prod' })),
      },
    );
  });
  afterAll(() => h.close());

  test('a key with a budget is refused with 503 + Retry-After and the upstream is not called', async () => {
    const { key } = await h.gw.createKey({ limits: { rpm: 10, budgetUsd: { amount: 5, period: 'month' } } });
    const before = h.upstream.received.length;
    const res = await chat(h.gw, key);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect((await res.json()).error.code).toBe('limits_unavailable');
    expect(h.upstream.received.length).toBe(before);
  });

  test('a key in a team whose limits cannot be read is refused (the team may have a budget)', async () => {
    const { key } = await h.gw.createKey({ team: 'unknown-team' });
    const before = h.upstream.received.length;
    expect((await chat(h.gw, key)).status).toBe(503);
    expect(h.upstream.received.length).toBe(before);
  });

  test(`a key with only rate limits is ${failMode === 'open' ? 'admitted and counted as a fail-open' : 'refused with 503'}`, async () => {
    const { key } = await h.gw.createKey({ limits: { rpm: 10, tpm: 10_000 } });
    const before = h.upstream.received.length;
    const failOpenBefore = limiter.stats().failOpen;
    const res = await chat(h.gw, key);
    if (failMode === 'open') {
      expect(res.status).toBe(200);
      expect(h.upstream.received.length).toBe(before + 1);
      expect(limiter.stats().failOpen).toBe(failOpenBefore + 1);
      const warning = log.lines.find((l) => l.level === 'warn' && l.data?.metric === 'RateLimitFailOpen');
      // Embedded Metric Format: CloudWatch counts it from the log line.
      // Embedded Metric Format, with this gateway's dimension (two gateways in one account alarm apart).
      expect(warning?.data).toMatchObject({
        RateLimitFailOpen: 1,
        Gateway: 'gw-prod',
        _aws: { CloudWatchMetrics: [{ Namespace: 'AiGateway/Limits', Dimensions: [['Gateway']], Metrics: [{ Name: 'RateLimitFailOpen', Unit: 'Count' }] }] },
      });
    } else {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(h.upstream.received.length).toBe(before);
      const error = log.lines.find((l) => l.level === 'error' && l.data?.metric === 'LimitsUnavailable');
      expect(error?.data).toMatchObject({ LimitsUnavailable: 1, Gateway: 'gw-prod', _aws: { CloudWatchMetrics: [{ Dimensions: [['Gateway']] }] } });
    }
  });
});

test('a throttled counter store (after the SDK gave up) fails closed too', async () => {
  let throttles = 0;
  const throttled = (client: DynamoDBClient) => {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'UpdateItemCommand') return next(args);
        throttles++;
        throw Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
          name: 'ThrottlingException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        });
      },
      { step: 'deserialize', name: 'alwaysThrottle' },
    );
    return client;
  };
  const h = await startLimitsHarness({}, { limiter: (_client, table) => createDynamoLimiter({ client: throttled(deadStore()), tableName: table }) });
  try {
    const { key } = await h.gw.createKey({ limits: { rpm: 10 } });
    const res = await chat(h.gw, key);
    expect(throttles).toBe(1);
    expect(res.status).toBe(503);
    expect((await res.json()).error.code).toBe('limits_unavailable');
  } finally {
    await h.close();
  }
});

describe('SDK retries of a counter write that had applied', () => {
  let h: LimitsHarness;
  beforeAll(async () => (h = await startLimitsHarness()));
  afterAll(() => h.close());

  test('neither the reservation nor the settlement counts twice', async () => {
    const endpoint = await h.gw.dynamo.config.endpoint!();
    const localSecret = (await h.gw.dynamo.config.credentials()).accessKeyId;
    const client = createDynamoClient({
      endpoint: `${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}`,
      region: 'us-east-1',
      maxAttempts: 3,
      localSecret,
    });
    let dropNextResponse = false;
    let updateSends = 0;
    // The write reaches the store and applies; its answer is lost on the way back, so the SDK retries.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'UpdateItemCommand') {
          updateSends++;
          if (dropNextResponse) {
            dropNextResponse = false;
            throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET', $metadata: {} });
          }
        }
        return out;
      },
      { step: 'deserialize', name: 'loseOneResponse' },
    );
    const limiter = createDynamoLimiter({ client, tableName: h.gw.tables.counters, now: h.clock.now });
    const { id, record } = await h.gw.createKey({ limits: { rpm: 10, tpm: 10_000 } });
    const key = record as KeyRecord;

    dropNextResponse = true;
    const reservation = await limiter.reserve(key, { tokens: 500, costUsd: 0 }, 'req_retry_1');
    expect(updateSends).toBe(2);
    let u = await usage(h.gw, id);
    expect(u.rpm.used).toBe(1);
    expect(u.tpm.used).toBe(500);
    expect(u.inFlight).toBe(1);

    dropNextResponse = true;
    await limiter.settle(reservation, { tokens: 120, costUsd: 0 });
    expect(updateSends).toBe(4);
    u = await usage(h.gw, id);
    expect(u.tpm.used).toBe(120);
    expect(u.inFlight).toBe(0);

    // Settling the same reservation again (a caller bug) changes nothing either.
    await limiter.release(reservation);
    expect((await usage(h.gw, id)).tpm.used).toBe(120);
    client.destroy();
  });
});
