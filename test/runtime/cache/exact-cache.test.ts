/**
 * The exact response cache, live on the request path (ARCHITECTURE §13): the local gateway on
 * dynalite, a fake OpenAI upstream on 127.0.0.1 that counts its calls, and the official openai
 * client. A hit calls no provider and is replayed in the mode the client asked for (a stream from
 * a JSON answer and the reverse) with the original text and usage; only complete answers are
 * stored; entries never cross scopes; the request's directives are obeyed; a failing store is a
 * bypass, never an error.
 */
import OpenAI from 'openai';
import type { ServerResponse } from 'node:http';
import type { GatewayConfig } from '../../../lambda/core/config';
import { DynamoCacheStore } from '../../../lambda/stores/dynamo-cache-store';
import { createDynamoClient } from '../../../lambda/stores/dynamo-client';
import { type FakeUpstream, json, openAiChunks, openAiCompletion, startFakeUpstream, writeSse } from '../../helpers/fake-upstream';
import { type TestGateway, startTestGateway } from '../../helpers/gateway';
import { readChatStream } from '../../helpers/openai-harness';
import { CapturingLogSink } from '../routing/harness';

const USAGE = { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 };
const ANSWER = 'The contract binds both parties to deliver widgets by March, with penalties for delay.';

function config(upstreamUrl: string): GatewayConfig {
  return {
    providers: { up: { type: 'openai', baseUrl: `${upstreamUrl}/v1`, apiKey: { env: 'UP_KEY' } } },
    models: {
      chat: { targets: [{ provider: 'up', model: 'gpt-4o' }] },
      'per-key': { targets: [{ provider: 'up', model: 'gpt-4o' }], cache: { mode: 'exact', scope: 'key' } },
      shared: { targets: [{ provider: 'up', model: 'gpt-4o' }], cache: { mode: 'exact', scope: 'gateway' } },
      uncached: { targets: [{ provider: 'up', model: 'gpt-4o' }], cache: { mode: 'off' } },
      short: { targets: [{ provider: 'up', model: 'gpt-4o' }], cache: { mode: 'exact', ttlSeconds: 60 } },
    },
    // $1000 per million tokens: a visible cost per answer.
    pricing: { 'gpt-4o': { input: 1000, output: 1000 } },
    cache: { mode: 'exact' },
  };
}

/** The upstream answers JSON or SSE as asked, with ANSWER and USAGE. */
function answerAsAsked(r: { body: any }, res: ServerResponse) {
  if (r.body?.stream) writeSse(res, openAiChunks(ANSWER.split(/(?<= )/), 'gpt-4o', r.body.stream_options?.include_usage ? USAGE : undefined));
  else json(res, 200, openAiCompletion(ANSWER, 'gpt-4o', USAGE));
}

let upstream: FakeUpstream;
let gw: TestGateway;
let logs: CapturingLogSink;
let clock = Date.UTC(2026, 11, 1, 10, 0, 0);
let teamA1: string;
let teamA2: string;
let teamB: string;
let loner: string;

beforeAll(async () => {
  upstream = await startFakeUpstream(answerAsAsked);
  logs = new CapturingLogSink();
  gw = await startTestGateway(config(upstream.url), { env: { UP_KEY: 'sk-up' }, overrides: { logSink: logs, now: () => clock } });
  teamA1 = (await gw.createKey({ name: 'a1', team: 'alpha' })).key;
  teamA2 = (await gw.createKey({ name: 'a2', team: 'alpha' })).key;
  teamB = (await gw.createKey({ name: 'b', team: 'beta' })).key;
  loner = (await gw.createKey({ name: 'loner' })).key;
});
afterAll(async () => {
  await gw.close();
  await upstream.close();
});
beforeEach(() => upstream.handle(answerAsAsked));

const client = (key: string) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
let n = 0;
/** A question no other test asks, so each test starts with an empty cache for it. */
const fresh = (label: string) => `${label} #${++n}: summarize the contract`;
const ask = (model: string, content: string) => ({ model, messages: [{ role: 'user' as const, content }] });

async function chatJson(key: string, body: OpenAI.ChatCompletionCreateParamsNonStreaming, headers: Record<string, string> = {}) {
  const { data, response } = await client(key).chat.completions.create(body, { headers }).withResponse();
  // Stored in the background: wait for it, so the next request sees the entry.
  await gw.gateway.flush();
  return { data, cache: response.headers.get('x-gateway-cache'), requestId: response.headers.get('x-request-id')! };
}

