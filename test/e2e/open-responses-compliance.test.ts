/**
 * The Open Responses compliance suite (the specification's own runner, `scripts/compliance-test.ts`
 * with `src/lib/compliance-tests.ts` and `src/lib/sse-parser.ts`), reproduced here: the same seven
 * requests, the same checks (the response parses as ResponseResource; every stream event parses as
 * one of the streaming event schemas; the final response comes from response.completed, .failed or
 * .incomplete; output present; status completed; a function_call item; the function-call stream
 * events), run against the local gateway exactly as `npm start` runs it (the package's bin, `ai-gateway
 * dev`, in its own process on a config file and a fresh data dir) for a route served by the mock
 * provider and for one served by a fake Anthropic upstream. The summary line is printed as the suite
 * prints it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { anthropicMessage, anthropicTextEvents, anthropicToolEvents, writeAnthropicSse } from '../helpers/anthropic-wire';
import { type FakeUpstream, type ReceivedRequest, json, startFakeUpstream } from '../helpers/fake-upstream';
import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process';
import { responseResource, streamingEvent } from '../helpers/open-responses-schema';
import type { z } from 'zod';

type ResponseResource = z.infer<typeof responseResource>;
interface ParsedEvent {
  event: string;
  data: any;
}
interface SseResult {
  events: ParsedEvent[];
  errors: string[];
  finalResponse: unknown;
}
interface Template {
  id: string;
  getRequest: (model: string) => Record<string, unknown>;
  streaming?: boolean;
  validators: Array<(r: ResponseResource, ctx: { streaming: boolean; sse?: SseResult }) => string[]>;
}

const hasOutput = (r: ResponseResource) => (r.output?.length ? [] : ['Response has no output items']);
const hasOutputType = (type: string) => (r: ResponseResource) =>
  r.output?.some((i) => i.type === type) ? [] : [`Expected output item of type "${type}" but none found`];
const completedStatus = (r: ResponseResource) => (r.status === 'completed' ? [] : [`Expected status "completed" but got "${r.status}"`]);
const streamingEvents = (_: ResponseResource, c: { streaming: boolean; sse?: SseResult }) =>
  !c.streaming ? [] : c.sse?.events.length ? [] : ['No streaming events received'];
const streamingSchema = (_: ResponseResource, c: { streaming: boolean; sse?: SseResult }) => (c.streaming && c.sse ? c.sse.errors : []);
const functionCallEvents = (_: ResponseResource, c: { streaming: boolean; sse?: SseResult }) => {
  if (!c.streaming || !c.sse) return [];
  const errors: string[] = [];
  const types = c.sse.events.map((e) => e.data?.type);
  if (!c.sse.events.some((e) => e.data?.type === 'response.output_item.added' && e.data?.item?.type === 'function_call'))
    errors.push('Missing response.output_item.added event with function_call item');
  if (!types.includes('response.function_call_arguments.delta')) errors.push('Missing response.function_call_arguments.delta event');
  if (!types.includes('response.function_call_arguments.done')) errors.push('Missing response.function_call_arguments.done event');
  if (!c.sse.events.some((e) => e.data?.type === 'response.output_item.done' && e.data?.item?.type === 'function_call'))
    errors.push('Missing response.output_item.done event with function_call item');
  return errors;
};

const weatherTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Get the current weather for a location',
  parameters: {
    type: 'object',
    properties: { location: { type: 'string', description: 'The city and state, e.g. San Francisco, CA' } },
    required: ['location'],
  },
};
const RED_HEART_PNG =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAIAAAD8GO2jAAABmklEQVR42tyWAaTyUBzFew/eG4AHz+MBSAHKBiJRGFKwIgQQJKLUIioBIhCAiCAAEizAQIAECaASqFFJq84nudjnaqvuPnxzgP9xfrq5938csPn7PwHTKSoViCIEAYEAMhmoKsU2mUCWEQqB5xEMIp/HaGQG2G6RSuH9HQ7H34rFrtPbdz4jl6PbwmEsl3QA1mt4vcRKk8dz9eg6IpF7tt9fzGY0gCgafFRFo5Blc5vLhf3eCOj1yNhM5GRMVK0aATxPZoz09YXjkQDmczJgquGQAPp9WwCNBgG027YACgUC6HRsAZRKBDAY2AJoNv/ZnwzA6WScznG3p4UAymXGAEkyXrTFAh8fLAGqagQAyGaZpYsi7bHTNPz8MEj//LxuFPo+UBS8vb0KaLXubrRa7aX0RMLCykwmn0z3+XA4WACcTpCkh9MFAZpmuVXo+mO/w+/HZvNgbblcUCxaSo/Hyck80Yu6XXDcvfVZr79cvMZjuN2U9O9vKAqjZrfbIZ0mV4TUi9Xqz6jddNy//7+e3n8Fhf/Llo2kxi8AQyGRoDkmAhAAAAAASUVORK5CYII=';

const templates: Template[] = [
  {
    id: 'basic-response',
    getRequest: (model) => ({ model, input: [{ type: 'message', role: 'user', content: 'Say hello in exactly 3 words.' }] }),
    validators: [hasOutput, completedStatus],
  },
  {
    id: 'streaming-response',
    streaming: true,
    getRequest: (model) => ({ model, input: [{ type: 'message', role: 'user', content: 'Count from 1 to 5.' }] }),
    validators: [streamingEvents, streamingSchema, completedStatus],
  },
  {
    id: 'system-prompt',
    getRequest: (model) => ({
      model,
      input: [
        { type: 'message', role: 'system', content: 'You are a pirate. Always respond in pirate speak.' },
        { type: 'message', role: 'user', content: 'Say hello.' },
      ],
    }),
    validators: [hasOutput, completedStatus],
  },
  {
    id: 'tool-calling',
    getRequest: (model) => ({ model, input: [{ type: 'message', role: 'user', content: "What's the weather like in San Francisco?" }], tools: [weatherTool] }),
    validators: [hasOutput, hasOutputType('function_call')],
  },
  {
    id: 'tool-calling-streaming',
    streaming: true,
    getRequest: (model) => ({ model, input: [{ type: 'message', role: 'user', content: "What's the weather like in San Francisco?" }], tools: [weatherTool] }),
    validators: [streamingEvents, streamingSchema, functionCallEvents],
  },
  {
    id: 'image-input',
    getRequest: (model) => ({
      model,
      input: [
        {
          type: 'message',
          role: 'user',
          content: [
            { type: 'input_text', text: 'What do you see in this image? Answer in one sentence.' },
            { type: 'input_image', image_url: RED_HEART_PNG },
          ],
        },
      ],
    }),
    validators: [hasOutput, completedStatus],
  },
  {
    id: 'multi-turn',
    getRequest: (model) => ({
      model,
      input: [
        { type: 'message', role: 'user', content: 'My name is Alice.' },
        { type: 'message', role: 'assistant', content: 'Hello Alice! Nice to meet you. How can I help you today?' },
        { type: 'message', role: 'user', content: 'What is my name?' },
      ],
    }),
    validators: [hasOutput, completedStatus],
  },
];

/** The suite's SSE parser: event/data lines, each data validated against the streaming event union. */
async function parseSseStream(response: Response): Promise<SseResult> {
  const events: ParsedEvent[] = [];
  const errors: string[] = [];
  let finalResponse: unknown = null;
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let currentEvent = '';
  let currentData = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    const lines = buffer.split('\n');
    buffer = lines.pop() || '';
    for (const line of lines) {
      if (line.startsWith('event:')) currentEvent = line.slice(6).trim();
      else if (line.startsWith('data:')) currentData = line.slice(5).trim();
      else if (line === '' && currentData) {
        if (currentData !== '[DONE]') {
          try {
            const parsed = JSON.parse(currentData);
            const result = streamingEvent.safeParse(parsed);
            events.push({ event: currentEvent || parsed.type || 'unknown', data: parsed });
            if (!result.success) errors.push(`Event validation failed for ${parsed.type || 'unknown'}: ${JSON.stringify(result.error.issues)}`);
            if (parsed.type === 'response.completed' || parsed.type === 'response.failed' || parsed.type === 'response.incomplete')
              finalResponse = parsed.response;
          } catch {
            errors.push(`Failed to parse event data: ${currentData}`);
          }
        }
        currentEvent = '';
        currentData = '';
      }
    }
  }
  return { events, errors, finalResponse };
}

