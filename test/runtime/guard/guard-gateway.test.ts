/**
 * The prompt guard end to end: the real local gateway (dynalite, Node http), a real HTTP fake
 * OpenAI upstream on 127.0.0.1, and the official openai and @anthropic-ai/sdk clients. Streams are
 * scripted so that the forbidden word and the e-mail address arrive split across chunks.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { EmfMetrics } from '../../../lambda/adapters/emf-metrics';
import type { GatewayConfig } from '../../../lambda/core/config';
import type { LogSink, RequestLogRecord } from '../../../lambda/core/log-record';
import { type FakeUpstream, json, openAiChunks, openAiCompletion, startFakeUpstream, writeSse } from '../../helpers/fake-upstream';
import { type TestGateway, startTestGateway } from '../../helpers/gateway';

const FORBIDDEN = ['The launch code is sword', 'fish', ', tell nobody.', ' More text follows here so the window fills up and releases.'];
const EMAIL = ['Write to bob.sm', 'ith@exa', 'mple.com for help;', ' he answers within a day, most days of the week, even on holidays.'];

const config = (upstreamUrl: string): GatewayConfig => ({
  providers: { up: { type: 'openai-compatible', baseUrl: `${upstreamUrl}/v1`, apiKey: { env: 'UP_KEY' } } },
  models: {
    guarded: { targets: [{ provider: 'up', model: 'gpt-4o' }] },
    open: { targets: [{ provider: 'up', model: 'gpt-4o' }], guard: 'none' },
    billing: { targets: [{ provider: 'up', model: 'gpt-4o' }], guard: 'topic' },
  },
  guards: {
    default: {
      input: { deny: [{ id: 'no-passwords', pattern: 'password\\s*[:=]', flags: 'i' }], pii: { action: 'redact', types: ['email', 'phone'] } },
      output: { deny: [{ id: 'no-launch-codes', pattern: 'swordfish' }], pii: { action: 'redact', types: ['email'] }, windowChars: 32 },
    },
    secrets: { input: { pii: { action: 'block', types: ['secret'] } } },
    topic: { input: { allow: [{ id: 'billing', pattern: '\\b(invoice|refund|billing)\\b', flags: 'i' }] } },
  },
  settings: { guard: 'default' },
});

describe('prompt guard through the gateway', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let key: string;
  let openai: OpenAI;
  let anthropic: Anthropic;
  const records: RequestLogRecord[] = [];
  const metricLines: string[] = [];

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    // The EMF publisher the Lambda runtime uses: the metric lines are the gateway's own.
    const sink: LogSink = { write: (r) => void records.push(r) };
    const metrics = new EmfMetrics({ gatewayId: 'gw-test', writeLine: (l) => metricLines.push(l) });
    gw = await startTestGateway(config(upstream.url), { env: { UP_KEY: 'sk-up-test' }, overrides: { logSink: sink, metrics } });
    key = (await gw.createKey({ name: 'guarded' })).key;
    openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: gw.url, apiKey: key, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });
  beforeEach(() => {
    upstream.received.length = 0;
    records.length = 0;
    metricLines.length = 0;
  });

  const guardMetrics = () => metricLines.map((l) => JSON.parse(l)).filter((m) => 'GuardPolicy' in m);

  const streamOf = (words: string[]) => upstream.handle((_r, res) => writeSse(res, openAiChunks(words)));
  const lastRecord = () => records[records.length - 1];

  describe('input', () => {
    test('a deny rule blocks with 400 guardrail_blocked naming policy and rule, never the text; no upstream call', async () => {
      upstream.handle((_r, res) => json(res, 200, openAiCompletion('never')));
      const res = await gw.post('/v1/chat/completions', { model: 'guarded', messages: [{ role: 'user', content: 'my password: hunter2' }] }, key);
      expect(res.status).toBe(400);
      const body = await res.json();
      expect(body.error.code).toBe('guardrail_blocked');
      expect(body.error.message).toContain("policy 'default', rule 'no-passwords'");
      expect(JSON.stringify(body)).not.toContain('hunter2');
      expect(upstream.received).toHaveLength(0);
      expect(JSON.parse(lastRecord().guard!)).toEqual([{ policy: 'default', rule: 'no-passwords', where: 'input', action: 'block' }]);
      expect(lastRecord().status).toBe(400);
      expect(guardMetrics()).toEqual([expect.objectContaining({ Gateway: 'gw-test', GuardPolicy: 'default', GuardBlocks: 1, GuardRedactions: 0 })]);
    });

    test('on /v1/messages the block is in the Anthropic error shape', async () => {
      const res = await gw.post('/v1/messages', { model: 'guarded', max_tokens: 10, messages: [{ role: 'user', content: 'PASSWORD = x' }] }, key);
      expect(res.status).toBe(400);
      const body = await res.json();
      expect(body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
      expect(body.error.message).toContain("rule 'no-passwords'");
      expect(upstream.received).toHaveLength(0);
    });

    test('a block takes nothing from the key’s limits and calls no provider', async () => {
      const limited = (await gw.createKey({ name: 'limited', limits: { rpm: 2 } })).key;
      for (let i = 0; i < 3; i++) {
        const res = await gw.post('/v1/chat/completions', { model: 'guarded', messages: [{ role: 'user', content: 'password=1' }] }, limited);
        expect(res.status).toBe(400);
      }
      upstream.handle((_r, res) => json(res, 200, openAiCompletion('ok')));
      const ok = await gw.post('/v1/chat/completions', { model: 'guarded', messages: [{ role: 'user', content: 'hello' }] }, limited);
      expect(ok.status).toBe(200);
      expect(upstream.received).toHaveLength(1);
    });

    test('redaction: the upstream receives the redacted user text; other roles are left alone by default', async () => {
      upstream.handle((_r, res) => json(res, 200, openAiCompletion('ok')));
      await openai.chat.completions.create({
        model: 'guarded',
        messages: [
          { role: 'system', content: 'Escalate to ops@example.com' },
          { role: 'user', content: 'I am carol@example.org, call +1 415 555 0132' },
        ],
      });
      const sent = upstream.received[0].body.messages;
      expect(sent[0].content).toBe('Escalate to ops@example.com');
      expect(sent[1].content).toBe('I am [REDACTED:email], call [REDACTED:phone]');
      expect(upstream.received[0].rawBody).not.toContain('carol@example.org');
      expect(JSON.parse(lastRecord().guard!)).toEqual([
        { policy: 'default', rule: 'pii:email', where: 'input', action: 'redact' },
        { policy: 'default', rule: 'pii:phone', where: 'input', action: 'redact' },
      ]);
      expect(guardMetrics()).toEqual([expect.objectContaining({ GuardPolicy: 'default', GuardBlocks: 0, GuardRedactions: 1 })]);
    });

    test('embeddings inputs are redacted too', async () => {
      upstream.handle((_r, res) =>
        json(res, 200, {
          object: 'list',
          data: [{ object: 'embedding', index: 0, embedding: [0.1] }],
          model: 'e',
          usage: { prompt_tokens: 3, total_tokens: 3 },
        }),
      );
      await openai.embeddings.create({ model: 'guarded', input: 'find dave@example.net' });
      expect(upstream.received[0].body.input).toBe('find [REDACTED:email]');
    });

    test("a route's guard 'none' turns the default off", async () => {
      upstream.handle((_r, res) => json(res, 200, openAiCompletion('ok')));
      const res = await gw.post('/v1/chat/completions', { model: 'open', messages: [{ role: 'user', content: 'password: x, me@example.com' }] }, key);
      expect(res.status).toBe(200);
      expect(upstream.received[0].body.messages[0].content).toBe('password: x, me@example.com');
    });

    test("the key's guard and the route's guard both apply (admin create and PATCH)", async () => {
      upstream.handle((_r, res) => json(res, 200, openAiCompletion('ok')));
      const created = await gw.createKey({ name: 'with-guard', guard: 'secrets' });
      expect(created.record.guard).toBe('secrets');
      const secret = 'sk-proj-' + 'Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe';
      const blocked = await gw.post(
        '/v1/chat/completions',
        { model: 'guarded', messages: [{ role: 'user', content: `key ${secret} from x@example.com` }] },
        created.key,
      );
      expect(blocked.status).toBe(400);
      expect((await blocked.json()).error.message).toContain("policy 'secrets', rule 'pii:secret'");
      // The route's policy still applies to the same key.
      await gw.post('/v1/chat/completions', { model: 'guarded', messages: [{ role: 'user', content: 'from x@example.com' }] }, created.key);
      expect(upstream.received[0].body.messages[0].content).toBe('from [REDACTED:email]');
      // PATCH removes the key's policy (null) and keeps the rest of the key.
      const patched = await gw.admin('PATCH', `/admin/keys/${created.id}`, { guard: null });
      expect(patched.body.guard).toBeUndefined();
      expect(patched.body.name).toBe('with-guard');
      const bad = await gw.admin('PATCH', `/admin/keys/${created.id}`, { guard: 'no such policy!' });
      expect(bad.status).toBe(400);
    });

    test('an allow-list lets only its topic through', async () => {
      upstream.handle((_r, res) => json(res, 200, openAiCompletion('ok')));
      const off = await gw.post('/v1/chat/completions', { model: 'billing', messages: [{ role: 'user', content: 'write a poem' }] }, key);
      expect(off.status).toBe(400);
      expect((await off.json()).error.message).toContain("policy 'topic', rule 'allow'");
      const on = await gw.post('/v1/chat/completions', { model: 'billing', messages: [{ role: 'user', content: 'where is my refund?' }] }, key);
      expect(on.status).toBe(200);
    });
  });

  describe('output on JSON answers', () => {
    test('chat completions: withheld with finish_reason content_filter', async () => {
      upstream.handle((_r, res) => json(res, 200, openAiCompletion('the code is swordfish')));
      const out = await openai.chat.completions.create({ model: 'guarded', messages: [{ role: 'user', content: 'code?' }] });
      expect(out.choices[0].finish_reason).toBe('content_filter');
      expect(out.choices[0].message.content).toBeNull();
      expect(JSON.parse(lastRecord().guard!)).toEqual([{ policy: 'default', rule: 'no-launch-codes', where: 'output', action: 'block' }]);
    });

    test('messages: stop_reason refusal; redaction on another answer', async () => {
      upstream.handle((_r, res) => json(res, 200, openAiCompletion('the code is swordfish')));
      const blocked = await anthropic.messages.create({ model: 'guarded', max_tokens: 50, messages: [{ role: 'user', content: 'code?' }] });
      expect(blocked.stop_reason).toBe('refusal');
      expect(blocked.content).toEqual([]);
      upstream.handle((_r, res) => json(res, 200, openAiCompletion('mail eve@example.com')));
      const redacted = await anthropic.messages.create({ model: 'guarded', max_tokens: 50, messages: [{ role: 'user', content: 'who?' }] });
      expect(redacted.content).toEqual([{ type: 'text', text: 'mail [REDACTED:email]' }]);
    });
  });

  describe('output on streams: matches split across chunks', () => {
    test('chat completions: a forbidden word ends the stream with an in-band guardrail_blocked event and no [DONE]', async () => {
      streamOf(FORBIDDEN);
      const res = await gw.post('/v1/chat/completions', { model: 'guarded', stream: true, messages: [{ role: 'user', content: 'code?' }] }, key);
      const text = await res.text();
      expect(text).toContain('"code":"guardrail_blocked"');
      expect(text).not.toContain('[DONE]');
      expect(text).not.toContain('fish');
      expect(lastRecord().error_code).toBe('guardrail_blocked');
    });

    test('chat completions: an e-mail is redacted before release (official client)', async () => {
      streamOf(EMAIL);
      const stream = await openai.chat.completions.create({ model: 'guarded', stream: true, messages: [{ role: 'user', content: 'who?' }] });
      let content = '';
      let finish: string | null = null;
      for await (const c of stream) {
        content += c.choices[0]?.delta?.content ?? '';
        finish = c.choices[0]?.finish_reason ?? finish;
      }
      expect(content).toBe(EMAIL.join('').replace('bob.smith@example.com', '[REDACTED:email]'));
      expect(finish).toBe('stop');
    });

    test('messages: a forbidden word ends the stream with an error event and no message_stop', async () => {
      streamOf(FORBIDDEN);
      const res = await gw.post('/v1/messages', { model: 'guarded', stream: true, max_tokens: 50, messages: [{ role: 'user', content: 'code?' }] }, key);
      const text = await res.text();
      expect(text).toContain('event: error');
      // Anthropic's error events carry a type and a message only: the message names policy and rule.
      expect(text).toContain("guard: policy 'default', rule 'no-launch-codes'");
      expect(text).not.toContain('message_stop');
      expect(text).not.toContain('fish');
    });

    test('messages: an e-mail is redacted before release (official client)', async () => {
      streamOf(EMAIL);
      const stream = anthropic.messages.stream({ model: 'guarded', max_tokens: 50, messages: [{ role: 'user', content: 'who?' }] });
      const final = await stream.finalMessage();
      expect(final.content).toEqual([{ type: 'text', text: EMAIL.join('').replace('bob.smith@example.com', '[REDACTED:email]') }]);
    });

    describe('/v1/responses', () => {
      test('input: a deny rule blocks with 400 guardrail_blocked; redaction reaches the upstream', async () => {
        upstream.handle((_r, res) => json(res, 200, openAiCompletion('ok')));
        const blocked = await gw.post('/v1/responses', { model: 'guarded', input: 'my password: hunter2' }, key);
        expect(blocked.status).toBe(400);
        expect((await blocked.json()).error).toMatchObject({ code: 'guardrail_blocked', message: expect.stringContaining("rule 'no-passwords'") });
        expect(upstream.received).toHaveLength(0);
        await openai.responses.create({ model: 'guarded', input: 'I am carol@example.org' });
        expect(upstream.received[0].rawBody).not.toContain('carol@example.org');
        expect(upstream.received[0].rawBody).toContain('[REDACTED:email]');
      });

      test('output on a JSON answer: blocked is status incomplete (content_filter)', async () => {
        upstream.handle((_r, res) => json(res, 200, openAiCompletion('the code is swordfish')));
        const out = await openai.responses.create({ model: 'guarded', input: 'code?' });
        expect(out.status).toBe('incomplete');
        expect(out.incomplete_details?.reason).toBe('content_filter');
        expect(JSON.stringify(out.output)).not.toContain('swordfish');
      });

      test('stream: an e-mail split across chunks is redacted (official client)', async () => {
        streamOf(EMAIL);
        const stream = await openai.responses.create({ model: 'guarded', input: 'who?', stream: true });
        let text = '';
        let completed = false;
        for await (const e of stream) {
          if (e.type === 'response.output_text.delta') text += e.delta;
          if (e.type === 'response.completed') completed = true;
        }
        expect(text).toBe(EMAIL.join('').replace('bob.smith@example.com', '[REDACTED:email]'));
        expect(completed).toBe(true);
      });

      test('stream: a forbidden word split across chunks ends with an error event and no response.completed', async () => {
        streamOf(FORBIDDEN);
        const res = await gw.post('/v1/responses', { model: 'guarded', input: 'code?', stream: true }, key);
        const text = await res.text();
        expect(text).toContain('guardrail_blocked');
        expect(text).not.toContain('response.completed');
        expect(text).not.toContain('fish');
      });
    });
  });
});
