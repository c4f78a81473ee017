/**
 * GET /v1/usage and GET /admin/usage (ARCHITECTURE §16) against the local gateway: the figures
 * the usage page shows are checked against the log records of the same requests.
 */
import { join } from 'node:path';
import { readRecords } from '../../../bin/cli/log-reader';
import type { RequestLogRecord } from '../../../lambda/core/log-record';
import { type FakeUpstream, json, openAiChunks, openAiCompletion, startFakeUpstream, writeSse } from '../../helpers/fake-upstream';
import { ADMIN_TOKEN, type TestGateway, startTestGateway } from '../../helpers/gateway';

const PROVIDER_KEY = 'sk-provider-usage-test-0123456789';

/** The totals the page shows, computed from log records the way an auditor would. */
function expectedTotals(records: RequestLogRecord[]) {
  const cost = records.reduce((a, r) => a + (r.cost_usd ?? 0), 0);
  const prompt = records.reduce((a, r) => a + (r.prompt_tokens ?? 0), 0);
  const completion = records.reduce((a, r) => a + (r.completion_tokens ?? 0), 0);
  return {
    requests: records.length,
    errors: records.filter((r) => r.status >= 400).length,
    promptTokens: prompt,
    completionTokens: completion,
    tokens: prompt + completion,
    costUsd: Math.round(cost * 1e9) / 1e9,
  };
}

function pickTotals(t: Record<string, number>) {
  return { requests: t.requests, errors: t.errors, promptTokens: t.promptTokens, completionTokens: t.completionTokens, tokens: t.tokens, costUsd: t.costUsd };
}

