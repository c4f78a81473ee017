/**
 * What JWT identity adds to a request (ARCHITECTURE §15): the gateway core's time per chat request
 * (mock provider, in process, no HTTP) with a virtual key, against the same request with a JWT of a
 * configured issuer whose keys are already cached (warm JWKS). Two JWT cases:
 *   - "same token": a client reusing its access token (the common case; verified once per key-cache TTL);
 *   - "fresh token": a different token on every request, so every request checks a signature
 *     (RS256, what Okta, Cognito, Entra ID and Auth0 sign with by default; and ES256).
 * The three kinds take turns in batches, the order rotating each round, so a stall of the shared
 * machine lands on all of them. Added latency = p50(JWT) − p50(key). Target: under 0.2 ms p50 for a warm JWKS.
 *
 * Environment: BENCH_IDENTITY_REQUESTS (per kind, default 3000; 0 skips). Standalone:
 * `node -r @swc-node/register bench/identity.ts`.
 */
import { startInProcessGateway } from './in-process-gateway';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { percentile } from './stats';

export const IDENTITY_ADDED_P50_TARGET_MS = 0.2;
const AUDIENCE = 'api://bench';
const CLIENT = 'bench-app';

export interface IdentityRow {
  readonly kind: string;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** p50 minus the virtual key's p50. */
  readonly addedP50Ms: number;
}

export interface IdentityReport {
  readonly requests: number;
  readonly rows: IdentityRow[];
  readonly jwksFetches: number;
}

export async function identityBench(env: NodeJS.ProcessEnv = process.env): Promise<IdentityReport | undefined> {
  const requests = Number(env.BENCH_IDENTITY_REQUESTS ?? 3000);
  if (!requests) return undefined;
  const es = await generateKeyPair('ES256');
  const rs = await generateKeyPair('RS256');
  const jwks = {
    keys: [
      { ...(await exportJWK(es.publicKey)), kid: 'bench-es', alg: 'ES256', use: 'sig' },
      { ...(await exportJWK(rs.publicKey)), kid: 'bench-rs', alg: 'RS256', use: 'sig' },
    ],
  };
  let jwksFetches = 0;
  const issuerServer = createServer((_req, res) => {
    jwksFetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
  });
  await new Promise<void>((r) => issuerServer.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(issuerServer.address() as AddressInfo).port}`;
  const gw = await startInProcessGateway(
    {
      providers: { mock: { type: 'mock' } },
      models: { m: { targets: [{ provider: 'mock', model: 'm' }] } },
      identity: { jwt: [{ issuer, audience: AUDIENCE, jwksUrl: `${issuer}/keys` }] },
      settings: { keyCacheTtlMs: 60_000 },
    },
    // No request log work: the figure is identify's, not the sink's.
    { overrides: { logSink: { write() {} } } },
  );
  try {
    const created = await fetch(`${gw.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: 'Bearer bench-admin', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench', oidcClientId: CLIENT }),
    });
    const { key } = (await created.json()) as { key: string };
    const sign = (i: number, alg: 'ES256' | 'RS256' = 'RS256') =>
      new SignJWT({ azp: CLIENT, sub: `user-${i % 50}`, jti: String(i) })
        .setProtectedHeader({ alg, kid: alg === 'ES256' ? 'bench-es' : 'bench-rs' })
        .setIssuer(issuer)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(alg === 'ES256' ? es.privateKey : rs.privateKey);
    const sameToken = await sign(-1);
    const fresh: Record<'ES256' | 'RS256', string[]> = { ES256: [], RS256: [] };
    for (const alg of ['ES256', 'RS256'] as const) for (let i = 0; i < requests + 200; i++) fresh[alg].push(await sign(i, alg));
    const next = { ES256: 0, RS256: 0 };

    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hello' }], max_tokens: 16 });
    const once = async (credential: string) => {
      const t0 = performance.now();
      const res = await gw.gateway.fetch(
        new Request('http://gateway/v1/chat/completions', {
          method: 'POST',
          headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
          body,
        }),
      );
      await res.arrayBuffer();
      const ms = performance.now() - t0;
      if (res.status !== 200) throw new Error(`identity bench request answered ${res.status}`);
      return ms;
    };
    const kinds: [string, () => string][] = [
      ['virtual key', () => key],
      ['JWT, same token', () => sameToken],
      ['JWT, fresh RS256 token each request', () => fresh.RS256[next.RS256++]],
      ['JWT, fresh ES256 token each request', () => fresh.ES256[next.ES256++]],
    ];
    const samples = new Map<string, number[]>(kinds.map(([k]) => [k, []]));
    // Warm-up: JIT, key cache, JWKS cache.
    for (const [, credential] of kinds) for (let i = 0; i < 100; i++) await once(credential());
    const batch = 100;
    for (let round = 0; round * batch < requests; round++) {
      for (let j = 0; j < kinds.length; j++) {
        const [kind, credential] = kinds[(round + j) % kinds.length];
        const into = samples.get(kind)!;
        for (let i = 0; i < batch; i++) into.push(await once(credential()));
      }
    }
    const stats = kinds.map(([kind]) => {
      const s = samples.get(kind)!.sort((a, b) => a - b);
      return { kind, p50Ms: percentile(s, 50), p99Ms: percentile(s, 99) };
    });
    const base = stats[0].p50Ms;
    return { requests, rows: stats.map((r) => ({ ...r, addedP50Ms: r.p50Ms - base })), jwksFetches };
  } finally {
    await gw.close();
    await new Promise<void>((r) => issuerServer.close(() => r()));
  }
}

export function renderIdentity(r: IdentityReport | undefined): string {
  if (!r) return 'JWT identity: skipped (BENCH_IDENTITY_REQUESTS=0)';
  const lines = [
    `JWT identity: gateway core time per chat request (mock provider, in process), ${r.requests} requests per kind, warm JWKS (${r.jwksFetches} JWKS fetch${r.jwksFetches === 1 ? '' : 'es'} in all)`,
    '| credential | p50 ms | p99 ms | added p50 ms |',
    '|---|---:|---:|---:|',
  ];
  for (const row of r.rows) lines.push(`| ${row.kind} | ${row.p50Ms.toFixed(3)} | ${row.p99Ms.toFixed(3)} | ${row.addedP50Ms.toFixed(3)} |`);
  for (const row of r.rows.slice(1)) {
    const pass = row.addedP50Ms < IDENTITY_ADDED_P50_TARGET_MS;
    lines.push(
      `${pass ? 'PASS' : 'FAIL'} ${row.kind}: adds ${row.addedP50Ms.toFixed(3)} ms p50 over a virtual key (goal < ${IDENTITY_ADDED_P50_TARGET_MS} ms)`,
    );
  }
  return lines.join('\n');
}

if (require.main === module)
  identityBench().then(
    (r) => console.log(renderIdentity(r)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