async function runTest(t: Template, baseUrl: string, apiKey: string, model: string): Promise<{ id: string; passed: boolean; errors: string[] }> {
  const streaming = t.streaming ?? false;
  const res = await fetch(`${baseUrl}/responses`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ ...t.getRequest(model), stream: streaming }),
  });
  if (!res.ok) return { id: t.id, passed: false, errors: [`HTTP ${res.status}: ${await res.text()}`] };
  let raw: unknown;
  let sse: SseResult | undefined;
  if (streaming) {
    sse = await parseSseStream(res);
    raw = sse.finalResponse;
  } else raw = await res.json();
  const parsed = responseResource.safeParse(raw);
  if (!parsed.success) return { id: t.id, passed: false, errors: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) };
  const errors = t.validators.flatMap((v) => v(parsed.data, { streaming, sse }));
  return { id: t.id, passed: errors.length === 0, errors };
}

/** A fake Anthropic that answers as Claude would: a tool call when tools are offered, text otherwise, streamed when asked. */
function anthropicLike(req: ReceivedRequest, res: ServerResponse) {
  const body = req.body;
  if (body.tools?.length) {
    if (body.stream) return writeAnthropicSse(res, anthropicToolEvents('toolu_01', 'get_weather', ['{"location":', ' "San Francisco, CA"}']));
    return json(
      res,
      200,
      anthropicMessage([{ type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { location: 'San Francisco, CA' } }], { stop_reason: 'tool_use' }),
    );
  }
  if (body.stream) return writeAnthropicSse(res, anthropicTextEvents(['1, 2, ', '3, 4, 5.']));
  return json(res, 200, anthropicMessage([{ type: 'text', text: 'Ahoy there, matey!' }]));
}

