/**
 * Issue 12 item 3: the reservation is a ceiling upstream too. The output cap the gateway reserves
 * goes to every provider in its own field, so a provider cannot produce more than was reserved, a
 * budget is never exceeded by more than one request's reservation under concurrency, and a usage
 * report above the reservation is visible (log line + metric).
 */
import type { ServerResponse } from 'node:http';
import { type FakeUpstream, type ReceivedRequest, json, openAiCompletion, startFakeUpstream } from '../../helpers/fake-upstream';
import { converseAnswer, startFakeBedrock } from '../../helpers/bedrock-wire';
import { anthropicMessage } from '../../helpers/anthropic-wire';
import { type TestGateway, startTestGateway } from '../../helpers/gateway';
import { DEFAULT_OUTPUT_RESERVATION } from '../../../lambda/core/handlers/chat-completions';
import type { Logger } from '../../../lambda/core/ports';

/** What a model left uncapped produces in this test: far more than the gateway reserves. */
const RUNAWAY_OUTPUT = 50_000;
const PROMPT_TOKENS = 10;

/** The cap each provider's wire format carries, read from what the fake received. */
type CapOf = (r: ReceivedRequest) => number | undefined;

interface ProviderCase {
  readonly name: string;
  readonly capOf: CapOf;
}

const CASES: ProviderCase[] = [
  { name: 'openai', capOf: (r) => r.body?.max_completion_tokens },
  { name: 'azure', capOf: (r) => r.body?.max_completion_tokens },
  { name: 'compat', capOf: (r) => r.body?.max_tokens },
  { name: 'anthropic', capOf: (r) => r.body?.max_tokens },
  { name: 'gemini', capOf: (r) => r.body?.generationConfig?.maxOutputTokens },
  { name: 'bedrock', capOf: (r) => r.body?.inferenceConfig?.maxTokens },
];

/** Answers in the provider's format with as much output as the request allowed (or the runaway amount). */
function answer(provider: string, r: ReceivedRequest, res: ServerResponse, ignoreCap = false) {
  const out = ignoreCap ? RUNAWAY_OUTPUT : (CASES.find((c) => c.name === provider)!.capOf(r) ?? RUNAWAY_OUTPUT);
  switch (provider) {
    case 'anthropic':
      return json(res, 200, anthropicMessage([{ type: 'text', text: 'ok' }], { usage: { input_tokens: PROMPT_TOKENS, output_tokens: out } }));
    case 'gemini':
      return json(res, 200, {
        candidates: [{ index: 0, content: { role: 'model', parts: [{ text: 'ok' }] }, finishReason: 'MAX_TOKENS' }],
        usageMetadata: { promptTokenCount: PROMPT_TOKENS, candidatesTokenCount: out, totalTokenCount: PROMPT_TOKENS + out },
      });
    case 'bedrock':
      return json(
        res,
        200,
        converseAnswer([{ text: 'ok' }], 'max_tokens', { inputTokens: PROMPT_TOKENS, outputTokens: out, totalTokens: PROMPT_TOKENS + out }),
      );
    default:
      return json(res, 200, openAiCompletion('ok', 'm', { prompt_tokens: PROMPT_TOKENS, completion_tokens: out, total_tokens: PROMPT_TOKENS + out }));
  }
}

/** The provider a request reached, from the path prefix each one is configured with. */
const providerOfPath = (path: string) => path.split('/')[1];

let http: FakeUpstream;
let bedrock: FakeUpstream;
let gw: TestGateway;
let ignoreCap = false;
const warnings: { message: string; data?: Record<string, unknown> }[] = [];
const logger: Logger = { debug() {}, info() {}, error() {}, warn: (message, data) => void warnings.push({ message, data }) };
const savedEnv = { ...process.env };

beforeAll(async () => {
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDCAPTEST', AWS_SECRET_ACCESS_KEY: 'cap-test-secret', AWS_EC2_METADATA_DISABLED: 'true' });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  http = await startFakeUpstream((r, res) => answer(providerOfPath(r.path), r, res, ignoreCap));
  bedrock = await startFakeBedrock((r, res) => answer('bedrock', r, res, ignoreCap));
  const model = (name: string) => ({ targets: [{ provider: name, model: `capped-${name}` }] });
  gw = await startTestGateway(
    {
      providers: {
        openai: { type: 'openai', baseUrl: `${http.url}/openai/v1`, apiKey: { env: 'K' } },
        azure: { type: 'azure-openai', baseUrl: `${http.url}/azure`, apiKey: { env: 'K' } },
        compat: { type: 'openai-compatible', baseUrl: `${http.url}/compat/v1` },
        anthropic: { type: 'anthropic', baseUrl: `${http.url}/anthropic`, apiKey: { env: 'K' } },
        gemini: { type: 'gemini', baseUrl: `${http.url}/gemini`, apiKey: { env: 'K' } },
        bedrock: { type: 'bedrock', region: 'us-east-1', baseUrl: bedrock.url },
      },
      models: Object.fromEntries(CASES.map((c) => [c.name, model(c.name)])),
      // $1000 per million tokens: one uncapped reservation is about $4.11.
      pricing: Object.fromEntries(CASES.map((c) => [`capped-${c.name}`, { input: 1000, output: 1000 }])),
    },
    { env: { K: 'sk-provider-key' }, logger },
  );
});
afterAll(async () => {
  await gw.close();
  await Promise.all([http.close(), bedrock.close()]);
  process.env = savedEnv;
});

const chat = (key: string, model: string, extra: Record<string, unknown> = {}) =>
  gw.post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'x'.repeat(40) }], ...extra }, key);

describe.each(CASES)('3: provider $name', ({ name, capOf }) => {
  test('3.1: the reserved output cap goes upstream in the provider’s own field when the client sets none', async () => {
    const { key } = await gw.createKey();
    const received = name === 'bedrock' ? bedrock.received : http.received;
    const before = received.length;
    const res = await chat(key, name);
    expect(res.status).toBe(200);
    expect(capOf(received[before])).toBe(DEFAULT_OUTPUT_RESERVATION);
  });

  test('3.2: under concurrency a USD budget is never exceeded by more than one request’s reservation', async () => {
    const budget = 10;
    const { key, id } = await gw.createKey({ limits: { budgetUsd: { amount: budget, period: 'day' } } });
    const statuses = await Promise.all(Array.from({ length: 12 }, () => chat(key, name).then((r) => r.status)));
    expect(statuses).toContain(200);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    const { body } = await gw.admin('GET', `/admin/keys/${id}/usage`);
    const oneReservation = ((PROMPT_TOKENS + 20 + DEFAULT_OUTPUT_RESERVATION) * 1000) / 1_000_000;
    expect(body.usage.budgetUsd.spentUsd).toBeLessThanOrEqual(budget + oneReservation);
    expect(body.usage.inFlight).toBe(0);
  });
});

test('3.3: a usage report above the reservation is a warning carrying the UsageOverReservation metric', async () => {
  const { key, id } = await gw.createKey({ limits: { tpm: 1_000_000 } });
  ignoreCap = true;
  try {
    const res = await chat(key, 'openai', { max_tokens: 10 });
    expect(res.status).toBe(200);
  } finally {
    ignoreCap = false;
  }
  const warning = warnings.find((w) => w.data?.metric === 'UsageOverReservation' && w.data?.keyId === id);
  expect(warning).toBeDefined();
  expect(warning!.data).toMatchObject({ UsageOverReservation: 1, reservedTokens: expect.any(Number), usedTokens: PROMPT_TOKENS + RUNAWAY_OUTPUT });
});
