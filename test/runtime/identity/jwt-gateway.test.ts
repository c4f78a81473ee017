/**
 * JWT identity through the gateway (ARCHITECTURE §15), with a real issuer on 127.0.0.1 (discovery
 * document + JWKS) and tokens signed in the test: a valid token acts as the key bound to its
 * application and is attributed to its user; every class of bad token is a 401 with no upstream
 * call; key rotation costs one JWKS fetch; an unreachable JWKS fails closed; end users named by a
 * trusted key, and per-user limits, through the same path. The official openai client sends the token.
 */
import OpenAI from 'openai';
import { createHmac, createPublicKey } from 'node:crypto';
import { base64url } from 'jose';
import type { RequestLogRecord } from '../../../lambda/core/log-record';
import { json, openAiCompletion, startFakeUpstream, type FakeUpstream } from '../../helpers/fake-upstream';
import { startTestGateway, type TestGateway } from '../../helpers/gateway';
import { newSigningKey, startTestIssuer, type TestIssuer } from '../../helpers/oidc-issuer';

const AUDIENCE = 'api://ai-gateway';
const CLIENT = 'portal-app';

let issuer: TestIssuer;
let upstream: FakeUpstream;
let gw: TestGateway;
const records: RequestLogRecord[] = [];
let boundKeyId: string;
/** The gateway's and the issuer's clock, moved by hand where a test needs time to pass. */
let t = Date.now();
const clock = () => t;

beforeAll(async () => {
  issuer = await startTestIssuer({ audience: AUDIENCE, clientId: CLIENT, now: clock });
  upstream = await startFakeUpstream((_req, res) => json(res, 200, openAiCompletion('ok')));
  gw = await startTestGateway(
    {
      providers: { up: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: { env: 'UP_KEY' } } },
      models: { 'gpt-4o': { targets: [{ provider: 'up', model: 'gpt-4o' }] } },
      identity: { jwt: [{ issuer: issuer.issuer, audience: AUDIENCE }] },
      // Long enough that the tests' own timing never expires a cached key or token.
      settings: { keyCacheTtlMs: 60_000 },
    },
    { env: { UP_KEY: 'sk-up' }, overrides: { now: clock, logSink: { write: (r) => void records.push(r) } } },
  );
  boundKeyId = (await gw.createKey({ name: 'portal', oidcClientId: CLIENT, models: ['gpt-4o'], limits: { perUser: { rpm: 2 } } })).id;
});
afterAll(async () => {
  await gw.close();
  await upstream.close();
  await issuer.close();
});

