/**
 * `ai-gateway keys … --aws`: the admin client signs with SigV4 for an IAM-authorized API. A
 * local server checks each signature with an independent implementation of the SigV4 spec
 * (canonical request → string to sign → derived key), as API Gateway would.
 */
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdminClient, AdminApiError } from '../../bin/cli/admin-client';
import { awsSigner, regionFromApiUrl } from '../../bin/cli/aws-sign';

const CREDS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session-token-example' };
const REGION = 'eu-west-1';

const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const hmac = (key: string | Buffer, s: string) => createHmac('sha256', key).update(s).digest();
const encode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

/** Verifies a request's SigV4 Authorization header against the known secret; returns a reason when it does not hold. */
function verify(req: IncomingMessage, body: string, secret: string): string | undefined {
  const auth = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
    String(req.headers.authorization),
  );
  if (!auth) return 'no SigV4 Authorization header';
  const [, , date, region, service, signedHeaders, signature] = auth;
  if (service !== 'execute-api') return `signed for ${service}`;
  const amzDate = String(req.headers['x-amz-date']);
  const url = new URL(req.url!, 'http://x');
  const canonicalUri = url.pathname
    .split('/')
    .map((seg) => encode(decodeURIComponent(seg)))
    .join('/');
  const canonicalQuery = [...url.searchParams]
    .map(([k, v]) => `${encode(k)}=${encode(v)}`)
    .sort()
    .join('&');
  const names = signedHeaders.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) return 'host and x-amz-date must be signed';
  const canonicalHeaders = names.map((n) => `${n}:${String(req.headers[n]).trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonicalRequest = [req.method, canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders, sha256(body)].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac('AWS4' + secret, date), region), service), 'aws4_request');
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
  return expected === signature ? undefined : 'signature mismatch';
}

describe('admin client with --aws (SigV4)', () => {
  let server: Server;
  let url: string;
  const seen: { method: string; path: string; body: string; token?: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const problem = verify(req, body, CREDS.secretAccessKey);
        seen.push({ method: req.method!, path: req.url!, body, token: req.headers['x-amz-security-token'] as string | undefined });
        if (problem) return void res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ message: problem }));
        res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'key_1', ok: true }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prod`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  test('a signed POST with a JSON body and a signed GET pass an independent SigV4 check', async () => {
    const client = new AdminClient({ url, sign: awsSigner({ region: REGION, credentials: CREDS }) });
    expect(await client.call('POST', '/admin/keys', { name: 'ci', models: ['gpt-4o*'] })).toEqual({ id: 'key_1', ok: true });
    expect(await client.call('GET', '/admin/keys/key_1/usage')).toEqual({ id: 'key_1', ok: true });
    expect(seen.slice(-2).map((s) => [s.method, s.path])).toEqual([
      ['POST', '/prod/admin/keys'],
      ['GET', '/prod/admin/keys/key_1/usage'],
    ]);
    expect(seen.at(-2)!.body).toBe(JSON.stringify({ name: 'ci', models: ['gpt-4o*'] }));
    expect(seen.at(-1)!.token).toBe(CREDS.sessionToken);
  });

  test('a request signed with the wrong secret is refused by the check (the verifier is not a rubber stamp)', async () => {
    const client = new AdminClient({ url, sign: awsSigner({ region: REGION, credentials: { ...CREDS, secretAccessKey: 'wrong' } }) });
    await expect(client.call('GET', '/admin/keys')).rejects.toEqual(expect.any(AdminApiError));
    await expect(client.call('GET', '/admin/keys')).rejects.toMatchObject({ status: 403 });
  });

  test('the region comes from an execute-api URL', () => {
    expect(regionFromApiUrl('https://abc123def4.execute-api.eu-west-1.amazonaws.com/prod')).toBe('eu-west-1');
    expect(regionFromApiUrl('https://gateway.example.com/prod')).toBeUndefined();
  });
});
