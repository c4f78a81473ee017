/**
 * Fault injection: the real local gateway (Node http + dynalite) against fake upstreams on
 * 127.0.0.1 that fail in every way a provider does. Each case asserts who served (header and
 * log record attempts) or the documented error within the timeout, that the gateway stays
 * healthy, and that every limit reservation was settled or released exactly once.
 */
import type { ServerResponse } from 'node:http';
import type { SecretRef } from '../../../lambda/core/config';
import type { SecretSource } from '../../../lambda/core/ports';
import { realSleep } from '../../../lambda/core/router';
import { type FakeUpstream, json, startFakeUpstream } from '../../helpers/fake-upstream';
import { type TestGateway, startTestGateway } from '../../helpers/gateway';
import { CapturingLogSink, CountingLimiter, attemptsOf, closed, documentedErrors, healthy, postCommitFaults, preCommitFaults, readSseData } from './harness';

const FIRST_BYTE_MS = 200;
// The whole-answer limit bounds the target that serves after a fallback too: roomy, so a loaded machine
// that stalls the backup's quick answer does not turn it into a timeout. The faults hit the first-byte limit.
const TOTAL_MS = 3000;
const IDLE_MS = 200;

class CountingSecrets implements SecretSource {
  readonly refreshed: string[] = [];
  constructor(private readonly values: Record<string, string>) {}
  async get(ref: SecretRef): Promise<string> {
    const name = 'env' in ref ? ref.env : ref.secret;
    return this.values[name];
  }
  refresh(ref: SecretRef): void {
    this.refreshed.push('env' in ref ? ref.env : ref.secret);
  }
}