describe('exact cache on /v1/chat/completions', () => {
  test('a repeated JSON request is a hit: no provider call, the same answer and usage, cost 0 and the saving logged', async () => {
    const body = ask('chat', fresh('json'));
    const first = await chatJson(teamA1, body);
    expect(first.cache).toBe('miss');
    const calls = upstream.received.length;
    const second = await chatJson(teamA1, body);
    expect(second.cache).toBe('hit');
    expect(upstream.received.length).toBe(calls);
    expect(second.data.choices[0].message.content).toBe(ANSWER);
    expect(second.data.usage).toEqual(first.data.usage);
    const missRecord = await logs.record(first.requestId);
    const hitRecord = await logs.record(second.requestId);
    expect(missRecord.cache).toBe('miss');
    expect(missRecord.cost_usd).toBeCloseTo(0.021, 8);
    expect(hitRecord).toMatchObject({
      cache: 'hit',
      cost_usd: 0,
      cache_saved_usd: missRecord.cost_usd,
      prompt_tokens: 0,
      completion_tokens: 0,
      provider: 'up',
    });
  });

  test('a streamed request is served from an entry a JSON request made, as several chunks with the original text and usage', async () => {
    const body = ask('chat', fresh('json-then-stream'));
    await chatJson(teamA1, body);
    const calls = upstream.received.length;
    const { data: stream, response } = await client(teamA1)
      .chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } })
      .withResponse();
    expect(response.headers.get('x-gateway-cache')).toBe('hit');
    let usage: OpenAI.CompletionUsage | undefined;
    let chunks = 0;
    let text = '';
    for await (const c of stream) {
      chunks++;
      text += c.choices[0]?.delta?.content ?? '';
      if (c.usage) usage = c.usage;
    }
    expect(upstream.received.length).toBe(calls);
    expect(text).toBe(ANSWER);
    expect(chunks).toBeGreaterThan(3);
    expect(usage).toMatchObject(USAGE);
  });

  test('a JSON request is served from an entry a completed stream made, with the usage the stream delivered', async () => {
    const body = ask('chat', fresh('stream-then-json'));
    const stream = await client(teamA1).chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
    expect((await readChatStream(stream)).content).toBe(ANSWER);
    await gw.gateway.flush();
    const calls = upstream.received.length;
    const hit = await chatJson(teamA1, body);
    expect(hit.cache).toBe('hit');
    expect(upstream.received.length).toBe(calls);
    expect(hit.data.choices[0].message.content).toBe(ANSWER);
    expect(hit.data.choices[0].finish_reason).toBe('stop');
    expect(hit.data.usage).toMatchObject(USAGE);
  });

  test('stream, stream_options, user and metadata do not change the key; sampling parameters do', async () => {
    const body = ask('chat', fresh('shaping'));
    await chatJson(teamA1, body);
    expect((await chatJson(teamA1, { ...body, user: 'someone' })).cache).toBe('hit');
    expect((await chatJson(teamA1, { ...body, temperature: 0.2 })).cache).toBe('miss');
    expect((await chatJson(teamA1, { ...body, max_tokens: 50 })).cache).toBe('miss');
  });

  test('a stream cut before its end is never stored: the next identical request calls the provider', async () => {
    const content = fresh('cut');
    upstream.handle((_r, res) => writeSse(res, openAiChunks(['Half ', 'an ', 'answer']).slice(0, 3), { done: false }));
    const res = await gw.post('/v1/chat/completions', { ...ask('chat', content), stream: true }, teamA1);
    const text = await res.text();
    expect(text).not.toContain('data: [DONE]');
    expect(text).toContain('upstream_cut');
    await gw.gateway.flush();
    upstream.handle(answerAsAsked);
    const calls = upstream.received.length;
    const after = await chatJson(teamA1, ask('chat', content));
    expect(after.cache).toBe('miss');
    expect(upstream.received.length).toBe(calls + 1);
  });

  test('an upstream error is never stored', async () => {
    const content = fresh('error');
    upstream.handle((_r, res) => json(res, 400, { error: { message: 'bad', type: 'invalid_request_error', code: null, param: null } }));
    const res = await gw.post('/v1/chat/completions', ask('chat', content), teamA1);
    expect(res.status).toBe(400);
    await gw.gateway.flush();
    upstream.handle(answerAsAsked);
    expect((await chatJson(teamA1, ask('chat', content))).cache).toBe('miss');
  });
});

