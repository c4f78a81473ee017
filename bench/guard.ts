/**
 * The prompt guard's cost, in this process (CPU and timers only), each figure beside a baseline
 * measured in the same run:
 * - per request: the input check (20 deny rules, checked together in one pass through an RE2 set,
 *   and PII redaction of every type) on a chat request whose user message is 1 KB and 100 KB, in
 *   µs per request and as a multiple of `JSON.parse` of the same body; beside it, the same 20 rules
 *   run one by one (a find per rule, how they ran before), as a multiple of the one pass;
 * - on a stream: time to first token through the output window (256 characters) against the same
 *   stream unguarded, the upstream sending a 4-character token every `tokenMs` (default 20 ms, about
 *   50 tokens per second), so the figure is the window's wait in real time; and how many tokens had
 *   arrived when the first text left (a count, the same on any machine);
 * - the output guard's CPU on a 100 KB streamed answer (as 4-character tokens, no timers), in µs
 *   per KB and as a multiple of the input check on the same 100 KB.
 * Standalone: `node -r @swc-node/register bench/guard.ts`.
 */
import { performance } from 'node:perf_hooks';
import { RE2JS } from 're2js';
import { guardChatInput } from '../lambda/core/guard/apply';
import { type GuardAction, GuardSet, policiesFor } from '../lambda/core/guard/engine';
import { type GuardPolicyConfig, compilePolicies } from '../lambda/core/guard/policy';
import { guardChunks } from '../lambda/core/guard/stream';
import type { ChatCompletionChunk, ChatRequest } from '../lambda/providers/types';

export interface GuardBenchReport {
  readonly rules: number;
  readonly perRequest: {
    readonly promptKb: number;
    readonly us: number;
    /** The check's time ÷ JSON.parse of the same body. */
    readonly vsParse: number;
    /** The 20 rules one find each ÷ the one pass of the set (deny rules only, both). */
    readonly ruleByRuleVsSet: number;
  }[];
  readonly windowChars: number;
  readonly tokenMs: number;
  readonly ttftUnguardedMs: number;
  readonly ttftGuardedMs: number;
  /** Tokens received when the guarded stream released its first text. */
  readonly tokensBeforeFirstText: number;
  /** Size of the streamed answer the output guard's CPU is measured on. */
  readonly answerKb: number;
  /** Output guard CPU per KB of streamed answer. */
  readonly streamUsPerKb: number;
  /** The output guard on the streamed answer ÷ the input check on the largest prompt (the same size by default). */
  readonly streamVsInput: number;
}

/** Twenty deny rules of the kinds operators write: words, phrases, key=value shapes, alternations. */
export function twentyRulePolicy(): Record<string, GuardPolicyConfig> {
  const words = ['swordfish', 'launch code', 'internal only', 'do not share', 'project titan', 'salary band', 'acquisition', 'layoff', 'root password'];
  const deny = [
    ...words.map((w, i) => ({ id: `word-${i}`, pattern: `\\b${w.replace(' ', '\\s+')}\\b`, flags: 'i' })),
    { id: 'password-pair', pattern: 'password\\s*[:=]', flags: 'i' },
    { id: 'api-key-pair', pattern: 'api[_-]?key\\s*[:=]\\s*\\S{8,}', flags: 'i' },
    { id: 'ignore-previous', pattern: 'ignore\\s+(all\\s+)?previous\\s+instructions', flags: 'i' },
    { id: 'system-prompt', pattern: '(reveal|print|show)\\s+(your\\s+)?system\\s+prompt', flags: 'i' },
    { id: 'jailbreak', pattern: '\\b(DAN|developer mode)\\b' },
    { id: 'ssh-key', pattern: 'ssh-(rsa|ed25519) [A-Za-z0-9+/=]{40,}' },
    { id: 'private-ip', pattern: '\\b10\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\b' },
    { id: 'hostname', pattern: '\\b[a-z0-9-]+\\.corp\\.example\\.com\\b' },
    { id: 'ticket', pattern: '\\bSEC-\\d{4,}\\b' },
    { id: 'codename', pattern: '\\b(bluebird|nightjar|kestrel)\\b', flags: 'i' },
    { id: 'base64-blob', pattern: '[A-Za-z0-9+/]{200,}={0,2}' },
  ];
  return { bench: { input: { deny, pii: { action: 'redact' } }, output: { deny: deny.slice(0, 5), pii: { action: 'redact', types: ['email'] } } } };
}

const PROSE =
  'Hi, I need help with my order from last week. The package arrived damaged and the receipt says I paid twice. ' +
  'Could you look into it and tell me what the next steps are? I can send photos if that helps. Thanks a lot! ';

function requestOf(chars: number): ChatRequest {
  return { model: 'm', messages: [{ role: 'user', content: PROSE.repeat(Math.ceil(chars / PROSE.length)).slice(0, chars) }] };
}

/** Mean µs per call of `run`, for at least `minMs`, after a short warm-up. */
async function usPerCall(run: () => unknown, minMs: number): Promise<number> {
  for (let i = 0; i < 3; i++) await run();
  let n = 0;
  const t0 = performance.now();
  let elapsed = 0;
  do {
    await run();
    n++;
    elapsed = performance.now() - t0;
  } while (elapsed < minMs);
  return (elapsed * 1000) / n;
}