describe('usage API: figures from rollups match the log records', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let alice: { key: string; id: string };
  let bob: { key: string; id: string };
  let solo: { key: string; id: string };
  let records: RequestLogRecord[];

  const usage = async (credential: string, query = '') => {
    const res = await fetch(`${gw.url}/v1/usage${query}`, { headers: { authorization: `Bearer ${credential}` } });
    return { status: res.status, headers: res.headers, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    gw = await startTestGateway(
      {
        providers: { openai: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: { env: 'OPENAI_KEY' } } },
        models: { 'gpt-4o': { targets: [{ provider: 'openai', model: 'gpt-4o-2024-08-06' }] } },
      },
      { env: { OPENAI_KEY: PROVIDER_KEY }, inMemory: true },
    );
    alice = await gw.createKey({ name: 'alice-app', team: 'payments', limits: { rpm: 100, tpm: 100000 } });
    bob = await gw.createKey({ name: 'bob-app', team: 'payments' });
    solo = await gw.createKey({ name: 'solo-app' });

    const ask = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] };
    upstream.handle((_req, res) => json(res, 200, openAiCompletion('Hi!', 'gpt-4o', { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 })));
    for (let i = 0; i < 3; i++) expect((await gw.post('/v1/chat/completions', ask, alice.key)).status).toBe(200);
    expect((await gw.post('/v1/chat/completions', ask, bob.key)).status).toBe(200);
    expect((await gw.post('/v1/chat/completions', ask, solo.key)).status).toBe(200);
    upstream.handle((_req, res) => writeSse(res, openAiChunks(['a', 'b', 'c'], 'gpt-4o', { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 })));
    const streamed = await gw.post('/v1/chat/completions', { ...ask, stream: true }, alice.key);
    expect(streamed.status).toBe(200);
    await streamed.text();
    upstream.handle((_req, res) => json(res, 500, { error: { message: 'boom', type: 'server_error' } }));
    expect((await gw.post('/v1/chat/completions', ask, alice.key)).status).toBeGreaterThanOrEqual(500);
    // A request for a model the key may not see: counted as an error of the key, under no model.
    expect((await gw.post('/v1/chat/completions', { ...ask, model: 'no-such-model' }, bob.key)).status).toBe(404);

    await gw.gateway.flush();
    records = readRecords(join(gw.dataDir, 'logs'));
    expect(records).toHaveLength(8);
  });

  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  const of = (id: string) => records.filter((r) => r.key_id === id);

  test('a key sees its own totals, its limits, its team, and its recent requests (metadata only)', async () => {
    const { status, headers, body } = await usage(alice.key, '?days=7');
    expect(status).toBe(200);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(body.scope).toBe('key');
    expect(body.key).toMatchObject({ id: alice.id, name: 'alice-app', team: 'payments' });
    expect(pickTotals(body.usage.totals)).toEqual(expectedTotals(of(alice.id)));
    expect(body.usage.totals.costUsd).toBeGreaterThan(0);
    expect(body.usage.daily).toHaveLength(7);
    expect(body.usage.daily.at(-1).requests).toBe(5);
    // Limits with what is left and when it resets.
    expect(body.limits.rpm).toMatchObject({ limit: 100 });
    expect(typeof body.limits.rpm.resetsAt).toBe('string');
    expect(body.limits.tpm.remaining).toBeLessThanOrEqual(100000);
    // The team as a whole: both keys of the team, and nothing of the key outside it.
    expect(pickTotals(body.team.usage.totals)).toEqual(expectedTotals([...of(alice.id), ...of(bob.id)]));
    expect(body.team.usage.keys.map((k: { keyId: string }) => k.keyId).sort()).toEqual([alice.id, bob.id].sort());
    // Recent requests: the key's own, newest first, with no body of any kind.
    expect(body.usage.recent.map((r: { id: string }) => r.id).sort()).toEqual(
      of(alice.id)
        .map((r) => r.request_id)
        .sort(),
    );
    const text = JSON.stringify(body);
    expect(text).not.toContain('hello');
    expect(text).not.toContain('Hi!');
    expect(text).not.toContain(PROVIDER_KEY);
    // Top models: the served model with its share.
    expect(body.usage.models[0]).toMatchObject({ model: 'openai/gpt-4o-2024-08-06', requests: 4 });
  });

  test('a key without a team sees only itself', async () => {
    const { body } = await usage(solo.key);
    expect(body.team).toBeNull();
    expect(pickTotals(body.usage.totals)).toEqual(expectedTotals(of(solo.id)));
    expect(body.limits).toBeNull();
  });

  test('admin: every key, one team, one key; the admin token works on /v1/usage for the page', async () => {
    const all = await gw.admin('GET', '/admin/usage?days=3');
    expect(all.status).toBe(200);
    expect(pickTotals(all.body.usage.totals)).toEqual(expectedTotals(records.filter((r) => r.key_id)));
    const team = await gw.admin('GET', '/admin/usage?team=payments');
    expect(pickTotals(team.body.usage.totals)).toEqual(expectedTotals([...of(alice.id), ...of(bob.id)]));
    const one = await gw.admin('GET', `/admin/usage?key=${bob.id}`);
    expect(pickTotals(one.body.usage.totals)).toEqual(expectedTotals(of(bob.id)));
    expect(one.body.key).toMatchObject({ id: bob.id, name: 'bob-app' });
    const page = await usage(ADMIN_TOKEN, `?team=payments`);
    expect(page.body.scope).toBe('admin');
    expect(page.body.usage.totals.requests).toBe(of(alice.id).length + of(bob.id).length);
    expect((await gw.admin('GET', '/admin/usage?key=key_missing')).status).toBe(404);
  });

  test('days outside 1–366 is a 400 naming the parameter', async () => {
    for (const q of ['?days=0', '?days=367', '?days=abc', '?days=-1', '?days=1.5']) {
      const { status, body } = await usage(alice.key, q);
      expect(status).toBe(400);
      expect(body.error).toMatchObject({ code: 'invalid_days', param: 'days' });
    }
    expect((await usage(alice.key, '?days=366')).status).toBe(200);
    expect((await gw.admin('GET', '/admin/usage?days=400')).status).toBe(400);
  });

  test('a wrong key is 401 and a revoked key 403, in the API error shape', async () => {
    const wrong = await usage('sk-gw-not-a-real-key-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
    expect(wrong.status).toBe(401);
    const revokedKey = await gw.createKey({ name: 'gone' });
    expect((await gw.admin('POST', `/admin/keys/${revokedKey.id}/revoke`)).status).toBe(200);
    const revoked = await usage(revokedKey.key);
    expect(revoked.status).toBe(403);
    expect(revoked.body.error.code).toBe('key_revoked');
  });

  test('reading usage is not an LLM call: it adds no record and no request to the figures', async () => {
    await usage(alice.key);
    await gw.gateway.flush();
    expect(readRecords(join(gw.dataDir, 'logs'))).toHaveLength(records.length);
    const { body } = await usage(alice.key);
    expect(body.usage.totals.requests).toBe(of(alice.id).length);
  });
});

describe('the usage page files', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ providers: { mock: { type: 'mock' } }, models: { m: { targets: [{ provider: 'mock', model: 'm' }] } } });
  });
  afterAll(() => gw.close());

  test('/ui serves the page with a policy that forbids every other origin', async () => {
    const res = await fetch(`${gw.url}/ui`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/https?:|\*/);
    const html = await res.text();
    expect(html).toContain('<script src="/ui/app.js"></script>');
    // Everything the page loads is a path on the gateway itself.
    for (const m of html.matchAll(/(?:src|href)="([^"]+)"/g)) expect(m[1]).toMatch(/^\/ui\//);
    for (const file of ['app.js', 'app.css', 'uplot.css']) expect((await fetch(`${gw.url}/ui/${file}`)).status).toBe(200);
  });

  test('only the page files are served: no traversal, no other names', async () => {
    for (const path of ['/ui/../package.json', '/ui/%2e%2e/package.json', '/ui/index.js', '/ui/app.js.map', '/ui/constructor', '/ui/__proto__']) {
      const res = await fetch(`${gw.url}${path}`);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain('"name"');
    }
  });
});