describe('scopes', () => {
  test('team (the default): keys of one team share entries, another team and a key without a team never see them', async () => {
    const body = ask('chat', fresh('team'));
    await chatJson(teamA1, body);
    expect((await chatJson(teamA2, body)).cache).toBe('hit');
    expect((await chatJson(teamB, body)).cache).toBe('miss');
    expect((await chatJson(loner, body)).cache).toBe('miss');
    // The key without a team is a scope of its own: its entry now serves it, and it alone.
    expect((await chatJson(loner, body)).cache).toBe('hit');
  });

  test('key: even a teammate does not see another key’s entry', async () => {
    const body = ask('per-key', fresh('key-scope'));
    await chatJson(teamA1, body);
    expect((await chatJson(teamA2, body)).cache).toBe('miss');
    expect((await chatJson(teamA1, body)).cache).toBe('hit');
  });

  test('gateway: every key shares the route’s entries', async () => {
    const body = ask('shared', fresh('gateway-scope'));
    await chatJson(teamA1, body);
    expect((await chatJson(teamB, body)).cache).toBe('hit');
    expect((await chatJson(loner, body)).cache).toBe('hit');
  });
});

describe('directives, TTL and off', () => {
  test('no-cache skips the lookup but stores the answer; no-store does neither', async () => {
    const body = ask('chat', fresh('directives'));
    await chatJson(teamA1, body);
    const calls = upstream.received.length;
    const skipped = await chatJson(teamA1, body, { 'x-gateway-cache': 'no-cache' });
    expect(skipped.cache).toBe('bypass');
    expect(upstream.received.length).toBe(calls + 1);

    const other = ask('chat', fresh('no-store'));
    expect((await chatJson(teamA1, other, { 'x-gateway-cache': 'no-store' })).cache).toBe('bypass');
    expect((await chatJson(teamA1, other)).cache).toBe('miss');
  });

  test('a malformed directive is a 400 naming the header', async () => {
    const res = await gw.post('/v1/chat/completions', ask('chat', fresh('bad')), teamA1, { 'x-gateway-cache': 'sometimes' });
    expect(res.status).toBe(400);
    expect((await res.json()).error.param).toBe('x-gateway-cache');
    const ttl = await gw.post('/v1/chat/completions', ask('chat', fresh('bad')), teamA1, { 'x-gateway-cache-ttl': 'soon' });
    expect(ttl.status).toBe(400);
  });

  test('an entry is served within its TTL and not after; x-gateway-cache-ttl shortens it but cannot lengthen it', async () => {
    const body = ask('short', fresh('ttl'));
    await chatJson(teamA1, body, { 'x-gateway-cache-ttl': '100000' }); // capped at the route's 60 s
    clock += 59_000;
    expect((await chatJson(teamA1, body)).cache).toBe('hit');
    clock += 2_000;
    expect((await chatJson(teamA1, body)).cache).toBe('miss');

    const shorter = ask('chat', fresh('ttl-header'));
    await chatJson(teamA1, shorter, { 'x-gateway-cache-ttl': '10' });
    clock += 9_000;
    expect((await chatJson(teamA1, shorter)).cache).toBe('hit');
    clock += 2_000;
    expect((await chatJson(teamA1, shorter)).cache).toBe('miss');
  });

  test('a route with the cache off answers x-gateway-cache: off and never stores', async () => {
    const body = ask('uncached', fresh('off'));
    expect((await chatJson(teamA1, body)).cache).toBe('off');
    const calls = upstream.received.length;
    expect((await chatJson(teamA1, body)).cache).toBe('off');
    expect(upstream.received.length).toBe(calls + 1);
  });
});

describe('a failing store is a bypass', () => {
  test('a store that refuses connections: the request is served uncached, logged with cache_error, never a 5xx', async () => {
    const failingLogs = new CapturingLogSink();
    const dead = createDynamoClient({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', maxAttempts: 1 });
    const broken = await startTestGateway(config(upstream.url), {
      env: { UP_KEY: 'sk-up' },
      overrides: { logSink: failingLogs, cache: { store: new DynamoCacheStore({ client: dead, tableName: 'gone' }) } },
    });
    try {
      const { key } = await broken.createKey({ name: 'k' });
      const res = await broken.post('/v1/chat/completions', ask('chat', 'is anyone there?'), key);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-gateway-cache')).toBe('bypass');
      expect((await res.json()).choices[0].message.content).toBe(ANSWER);
      const record = await failingLogs.record(res.headers.get('x-request-id')!);
      expect(record).toMatchObject({ status: 200, cache: 'bypass', cache_error: 'store_unavailable' });
      await broken.gateway.flush(); // the background store fails too, logged and swallowed
    } finally {
      dead.destroy();
      await broken.close();
    }
  });
});
