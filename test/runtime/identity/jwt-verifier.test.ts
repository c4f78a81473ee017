/**
 * JWT verification against a real issuer on 127.0.0.1 (discovery document + JWKS over HTTP) with
 * tokens signed in the test: every class of bad token is refused, keys are fetched only from the
 * configured issuer, a new `kid` costs one fetch, and an unreachable JWKS fails closed.
 */
import { createHmac, createPublicKey } from 'node:crypto';
import { base64url } from 'jose';
import { GatewayError } from '../../../lambda/core/errors';
import type { JwtIssuerConfig } from '../../../lambda/core/identity/config';
import { JwtVerifier, looksLikeJwt } from '../../../lambda/core/identity/jwt-verifier';
import { type TestIssuer, newSigningKey, startTestIssuer } from '../../helpers/oidc-issuer';

const AUDIENCE = 'api://ai-gateway';
const CLIENT = 'app-client-1';

let now = Date.UTC(2026, 0, 15, 10, 0, 0);
const clock = () => now;
let issuer: TestIssuer;

beforeEach(async () => {
  now = Date.UTC(2026, 0, 15, 10, 0, 0);
  issuer = await startTestIssuer({ audience: AUDIENCE, clientId: CLIENT, now: clock });
});
afterEach(() => issuer.close());

function verifier(overrides: Partial<JwtIssuerConfig> = {}, verifiedCacheTtlMs = 0) {
  return new JwtVerifier([{ issuer: issuer.issuer, audience: AUDIENCE, jwksUrl: issuer.jwksUrl, ...overrides }], {
    fetch,
    now: clock,
    verifiedCacheTtlMs,
  });
}

async function refusal(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error('expected the token to be refused');
}

/** A JWT with the given header and payload and an arbitrary signature segment. */
function rawToken(header: object, payload: object, signature = ''): string {
  return `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}.${signature}`;
}