const chat = (credential: string, headers: Record<string, string> = {}, body: Record<string, unknown> = {}) =>
  gw.post('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], ...body }, credential, headers);

const recordOf = (res: Response) => records.find((r) => r.request_id === res.headers.get('x-request-id'));

async function expectRefused(res: Response, status: number, code: string): Promise<any> {
  expect(res.status).toBe(status);
  const body = await res.json();
  expect(body.error.code).toBe(code);
  return body;
}

function rawToken(header: object, payload: object, signature = ''): string {
  return `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}.${signature}`;
}
const claims = (extra: object = {}) => ({ iss: issuer.issuer, aud: AUDIENCE, azp: CLIENT, sub: 'mallory', exp: Math.floor(t / 1000) + 600, ...extra });

describe('JWT identity through the gateway', () => {
  test('a valid token acts as the bound key and is attributed to its user (openai SDK, Bearer)', async () => {
    const client = new OpenAI({ apiKey: await issuer.sign({ sub: 'alice@example.com' }), baseURL: `${gw.url}/v1` });
    const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(data.choices[0].message.content).toBe('ok');
    expect(recordOf(response)).toMatchObject({ status: 200, key_id: boundKeyId, key_name: 'portal', user_id: 'alice@example.com' });
  });

  test('a token works in x-api-key as a key does', async () => {
    const res = await chat('', { 'x-api-key': await issuer.sign({ sub: 'bob' }) });
    expect(res.status).toBe(200);
    expect(recordOf(res)).toMatchObject({ key_id: boundKeyId, user_id: 'bob' });
  });

  test('the bound key governs: a model outside its globs is 403', async () => {
    await expectRefused(await chat(await issuer.sign({ sub: 'carol' }), {}, { model: 'up/other' }), 403, 'model_not_allowed');
  });

  describe('every bad token is 401 and reaches no upstream', () => {
    const cases: [string, () => Promise<string>][] = [
      ['wrong signature', async () => issuer.sign({}, { key: await newSigningKey('key-1') })],
      ['unknown kid', async () => issuer.sign({}, { key: await newSigningKey('kid-nobody-knows') })],
      [
        'wrong issuer',
        async () =>
          await startTestIssuer({ audience: AUDIENCE, clientId: CLIENT, now: Date.now }).then(async (other) => {
            const t = await other.sign();
            await other.close();
            return t;
          }),
      ],
      ['wrong audience', () => issuer.sign({ aud: 'api://other' })],
      ['expired', () => issuer.sign({}, { now: t - 7_200_000, expiresInSeconds: 3600 })],
      ['alg none', async () => rawToken({ alg: 'none', typ: 'JWT' }, claims())],
      [
        'HMAC with the public key',
        async () => {
          const pem = createPublicKey({ key: issuer.published[0].publicJwk as never, format: 'jwk' })
            .export({ type: 'spki', format: 'pem' })
            .toString();
          const unsigned = rawToken({ alg: 'HS256', kid: 'key-1', typ: 'JWT' }, claims()).slice(0, -1);
          return `${unsigned}.${createHmac('sha256', pem).update(unsigned).digest('base64url')}`;
        },
      ],
      ['unknown app', () => issuer.sign({ azp: 'app-without-a-key' })],
    ];
    test.each(cases)('%s', async (_name, token) => {
      const before = upstream.received.length;
      const res = await chat(await token());
      const body = await expectRefused(res, 401, 'invalid_token');
      expect(body.error.type).toBe('authentication_error');
      expect(upstream.received.length).toBe(before);
      expect(recordOf(res)).toMatchObject({ status: 401, error_code: 'invalid_token', provider: null });
    });
  });

  test('key rotation: a token signed by a new key costs one JWKS fetch, then none', async () => {
    const next = await newSigningKey('key-rotated');
    issuer.published = [...issuer.published, next];
    // The gateway asks the JWKS at most once a second: let the fetches above age past that.
    t += 1_100;
    const before = issuer.fetches.jwks;
    for (let i = 0; i < 4; i++) expect((await chat(await issuer.sign({ sub: `rotated-${i}` }, { key: next }))).status).toBe(200);
    expect(issuer.fetches.jwks - before).toBe(1);
  });

  test('per-user limits apply to each token user separately', async () => {
    const as = (user: string) => issuer.sign({ sub: user, jti: Math.random().toString(36) });
    expect((await chat(await as('dora'))).status).toBe(200);
    expect((await chat(await as('dora'))).status).toBe(200);
    const third = await chat(await as('dora'));
    await expectRefused(third, 429, 'rate_limit_exceeded');
    expect(third.headers.get('x-gateway-limit')).toBe('user:rpm');
    expect((await chat(await as('erik'))).status).toBe(200);
  });
});

describe('JWKS unreachable', () => {
  test("a gateway that never had the issuer's keys answers 503 with Retry-After, and calls no upstream", async () => {
    const down = await startTestIssuer({ audience: AUDIENCE, clientId: CLIENT, now: Date.now });
    down.down = true;
    const g = await startTestGateway(
      {
        providers: { up: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: { env: 'UP_KEY' } } },
        models: { 'gpt-4o': { targets: [{ provider: 'up', model: 'gpt-4o' }] } },
        identity: { jwt: [{ issuer: down.issuer, audience: AUDIENCE }] },
      },
      { env: { UP_KEY: 'sk-up' } },
    );
    try {
      await g.createKey({ oidcClientId: CLIENT });
      const before = upstream.received.length;
      const res = await g.post('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, await down.sign());
      await expectRefused(res, 503, 'identity_provider_unavailable');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(upstream.received.length).toBe(before);
    } finally {
      await g.close();
      await down.close();
    }
  });
});

describe('end users of plain keys', () => {
  test('a key with trustUserHeader takes x-gateway-user, else the body user; other keys ignore both', async () => {
    const trusted = await gw.createKey({ name: 'backend', trustUserHeader: true });
    const byHeader = await chat(trusted.key, { 'x-gateway-user': 'u-header' }, { user: 'u-body' });
    expect(recordOf(byHeader)?.user_id).toBe('u-header');
    const byBody = await chat(trusted.key, {}, { user: 'u-body' });
    expect(recordOf(byBody)?.user_id).toBe('u-body');
    const plain = await gw.createKey({ name: 'plain' });
    const ignored = await chat(plain.key, { 'x-gateway-user': 'someone' }, { user: 'someone' });
    expect(ignored.status).toBe(200);
    expect(recordOf(ignored)?.user_id).toBeNull();
  });

  test('an over-long end user is a 400 naming the field', async () => {
    const trusted = await gw.createKey({ name: 'backend-2', trustUserHeader: true });
    const body = await expectRefused(await chat(trusted.key, { 'x-gateway-user': 'x'.repeat(300) }), 400, 'invalid_user');
    expect(body.error.param).toBe('x-gateway-user');
  });
});
