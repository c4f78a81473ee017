/**
 * The Open Responses compliance suite (the specification's own runner: `bin/compliance-test.ts`
 * with `src/lib/compliance-tests.ts` and `src/lib/sse-parser.ts`), reproduced here from its newest
 * version: basic-response, streaming-response, system-prompt, tool-calling,
 * function-call-roundtrip (a forced get_weather call, then previous_response_id with its
 * function_call_output), image-input, file-input (its one-page PDF as an input_file), multi-turn,
 * previous-response-id, and the two optional tests it skips unless configured (file-search needs a
 * vector store id, offline-web-search a flag; reported skipped with the suite's reason), plus
 * tool-calling-streaming from its earlier version. The same requests and the same checks (the
 * response parses as ResponseResource; every stream event parses as one of the streaming event
 * schemas; the final response comes from response.completed, .failed or .incomplete; output
 * present; status completed; a function_call item; the function-call stream events), run against
 * the local gateway exactly as `npm start` runs it (the package's bin, `ai-gateway dev`, in its own
 * process on a config file and a fresh data dir) for a route served by the mock provider and for
 * one served by a fake Anthropic upstream, which also checks what it is sent (a document block for
 * the file, the earlier turns for previous_response_id). The summary is printed as the suite prints it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { anthropicMessage, anthropicTextEvents, anthropicToolEvents, writeAnthropicSse } from '../helpers/anthropic-wire';
import { type FakeUpstream, type ReceivedRequest, json, startFakeUpstream } from '../helpers/fake-upstream';
import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process';
import { FIXTURE_PDF_BASE64, FIXTURE_PDF_URL } from '../helpers/files';
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
/** What the suite is run with: where, as whom, on which model, and what its optional tests need. */
interface SuiteConfig {
  baseUrl: string;
  apiKey: string;
  model: string;
  fileSearchVectorStoreId?: string;
  enableOfflineWebSearch?: boolean;
}
type Validator = (r: ResponseResource, ctx: { streaming: boolean; sse?: SseResult }) => string[];
interface Template {
  id: string;
  name: string;
  /** One request (most tests), or `run` for the tests of two requests. */
  getRequest?: (config: SuiteConfig) => Record<string, unknown>;
  run?: (config: SuiteConfig, t: Template) => Promise<TestResult>;
  streaming?: boolean;
  /** Optional tests run only when configured; otherwise they are reported skipped with `skipReason`. */
  isEnabled?: (config: SuiteConfig) => boolean;
  skipReason?: string;
  validators: Validator[];
}
interface TestResult {
  id: string;
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  errors: string[];
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

/** The suite's reason for an optional test it was not configured for. */
const notConfigured = (what: string) => `${what} is optional and skipped until its required configuration is provided.`;

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

const userSays = (content: string) => [{ type: 'message', role: 'user', content }];

const templates: Template[] = [
  {
    id: 'basic-response',
    name: 'Basic Text Response',
    getRequest: ({ model }) => ({ model, input: userSays('Say hello in exactly 3 words.') }),
    validators: [hasOutput, completedStatus],
  },
  {
    id: 'streaming-response',
    name: 'Streaming Response',
    streaming: true,
    getRequest: ({ model }) => ({ model, input: userSays('Count from 1 to 5.') }),
    validators: [streamingEvents, streamingSchema, completedStatus],
  },
  {
    id: 'system-prompt',
    name: 'System Prompt',
    getRequest: ({ model }) => ({
      model,
      input: [{ type: 'message', role: 'system', content: 'You are a pirate. Always respond in pirate speak.' }, ...userSays('Say hello.')],
    }),
    validators: [hasOutput, completedStatus],
  },
  {
    id: 'tool-calling',
    name: 'Tool Calling',
    getRequest: ({ model }) => ({ model, input: userSays("What's the weather like in San Francisco?"), tools: [weatherTool] }),
    validators: [hasOutput, hasOutputType('function_call')],
  },
  {
    id: 'tool-calling-streaming',
    name: 'Tool Calling (Streaming)',
    streaming: true,
    getRequest: ({ model }) => ({ model, input: userSays("What's the weather like in San Francisco?"), tools: [weatherTool] }),
    validators: [streamingEvents, streamingSchema, functionCallEvents],
  },
  {
    id: 'function-call-roundtrip',
    name: 'Function Call Round Trip',
    run: runFunctionCallRoundTrip,
    validators: [hasOutput, completedStatus],
  },
  {
    id: 'image-input',
    name: 'Image Input',
    getRequest: ({ model }) => ({
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
    id: 'file-input',
    name: 'File Input',
    getRequest: ({ model }) => ({
      model,
      input: [
        {
          type: 'message',
          role: 'user',
          content: [
            { type: 'input_text', text: 'Read the attached file and answer with its title only.' },
            { type: 'input_file', filename: 'openresponses-fixture.pdf', file_data: FIXTURE_PDF_URL },
          ],
        },
      ],
    }),
    validators: [hasOutput, completedStatus],
  },
  {
    id: 'multi-turn',
    name: 'Multi-turn Conversation',
    getRequest: ({ model }) => ({
      model,
      input: [
        ...userSays('My name is Alice.'),
        { type: 'message', role: 'assistant', content: 'Hello Alice! Nice to meet you. How can I help you today?' },
        ...userSays('What is my name?'),
      ],
    }),
    validators: [hasOutput, completedStatus],
  },
  {
    id: 'previous-response-id',
    name: 'Previous Response ID',
    run: runPreviousResponseId,
    validators: [hasOutput, completedStatus],
  },
  {
    id: 'file-search',
    name: 'File Search',
    isEnabled: (c) => Boolean(c.fileSearchVectorStoreId),
    skipReason: notConfigured('File search'),
    getRequest: ({ model, fileSearchVectorStoreId }) => ({
      model,
      input: 'Search the configured vector store for relevant content and summarize one result.',
      tools: [{ type: 'file_search', vector_store_ids: [fileSearchVectorStoreId ?? ''] }],
      tool_choice: { type: 'file_search' },
      include: ['file_search_call.results'],
    }),
    validators: [hasOutput, hasOutputType('file_search_call')],
  },
  {
    id: 'offline-web-search',
    name: 'Offline Web Search',
    isEnabled: (c) => Boolean(c.enableOfflineWebSearch),
    skipReason: notConfigured('Offline web search'),
    getRequest: ({ model }) => ({
      model,
      input: 'Find the most relevant cached result for OpenResponses.',
      tools: [{ type: 'web_search', external_web_access: false }],
      tool_choice: { type: 'web_search' },
      include: ['web_search_call.action.sources'],
    }),
    validators: [hasOutput, hasOutputType('web_search_call')],
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

/** POST /responses as the suite does (its auth header, `stream` set either way). */
function send(config: SuiteConfig, body: Record<string, unknown>, streaming = false): Promise<Response> {
  return fetch(`${config.baseUrl}/responses`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${config.apiKey}` },
    body: JSON.stringify({ ...body, stream: streaming }),
  });
}

/** An answer read and parsed as ResponseResource (a stream through the SSE parser), or the errors that failed it. */
async function readAnswer(res: Response, streaming: boolean): Promise<{ response: ResponseResource; sse?: SseResult } | { errors: string[] }> {
  if (!res.ok) return { errors: [`HTTP ${res.status}: ${await res.text()}`] };
  const sse = streaming ? await parseSseStream(res) : undefined;
  const parsed = responseResource.safeParse(sse ? sse.finalResponse : await res.json());
  if (!parsed.success) return { errors: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) };
  return { response: parsed.data, sse };
}

const result = (t: Template, errors: string[]): TestResult => ({ id: t.id, name: t.name, status: errors.length ? 'failed' : 'passed', errors });

async function runSingleRequest(t: Template, config: SuiteConfig): Promise<TestResult> {
  const streaming = t.streaming ?? false;
  const answer = await readAnswer(await send(config, t.getRequest!(config), streaming), streaming);
  if ('errors' in answer) return result(t, answer.errors);
  return result(
    t,
    t.validators.flatMap((v) => v(answer.response, { streaming, sse: answer.sse })),
  );
}

/** Two turns: `second` is built from the first answer (or fails the test with its reason); the checks apply to the second. */
async function runTwoTurns(
  t: Template,
  config: SuiteConfig,
  first: Record<string, unknown>,
  second: (firstAnswer: ResponseResource) => Record<string, unknown> | string,
): Promise<TestResult> {
  const one = await readAnswer(await send(config, first), false);
  if ('errors' in one) return result(t, one.errors);
  const next = second(one.response);
  if (typeof next === 'string') return result(t, [next]);
  const two = await readAnswer(await send(config, next), false);
  if ('errors' in two) return result(t, two.errors);
  return result(
    t,
    t.validators.flatMap((v) => v(two.response, { streaming: false })),
  );
}

function runFunctionCallRoundTrip(config: SuiteConfig, t: Template): Promise<TestResult> {
  const first = {
    model: config.model,
    input: 'Use the weather tool to get the temperature in San Francisco.',
    tools: [weatherTool],
    tool_choice: { type: 'function', name: 'get_weather' },
  };
  return runTwoTurns(t, config, first, (answer) => {
    const call = answer.output.find((i) => i.type === 'function_call');
    if (!call || !('call_id' in call)) return 'First response did not include a function_call with call_id';
    return {
      model: config.model,
      previous_response_id: answer.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '64 degrees and clear' }],
    };
  });
}

function runPreviousResponseId(config: SuiteConfig, t: Template): Promise<TestResult> {
  const first = { model: config.model, input: 'Remember this code word: papaya. Reply with only OK.' };
  return runTwoTurns(t, config, first, (answer) => ({
    model: config.model,
    previous_response_id: answer.id,
    input: 'What code word did I ask you to remember?',
  }));
}

async function runTest(t: Template, config: SuiteConfig): Promise<TestResult> {
  try {
    if (t.isEnabled && !t.isEnabled(config)) return { id: t.id, name: t.name, status: 'skipped', errors: [t.skipReason ?? 'Optional test skipped'] };
    return await (t.run ? t.run(config, t) : runSingleRequest(t, config));
  } catch (err) {
    return result(t, [err instanceof Error ? err.message : String(err)]);
  }
}

/** The suite's report: a line per test (a skipped one with its reason), then its results line and the skipped count. */
function report(model: string, results: TestResult[]): string {
  const icon = { passed: '✓', failed: '✗', skipped: '-' } as const;
  const lines = [`Model: ${model}`, ''];
  for (const r of results) {
    lines.push(`${icon[r.status]} ${r.name}`);
    for (const e of r.errors) lines.push(`  ${icon[r.status === 'skipped' ? 'skipped' : 'failed']} ${e}`);
  }
  const count = (status: TestResult['status']) => results.filter((r) => r.status === status).length;
  lines.push('', '='.repeat(50), `Results: ${count('passed')} passed, ${count('failed')} failed, ${results.length} total`);
  if (count('skipped') > 0) lines.push(`${count('skipped')} skipped`);
  return `${lines.join('\n')}\n`;
}

type Block = { type: string; text?: string; [field: string]: unknown };
const blocksOf = (m: { content: string | Block[] }): Block[] => (typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content);
/** The suite's PDF as the Messages API takes it: a base64 document block titled by its file name. */
const FIXTURE_DOCUMENT = {
  type: 'document',
  source: { type: 'base64', media_type: 'application/pdf', data: FIXTURE_PDF_BASE64 },
  title: 'openresponses-fixture.pdf',
};

/**
 * A fake Anthropic that answers as Claude would: a tool call when tools are offered (the forced
 * one when tool_choice names it), the weather after a tool result, text otherwise, streamed when
 * asked. It answers 400, as a model that cannot see them would fail, when the file-input prompt
 * comes without the PDF as a document block, or the code-word question without the earlier turn;
 * and, as Anthropic's API does, when tool blocks arrive without tools defined.
 */
function anthropicLike(req: ReceivedRequest, res: ServerResponse) {
  const body = req.body;
  const messages: Array<{ role: string; content: string | Block[] }> = body.messages;
  const last = blocksOf(messages[messages.length - 1]);
  const text = last.map((b) => b.text ?? '').join(' ');
  const refuse = (message: string) => json(res, 400, { type: 'error', error: { type: 'invalid_request_error', message } });
  const say = (answer: string) => json(res, 200, anthropicMessage([{ type: 'text', text: answer }]));
  // As Anthropic's API does: tool blocks in the conversation need tools defined.
  const hasToolBlocks = messages.some((m) => blocksOf(m).some((b) => b.type === 'tool_use' || b.type === 'tool_result'));
  if (hasToolBlocks && !body.tools?.length) return refuse('Requests which include `tool_use` or `tool_result` blocks must define tools.');
  if (last.some((b) => b.type === 'tool_result')) return say('It is 64 degrees and clear in San Francisco.');
  if (body.tools?.length) {
    const name = body.tool_choice?.type === 'tool' ? body.tool_choice.name : 'get_weather';
    if (body.stream) return writeAnthropicSse(res, anthropicToolEvents('toolu_01', name, ['{"location":', ' "San Francisco, CA"}']));
    return json(
      res,
      200,
      anthropicMessage([{ type: 'tool_use', id: 'toolu_01', name, input: { location: 'San Francisco, CA' } }], { stop_reason: 'tool_use' }),
    );
  }
  if (text.includes('Read the attached file')) {
    if (!last.some((b) => JSON.stringify(b) === JSON.stringify(FIXTURE_DOCUMENT))) return refuse('the file-input prompt came without its document block');
    return say('OpenResponses File Input Fixture');
  }
  if (text.includes('What code word')) {
    const earlier = messages.slice(0, -1).flatMap(blocksOf);
    if (!earlier.some((b) => b.text?.includes('papaya'))) return refuse('the code-word question came without the earlier turn');
    return say('papaya');
  }
  if (body.stream) return writeAnthropicSse(res, anthropicTextEvents(['1, 2, ', '3, 4, 5.']));
  return say('Ahoy there, matey!');
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
  ])('every test of the suite passes for a route served by %s; the optional ones are skipped as the suite skips them', async (_served, model) => {
    const before = upstream.received.length;
    const results = await Promise.all(templates.map((t) => runTest(t, { baseUrl: `${gw.url}/v1`, apiKey: key, model })));
    process.stdout.write(report(model, results));
    expect(results.filter((r) => r.status === 'failed')).toEqual([]);
    expect(results.map((r) => `${r.id}: ${r.status}`)).toEqual([
      'basic-response: passed',
      'streaming-response: passed',
      'system-prompt: passed',
      'tool-calling: passed',
      'tool-calling-streaming: passed',
      'function-call-roundtrip: passed',
      'image-input: passed',
      'file-input: passed',
      'multi-turn: passed',
      'previous-response-id: passed',
      'file-search: skipped',
      'offline-web-search: skipped',
    ]);
    expect(results.find((r) => r.id === 'file-search')!.errors).toEqual(['File search is optional and skipped until its required configuration is provided.']);
    expect(report(model, results)).toContain('Results: 10 passed, 0 failed, 12 total\n2 skipped\n');
    if (model === 'claude') {
      // What the upstream was sent: the PDF as a document block; the forced tool; the round trip's tool result after the call.
      const sent = upstream.received.slice(before).map((r) => r.body);
      expect(sent.some((b) => b.messages.at(-1).content.some((x: Block) => JSON.stringify(x) === JSON.stringify(FIXTURE_DOCUMENT)))).toBe(true);
      expect(sent.some((b) => b.tool_choice?.type === 'tool' && b.tool_choice.name === 'get_weather')).toBe(true);
      expect(
        sent.some((b) =>
          b.messages.at(-1).content.some((x: Block) => x.type === 'tool_result' && x.tool_use_id === 'toolu_01' && x.content === '64 degrees and clear'),
        ),
      ).toBe(true);
    }
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
    const failed = await runTest(templates[0], { baseUrl: `${gw.url}/v1`, apiKey: key, model: 'mock/mock-fail-500' });
    expect(failed.status).toBe('failed');
    // Without its document block the fake Anthropic refuses the file-input prompt, so that test can fail too.
    const noFile = templates.find((t) => t.id === 'file-input')!;
    const withoutFile = { ...noFile, getRequest: (c: SuiteConfig) => ({ model: c.model, input: 'Read the attached file and answer with its title only.' }) };
    expect((await runTest(withoutFile, { baseUrl: `${gw.url}/v1`, apiKey: key, model: 'claude' })).status).toBe('failed');
  });
});
