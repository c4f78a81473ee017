/**
 * The response cache live beyond the exact chat path (ARCHITECTURE §13): the semantic cache
 * (paraphrases served within their scope and conversation, the mock's lexical embeddings through
 * the gateway's own embeddings route), tool-call answers exact only, a failing embeddings route a
 * bypass; /v1/messages replayed to the official Anthropic client; /v1/embeddings; a hit costing
 * one request and no tokens against the key's limits; concurrent identical misses sharing one
 * provider call; and the admin purge.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { ServerResponse } from 'node:http';
import type { CacheEntry, CachePurgeFilter, CacheStore } from '../../../lambda/core/cache/ports';
import type { GatewayConfig } from '../../../lambda/core/config';
import { DynamoCacheStore } from '../../../lambda/stores/dynamo-cache-store';
import { type FakeUpstream, type ReceivedRequest, json, openAiChunks, openAiCompletion, startFakeUpstream, writeSse } from '../../helpers/fake-upstream';
import { ADMIN_TOKEN, type TestGateway, startTestGateway } from '../../helpers/gateway';
import { CapturingLogSink } from '../routing/harness';
import type * as Cli from '../../../bin/ai-gateway';
// The .ts source by name: bin/ai-gateway.js beside it is the launcher, which jest would pick first.
const { main } = require('../../../bin/ai-gateway.ts') as typeof Cli;

const USAGE = { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 };
const ANSWER = 'Widgets by March; penalties apply for late delivery.';
const TOOL_ANSWER = {
  ...openAiCompletion('', 'gpt-4o', USAGE),
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        refusal: null,
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"doc":"contract"}' } }],
      },
      finish_reason: 'tool_calls',
      logprobs: null,
    },
  ],
};

function config(upstreamUrl: string): GatewayConfig {
  const up = (model: string) => ({ targets: [{ provider: 'up', model }] });
  return {
    providers: { up: { type: 'openai', baseUrl: `${upstreamUrl}/v1`, apiKey: { env: 'UP_KEY' } }, mock: { type: 'mock' } },
    models: {
      chat: { ...up('gpt-4o'), cache: { mode: 'semantic', semantic: { embeddingModel: 'embed' } } },
      'semantic-broken': { ...up('gpt-4o'), cache: { mode: 'semantic', semantic: { embeddingModel: 'broken-embed' } } },
      exact: up('gpt-4o'),
      mocked: { targets: [{ provider: 'mock', model: 'mock-model' }] },
      embed: { targets: [{ provider: 'mock', model: 'mock-embed' }] },
      'broken-embed': up('text-embedding-3-small'),
      'text-embedding-3-small': up('text-embedding-3-small'),
    },
    pricing: { 'gpt-4o': { input: 1000, output: 1000 } },
    cache: { mode: 'exact' },
  };
}

const chatCalls = (u: FakeUpstream) => u.received.filter((r) => r.path.endsWith('/chat/completions')).length;

function answer(r: ReceivedRequest, res: ServerResponse) {
  if (r.path.endsWith('/embeddings')) {
    // What the semantic-broken route's embeddings call sends: a provider error.
    if (r.body?.input === 'fail me') return json(res, 500, { error: { message: 'down', type: 'server_error' } });
    return json(res, 200, {
      object: 'list',
      model: 'text-embedding-3-small',
      data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2, 0.3] }],
      usage: { prompt_tokens: 4, total_tokens: 4 },
    });
  }
  if (r.body?.tools) return json(res, 200, TOOL_ANSWER);
  if (r.body?.stream) return writeSse(res, openAiChunks(ANSWER.split(/(?<= )/), 'gpt-4o', r.body.stream_options?.include_usage ? USAGE : undefined));
  json(res, 200, openAiCompletion(ANSWER, 'gpt-4o', USAGE));
}

let upstream: FakeUpstream;
let gw: TestGateway;
let logs: CapturingLogSink;
let alpha: string;
let alpha2: string;
let beta: string;
let alphaId: string;

beforeAll(async () => {
  upstream = await startFakeUpstream(answer);
  logs = new CapturingLogSink();
  gw = await startTestGateway(config(upstream.url), { env: { UP_KEY: 'sk-up' }, overrides: { logSink: logs } });
  const a = await gw.createKey({ name: 'alpha', team: 'alpha' });
  alpha = a.key;
  alphaId = a.id;
  alpha2 = (await gw.createKey({ name: 'alpha2', team: 'alpha' })).key;
  beta = (await gw.createKey({ name: 'beta', team: 'beta' })).key;
});
afterAll(async () => {
  await gw.close();
  await upstream.close();
});

const openai = (key: string) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });

async function chat(key: string, body: OpenAI.ChatCompletionCreateParamsNonStreaming) {
  const { data, response } = await openai(key).chat.completions.create(body, {}).withResponse();
  await gw.gateway.flush();
  return {
    data,
    cache: response.headers.get('x-gateway-cache'),
    similarity: response.headers.get('x-gateway-cache-similarity'),
    requestId: response.headers.get('x-request-id')!,
  };
}

let n = 0;
const subject = () => `contract ${++n}`;
const user = (content: string) => ({ role: 'user' as const, content });

describe('semantic cache', () => {
  test('a paraphrase in the same scope and conversation is a semantic hit with its similarity, calling no chat provider', async () => {
    const s = subject();
    await chat(alpha, { model: 'chat', messages: [user(`Summarize this ${s}`)] });
    const calls = chatCalls(upstream);
    const hit = await chat(alpha2, { model: 'chat', messages: [user(`Give me a summary of this ${s}, please`)] });
    expect(hit.cache).toBe('semantic-hit');
    expect(Number(hit.similarity)).toBeGreaterThanOrEqual(0.95);
    expect(chatCalls(upstream)).toBe(calls);
    expect(hit.data.choices[0].message.content).toBe(ANSWER);
    const record = await logs.record(hit.requestId);
    expect(record).toMatchObject({ cache: 'semantic-hit', cost_usd: 0 });
    expect(record.cache_similarity).toBeCloseTo(Number(hit.similarity), 3);
    expect(record.cache_saved_usd).toBeGreaterThan(0);
  });

  test('another team never gets the entry, not even semantically', async () => {
    const s = subject();
    await chat(alpha, { model: 'chat', messages: [user(`Summarize this ${s}`)] });
    const other = await chat(beta, { model: 'chat', messages: [user(`Give me a summary of this ${s}`)] });
    expect(other.cache).toBe('miss');
    expect(other.similarity).toBeNull();
  });

  test('a different system prompt is a different conversation: no semantic hit', async () => {
    const s = subject();
    await chat(alpha, { model: 'chat', messages: [{ role: 'system', content: 'Be terse.' }, user(`Summarize this ${s}`)] });
    const other = await chat(alpha, { model: 'chat', messages: [{ role: 'system', content: 'Be verbose.' }, user(`Summarize this ${s}`)] });
    expect(other.cache).toBe('miss');
  });

  test('an unrelated question is a miss', async () => {
    const s = subject();
    await chat(alpha, { model: 'chat', messages: [user(`Summarize this ${s}`)] });
    expect((await chat(alpha, { model: 'chat', messages: [user(`Translate the ${s} into French`)] })).cache).toBe('miss');
  });

  test('an answer that calls tools is served exactly only, never to a paraphrase', async () => {
    const s = subject();
    const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }];
    await chat(alpha, { model: 'chat', tools, messages: [user(`Summarize this ${s}`)] });
    expect((await chat(alpha, { model: 'chat', tools, messages: [user(`Give me a summary of this ${s}`)] })).cache).toBe('miss');
    const exact = await chat(alpha, { model: 'chat', tools, messages: [user(`Summarize this ${s}`)] });
    expect(exact.cache).toBe('hit');
    expect(exact.data.choices[0].message.tool_calls?.[0]).toMatchObject({ function: { name: 'lookup', arguments: '{"doc":"contract"}' } });
  });

  test('a failing embeddings route is a bypass: the answer is served uncached and the failure logged', async () => {
    const res = await chat(alpha, { model: 'semantic-broken', messages: [user('fail me')] });
    expect(res.cache).toBe('bypass');
    expect(res.data.choices[0].message.content).toBe(ANSWER);
    expect(await logs.record(res.requestId)).toMatchObject({ status: 200, cache: 'bypass', cache_error: 'embedding_failed' });
  });
});

describe('other endpoints', () => {
  test('/v1/messages: the official Anthropic client streams a hit made by a JSON request, with identical text and usage', async () => {
    const client = new Anthropic({ baseURL: gw.url, apiKey: alpha, maxRetries: 0 });
    const body = { model: 'exact', max_tokens: 100, messages: [user(`Summarize this ${subject()}`)] };
    const first = await client.messages.create(body);
    await gw.gateway.flush();
    const calls = chatCalls(upstream);
    const stream = client.messages.stream(body);
    const final = await stream.finalMessage();
    expect(chatCalls(upstream)).toBe(calls);
    expect(final.content).toEqual(first.content);
    expect(final.usage.output_tokens).toBe(first.usage.output_tokens);
    expect(final.usage.input_tokens).toBe(first.usage.input_tokens);
    expect(final.stop_reason).toBe(first.stop_reason);
  });

  test('/v1/responses: the openai client streams a hit made by a JSON request, with the same output text and usage', async () => {
    const body = { model: 'mocked', input: `Summarize this ${subject()}`, store: false };
    const first = await openai(alpha).responses.create(body);
    await gw.gateway.flush();
    const { data: stream, response } = await openai(alpha)
      .responses.create({ ...body, stream: true })
      .withResponse();
    expect(response.headers.get('x-gateway-cache')).toBe('hit');
    let text = '';
    let deltas = 0;
    let completed: OpenAI.Responses.Response | undefined;
    for await (const e of stream) {
      if (e.type === 'response.output_text.delta') {
        text += e.delta;
        deltas++;
      }
      if (e.type === 'response.completed') completed = e.response;
    }
    expect(first.output_text.length).toBeGreaterThan(0);
    expect(text).toBe(first.output_text);
    expect(deltas).toBeGreaterThan(1);
    expect(completed?.usage).toEqual(first.usage);
  });

  test('/v1/embeddings: a repeated request is an exact hit with the same vectors and usage', async () => {
    const input = `embed ${subject()}`;
    const first = await openai(alpha).embeddings.create({ model: 'text-embedding-3-small', input });
    await gw.gateway.flush();
    const before = upstream.received.length;
    const { data, response } = await openai(alpha).embeddings.create({ model: 'text-embedding-3-small', input, encoding_format: 'float' }).withResponse();
    // encoding_format shapes the answer, so it is part of the key: a miss; asked like the first, a hit.
    expect(response.headers.get('x-gateway-cache')).toBe('miss');
    await gw.gateway.flush();
    const again = await openai(alpha).embeddings.create({ model: 'text-embedding-3-small', input }).withResponse();
    expect(again.response.headers.get('x-gateway-cache')).toBe('hit');
    expect(upstream.received.length).toBe(before + 1);
    expect(again.data.data[0].embedding).toEqual(first.data[0].embedding);
    expect(again.data.usage).toEqual(first.usage);
    expect(data.data[0].embedding).toEqual(first.data[0].embedding);
  });
});

describe('admin purge', () => {
  test('POST /admin/cache/purge removes the entries a key made; the next identical request calls the provider', async () => {
    const body = { model: 'exact', messages: [user(`Summarize this ${subject()}`)] };
    await chat(alpha, body);
    expect((await chat(alpha, body)).cache).toBe('hit');
    const purged = await gw.admin('POST', '/admin/cache/purge', { key: alphaId });
    expect(purged.status).toBe(200);
    expect(purged.body.purged).toBeGreaterThanOrEqual(1);
    expect((await chat(alpha, body)).cache).toBe('miss');
  });

  test('by team: another team’s entries stay', async () => {
    const mine = { model: 'exact', messages: [user(`Summarize this ${subject()}`)] };
    const theirs = { model: 'exact', messages: [user(`Summarize this ${subject()}`)] };
    await chat(alpha, mine);
    await chat(beta, theirs);
    expect((await gw.admin('POST', '/admin/cache/purge', { team: 'alpha' })).status).toBe(200);
    expect((await chat(alpha, mine)).cache).toBe('miss');
    expect((await chat(beta, theirs)).cache).toBe('hit');
  });

  test('ai-gateway cache purge --model removes that model’s entries and says how many', async () => {
    const body = { model: 'exact', messages: [user(`Summarize this ${subject()}`)] };
    await chat(alpha, body);
    const lines: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
    let code: number;
    try {
      code = await main(['cache', 'purge', '--model', 'exact', '--url', gw.url, '--token', ADMIN_TOKEN, '--json']);
    } finally {
      log.mockRestore();
    }
    expect(code).toBe(0);
    expect(JSON.parse(lines.join('\n')).purged).toBeGreaterThanOrEqual(1);
    expect((await chat(alpha, body)).cache).toBe('miss');
  });

  test('an unknown field or a non-string is a 400; another method a 405; no admin credential a 401', async () => {
    expect((await gw.admin('POST', '/admin/cache/purge', { keys: 'x' })).status).toBe(400);
    expect((await gw.admin('POST', '/admin/cache/purge', { team: 3 })).status).toBe(400);
    expect((await gw.admin('GET', '/admin/cache/purge')).status).toBe(405);
    const anon = await fetch(`${gw.url}/admin/cache/purge`, { method: 'POST', body: '{}' });
    expect(anon.status).toBe(401);
    expect(ADMIN_TOKEN).toBeTruthy();
  });
});

describe('limits', () => {
  test('a hit counts one request against rpm and nothing against tpm', async () => {
    const limited = await startTestGateway(config(upstream.url), { env: { UP_KEY: 'sk-up' }, leases: { horizonMs: 0 } });
    try {
      // tpm 80: a miss settles 21 tokens; had each hit been charged as much, the fourth hit would be refused.
      const { key } = await limited.createKey({ name: 'limited', limits: { rpm: 7, tpm: 80 } });
      const body = { model: 'exact', max_tokens: 10, messages: [user('Summarize this contract')] };
      const statuses: (string | number)[] = [];
      for (let i = 0; i < 8; i++) {
        const res = await limited.post('/v1/chat/completions', body, key);
        await res.arrayBuffer();
        await limited.gateway.flush();
        statuses.push(res.status === 200 ? res.headers.get('x-gateway-cache')! : res.status);
      }
      // One miss, six hits within tpm; the eighth request is over rpm (7 a minute), hits count there.
      expect(statuses).toEqual(['miss', 'hit', 'hit', 'hit', 'hit', 'hit', 'hit', 429]);
      const usage = await limited.admin('GET', `/admin/keys/${(await limited.admin('GET', '/admin/keys')).body.data[0].id}/usage`);
      expect(JSON.stringify(usage.body.usage)).toContain('21');
    } finally {
      await limited.close();
    }
  });
});

describe('concurrent identical misses', () => {
  test('five identical JSON requests at once cost one provider call; the others are served its answer as hits', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const up = await startFakeUpstream(async (r, res) => {
      await gate;
      answer(r, res);
    });
    // Counts finished lookups, so the test releases the provider only once every request has looked up.
    const holder: { inner?: CacheStore } = {};
    let lookedUp = 0;
    let allLookedUp!: () => void;
    const lookupsDone = new Promise<void>((r) => (allLookedUp = r));
    const counting: CacheStore = {
      async get(id, now, signal) {
        const found = await holder.inner!.get(id, now, signal);
        if (++lookedUp === 5) allLookedUp();
        return found;
      },
      put: (e: CacheEntry) => holder.inner!.put(e),
      purge: (f: CachePurgeFilter) => holder.inner!.purge(f),
    };
    const burst = await startTestGateway(config(up.url), { env: { UP_KEY: 'sk-up' }, overrides: { cache: { store: counting } } });
    try {
      holder.inner = new DynamoCacheStore({ client: burst.dynamo, tableName: burst.tables.cache! });
      const { key } = await burst.createKey({ name: 'burst' });
      const body = { model: 'exact', messages: [user('Summarize this contract')] };
      const pending = Array.from({ length: 5 }, () => burst.post('/v1/chat/completions', body, key));
      await lookupsDone;
      await new Promise((r) => setImmediate(r)); // the last lookup's continuation joins the flight
      release();
      const responses = await Promise.all(pending);
      const answers = await Promise.all(responses.map(async (r) => ({ cache: r.headers.get('x-gateway-cache'), body: await r.json() })));
      expect(chatCalls(up)).toBe(1);
      expect(answers.map((a) => a.cache).sort()).toEqual(['hit', 'hit', 'hit', 'hit', 'miss']);
      for (const a of answers) expect(a.body.choices[0].message.content).toBe(ANSWER);
    } finally {
      await burst.close();
      await up.close();
    }
  });
});
