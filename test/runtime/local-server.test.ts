/**
 * `npm start` for real: `ai-gateway dev` (bin/ai-gateway.js → dist/cli.js) as a child process
 * on PORT=0 with a persisted store under a temp GATEWAY_DATA_DIR. It prints how to use it, serves,
 * survives hostile HTTP, stops upstream calls when clients leave, is managed by the
 * `ai-gateway keys …` CLI, shuts down cleanly on SIGTERM/SIGINT and keeps its keys across restarts.
 */
import { request as httpRequest } from 'node:http';
import { type AddressInfo, connect, createServer } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FakeUpstream, json, openAiChunks, openAiCompletion, startFakeUpstream } from '../helpers/fake-upstream';
import { type GatewayProcess, runCli, startGatewayProcess } from '../helpers/gateway-process';
import { isOpenAiErrorBody } from '../helpers/openai-error';

jest.setTimeout(60_000);

/**
 * Write raw bytes on a fresh connection and return everything the server sent until it closed
 * the connection (requests carry `Connection: close`; a half-close would make Node's server
 * abort the request in flight).
 */
function rawExchange(url: string, bytes: string | Buffer, timeoutMs = 3000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.write(bytes);
  });
}

/** Status and parsed JSON body of a raw HTTP/1.1 answer (first response on the connection). */
function parseRaw(raw: string): { status: number; body: unknown } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);
  const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
  let body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  if (/transfer-encoding: chunked/i.test(head)) body = body.replace(/^[0-9a-f]+\r\n/i, '').replace(/\r\n0\r\n\r\n$/, '');
  try {
    return { status, body: JSON.parse(body) };
  } catch {
    return { status, body };
  }
}