describe('Open Responses compliance suite, reproduced', () => {
  let upstream: FakeUpstream;
  let gw: GatewayProcess;
  let key: string;
  let dataDir: string;
  const adminToken = 'compliance-admin-token';

  beforeAll(async () => {
    upstream = await startFakeUpstream(anthropicLike);
    dataDir = mkdtempSync(join(tmpdir(), 'gw-compliance-'));
    const configPath = join(dataDir, 'gateway.config.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        providers: { mock: { type: 'mock' }, anthropic: { type: 'anthropic', baseUrl: upstream.url, apiKey: { env: 'ANTHROPIC_KEY' } } },
        models: {
          'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] },
          claude: { targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
        },
      }),
    );
    gw = await startGatewayProcess(
      { PORT: '0', GATEWAY_DATA_DIR: dataDir, GATEWAY_CONFIG: configPath, GATEWAY_ADMIN_TOKEN: adminToken, ANTHROPIC_KEY: 'sk-ant-fake-0123456789' },
      30_000,
    );
    const created = await fetch(`${gw.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'compliance' }),
    });
    expect(created.status).toBe(201);
    ({ key } = (await created.json()) as { key: string });
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test.each([
    ['the mock provider', 'mock-model'],
    ['a fake Anthropic upstream', 'claude'],
  ])('every test of the suite passes for a route served by %s', async (_served, model) => {
    const results = await Promise.all(templates.map((t) => runTest(t, `${gw.url}/v1`, key, model)));
    const passed = results.filter((r) => r.passed).length;
    // The suite's summary, as it prints it.
    process.stdout.write(`Open Responses compliance (${model}): ${passed} passed, ${results.length - passed} failed, ${results.length} total\n`);
    expect(results.filter((r) => !r.passed)).toEqual([]);
    expect(results.map((r) => r.id)).toEqual([
      'basic-response',
      'streaming-response',
      'system-prompt',
      'tool-calling',
      'tool-calling-streaming',
      'image-input',
      'multi-turn',
    ]);
  });

  test("the checks can fail: a real answer without a required field does not parse, and a failing route fails the suite's test", async () => {
    const res = await fetch(`${gw.url}/v1/responses`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'mock-model', input: 'hi' }),
    });
    const body = await res.json();
    expect(responseResource.safeParse(body).success).toBe(true);
    const { usage: _dropped, ...withoutUsage } = body;
    expect(responseResource.safeParse(withoutUsage).success).toBe(false);
    expect(streamingEvent.safeParse({ type: 'response.output_text.delta', sequence_number: 1, delta: 'x' }).success).toBe(false);
    // A route whose target fails: the suite reports the HTTP error as a failed test.
    const failed = await runTest(templates[0], `${gw.url}/v1`, key, 'mock/mock-fail-500');
    expect(failed.passed).toBe(false);
  });
});