describe('usage rollups cost one write per key and day, after the answers', () => {
  let gw: TestGateway;
  const rollupWrites: string[] = [];
  /** The once-per-key-per-day writes that retire the previous row's recent-request slots. */
  const slotClears: string[] = [];
  beforeAll(async () => {
    gw = await startTestGateway({ providers: { mock: { type: 'mock' } }, models: { m: { targets: [{ provider: 'mock', model: 'm' }] } } });
    gw.dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { TableName?: string; Key?: { sk?: { S?: string } }; UpdateExpression?: string };
        if (input.TableName === gw.tables.usage && context.commandName === 'UpdateItemCommand')
          (input.UpdateExpression?.startsWith('REMOVE') ? slotClears : rollupWrites).push(input.Key?.sk?.S ?? '');
        return next(args);
      },
      { step: 'initialize', name: 'countRollupWrites' },
    );
  });
  afterAll(() => gw.close());

  test('twenty requests of two keys, flushed together: two counter writes, one slot retirement per key new to the process, every request counted', async () => {
    const a = await gw.createKey({ name: 'a' });
    const b = await gw.createKey({ name: 'b' });
    await gw.gateway.flush();
    rollupWrites.length = 0;
    slotClears.length = 0;
    const ask = (key: string) => gw.post('/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'hi' }] }, key).then((r) => r.text());
    await Promise.all([...Array.from({ length: 12 }, () => ask(a.key)), ...Array.from({ length: 8 }, () => ask(b.key))]);
    await gw.gateway.flush();
    expect(rollupWrites).toHaveLength(2);
    expect(rollupWrites.map((sk) => sk.split('#')[1]).sort()).toEqual([a.id, b.id].sort());
    // This process has not written these keys before: each key's first write retires the day before's slots, once.
    expect(slotClears.map((sk) => sk.split('#')[1]).sort()).toEqual([a.id, b.id].sort());
    const usageOf = async (key: string) =>
      ((await (await fetch(`${gw.url}/v1/usage?days=1`, { headers: { authorization: `Bearer ${key}` } })).json()) as any).usage;
    const ua = await usageOf(a.key);
    expect(ua.totals.requests).toBe(12);
    // The row keeps the newest requests (10 slots), shown newest first.
    expect(ua.recent).toHaveLength(10);
    expect((await usageOf(b.key)).totals.requests).toBe(8);
  });
});

describe('usage-page admin links (ai-gateway ui-link): short-lived sessions for the page on AWS', () => {
  let gw: TestGateway;
  let t = Date.UTC(2026, 5, 1, 12, 0, 0);
  const now = () => t;
  beforeAll(async () => {
    gw = await startTestGateway(
      { providers: { mock: { type: 'mock' } }, models: { m: { targets: [{ provider: 'mock', model: 'm' }] } } },
      { overrides: { now } },
    );
  });
  afterAll(() => gw.close());

  const usageWith = (token: string) => fetch(`${gw.url}/v1/usage`, { headers: { authorization: `Bearer ${token}` } });

  test('a minted link opens the admin view until it expires; only its hash is stored', async () => {
    const minted = await gw.admin('POST', '/admin/ui-links', { ttlSeconds: 600 });
    expect(minted.status).toBe(201);
    expect(minted.body.token).toMatch(/^gwui_[\w-]{43}$/);
    expect(minted.body.path).toBe(`/ui#admin=${minted.body.token}`);
    expect(minted.body.expiresAt).toBe(new Date(t + 600_000).toISOString());
    const ok = await usageWith(minted.body.token);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { scope: string }).scope).toBe('admin');
    // Nothing in the store holds the token itself.
    const { ScanCommand } = await import('@aws-sdk/client-dynamodb');
    const items = await gw.dynamo.send(new ScanCommand({ TableName: gw.tables.keys }));
    expect(JSON.stringify(items.Items)).not.toContain(minted.body.token);
    t += 600_001;
    const expired = await usageWith(minted.body.token);
    expect(expired.status).toBe(401);
  });

  test('a made-up session token is refused like any unknown key, and the link is only for admins', async () => {
    expect((await usageWith(`gwui_${'a'.repeat(43)}`)).status).toBe(401);
    const res = await fetch(`${gw.url}/admin/ui-links`, { method: 'POST', headers: { authorization: 'Bearer not-the-admin-token' } });
    expect(res.status).toBe(401);
  });

  test('the lifetime is bounded: 60 s to 12 h, whole seconds', async () => {
    for (const ttlSeconds of [0, 59, 43_201, 1.5, '900']) expect((await gw.admin('POST', '/admin/ui-links', { ttlSeconds })).status).toBe(400);
    expect((await gw.admin('POST', '/admin/ui-links', { other: 1 })).status).toBe(400);
    const defaulted = await gw.admin('POST', '/admin/ui-links', {});
    expect(defaulted.body.expiresAt).toBe(new Date(t + 900_000).toISOString());
  });

  test('the CLI prints the page link with the session in its fragment', async () => {
    const { main } = require('../../../bin/ai-gateway.ts') as typeof import('../../../bin/ai-gateway');
    const lines: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    try {
      expect(await main(['ui-link', '--url', gw.url, '--token', ADMIN_TOKEN, '--json'])).toBe(0);
    } finally {
      log.mockRestore();
    }
    const out = JSON.parse(lines.join('\n')) as { url: string; expiresAt: string };
    expect(out.url).toMatch(new RegExp(`^${gw.url}/ui#admin=gwui_`));
    expect((await usageWith(out.url.split('#admin=')[1])).status).toBe(200);
  });
});