/** Await `p`, failing with a message naming what never happened instead of hanging the suite. */
async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe('npm start: the local gateway as a process', () => {
  let upstream: FakeUpstream;
  let dataDir: string;
  let configPath: string;
  let gp: GatewayProcess;
  let adminToken: string;
  const env = () => ({ PORT: '0', GATEWAY_DATA_DIR: dataDir, GATEWAY_CONFIG: configPath, UPSTREAM_KEY: 'sk-upstream-provider-key' });
  const cli = (...args: string[]) => runCli([...args, '--url', gp.url], { GATEWAY_DATA_DIR: dataDir });
  const chat = (key: string, model = 'mock-model') =>
    fetch(gp.url + '/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
    });

  beforeAll(async () => {
    upstream = await startFakeUpstream((_r, res) => json(res, 200, openAiCompletion('from upstream')));
    dataDir = mkdtempSync(join(tmpdir(), 'gw-process-'));
    configPath = join(dataDir, 'gateway.config.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        providers: { mock: { type: 'mock' }, up: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: { env: 'UPSTREAM_KEY' } } },
        models: { 'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] }, 'up-model': { targets: [{ provider: 'up', model: 'gpt-4o' }] } },
      }),
    );
    gp = await startGatewayProcess(env());
    adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  });
  afterAll(async () => {
    await gp?.stop('SIGKILL');
    await upstream?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('prints where it listens, the config, the admin token and how to get a key; the token file is private', () => {
    const out = gp.stdout();
    expect(gp.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(out).toContain(`config:  ${configPath}`);
    expect(out).toContain('models:  mock-model, up-model');
    expect(adminToken).toMatch(/^gw-admin-[A-Za-z0-9_-]{32}$/);
    expect(out).toContain(adminToken);
    // The printed CLI command works as printed: it names this data dir and URL.
    expect(out).toContain(`GATEWAY_DATA_DIR=${dataDir} npx ai-gateway keys create --name my-app --url ${gp.url}`);
    expect(out).toContain(`curl -s -X POST ${gp.url}/admin/keys`);
    expect(statSync(join(dataDir, 'admin-token')).mode & 0o777).toBe(0o600);
  });

  test('serves with no provider credentials (mock) and /health', async () => {
    expect((await fetch(gp.url + '/health')).status).toBe(200);
    const created = await fetch(gp.url + '/admin/keys', {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ name: 'plain' }),
    });
    expect(created.status).toBe(201);
    const { key } = await created.json();
    const res = await chat(key);
    expect(res.status).toBe(200);
    expect((await res.json()).choices[0].message.content).toBe('This is a mock response to: hi');
  });

  describe('the CLI against it: ai-gateway keys create|list|show|rotate|revoke', () => {
    test('--json: the full key lifecycle', async () => {
      const created = await cli(
        'keys',
        'create',
        '--name',
        'cli-app',
        '--team',
        'ml',
        '--models',
        'mock-*,up-*',
        '--rpm',
        '50',
        '--expires-at',
        '2999-01-01T00:00:00Z',
        '--logging',
        'redacted',
        '--metadata',
        'owner=me,env=dev',
        '--json',
      );
      expect(created).toMatchObject({ code: 0, stderr: '' });
      const rec = JSON.parse(created.stdout);
      expect(rec).toMatchObject({
        name: 'cli-app',
        team: 'ml',
        models: ['mock-*', 'up-*'],
        limits: { rpm: 50 },
        logging: 'redacted',
        metadata: { owner: 'me', env: 'dev' },
        expiresAt: '2999-01-01T00:00:00.000Z',
      });
      expect(rec.key).toMatch(/^sk-gw-/);
      expect((await chat(rec.key)).status).toBe(200);

      const list = await cli('keys', 'list', '--json');
      expect(list.code).toBe(0);
      const records = JSON.parse(list.stdout) as Array<Record<string, unknown>>;
      const mine = records.find((r) => r.id === rec.id)!;
      expect(mine).toBeDefined();
      for (const r of records) expect(r).not.toHaveProperty('key');
      expect(list.stdout).not.toContain(rec.key.slice(6));

      const show = await cli('keys', 'show', rec.id, '--json');
      expect(show.code).toBe(0);
      expect(JSON.parse(show.stdout)).toEqual(mine);

      const graceful = await cli('keys', 'rotate', rec.id, '--grace-seconds', '600', '--json');
      expect(graceful.code).toBe(0);
      const rot1 = JSON.parse(graceful.stdout);
      expect(rot1.id).toBe(rec.id);
      expect(Date.parse(rot1.previousKeyValidUntil)).toBeGreaterThan(Date.now() + 590_000);
      expect((await chat(rec.key)).status).toBe(200); // old key: in grace
      expect((await chat(rot1.key)).status).toBe(200);

      const hard = JSON.parse((await cli('keys', 'rotate', rec.id, '--json')).stdout);
      expect((await chat(rot1.key)).status).toBe(401); // rotated out without grace
      expect((await chat(hard.key)).status).toBe(200);

      const updated = await cli('keys', 'update', rec.id, '--models', 'mock-*', '--tpm', '9000', '--json');
      expect(updated.code).toBe(0);
      expect(JSON.parse(updated.stdout)).toMatchObject({ id: rec.id, models: ['mock-*'], limits: { tpm: 9000 } });
      expect((await chat(hard.key, 'up-model')).status).toBe(403); // takes effect at once
      const usage = await cli('keys', 'usage', rec.id, '--json');
      expect(usage.code).toBe(0);
      expect(JSON.parse(usage.stdout)).toMatchObject({ id: rec.id, limits: { tpm: 9000 } });

      const revoked = await cli('keys', 'revoke', rec.id, '--json');
      expect(revoked.code).toBe(0);
      expect(JSON.parse(revoked.stdout).revokedAt).toEqual(expect.any(String));
      expect((await chat(hard.key)).status).toBe(403);
    });

    test('human output: the key is shown once at creation, never by list or show', async () => {
      const created = await cli('keys', 'create', '--name', 'human');
      expect(created.code).toBe(0);
      const key = /(sk-gw-[A-Za-z0-9_-]+)/.exec(created.stdout)![1];
      const id = /Key (key_\w+)/.exec(created.stdout)![1];
      expect(created.stdout).toContain('copy it now, it is not shown again');
      const list = await cli('keys', 'list');
      expect(list.stdout).toMatch(/^ID\s+NAME\s+TEAM\s+STATUS\s+KEY\s+LIMITS/m);
      expect(list.stdout).toContain(id);
      const show = await cli('keys', 'show', id);
      expect(show.stdout).toMatch(/status\s+active/);
      for (const out of [list.stdout, show.stdout]) expect(out).not.toContain(key.slice(6));
      await cli('keys', 'revoke', id);
      expect((await cli('keys', 'show', id)).stdout).toMatch(/status\s+revoked/);
    });

    test('errors: exit 1 with the reason, exit 2 for usage', async () => {
      const closedPort = await new Promise<number>((resolve) => {
        const srv = createServer().listen(0, '127.0.0.1', () => {
          const { port } = srv.address() as AddressInfo;
          srv.close(() => resolve(port));
        });
      });
      // Independent invocations: run side by side to keep the suite fast.
      const [wrongToken, missing, invalid, down, ...usage] = await Promise.all([
        runCli(['keys', 'list', '--url', gp.url, '--token', 'nope'], {}),
        cli('keys', 'show', 'key_missing'),
        cli('keys', 'create', '--name', 'x', '--rpm', '0'),
        runCli(['keys', 'list', '--url', `http://127.0.0.1:${closedPort}`], { GATEWAY_ADMIN_TOKEN: 't' }),
        cli('keys', 'show'),
        cli('keys', 'create'),
        cli('keys', 'create', '--name', 'x', '--rpm', 'abc'),
        cli('keys', 'frobnicate'),
      ]);
      expect(wrongToken.code).toBe(1);
      expect(wrongToken.stderr).toContain('(set GATEWAY_ADMIN_TOKEN or --token)');
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("No key with id 'key_missing'");
      expect(invalid.code).toBe(1);
      expect(invalid.stderr).toContain('limits.rpm');
      expect(down.code).toBe(1);
      expect(down.stderr).toContain(`cannot reach the gateway at http://127.0.0.1:${closedPort} (ECONNREFUSED). Is it running?`);
      expect(usage.map((u) => u.code)).toEqual([2, 2, 2, 2]);
    });

    test('GATEWAY_URL and GATEWAY_ADMIN_TOKEN work instead of flags', async () => {
      const out = await runCli(['keys', 'list', '--json'], { GATEWAY_URL: gp.url, GATEWAY_ADMIN_TOKEN: adminToken });
      expect(out.code).toBe(0);
      expect(Array.isArray(JSON.parse(out.stdout))).toBe(true);
    });
  });

  describe('hostile HTTP never crashes it', () => {
    let key: string;
    beforeAll(async () => {
      const res = await fetch(gp.url + '/admin/keys', {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}` },
        body: JSON.stringify({ name: 'hostile' }),
      });
      ({ key } = await res.json());
    });
    afterAll(async () => {
      // The point of the whole block.
      expect(gp.proc.exitCode).toBeNull();
      expect((await fetch(gp.url + '/health')).status).toBe(200);
      expect((await chat(key)).status).toBe(200);
    });

    test.each<[string, number, string]>([
      ['an unknown method', 400, 'BREW /coffee HTTP/1.1\r\nHost: x\r\n\r\n'],
      ['a method fetch forbids (TRACE)', 400, 'TRACE /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
      ['WebDAV on an API route', 405, 'PROPFIND /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
      ['OPTIONS', 405, 'OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
      ['a garbage request line', 400, '\x00\x01\x02 nonsense\r\n\r\n'],
      ['a NUL in the path', 400, 'GET /v1/mo\x00dels HTTP/1.1\r\nHost: x\r\n\r\n'],
      ['a 100 KB header', 431, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`],
      ['3000 headers', 431, `GET /health HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`],
      ['a 100 KB URL', 431, `GET /v1/${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`],
      ['an absolute-form target naming another host', 404, 'GET http://evil.example/v1/models HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n'],
      [
        'conflicting lengths (request smuggling shape)',
        400,
        'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      ],
    ])('%s: answered %d in the documented shape', async (_name, status, request) => {
      const raw = await rawExchange(gp.url, request);
      const { status: got, body } = parseRaw(raw);
      expect(got).toBe(status);
      expect(isOpenAiErrorBody(body)).toBe(true);
    });

    test('HEAD on /health and on an API route: headers only', async () => {
      const health = await rawExchange(gp.url, 'HEAD /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      expect(health).toMatch(/^HTTP\/1\.1 200/);
      expect(health.endsWith('\r\n\r\n')).toBe(true);
      const api = await rawExchange(gp.url, 'HEAD /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      expect(api).toMatch(/^HTTP\/1\.1 40[15]/);
      expect(api.endsWith('\r\n\r\n')).toBe(true);
    });

    test('CONNECT is refused without taking the server down', async () => {
      const raw = await rawExchange(gp.url, 'CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n');
      expect(raw).not.toMatch(/^HTTP\/1\.1 200/);
    });

    test('a body that is not UTF-8 is 400 invalid_json', async () => {
      const body = Buffer.from([0xff, 0xfe, 0x80, 0x81, 0x00, 0xc3, 0x28]);
      const raw = await rawExchange(
        gp.url,
        Buffer.concat([
          Buffer.from(
            `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n`,
          ),
          body,
        ]),
      );
      const { status, body: parsed } = parseRaw(raw);
      expect(status).toBe(400);
      expect(parsed).toMatchObject({ error: { code: 'invalid_json' } });
    });

    test('invalid UTF-8 inside a JSON string is replaced, not fatal', async () => {
      const body = Buffer.concat([Buffer.from('{"model":"mock-model","messages":[{"role":"user","content":"'), Buffer.from([0xff, 0xc3]), Buffer.from('"}]}')]);
      const raw = await rawExchange(
        gp.url,
        Buffer.concat([
          Buffer.from(
            `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n`,
          ),
          body,
        ]),
      );
      expect(parseRaw(raw).status).toBe(200);
    });

    test('a body cut short by the client, and headers cut short, leave it serving', async () => {
      // The client writes part of a request and disappears (rawExchange's timer ends the connection).
      await rawExchange(
        gp.url,
        `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Length: 100000\r\n\r\n{"model":`,
        300,
      );
      await rawExchange(gp.url, 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Le', 300);
      await rawExchange(
        gp.url,
        `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nTransfer-Encoding: chunked\r\n\r\nffff\r\nabc`,
        300,
      );
      expect((await fetch(gp.url + '/health')).status).toBe(200);
    });

    test('a keep-alive connection stays usable after a 401 answered before a large body was read', async () => {
      const big = 'x'.repeat(2 * 1024 * 1024);
      const agent = new (await import('node:http')).Agent({ keepAlive: true, maxSockets: 1 });
      const post = (auth: string, body: string) =>
        new Promise<number>((resolve, reject) => {
          const req = httpRequest(
            gp.url + '/v1/chat/completions',
            { method: 'POST', agent, headers: { authorization: auth, 'content-type': 'application/json' } },
            (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode!));
            },
          );
          req.on('error', reject);
          req.end(body);
        });
      expect(await post('Bearer sk-gw-wrong', big)).toBe(401);
      expect(
        await withTimeout(
          post(`Bearer ${key}`, JSON.stringify({ model: 'mock-model', messages: [{ role: 'user', content: 'x' }] })),
          5000,
          'the next request on the pooled connection',
        ),
      ).toBe(200);
      agent.destroy();
    });
  });

  describe('a client that leaves stops the upstream call', () => {
    let key: string;
    beforeAll(async () => {
      const res = await fetch(gp.url + '/admin/keys', {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}` },
        body: JSON.stringify({ name: 'leaver' }),
      });
      ({ key } = await res.json());
    });
    afterAll(() => upstream.handle((_r, res) => json(res, 200, openAiCompletion('from upstream'))));

    /** An upstream that starts answering (or not) and never finishes; resolves when its connection closes. */
    function holdUpstream(startStream: boolean): { received: Promise<void>; closed: Promise<void> } {
      let onReceived!: () => void;
      let onClosed!: () => void;
      const received = new Promise<void>((r) => (onReceived = r));
      const closed = new Promise<void>((r) => (onClosed = r));
      upstream.handle((_r, res) => {
        res.once('close', () => onClosed());
        if (startStream) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          for (const c of openAiChunks(['first']).slice(0, 2)) res.write(`data: ${JSON.stringify(c)}\n\n`);
        }
        onReceived();
      });
      return { received, closed };
    }

    function openRequest(stream: boolean, onFirstData?: (req: ReturnType<typeof httpRequest>) => void) {
      const req = httpRequest(
        gp.url + '/v1/chat/completions',
        { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } },
        (res) => {
          res.once('data', () => onFirstData?.(req));
        },
      );
      req.on('error', () => undefined);
      req.end(JSON.stringify({ model: 'up-model', stream, messages: [{ role: 'user', content: 'hi' }] }));
      return req;
    }

    test('mid-stream: the upstream sees its connection close', async () => {
      const up = holdUpstream(true);
      let gotFirst = false;
      openRequest(true, (req) => {
        gotFirst = true;
        req.destroy();
      });
      await withTimeout(up.closed, 5000, 'the upstream connection to close');
      expect(gotFirst).toBe(true);
    });

    test('before the first byte of a JSON answer: the upstream sees its connection close', async () => {
      const up = holdUpstream(false);
      const req = openRequest(false);
      await withTimeout(up.received, 5000, 'the upstream to receive the request');
      req.destroy();
      await withTimeout(up.closed, 5000, 'the upstream connection to close');
    });
  });

  test('GATEWAY_ADMIN_TOKEN is honoured: the banner does not print it, and no token file is written', async () => {
    const other = mkdtempSync(join(tmpdir(), 'gw-process-t-'));
    const token = 'env-admin-token-' + 'q'.repeat(24);
    const second = await startGatewayProcess({ PORT: '0', GATEWAY_DATA_DIR: other, GATEWAY_ADMIN_TOKEN: token });
    try {
      expect(second.stdout()).toContain('admin token: from GATEWAY_ADMIN_TOKEN');
      expect(second.stdout()).not.toContain(token);
      expect(existsSync(join(other, 'admin-token'))).toBe(false);
      const ok = await fetch(second.url + '/admin/keys', { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect((await fetch(second.url + '/admin/keys', { headers: { authorization: `Bearer ${adminToken}` } })).status).toBe(401);
    } finally {
      expect(await second.stop('SIGTERM')).toBe(0);
      rmSync(other, { recursive: true, force: true });
    }
  });

  test('a second gateway on the same port fails at once with a clear message and exit code 1', async () => {
    const other = mkdtempSync(join(tmpdir(), 'gw-process-b-'));
    try {
      const res = await runCli(['dev'], { PORT: new URL(gp.url).port, GATEWAY_DATA_DIR: other }, 20_000);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(`cannot listen on 127.0.0.1:${new URL(gp.url).port}: the port is in use`);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  test('a second gateway on the same data dir is refused with a clear message and exit code 1', async () => {
    expect(readFileSync(join(dataDir, 'gateway.pid'), 'utf8')).toBe(String(gp.proc.pid));
    const res = await runCli(['dev'], { PORT: '0', GATEWAY_DATA_DIR: dataDir, GATEWAY_CONFIG: configPath }, 20_000);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`another gateway (pid ${gp.proc.pid}) is using ${dataDir}`);
    expect((await fetch(gp.url + '/health')).status).toBe(200); // the first one is untouched
  });

  test('a stale pid file (its process is gone) does not block start-up', async () => {
    const other = mkdtempSync(join(tmpdir(), 'gw-process-s-'));
    writeFileSync(join(other, 'gateway.pid'), '2147483646'); // no such process
    const third = await startGatewayProcess({ PORT: '0', GATEWAY_DATA_DIR: other });
    try {
      expect(readFileSync(join(other, 'gateway.pid'), 'utf8')).toBe(String(third.proc.pid));
    } finally {
      expect(await third.stop('SIGTERM')).toBe(0);
      expect(existsSync(join(other, 'gateway.pid'))).toBe(false); // released on a clean shutdown
      rmSync(other, { recursive: true, force: true });
    }
  });

  test('a config error stops start-up with exit code 1, naming the field', async () => {
    const bad = join(dataDir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ providers: { groq: { type: 'openai-compatible', preset: 'grok' } } }));
    const res = await runCli(['dev'], { PORT: '0', GATEWAY_DATA_DIR: join(dataDir, 'unused'), GATEWAY_CONFIG: bad });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("providers.groq.preset 'grok' is not a known preset");
  });

  test('SIGTERM with a stream in flight exits 0 promptly; a restart on the same data dir keeps keys and token; SIGINT exits 0', async () => {
    const [keep, gone, rotated] = (
      await Promise.all(['survivor', 'revoked-before-restart', 'rotated'].map((name) => cli('keys', 'create', '--name', name, '--json')))
    ).map((r) => JSON.parse(r.stdout));
    const [, rotation] = await Promise.all([cli('keys', 'revoke', gone.id), cli('keys', 'rotate', rotated.id, '--grace-seconds', '3600', '--json')]);
    const rot = JSON.parse(rotation.stdout);

    // A stream the upstream never finishes: shutdown must not wait for it.
    upstream.handle((_r, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const c of openAiChunks(['x']).slice(0, 2)) res.write(`data: ${JSON.stringify(c)}\n\n`);
    });
    const streaming = new Promise<void>((resolve) => {
      const req = httpRequest(
        gp.url + '/v1/chat/completions',
        { method: 'POST', headers: { authorization: `Bearer ${keep.key}`, 'content-type': 'application/json' } },
        (res) => res.once('data', () => resolve()),
      );
      req.on('error', () => undefined);
      req.end(JSON.stringify({ model: 'up-model', stream: true, messages: [{ role: 'user', content: 'hi' }] }));
    });
    await withTimeout(streaming, 5000, 'the stream to start');

    // The stream never ends upstream: waiting for it would never exit.
    expect(await withTimeout(gp.stop('SIGTERM'), 10_000, 'exit after SIGTERM')).toBe(0);
    expect(gp.stdout()).toContain('SIGTERM: shutting down');
    upstream.handle((_r, res) => json(res, 200, openAiCompletion('from upstream')));

    const oldUrl = gp.url;
    gp = await startGatewayProcess(env());
    expect(gp.url).not.toBe(oldUrl); // PORT=0: a fresh port, same data
    expect(readFileSync(join(dataDir, 'admin-token'), 'utf8').trim()).toBe(adminToken);
    expect(gp.stdout()).toContain(adminToken);
    expect((await chat(keep.key)).status).toBe(200);
    expect((await chat(gone.key)).status).toBe(403);
    expect((await chat(rotated.key)).status).toBe(200); // grace period survives the restart
    expect((await chat(rot.key)).status).toBe(200);
    const list = JSON.parse((await cli('keys', 'list', '--json')).stdout) as Array<{ id: string }>;
    expect(list.map((r) => r.id)).toEqual(expect.arrayContaining([keep.id, gone.id, rotated.id]));
    // The request log of the first run is still there after the restart.
    expect(readdirSync(join(dataDir, 'logs'), { recursive: true, encoding: 'utf8' }).some((f) => f.endsWith('.jsonl'))).toBe(true);

    expect(await withTimeout(gp.stop('SIGINT'), 10_000, 'exit after SIGINT')).toBe(0);
    expect(gp.stdout()).toContain('SIGINT: shutting down');
  });
});
