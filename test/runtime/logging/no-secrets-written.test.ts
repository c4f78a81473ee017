/**
 * Nothing leaked: the local gateway runs as a child process (as `ai-gateway dev` does), with a
 * persisted dynalite store and debug logging, and serves a mix of requests — successes, streams,
 * fallbacks, upstream errors that echo the provider credential, bad keys, a virtual key pasted
 * into a prompt. Afterwards EVERYTHING it wrote (stdout, stderr, every file under the data dir:
 * JSONL logs, the store's files) is scanned for the provider keys and every virtual key used.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { json, openAiChunks, openAiCompletion, startFakeUpstream, type FakeUpstream, writeSse } from '../../helpers/fake-upstream';
import { readLogRecords } from './log-capture';

const ROOT = join(__dirname, '../../..');
const OPENAI_STYLE_KEY = 'sk-proj-' + 'LeakCanary0penAiStyleKey1234567890abcd';
const HEX_STYLE_KEY = 'f3a9c2' + '7be41d9a0c55e6f7a8b9c0d1e2f3a4b5'; // Azure-style: nothing marks it as a secret but the gateway's own knowledge
const ADMIN_TOKEN = 'leak-test-admin-token-0123456789';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** Where each needle occurs, among the named blobs. */
function occurrences(blobs: Record<string, Buffer>, needles: string[]): string[] {
  const hits: string[] = [];
  for (const [name, data] of Object.entries(blobs)) for (const n of needles) if (data.includes(Buffer.from(n))) hits.push(`${n.slice(0, 12)}… in ${name}`);
  return hits;
}

interface Child {
  url: string;
  stdout: string[];
  stderr: string[];
  stop(): Promise<void>;
}

async function startGatewayProcess(dataDir: string, configPath: string): Promise<Child> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const proc: ChildProcess = spawn(process.execPath, ['-r', '@swc-node/register', join(ROOT, 'bin/ai-gateway.ts'), 'dev'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      PORT: '0',
      GATEWAY_DATA_DIR: dataDir,
      GATEWAY_CONFIG: configPath,
      GATEWAY_LOG_LEVEL: 'debug',
      GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN,
      OPENAI_STYLE_KEY,
      HEX_STYLE_KEY,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.stderr!.on('data', (d) => stderr.push(String(d)));
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (d) => {
      stdout.push(String(d));
      const m = /listening on (http:\/\/\S+)/.exec(stdout.join(''));
      if (m) resolve(m[1]);
    });
    proc.once('exit', (code) => reject(new Error(`gateway exited (${code}) before listening: ${stderr.join('')}`)));
  });
  return {
    url,
    stdout,
    stderr,
    async stop() {
      proc.kill('SIGTERM'); // the dev server flushes its log sink on SIGTERM
      await exited;
    },
  };
}

