/**
 * Amazon Bedrock Guardrails through ApplyGuardrail: the real bedrock-runtime SDK client against a
 * local HTTP/2 fake of the bedrock-runtime API, behind the real local gateway with a fake OpenAI
 * upstream. The fake blocks a denied topic and masks e-mail addresses, as a guardrail with a topic
 * policy and an ANONYMIZE PII filter would.
 */
import type { ServerResponse } from 'node:http';
import { bedrockGuardrails } from '../../../lambda/adapters/bedrock-guardrails';
import type { GatewayConfig } from '../../../lambda/core/config';
import { startFakeBedrock } from '../../helpers/bedrock-wire';
import { type FakeUpstream, type ReceivedRequest, json, openAiChunks, openAiCompletion, startFakeUpstream, writeSse } from '../../helpers/fake-upstream';
import { type TestGateway, startTestGateway } from '../../helpers/gateway';

/** What the fake guardrail decides on ApplyGuardrail's content blocks. */
function guardrailAnswer(req: ReceivedRequest, res: ServerResponse): void {
  const texts: string[] = (req.body?.content ?? []).map((c: { text?: { text?: string } }) => c.text?.text ?? '');
  const usage = {
    topicPolicyUnits: 1,
    contentPolicyUnits: 0,
    wordPolicyUnits: 0,
    sensitiveInformationPolicyUnits: 1,
    sensitiveInformationPolicyFreeUnits: 0,
    contextualGroundingPolicyUnits: 0,
  };
  if (texts.some((t) => /investment advice/i.test(t))) {
    json(res, 200, {
      usage,
      action: 'GUARDRAIL_INTERVENED',
      outputs: [{ text: 'Sorry, the model cannot answer this question.' }],
      assessments: [{ topicPolicy: { topics: [{ name: 'Investments', type: 'DENY', action: 'BLOCKED', detected: true }] } }],
    });
    return;
  }
  const masked = texts.map((t) => t.replace(/[\w.]+@[\w.]+\.[a-z]{2,}/g, '{EMAIL}'));
  if (masked.every((m, i) => m === texts[i])) {
    json(res, 200, { usage, action: 'NONE', outputs: [], assessments: [{}] });
    return;
  }
  json(res, 200, {
    usage,
    action: 'GUARDRAIL_INTERVENED',
    outputs: masked.map((text) => ({ text })),
    assessments: [{ sensitiveInformationPolicy: { piiEntities: [{ type: 'EMAIL', match: 'x', action: 'ANONYMIZED', detected: true }] } }],
  });
}

const config = (upstreamUrl: string): GatewayConfig => ({
  providers: { up: { type: 'openai-compatible', baseUrl: `${upstreamUrl}/v1`, apiKey: { env: 'UP_KEY' } } },
  models: { guarded: { targets: [{ provider: 'up', model: 'gpt-4o' }] } },
  guards: { managed: { bedrockGuardrail: { id: 'gr-test123', version: '3', region: 'us-east-1' }, output: { windowChars: 32 } } },
  settings: { guard: 'managed' },
});

describe('Amazon Bedrock Guardrails (ApplyGuardrail)', () => {
  let bedrock: FakeUpstream;
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let key: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDGUARDTEST', AWS_SECRET_ACCESS_KEY: 'guard-test-secret', AWS_EC2_METADATA_DISABLED: 'true' });
    bedrock = await startFakeBedrock(guardrailAnswer);
    upstream = await startFakeUpstream();
    gw = await startTestGateway(config(upstream.url), { env: { UP_KEY: 'sk-up' }, overrides: { guardrails: bedrockGuardrails({ endpoint: bedrock.url }) } });
    key = (await gw.createKey({ name: 'bedrock-guarded' })).key;
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
    await bedrock.close();
    process.env = saved;
  });
  beforeEach(() => {
    bedrock.received.length = 0;
    upstream.received.length = 0;
  });

  const applyCalls = (source: string) => bedrock.received.filter((r) => r.body?.source === source);

  test('input blocked by the guardrail: 400 guardrail_blocked naming the guardrail, no upstream call', async () => {
    const res = await gw.post('/v1/chat/completions', { model: 'guarded', messages: [{ role: 'user', content: 'Give me investment advice' }] }, key);
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({
      code: 'guardrail_blocked',
      message: expect.stringContaining("policy 'managed', rule 'bedrock:gr-test123'"),
    });
    expect(upstream.received).toHaveLength(0);
    // The SDK's own request: the REST path names guardrail and version, the body the source and texts.
    expect(bedrock.received[0].path).toBe('/guardrail/gr-test123/version/3/apply');
    expect(bedrock.received[0].body).toEqual({ source: 'INPUT', content: [{ text: { text: 'Give me investment advice' } }] });
    expect(bedrock.received[0].headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDGUARDTEST\//);
  });

  test('input masked by the guardrail: the upstream receives the masked text', async () => {
    upstream.handle((_r, res) => json(res, 200, openAiCompletion('fine')));
    const res = await gw.post('/v1/chat/completions', { model: 'guarded', messages: [{ role: 'user', content: 'I am ann@example.com' }] }, key);
    expect(res.status).toBe(200);
    expect(upstream.received[0].body.messages[0].content).toBe('I am {EMAIL}');
    expect(applyCalls('OUTPUT')).toHaveLength(1); // the JSON answer: one OUTPUT call
  });

  test('output on a stream: one ApplyGuardrail call per released window batch, masked before release', async () => {
    const words = ['Contact ', 'support', ' at help', '@example', '.com', ...Array.from({ length: 20 }, () => ' and more words')];
    upstream.handle((_r, res) => writeSse(res, openAiChunks(words)));
    const res = await gw.post('/v1/chat/completions', { model: 'guarded', stream: true, messages: [{ role: 'user', content: 'who?' }] }, key);
    const body = await res.text();
    const content = body
      .split('\n')
      .filter((l) => l.startsWith('data: {'))
      .map((l) => JSON.parse(l.slice(6)).choices[0]?.delta?.content ?? '')
      .join('');
    expect(content).toBe(words.join('').replace('help@example.com', '{EMAIL}'));
    expect(body).toContain('[DONE]');
    // windowChars 32 → releases of about 8 characters (a quarter window, ending at a word): about one
    // call per 8 characters of answer after the first window, plus one at the end.
    const total = words.join('').length;
    expect(applyCalls('OUTPUT').length).toBeGreaterThan(2);
    expect(applyCalls('OUTPUT').length).toBeLessThanOrEqual(Math.ceil(total / 8) + 1);
  });

  test('output blocked on a stream: an in-band guardrail_blocked event and no [DONE]', async () => {
    upstream.handle((_r, res) =>
      writeSse(res, openAiChunks(['Here is some investment ', 'advice for you, and plenty of padding text after it to fill the window.'])),
    );
    const res = await gw.post('/v1/chat/completions', { model: 'guarded', stream: true, messages: [{ role: 'user', content: 'tips?' }] }, key);
    const body = await res.text();
    expect(body).toContain('guardrail_blocked');
    expect(body).not.toContain('[DONE]');
  });
});