describe('routing under injected faults', () => {
  let primary: FakeUpstream;
  let backup: FakeUpstream;
  let gw: TestGateway;
  let key: string;
  let limiter: CountingLimiter;
  let logs: CapturingLogSink;
  let secrets: CountingSecrets;
  let clockOffset = 0;
  /** Every backoff the router asked for, in ms (it still sleeps them). */
  const sleeps: number[] = [];
  const recordingSleep = (ms: number, signal: AbortSignal) => {
    sleeps.push(ms);
    return realSleep(ms, signal);
  };

  beforeAll(async () => {
    [primary, backup] = await Promise.all([startFakeUpstream(), startFakeUpstream()]);
    limiter = new CountingLimiter();
    logs = new CapturingLogSink();
    secrets = new CountingSecrets({ PRIMARY_KEY: 'sk-primary-provider-key-000000', BACKUP_KEY: 'sk-backup-provider-key-000000' });
    const p = (model: string) => ({ provider: 'primary', model });
    const b = { provider: 'backup', model: 'b-model' };
    gw = await startTestGateway(
      {
        providers: {
          primary: { type: 'openai-compatible', baseUrl: `${primary.url}/v1`, apiKey: { env: 'PRIMARY_KEY' } },
          backup: { type: 'openai-compatible', baseUrl: `${backup.url}/v1`, apiKey: { env: 'BACKUP_KEY' } },
        },
        models: {
          fb: { targets: [p('p-model'), b] },
          solo: { targets: [p('p-model')] },
          grouped: { targets: [{ strategy: 'loadbalance', targets: [p('p1'), p('p2')] }, b] },
          cooling: { targets: [p('c-model'), b], cooldown: { failures: 2, cooldownMs: 10_000 } },
          retrying: { targets: [p('r-model'), b], retry: { attempts: 2, backoffMs: 1, maxBackoffMs: 100 } },
        },
        settings: {
          timeouts: { firstByteMs: FIRST_BYTE_MS, totalMs: TOTAL_MS, idleMs: IDLE_MS },
          cooldown: { failures: 0 }, // off except where a test turns it on, so cases stay independent
        },
      },
      { limiter: () => limiter, overrides: { logSink: logs, secrets, now: () => Date.now() + clockOffset, sleep: recordingSleep } },
    );
    ({ key } = await gw.createKey({ name: 'routing' }));
  });

  afterAll(async () => {
    await gw.close();
    await Promise.all([primary.close(), backup.close()]);
  });

  beforeEach(() => {
    sleeps.length = 0;
    primary.received.length = 0;
    backup.received.length = 0;
    backup.handle(healthy('from backup'));
  });

  afterEach(async () => {
    const health = await fetch(`${gw.url}/health`);
    expect(health.status).toBe(200);
    expect(limiter.violations).toEqual([]);
    expect(limiter.open.size).toBe(0);
    expect(limiter.settled + limiter.released).toBe(limiter.reserved);
  });

  async function call(model: string, stream: boolean, k = key) {
    const res = await gw.post('/v1/chat/completions', { model, stream, messages: [{ role: 'user', content: 'hi' }] }, k);
    const body = stream && res.headers.get('content-type')?.startsWith('text/event-stream') ? await readSseData(res) : await res.json();
    const record = await logs.record(res.headers.get('x-request-id')!);
    return { res, body, record, attempts: attemptsOf(record) };
  }

  const streamText = (events: string[]) =>
    events
      .filter((e) => e !== '[DONE]')
      .map((e) => JSON.parse(e).choices?.[0]?.delta?.content ?? '')
      .join('');

  describe.each([false, true])('stream=%s', (stream) => {
    test.each(Object.keys(preCommitFaults))('%s on the first target: the fallback target serves', async (fault) => {
      primary.handle(preCommitFaults[fault]);
      const { res, body, record, attempts } = await call('fb', stream);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-gateway-provider')).toBe('backup');
      expect(res.headers.get('x-gateway-model')).toBe('b-model');
      if (stream) {
        expect(body.at(-1)).toBe('[DONE]');
        expect(streamText(body)).toBe('frombackup');
      } else expect(body.choices[0].message.content).toBe('from backup');
      expect(attempts.map((a) => [a.provider, a.status === 200])).toEqual([
        ['primary', false],
        ['backup', true],
      ]);
      expect(attempts[0].error).toBeTruthy();
      expect(record).toMatchObject({ status: 200, provider: 'backup', model: 'b-model', error_code: null });
      expect(primary.received).toHaveLength(1);
    });

    test.each(Object.keys(preCommitFaults))('%s on the only target: the documented error within the timeout', async (fault) => {
      primary.handle(preCommitFaults[fault]);
      const { res, body, record } = await call('solo', stream);
      const want = documentedErrors[fault];
      expect({ status: res.status, code: body.error?.code }).toEqual(want);
      expect(record).toMatchObject({ status: want.status, error_code: want.code });
      if (want.status === 429) expect(res.headers.get('retry-after')).toBe('7');
      expect(JSON.stringify(body)).not.toContain('sk-primary');
    });
  });

  test.each(Object.keys(postCommitFaults))('stream %s: content, then an in-band error event, no [DONE], no synthetic stop', async (fault) => {
    const { handler, code } = postCommitFaults[fault];
    let upstreamClosed: Promise<void> | undefined;
    primary.handle((req, res) => {
      upstreamClosed = closed(res);
      return handler(req, res);
    });
    const { res, body, record, attempts } = await call('fb', true);
    expect(res.status).toBe(200); // committed at the first content event
    expect(res.headers.get('x-gateway-provider')).toBe('primary');
    expect(streamText(body.slice(0, -1))).toBe('Hello');
    expect(body).not.toContain('[DONE]');
    expect(body.some((e: string) => /"finish_reason":"stop"/.test(e))).toBe(false);
    expect(JSON.parse(body.at(-1)!).error.code).toBe(code);
    expect(record).toMatchObject({ provider: 'primary', error_code: code });
    expect(record.status).toBeGreaterThanOrEqual(500);
    expect(attempts[0]).toMatchObject({ provider: 'primary', status: 200 });
    expect(attempts.at(-1)!.error).toContain(code);
    expect(backup.received).toHaveLength(0); // after the first byte there is no going back
    await upstreamClosed; // the gateway let go of the upstream connection
  });

  test('a key over its own quota gets its 429 at once: no upstream call, no fallback', async () => {
    limiter.overQuota.add('over-quota');
    const { key: overKey } = await gw.createKey({ name: 'over-quota' });
    primary.handle(healthy('never'));
    const { res, body, attempts, record } = await call('fb', false, overKey);
    expect(res.status).toBe(429);
    expect(body.error.code).toBe('rate_limit_exceeded');
    expect(res.headers.get('retry-after')).toBe('7');
    expect(primary.received).toHaveLength(0);
    expect(backup.received).toHaveLength(0);
    expect(attempts).toEqual([]);
    expect(record.status).toBe(429);
  });

  test("an upstream 400 (the client's fault) is answered at once, without fallback", async () => {
    primary.handle((_req, res) => json(res, 400, { error: { message: "Invalid 'messages': empty", type: 'invalid_request_error', code: 'invalid_messages' } }));
    const { res, body } = await call('fb', false);
    expect(res.status).toBe(400);
    expect(body.error.message).toContain("Invalid 'messages'");
    expect(backup.received).toHaveLength(0);
  });

  describe('upstream 401: the provider credential, not the client key', () => {
    beforeEach(() => {
      secrets.refreshed.length = 0;
      primary.handle((_req, res) =>
        json(res, 401, { error: { message: 'Incorrect API key provided: sk-primary-provider-key-000000', type: 'invalid_request_error' } }),
      );
    });

    test('refreshes the secret once, retries once, then answers 502 provider_auth_failed', async () => {
      const { res, body, attempts } = await call('solo', false);
      expect(res.status).toBe(502);
      expect(body.error.code).toBe('provider_auth_failed');
      expect(body.error.message).toMatch(/not your virtual key/);
      expect(JSON.stringify(body)).not.toContain('sk-primary');
      expect(secrets.refreshed).toEqual(['PRIMARY_KEY']);
      expect(primary.received).toHaveLength(2);
      expect(attempts.map((a) => a.status)).toEqual([401, 401]);
    });

    test('with a fallback target, the next provider serves after the retry', async () => {
      const { res, attempts } = await call('fb', true);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-gateway-provider')).toBe('backup');
      expect(secrets.refreshed).toEqual(['PRIMARY_KEY']);
      expect(attempts.map((a) => `${a.provider}:${a.status}`)).toEqual(['primary:401', 'primary:401', 'backup:200']);
    });

    test('a rotated key works on the retry', async () => {
      let calls = 0;
      primary.handle((req, res) => (++calls === 1 ? json(res, 401, { error: { message: 'expired' } }) : healthy('after rotation')(req, res)));
      const { res, body } = await call('solo', false);
      expect(res.status).toBe(200);
      expect(body.choices[0].message.content).toBe('after rotation');
      expect(secrets.refreshed).toEqual(['PRIMARY_KEY']);
    });
  });

  describe('retries on the same target', () => {
    test('Retry-After within the cap is honoured, then the same target serves', async () => {
      let calls = 0;
      primary.handle((req, res) =>
        ++calls === 1 ? json(res, 429, { error: { message: 'slow down' } }, { 'retry-after-ms': '60' }) : healthy('second try')(req, res),
      );
      const { res, body, attempts } = await call('retrying', false);
      expect(res.headers.get('x-gateway-provider')).toBe('primary');
      expect(body.choices[0].message.content).toBe('second try');
      expect(attempts.map((a) => a.status)).toEqual([429, 200]);
      expect(sleeps).toEqual([60]); // the wait the upstream asked for, not the configured backoff
      expect(backup.received).toHaveLength(0);
    });

    test('Retry-After beyond the cap moves on to the next target at once', async () => {
      primary.handle((_req, res) => json(res, 429, { error: { message: 'slow down' } }, { 'retry-after': '30' }));
      const { res } = await call('retrying', false);
      expect(res.headers.get('x-gateway-provider')).toBe('backup');
      expect(primary.received).toHaveLength(1);
      expect(sleeps).toEqual([]); // no wait at all before the next target
    });

    test('a 5xx is retried with backoff up to the configured attempts, then falls back', async () => {
      primary.handle(preCommitFaults['503']);
      const { res, attempts } = await call('retrying', true);
      expect(res.headers.get('x-gateway-provider')).toBe('backup');
      expect(attempts.map((a) => `${a.provider}:${a.status}`)).toEqual(['primary:503', 'primary:503', 'backup:200']);
    });
  });

  test('a load-balanced group as the first fallback target: both members fail, then the backup serves', async () => {
    primary.handle(preCommitFaults['500']);
    const { res, attempts } = await call('grouped', false);
    expect(res.headers.get('x-gateway-provider')).toBe('backup');
    expect(
      attempts
        .slice(0, 2)
        .map((a) => a.model)
        .sort(),
    ).toEqual(['p1', 'p2']);
    expect(attempts[2]).toMatchObject({ provider: 'backup', status: 200 });
  });

  test('cooldown: after 2 failures the target is skipped, and tried again once the cooldown has passed', async () => {
    primary.handle(preCommitFaults['503']);
    await call('cooling', false);
    await call('cooling', false);
    expect(primary.received).toHaveLength(2);

    const skipped = await call('cooling', false);
    expect(primary.received).toHaveLength(2); // not called while cooling
    expect(skipped.res.headers.get('x-gateway-provider')).toBe('backup');
    expect(skipped.attempts[0]).toMatchObject({ provider: 'primary', status: null });
    expect(skipped.attempts[0].error).toMatch(/^skipped: cooling down/);

    primary.handle(healthy('recovered'));
    clockOffset += 10_001;
    const again = await call('cooling', false);
    expect(primary.received).toHaveLength(3);
    expect(again.res.headers.get('x-gateway-provider')).toBe('primary');
    expect(again.body.choices[0].message.content).toBe('recovered');
  });

  describe('client disconnect aborts the upstream call', () => {
    async function disconnectWhen(upstreamState: 'received' | 'streaming') {
      let upstreamRes: ServerResponse | undefined;
      const upstreamSaw = new Promise<void>((resolve) =>
        primary.handle((_req, res) => {
          upstreamRes = res;
          if (upstreamState === 'streaming') {
            res.writeHead(200, { 'content-type': 'text/event-stream' });
            res.write(
              `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'Hel' }, finish_reason: null }] })}\n\n`,
            );
          }
          resolve();
        }),
      );
      const client = new AbortController();
      const resP = fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'solo', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
        signal: client.signal,
      });
      await upstreamSaw;
      const upstreamClosed = closed(upstreamRes!);
      let requestId: string | null = null;
      if (upstreamState === 'streaming') {
        const res = await resP;
        requestId = res.headers.get('x-request-id');
        const reader = res.body!.getReader();
        const first = new TextDecoder().decode((await reader.read()).value);
        expect(first).toContain('Hel');
      }
      client.abort();
      await resP.catch(() => undefined);
      await upstreamClosed;
      return requestId;
    }

    test('before the first content event', async () => {
      const seen = logs.records.length;
      await disconnectWhen('received');
      // No response reached the client, so find the record by what it must say.
      const record = await logs.waitFor((r) => logs.records.indexOf(r) >= seen && r.requested_model === 'solo');
      expect(record).toMatchObject({ status: 499, error_code: 'client_cancelled', provider: null });
    });

    test('mid-stream', async () => {
      const requestId = await disconnectWhen('streaming');
      const record = await logs.record(requestId!);
      expect(record).toMatchObject({ status: 499, error_code: 'client_cancelled', provider: 'primary' });
    });
  });
});