describe('JwtVerifier', () => {
  test('a valid ES256 token yields its application and end user', async () => {
    const v = verifier();
    await expect(v.verify(await issuer.sign({ sub: 'alice' }))).resolves.toEqual({ issuer: issuer.issuer, appId: CLIENT, userId: 'alice' });
  });

  test('a valid RS256 token is accepted too', async () => {
    const rsa = await newSigningKey('rsa-1', 'RS256');
    issuer.published = [rsa];
    await expect(verifier().verify(await issuer.sign({}, { key: rsa }))).resolves.toMatchObject({ appId: CLIENT, userId: 'user-1' });
  });

  test('the app and user claims are configurable; client_id is the fallback app claim', async () => {
    await expect(
      verifier({ appClaim: 'cid', userClaim: 'email' }).verify(await issuer.sign({ cid: 'okta-app', email: 'a@example.com' })),
    ).resolves.toMatchObject({
      appId: 'okta-app',
      userId: 'a@example.com',
    });
    await expect(verifier().verify(await issuer.sign({ azp: undefined, client_id: 'cognito-app' }))).resolves.toMatchObject({ appId: 'cognito-app' });
  });

  test('a token that names no application is refused', async () => {
    const err = await refusal(verifier().verify(await issuer.sign({ azp: undefined })));
    expect([err.status, err.code]).toEqual([401, 'invalid_token']);
    expect(err.message).toMatch(/names no application/);
  });

  test('a wrong signature is refused', async () => {
    const impostor = await newSigningKey('key-1'); // same kid, another private key
    const err = await refusal(verifier().verify(await issuer.sign({}, { key: impostor })));
    expect([err.status, err.code]).toEqual([401, 'invalid_token']);
    expect(err.message).toMatch(/signature does not verify/);
  });

  test('a payload changed after signing is refused: the signature covers header and payload', async () => {
    const token = await issuer.sign({ sub: 'user-1' });
    const [header, , signature] = token.split('.');
    const forged = `${header}.${base64url.encode(JSON.stringify({ iss: issuer.issuer, aud: AUDIENCE, azp: CLIENT, sub: 'admin', exp: now / 1000 + 3600 }))}.${signature}`;
    expect((await refusal(verifier().verify(forged))).message).toMatch(/signature does not verify/);
  });

  test('a signature of the wrong shape for its key is a refusal, not a crash', async () => {
    const token = await issuer.sign();
    const [header, payload] = token.split('.');
    for (const signature of ['', 'AA', base64url.encode(new Uint8Array(65)), base64url.encode(new Uint8Array(512))])
      expect((await refusal(verifier().verify(`${header}.${payload}.${signature}`))).status).toBe(401);
  });

  test("the algorithm must fit the key: an RS256 header on an ES256 key's kid finds no key", async () => {
    const err = await refusal(
      verifier().verify(await issuer.sign({}, { header: { alg: 'RS256' } }).catch(() => rawToken({ alg: 'RS256', kid: 'key-1' }, {}, 'AA'))),
    );
    expect(err.status).toBe(401);
  });

  test('JWS extensions the verifier does not implement (crit, b64) are refused', async () => {
    const critical = await issuer.sign({}, { header: { crit: ['exp'] } }).catch(() => undefined);
    const token = critical ?? rawToken({ alg: 'ES256', kid: 'key-1', crit: ['exp'] }, {}, 'AA');
    expect((await refusal(verifier().verify(token))).status).toBe(401);
    const b64 = rawToken({ alg: 'ES256', kid: 'key-1', b64: false, crit: ['b64'] }, { iss: issuer.issuer }, 'AA');
    expect((await refusal(verifier().verify(b64))).status).toBe(401);
  });

  test('an unknown kid is refused, and a flood of them costs one JWKS fetch', async () => {
    const v = verifier();
    await v.verify(await issuer.sign());
    expect(issuer.fetches.jwks).toBe(1);
    const stranger = await newSigningKey('key-unknown');
    now += 1_000;
    for (let i = 0; i < 5; i++) {
      const err = await refusal(v.verify(await issuer.sign({ jti: String(i) }, { key: stranger })));
      expect([err.status, err.message]).toEqual([401, expect.stringMatching(/signing key is not one of the issuer's keys/)]);
    }
    expect(issuer.fetches.jwks).toBe(2);
  });

  test('a token from an issuer that is not configured is refused without any fetch', async () => {
    const other = await startTestIssuer({ audience: AUDIENCE, clientId: CLIENT, now: clock });
    try {
      const err = await refusal(verifier().verify(await other.sign()));
      expect([err.status, err.message]).toEqual([401, expect.stringMatching(/issuer this gateway does not trust/)]);
      expect(other.fetches.all).toBe(0);
    } finally {
      await other.close();
    }
  });

  test('a token for another audience is refused', async () => {
    const err = await refusal(verifier().verify(await issuer.sign({ aud: 'api://something-else' })));
    expect([err.status, err.message]).toEqual([401, expect.stringMatching(/audience/)]);
  });

  test('expiry and not-before are checked with 60 s of skew', async () => {
    const v = verifier();
    const token = await issuer.sign({}, { expiresInSeconds: 300 });
    now += 300_000 + 59_000;
    await expect(v.verify(token)).resolves.toMatchObject({ appId: CLIENT });
    now += 2_000;
    const expired = await refusal(v.verify(token));
    expect([expired.status, expired.message]).toEqual([401, expect.stringMatching(/expired/)]);
    const early = await refusal(v.verify(await issuer.sign({ nbf: Math.floor(now / 1000) + 120 })));
    expect([early.status, early.message]).toEqual([401, expect.stringMatching(/not valid yet/)]);
  });

  test('a token without exp is refused', async () => {
    const err = await refusal(verifier().verify(await issuer.sign({ exp: undefined })));
    expect(err.status).toBe(401);
  });

  test('alg none is refused', async () => {
    const payload = { iss: issuer.issuer, aud: AUDIENCE, azp: CLIENT, sub: 'mallory', exp: Math.floor(now / 1000) + 600 };
    const err = await refusal(verifier().verify(rawToken({ alg: 'none', typ: 'JWT' }, payload)));
    expect([err.status, err.message]).toEqual([401, expect.stringMatching(/algorithm is not accepted/)]);
  });

  test('HMAC signed with the public key (algorithm confusion) is refused', async () => {
    const rsa = await newSigningKey('rsa-1', 'RS256');
    issuer.published = [rsa];
    const pem = createPublicKey({ key: rsa.publicJwk as never, format: 'jwk' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
    const header = { alg: 'HS256', kid: 'rsa-1', typ: 'JWT' };
    const payload = { iss: issuer.issuer, aud: AUDIENCE, azp: CLIENT, sub: 'mallory', exp: Math.floor(now / 1000) + 600 };
    const unsigned = rawToken(header, payload).slice(0, -1);
    const token = `${unsigned}.${createHmac('sha256', pem).update(unsigned).digest('base64url')}`;
    const err = await refusal(verifier().verify(token));
    expect([err.status, err.message]).toEqual([401, expect.stringMatching(/algorithm is not accepted/)]);
  });

  test('key rotation: a new kid is fetched once, then served from the cache', async () => {
    const v = verifier();
    await v.verify(await issuer.sign());
    const next = await newSigningKey('key-2');
    issuer.published = [...issuer.published, next];
    now += 1_000;
    for (let i = 0; i < 5; i++) await expect(v.verify(await issuer.sign({ jti: String(i) }, { key: next }))).resolves.toMatchObject({ appId: CLIENT });
    expect(issuer.fetches.jwks).toBe(2);
  });

  test('without jwksUrl the keys come from the discovery document, read once', async () => {
    const v = verifier({ jwksUrl: undefined });
    for (let i = 0; i < 3; i++) await v.verify(await issuer.sign({ jti: String(i) }));
    expect(issuer.fetches).toMatchObject({ discovery: 1, jwks: 1 });
  });

  test('JWKS unreachable and nothing cached: 503 with Retry-After, and no fetch per request', async () => {
    issuer.down = true;
    const v = verifier();
    for (let i = 0; i < 3; i++) {
      const err = await refusal(v.verify(await issuer.sign({ jti: String(i) })));
      expect([err.status, err.code]).toEqual([503, 'identity_provider_unavailable']);
      expect(err.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    }
    expect(issuer.fetches.all).toBe(1);
    issuer.down = false;
    now += 1_000;
    await expect(v.verify(await issuer.sign())).resolves.toMatchObject({ appId: CLIENT });
  });

  test('JWKS unreachable: tokens signed by cached keys keep working; an unknown kid fails closed', async () => {
    const v = verifier();
    await v.verify(await issuer.sign());
    issuer.down = true;
    now += 3_600_000; // past the keys' max age: a background refresh fails, the cached keys stay
    for (let i = 0; i < 3; i++) await expect(v.verify(await issuer.sign({ jti: String(i) }))).resolves.toMatchObject({ appId: CLIENT });
    now += 60_000;
    const err = await refusal(v.verify(await issuer.sign({}, { key: await newSigningKey('key-new') })));
    expect([err.status, err.code]).toEqual([503, 'identity_provider_unavailable']);
  });

  test('a verified token is remembered until its cache time, never past its expiry', async () => {
    const v = verifier({}, 5_000);
    const token = await issuer.sign({}, { expiresInSeconds: 1 });
    await v.verify(token);
    issuer.published = []; // a re-verification would now fail
    await expect(v.verify(token)).resolves.toMatchObject({ appId: CLIENT });
    now += 62_000; // past exp + skew
    expect((await refusal(v.verify(token))).status).toBe(401);
  });

  test('looksLikeJwt tells tokens from keys and junk', async () => {
    expect(looksLikeJwt(await issuer.sign())).toBe(true);
    expect(looksLikeJwt('sk-gw-abc')).toBe(false);
    expect(looksLikeJwt('eyJ.not a token.x')).toBe(false);
  });
});