describe('the gateway writes no provider key and no virtual key anywhere', () => {
  let upstream: FakeUpstream;
  let dataDir: string;
  let configPath: string;
  let child: Child;
  const virtualKeys: string[] = [];

  beforeAll(async () => {
    upstream = await startFakeUpstream((req, res) => {
      const auth = String(req.headers.authorization ?? req.headers['api-key'] ?? '');
      const model = req.body?.model;
      // Hostile upstreams: error messages that echo the credential the gateway sent.
      if (model === 'echo-401')
        return json(res, 401, { error: { message: `Incorrect API key provided: ${auth}`, type: 'invalid_request_error', code: 'invalid_api_key' } });
      if (model === 'echo-500') return json(res, 500, { error: { message: `internal error for ${auth}`, type: 'server_error' } });
      if (req.body?.stream) return writeSse(res, openAiChunks(['streamed ', 'answer'], model, { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 }));
      return json(res, 200, openAiCompletion(`answer from ${model}`, model));
    });
    dataDir = mkdtempSync(join(tmpdir(), 'gw-leak-'));
    // Beside the data dir, not in it: the scan covers what the gateway wrote, not its input.
    configPath = `${dataDir}-config.json`;
    writeFileSync(
      configPath,
      JSON.stringify({
        providers: {
          openaiish: { type: 'openai-compatible', baseUrl: `${upstream.url}/v1`, apiKey: { env: 'OPENAI_STYLE_KEY' } },
          hexish: { type: 'openai-compatible', baseUrl: `${upstream.url}/v1`, apiKey: { env: 'HEX_STYLE_KEY' } },
        },
        models: {
          'gpt-4o': { targets: [{ provider: 'openaiish', model: 'gpt-4o' }] },
          'leaky-fallback': {
            targets: [
              { provider: 'openaiish', model: 'echo-401' },
              { provider: 'hexish', model: 'echo-500' },
              { provider: 'hexish', model: 'echo-401' },
              { provider: 'hexish', model: 'gpt-4o' },
            ],
          },
          'leaky-fail': {
            targets: [
              { provider: 'openaiish', model: 'echo-500' },
              { provider: 'hexish', model: 'echo-500' },
            ],
          },
        },
      }),
    );
    child = await startGatewayProcess(dataDir, configPath);
  }, 30_000);

  afterAll(async () => {
    await child?.stop();
    await upstream.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(configPath, { force: true });
  });

  test('a mixed run leaves no key in stdout, stderr, logs or store', async () => {
    const admin = (path: string, body: unknown) =>
      fetch(child.url + path, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<{ key: string; id: string }>);
    const full = await admin('/admin/keys', { name: 'full', logging: 'full' });
    const redacted = await admin('/admin/keys', { name: 'redacted', logging: 'redacted' });
    const metadata = await admin('/admin/keys', { name: 'metadata', logging: 'metadata' });
    const rotated = await admin(`/admin/keys/${metadata.id}/rotate`, { gracePeriodSeconds: 300 });
    const bogus = 'sk-gw-' + 'NeverIssuedKey_abcdefghijklmnopqrstuvwxyz012';
    virtualKeys.push(full.key, redacted.key, metadata.key, rotated.key, bogus);
    expect(virtualKeys.every((k) => k?.startsWith('sk-gw-'))).toBe(true);

    const chat = (key: string, body: Record<string, unknown>, header = 'authorization') =>
      fetch(child.url + '/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', [header]: header === 'authorization' ? `Bearer ${key}` : key },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, text: await r.text() }));
    const ask = (content: string) => [{ role: 'user', content }];
    const results = [
      await chat(full.key, { model: 'gpt-4o', messages: ask('my email is eve@example.com') }),
      await chat(full.key, { model: 'gpt-4o', stream: true, messages: ask('stream please') }),
      // A user pastes their own virtual key and a provider key into a prompt, under the 'full' policy.
      await chat(full.key, { model: 'gpt-4o', messages: ask(`debug: my key is ${full.key} and theirs is ${OPENAI_STYLE_KEY}`) }),
      await chat(redacted.key, { model: 'leaky-fallback', messages: ask('fallback through hostile upstreams') }),
      await chat(redacted.key, { model: 'leaky-fail', messages: ask('every target fails') }),
      await chat(metadata.key, { model: 'gpt-4o', messages: ask('old key, in its grace period') }),
      await chat(rotated.key, { model: 'gpt-4o', messages: ask('new key') }, 'x-api-key'),
      await chat(bogus, { model: 'gpt-4o', messages: ask('unknown key') }),
      await chat(bogus, { model: 'gpt-4o', messages: ask('unknown key, other header') }, 'api-key'),
      await chat(`${full.key}x`, { model: 'gpt-4o', messages: ask('mangled key') }),
    ];
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 502, 200, 200, 401, 401, 401]);
    // The client-facing error of the failed route carries no credential either.
    expect(occurrences({ responses: Buffer.from(results.map((r) => r.text).join('\n')) }, [OPENAI_STYLE_KEY, HEX_STYLE_KEY])).toEqual([]);

    await child.stop();

    const files = filesUnder(dataDir);
    const blobs: Record<string, Buffer> = { stdout: Buffer.from(child.stdout.join('')), stderr: Buffer.from(child.stderr.join('')) };
    for (const f of files) blobs[f.slice(dataDir.length + 1)] = readFileSync(f);

    // The scan really covers what was written: records for all ten requests, the store's files, debug output.
    const records = readLogRecords(join(dataDir, 'logs'));
    expect(records).toHaveLength(results.length);
    expect(files.some((f) => f.includes(`${join(dataDir, 'db')}`))).toBe(true);
    // Debug output: one access line per request, each carrying its upstream attempts and their
    // (scrubbed) errors, which is where an echoed credential would surface.
    const debugLines = child.stderr
      .join('')
      .split('\n')
      .filter((l) => l.startsWith('{')) // the logger's JSON lines (a runtime warning would be plain text)
      .map((l) => JSON.parse(l) as { level: string; message: string; model?: string; attempts?: { error?: string }[] });
    const accessLines = debugLines.filter((l) => l.level === 'debug' && l.message === 'request');
    expect(accessLines).toHaveLength(results.length);
    const fallbackLine = accessLines.find((l) => l.model === 'leaky-fallback')!;
    expect(fallbackLine.attempts!.filter((a) => a.error).length).toBeGreaterThanOrEqual(3);
    // …and would find a needle: the 'full' policy keeps personal data, so the scanner must see this email.
    expect(occurrences(blobs, ['eve@example.com']).length).toBeGreaterThan(0);
    // Upstream failures were recorded, with their (scrubbed) messages.
    const fallback = records.find((r) => r.requested_model === 'leaky-fallback')!;
    expect(JSON.parse(fallback.attempts).length).toBeGreaterThanOrEqual(4);

    expect(occurrences(blobs, [OPENAI_STYLE_KEY, HEX_STYLE_KEY, ...virtualKeys])).toEqual([]);
  }, 30_000);
});
