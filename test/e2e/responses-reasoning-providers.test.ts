/**
 * Reasoning summaries on /v1/responses where the provider gives them, beyond Anthropic: Claude on
 * Bedrock (Converse reasoningContent, signed, carried back on the next turn) and Gemini (thought
 * summaries, thinking tokens as reasoning tokens). The official openai client calls the local
 * gateway; a fake Bedrock runtime (the real AWS SDK, event-stream framing) and a fake Gemini API answer.
 */
import type { ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { json, startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { converseAnswer, startFakeBedrock, writeEventStream } from '../helpers/bedrock-wire';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

const CLAUDE = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const GEMINI_KEY = 'AIzaSyFakeProviderKey0123456789abcdef';
const SIGNATURE = 'EqQBCkgIARABGAIiQL2ZbedrockSignature';

type Item = OpenAI.Responses.ResponseOutputItem;
const reasoningOf = (output: Item[]) => output.find((i): i is OpenAI.Responses.ResponseReasoningItem => i.type === 'reasoning');

function writeGeminiSse(res: ServerResponse, events: unknown[]) {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const e of events) res.write(`data: ${JSON.stringify(e)}\r\n\r\n`);
  res.end();
}

describe('reasoning summaries on /v1/responses from Bedrock and Gemini', () => {
  let bedrock: FakeUpstream;
  let gemini: FakeUpstream;
  let gw: TestGateway;
  let client: OpenAI;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIDREASONINGTEST',
      AWS_SECRET_ACCESS_KEY: 'reasoning-test-secret-0123456789',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    delete process.env.AWS_PROFILE;
    delete process.env.AWS_SESSION_TOKEN;
    bedrock = await startFakeBedrock();
    gemini = await startFakeUpstream();
    gw = await startTestGateway(
      {
        providers: {
          bedrock: { type: 'bedrock', region: 'us-east-1', baseUrl: bedrock.url },
          gemini: { type: 'gemini', baseUrl: gemini.url, apiKey: { env: 'GEMINI_KEY' } },
        },
        models: {
          claude: { targets: [{ provider: 'bedrock', model: CLAUDE }] },
          nova: { targets: [{ provider: 'bedrock', model: 'amazon.nova-pro-v1:0' }] },
          flash: { targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
        },
      },
      { env: { GEMINI_KEY } },
    );
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: (await gw.createKey({ name: 'reasoning' })).key, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await bedrock.close();
    await gemini.close();
    process.env = savedEnv;
  });

  test('Bedrock Claude, JSON: the effort becomes a thinking budget upstream; the signed reasoning comes back as a reasoning item with its summary', async () => {
    bedrock.handle((_r, res) =>
      json(res, 200, converseAnswer([{ reasoningContent: { reasoningText: { text: 'Two plus two is four.', signature: SIGNATURE } } }, { text: '4' }])),
    );
    const r = await client.responses.create({
      model: 'claude',
      input: 'What is 2+2?',
      reasoning: { effort: 'low', summary: 'auto' },
      include: ['reasoning.encrypted_content'],
    });
    const sent = bedrock.received.at(-1)!.body as { additionalModelRequestFields?: unknown; inferenceConfig?: { maxTokens?: number } };
    expect(sent.additionalModelRequestFields).toEqual({ thinking: { type: 'enabled', budget_tokens: 1024 } });
    expect(sent.inferenceConfig?.maxTokens).toBeGreaterThan(1024);
    expect(r.output.map((i) => i.type)).toEqual(['reasoning', 'message']);
    expect(reasoningOf(r.output)!.summary).toEqual([{ type: 'summary_text', text: 'Two plus two is four.' }]);
    expect(r.output_text).toBe('4');

    // The next turn hands the signed reasoning back: Converse gets it as a reasoningContent block first.
    bedrock.handle((_r, res) => json(res, 200, converseAnswer([{ text: 'Yes.' }])));
    await client.responses.create({
      model: 'claude',
      previous_response_id: r.id,
      input: 'Sure?',
      reasoning: { effort: 'low' },
    });
    const next = bedrock.received.at(-1)!.body as { messages: Array<{ role: string; content: Array<Record<string, unknown>> }> };
    const assistant = next.messages.find((m) => m.role === 'assistant')!;
    expect(assistant.content[0]).toEqual({ reasoningContent: { reasoningText: { text: 'Two plus two is four.', signature: SIGNATURE } } });
  });

  test('Bedrock Claude, stream: reasoning deltas arrive as reasoning summary events before the answer text', async () => {
    bedrock.handle((_r, res) =>
      writeEventStream(res, [
        { event: 'messageStart', body: { role: 'assistant' } },
        { event: 'contentBlockDelta', body: { contentBlockIndex: 0, delta: { reasoningContent: { text: 'Adding ' } } } },
        { event: 'contentBlockDelta', body: { contentBlockIndex: 0, delta: { reasoningContent: { text: 'numbers.' } } } },
        { event: 'contentBlockDelta', body: { contentBlockIndex: 0, delta: { reasoningContent: { signature: SIGNATURE } } } },
        { event: 'contentBlockStop', body: { contentBlockIndex: 0 } },
        { event: 'contentBlockDelta', body: { contentBlockIndex: 1, delta: { text: '4' } } },
        { event: 'contentBlockStop', body: { contentBlockIndex: 1 } },
        { event: 'messageStop', body: { stopReason: 'end_turn' } },
        { event: 'metadata', body: { usage: { inputTokens: 12, outputTokens: 20, totalTokens: 32 }, metrics: { latencyMs: 10 } } },
      ]),
    );
    const stream = await client.responses.create({ model: 'claude', input: 'What is 2+2?', reasoning: { effort: 'medium' }, stream: true });
    const types: string[] = [];
    let summary = '';
    let completed: OpenAI.Responses.Response | undefined;
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === 'response.reasoning_summary_text.delta') summary += ev.delta;
      if (ev.type === 'response.completed') completed = ev.response;
    }
    expect(summary).toBe('Adding numbers.');
    expect(types.indexOf('response.reasoning_summary_text.delta')).toBeLessThan(types.indexOf('response.output_text.delta'));
    expect(completed!.output.map((i) => i.type)).toEqual(['reasoning', 'message']);
    expect(reasoningOf(completed!.output)!.summary[0].text).toBe('Adding numbers.');
  });

  test('a Bedrock model whose reasoning switch the gateway does not map: 400 naming it, no upstream call', async () => {
    const before = bedrock.received.length;
    await expect(client.responses.create({ model: 'nova', input: 'hi', reasoning: { effort: 'low' } })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('Anthropic Claude models on Bedrock only'),
    });
    expect(bedrock.received).toHaveLength(before);
  });

  test('Gemini, JSON: the effort becomes a thinking budget with thoughts included; thought parts become the summary, thinking tokens the reasoning tokens', async () => {
    gemini.handle((_r, res) =>
      json(res, 200, {
        candidates: [{ index: 0, content: { role: 'model', parts: [{ text: 'Simple arithmetic.', thought: true }, { text: '4' }] }, finishReason: 'STOP' }],
        usageMetadata: { promptTokenCount: 8, candidatesTokenCount: 1, thoughtsTokenCount: 30, totalTokenCount: 39 },
        modelVersion: 'gemini-2.5-flash',
        responseId: 'gem-1',
      }),
    );
    const r = await client.responses.create({ model: 'flash', input: 'What is 2+2?', reasoning: { effort: 'high', summary: 'auto' } });
    const sent = gemini.received.at(-1)!.body as { generationConfig?: { thinkingConfig?: unknown } };
    expect(sent.generationConfig?.thinkingConfig).toEqual({ thinkingBudget: 4096, includeThoughts: true });
    expect(r.output.map((i) => i.type)).toEqual(['reasoning', 'message']);
    expect(reasoningOf(r.output)!.summary).toEqual([{ type: 'summary_text', text: 'Simple arithmetic.' }]);
    expect(r.output_text).toBe('4');
    expect(r.usage).toMatchObject({ input_tokens: 8, output_tokens: 31, output_tokens_details: { reasoning_tokens: 30 } });
  });

  test('Gemini, stream: thought parts stream as reasoning summary deltas; no reasoning asked sends no thinking config', async () => {
    gemini.handle((_r, res) =>
      writeGeminiSse(res, [
        { candidates: [{ index: 0, content: { role: 'model', parts: [{ text: 'Thinking it over.', thought: true }] } }], responseId: 'gem-2' },
        {
          candidates: [{ index: 0, content: { role: 'model', parts: [{ text: 'Four.' }] }, finishReason: 'STOP' }],
          usageMetadata: { promptTokenCount: 8, candidatesTokenCount: 2, thoughtsTokenCount: 5, totalTokenCount: 15 },
          responseId: 'gem-2',
        },
      ]),
    );
    const stream = await client.responses.create({ model: 'flash', input: 'What is 2+2?', stream: true });
    let summary = '';
    let completed: OpenAI.Responses.Response | undefined;
    for await (const ev of stream) {
      if (ev.type === 'response.reasoning_summary_text.delta') summary += ev.delta;
      if (ev.type === 'response.completed') completed = ev.response;
    }
    expect((gemini.received.at(-1)!.body as { generationConfig?: { thinkingConfig?: unknown } }).generationConfig?.thinkingConfig).toBeUndefined();
    expect(summary).toBe('Thinking it over.');
    expect(completed!.output.map((i) => i.type)).toEqual(['reasoning', 'message']);
    expect(completed!.usage).toMatchObject({ output_tokens: 7, output_tokens_details: { reasoning_tokens: 5 } });
  });
});
