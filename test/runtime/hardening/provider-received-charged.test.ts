/**
 * Issue 12 item 2: a request the provider received is charged. Once the request went out (anything
 * but a connection never made or the provider's own error answer), the reservation settles to the
 * best estimate of what the provider bills, instead of being released.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type FakeUpstream, json, openAiCompletion, startFakeUpstream } from '../../helpers/fake-upstream';
import { type TestGateway, startTestGateway } from '../../helpers/gateway';
import { PROMPT, PROMPT_ESTIMATE, eventually, gate } from '../limits/harness';
import { readLogRecords } from '../logging/log-capture';

const CAP = 100;
let upstream: FakeUpstream;
let gw: TestGateway;
const hang = gate();

/** A port nothing listens on: connecting is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

beforeAll(async () => {
  upstream = await startFakeUpstream(async (req, res) => {
    if (req.body?.model === 'hang') await hang.opened;
    if (req.body?.model === 'broken') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"choices": [');
    if (req.body?.model === 'fails') return json(res, 500, { error: { message: 'boom', type: 'server_error' } });
    json(res, 200, openAiCompletion('ok', 'gpt-4o', { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 }));
  });
  const port = await closedPort();
  gw = await startTestGateway(
    {
      providers: {
        up: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: { env: 'UP_KEY' } },
        dead: { type: 'openai', baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: { env: 'UP_KEY' } },
      },
      models: {
        hangs: { targets: [{ provider: 'up', model: 'hang', timeouts: { totalMs: 300 } }] },
        'hangs-then-ok': {
          targets: [
            { provider: 'up', model: 'hang', timeouts: { totalMs: 300 } },
            { provider: 'up', model: 'ok' },
          ],
        },
        broken: { targets: [{ provider: 'up', model: 'broken' }] },
        fails: { targets: [{ provider: 'up', model: 'fails' }] },
        unreachable: { targets: [{ provider: 'dead', model: 'gpt-4o' }] },
      },
      settings: { cooldown: { failures: 0 } },
    },
    { env: { UP_KEY: 'sk-up' } },
  );
});
afterAll(async () => {
  hang.open();
  await gw.close();
  await upstream.close();
});

async function usageOf(id: string) {
  const res = await gw.admin('GET', `/admin/keys/${id}/usage`);
  return res.body.usage;
}

const chat = (key: string, model: string, signal?: AbortSignal) =>
  fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model, messages: PROMPT, max_tokens: CAP }),
    signal,
  });

async function recordOf(requestId: string | null) {
  await gw.gateway.flush();
  return readLogRecords(join(gw.dataDir, 'logs')).find((r) => r.request_id === requestId);
}

test('2.1: a JSON call that times out after the provider received it is charged the prompt plus the reserved cap', async () => {
  const { key, id } = await gw.createKey({ limits: { tpm: 100_000 } });
  const res = await chat(key, 'hangs');
  expect(res.status).toBe(504);
  const u = await usageOf(id);
  expect(u.inFlight).toBe(0);
  expect(u.tpm.used).toBe(PROMPT_ESTIMATE + CAP);
  expect(await recordOf(res.headers.get('x-request-id'))).toMatchObject({ status: 504, prompt_tokens: PROMPT_ESTIMATE, completion_tokens: CAP });
});

test('2.2: a client that disconnects during a JSON call the provider received is charged the prompt plus the reserved cap', async () => {
  const { key, id } = await gw.createKey({ limits: { tpm: 100_000 } });
  const before = upstream.received.length;
  const abort = new AbortController();
  const pending = chat(key, 'hangs', abort.signal).catch(() => 'aborted');
  await eventually(
    async () => upstream.received.length,
    (n) => n > before,
  );
  abort.abort();
  expect(await pending).toBe('aborted');
  const u = await eventually(
    () => usageOf(id),
    (x) => x.inFlight === 0,
  );
  expect(u.tpm.used).toBe(PROMPT_ESTIMATE + CAP);
});

test('2.3: a failed attempt the provider received is charged on top of the fallback that served', async () => {
  const { key, id } = await gw.createKey({ limits: { tpm: 100_000 } });
  const res = await chat(key, 'hangs-then-ok');
  expect(res.status).toBe(200);
  const u = await usageOf(id);
  expect(u.tpm.used).toBe(PROMPT_ESTIMATE + CAP + 18);
  expect(await recordOf(res.headers.get('x-request-id'))).toMatchObject({ status: 200, prompt_tokens: PROMPT_ESTIMATE + 11, completion_tokens: CAP + 7 });
});

test('2.4: a malformed answer (the provider worked, the gateway could not read it) is charged', async () => {
  const { key, id } = await gw.createKey({ limits: { tpm: 100_000 } });
  const res = await chat(key, 'broken');
  expect(res.status).toBe(502);
  expect((await usageOf(id)).tpm.used).toBe(PROMPT_ESTIMATE + CAP);
});

test('2.5: a connection never made and an HTTP error answer release the reservation', async () => {
  const { key, id } = await gw.createKey({ limits: { tpm: 100_000 } });
  expect((await chat(key, 'unreachable')).status).toBe(502);
  expect((await chat(key, 'fails')).status).toBe(502);
  const u = await usageOf(id);
  expect(u.tpm.used).toBe(0);
  expect(u.rpm.used).toBe(2);
  expect(u.inFlight).toBe(0);
});