describe('stream maximum duration', () => {
  test('a stream still running at the cap is ended with an in-band error before API Gateway would cut it', async () => {
    const upstream = await startFakeUpstream();
    const limiter = new CountingLimiter();
    let upstreamClosed: Promise<void> | undefined;
    upstream.handle((_req, res) => {
      upstreamClosed = closed(res);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const tick = setInterval(
        () =>
          res.write(
            `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'tick ' }, finish_reason: null }] })}\n\n`,
          ),
        20,
      );
      res.once('close', () => clearInterval(tick));
    });
    const gw = await startTestGateway(
      {
        providers: { up: { type: 'openai-compatible', baseUrl: `${upstream.url}/v1` } },
        models: { m: { targets: [{ provider: 'up', model: 'm' }] } },
        settings: { streamMaxDurationMs: 400, timeouts: { idleMs: 200 } },
      },
      { limiter: () => limiter },
    );
    try {
      const { key } = await gw.createKey();
      const res = await gw.post('/v1/chat/completions', { model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }, key);
      const events = await readSseData(res);
      // Content reached the client, then the cut; how many ticks fit in the cap depends on the machine's load.
      expect(JSON.parse(events[0]).choices[0].delta.content).toBe('tick ');
      expect(events).not.toContain('[DONE]');
      expect(JSON.parse(events.at(-1)!).error.code).toBe('stream_max_duration');
      await upstreamClosed;
      await gw.gateway.flush();
      expect(limiter.open.size).toBe(0);
      expect(limiter.violations).toEqual([]);
    } finally {
      await gw.close();
      await upstream.close();
    }
  });
});