function flagsOf(f: string | undefined): number {
  let flags = 0;
  for (const c of f ?? '') flags |= c === 'i' ? RE2JS.CASE_INSENSITIVE : c === 's' ? RE2JS.DOTALL : RE2JS.MULTILINE;
  return flags;
}

async function* tokens(count: number, tokenMs: number, seen: { count: number }): AsyncGenerator<ChatCompletionChunk> {
  const base = { id: 'c', object: 'chat.completion.chunk' as const, created: 0, model: 'm' };
  for (let i = 0; i < count; i++) {
    if (tokenMs > 0) await new Promise((r) => setTimeout(r, tokenMs));
    seen.count++;
    yield { ...base, choices: [{ index: 0, delta: { content: 'tok ' }, finish_reason: null }] };
  }
  yield { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] };
}

/** Time to the first content and how many tokens the upstream had sent by then. */
async function firstText(stream: AsyncIterable<ChatCompletionChunk>, seen: { count: number }): Promise<{ ms: number; tokens: number }> {
  const t0 = performance.now();
  let first: { ms: number; tokens: number } | undefined;
  for await (const c of stream) if (!first && c.choices[0]?.delta?.content) first = { ms: performance.now() - t0, tokens: seen.count };
  return first ?? { ms: -1, tokens: -1 };
}

export async function guardBench(
  opts: { minMs?: number; tokenMs?: number; tokens?: number; promptKbs?: readonly number[]; answerKb?: number } = {},
): Promise<GuardBenchReport> {
  const guards = twentyRulePolicy();
  const guard = new GuardSet(policiesFor(compilePolicies(guards), ['bench']));
  const deny = guards.bench.input?.deny ?? [];
  const minMs = opts.minMs ?? 300;
  const perRequest = [];
  const ruleByRule = deny.map((r) => RE2JS.compile(r.pattern, flagsOf(r.flags)));
  const set = compilePolicies({ d: { input: { deny } } }).get('d')!.input!.deny;
  const promptKbs = opts.promptKbs ?? [1, 100];
  const answerKb = opts.answerKb ?? 100;
  let inputUsLargest = 0;
  for (const promptKb of promptKbs) {
    const body = requestOf(promptKb * 1024);
    const json = JSON.stringify(body);
    const text = body.messages[0].content as string;
    const us = await usPerCall(() => guardChatInput(body, guard, []), minMs);
    const parseUs = await usPerCall(() => JSON.parse(json), minMs);
    const setUs = await usPerCall(() => set.firstMatch(text), minMs);
    const eachUs = await usPerCall(() => ruleByRule.some((re) => re.matcher(text).find()), minMs);
    perRequest.push({ promptKb, us, vsParse: us / parseUs, ruleByRuleVsSet: eachUs / setUs });
    inputUsLargest = us;
  }
  const tokenMs = opts.tokenMs ?? 20;
  const count = opts.tokens ?? 120;
  const plain = { count: 0 };
  const unguarded = await firstText(tokens(count, tokenMs, plain), plain);
  const seen = { count: 0 };
  const guarded = await firstText(guardChunks(tokens(count, tokenMs, seen), guard, [] as GuardAction[]), seen);
  // A long answer through the output guard, as fast as it can go.
  const answerTokens = (answerKb * 1024) / 4;
  const streamUs = await usPerCall(async () => {
    for await (const _ of guardChunks(tokens(answerTokens, 0, { count: 0 }), guard, [])) void _;
  }, minMs);
  return {
    rules: deny.length,
    perRequest,
    windowChars: guard.windowChars(),
    tokenMs,
    ttftUnguardedMs: unguarded.ms,
    ttftGuardedMs: guarded.ms,
    tokensBeforeFirstText: guarded.tokens,
    answerKb,
    streamUsPerKb: streamUs / answerKb,
    streamVsInput: streamUs / inputUsLargest,
  };
}

export function renderGuard(r: GuardBenchReport): string {
  const time = (us: number) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(0)} µs`);
  const lines = [
    `Prompt guard (${r.rules} deny rules + PII redaction, in process)`,
    '| prompt | input check per request | × JSON.parse of the body | rules one by one ÷ one pass |',
    '|---|---:|---:|---:|',
  ];
  for (const p of r.perRequest) lines.push(`| ${p.promptKb} KB | ${time(p.us)} | ${p.vsParse.toFixed(1)}× | ${p.ruleByRuleVsSet.toFixed(1)}× |`);
  lines.push(
    `Stream time to first token, a 4-char token every ${r.tokenMs} ms: unguarded ${r.ttftUnguardedMs.toFixed(0)} ms, ` +
      `through the ${r.windowChars}-char output window ${r.ttftGuardedMs.toFixed(0)} ms ` +
      `(${(r.ttftGuardedMs / Math.max(r.ttftUnguardedMs, 1e-3)).toFixed(1)}×; first text out after ${r.tokensBeforeFirstText} tokens)`,
    `Output guard on a ${r.answerKb} KB streamed answer: ${time(r.streamUsPerKb)} per KB (${r.streamVsInput.toFixed(1)}× the input check of a ${r.perRequest.at(-1)?.promptKb} KB prompt)`,
  );
  return lines.join('\n');
}

if (require.main === module) void guardBench().then((r) => console.log(renderGuard(r)));
