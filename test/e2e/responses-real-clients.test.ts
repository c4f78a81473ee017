/**
 * Real clients whose default is the Responses API, against the local gateway on Node 22: the Vercel
 * AI SDK's `openai(model)` (generateText, streamText, a tool call through a full tool loop) and the
 * OpenAI Agents SDK running an agent with one function tool. Both ship ES modules only, so each runs
 * as a plain Node script (test/e2e/esm-clients) and reports what it got as one JSON line.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CapturingLogSink } from '../runtime/routing/harness';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

const run = promisify(execFile);

describe('Responses API clients through the local gateway', () => {
  let gw: TestGateway;
  let key: string;
  const logs = new CapturingLogSink();

  beforeAll(async () => {
    gw = await startTestGateway(
      { providers: { mock: { type: 'mock' } }, models: { 'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] } } },
      { overrides: { logSink: logs } },
    );
    ({ key } = await gw.createKey({ name: 'clients' }));
  });
  afterAll(() => gw.close());

  async function client(script: string) {
    const { stdout } = await run(process.execPath, [join(__dirname, 'esm-clients', script)], {
      env: { PATH: process.env.PATH, GATEWAY_BASE_URL: `${gw.url}/v1`, GATEWAY_KEY: key, GATEWAY_MODEL: 'mock-model' },
      timeout: 60_000,
    });
    return JSON.parse(stdout.trim().split('\n').at(-1)!);
  }

  test('Vercel AI SDK openai(model): generateText, streamText and a tool call all go through /v1/responses', async () => {
    const before = logs.records.length;
    const out = await client('vercel-ai.mjs');
    expect(out.generated).toMatchObject({
      text: 'This is a mock response to: Say hi to Vercel',
      finishReason: 'stop',
      responseId: expect.stringMatching(/^resp_/),
    });
    expect(out.generated.usage.inputTokens).toBeGreaterThan(0);
    expect(out.streamed).toEqual({ text: 'This is a mock response to: Stream to Vercel', finishReason: 'stop' });
    // The mock calls the first tool with the user's text, then answers once the tool result is back.
    expect(out.tool.calls).toEqual([{ input: 'What is the weather in Paris?' }]);
    expect(out.tool.steps).toBe(2);
    expect(out.tool.finishReason).toBe('stop');
    const records = logs.records.slice(before);
    expect(records.map((r) => [r.endpoint, r.status])).toEqual(Array(4).fill(['/v1/responses', 200]));
  });

  test('OpenAI Agents SDK: an agent calls its function tool and answers', async () => {
    const out = await client('openai-agents.mjs');
    expect(out.calls).toEqual([{ input: 'Where is order 42?' }]);
    expect(out.items).toEqual(['tool_call_item', 'tool_call_output_item', 'message_output_item']);
    expect(out.finalOutput).toBe('This is a mock response to: Where is order 42?');
    expect(out.lastResponseId).toMatch(/^resp_/);
  });
});
