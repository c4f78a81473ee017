/**
 * A real OIDC issuer on 127.0.0.1 for identity tests: it serves its discovery document and JWKS
 * over HTTP (counting every fetch), signs tokens with keys generated in the test, rotates keys,
 * and can go down (answer 503) to show the gateway failing closed.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, type JWK, type JWTPayload, SignJWT, exportJWK, generateKeyPair } from 'jose';

export interface SigningKey {
  readonly kid: string;
  readonly alg: 'RS256' | 'ES256';
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export async function newSigningKey(kid: string, alg: 'RS256' | 'ES256' = 'ES256'): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export interface TestIssuer {
  /** The issuer URL (its tokens' `iss`). */
  readonly issuer: string;
  readonly jwksUrl: string;
  /** Keys published in the JWKS right now. */
  published: SigningKey[];
  /** Requests served, by path; `all` counts every request, also those answered while down. */
  readonly fetches: { discovery: number; jwks: number; all: number };
  /** While true every request is answered 503. */
  down: boolean;
  /** A token signed by `key` (default: the first published key) with sensible defaults for every claim. */
  sign(claims?: JWTPayload, options?: { key?: SigningKey; header?: Record<string, unknown>; expiresInSeconds?: number; now?: number }): Promise<string>;
  close(): Promise<void>;
}

export async function startTestIssuer(opts: { audience: string; clientId: string; now: () => number }): Promise<TestIssuer> {
  const fetches = { discovery: 0, jwks: 0, all: 0 };
  let base = '';
  const state = { published: [await newSigningKey('key-1')], down: false };
  const server: Server = createServer((req, res) => {
    fetches.all++;
    if (state.down) return void res.writeHead(503).end();
    if (req.url === '/.well-known/openid-configuration') {
      fetches.discovery++;
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ issuer: base, jwks_uri: `${base}/keys`, id_token_signing_alg_values_supported: ['RS256', 'ES256'] }));
    }
    if (req.url === '/keys') {
      fetches.jwks++;
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ keys: state.published.map((k) => k.publicJwk) }));
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer: base,
    jwksUrl: `${base}/keys`,
    get published() {
      return state.published;
    },
    set published(keys) {
      state.published = keys;
    },
    get down() {
      return state.down;
    },
    set down(v) {
      state.down = v;
    },
    fetches,
    async sign(claims = {}, options = {}) {
      const key = options.key ?? state.published[0];
      const iat = Math.floor((options.now ?? opts.now()) / 1000);
      return new SignJWT({ iss: base, aud: opts.audience, sub: 'user-1', azp: opts.clientId, iat, exp: iat + (options.expiresInSeconds ?? 3600), ...claims })
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...options.header })
        .sign(key.privateKey);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
