/**
 * The prompt guard's cost, in this process (CPU and timers only):
 * - per request: the input check (20 deny rules through re2js, PII redaction of every type) on a
 *   chat request whose user message is 1 KB and 100 KB, in µs per request;
 * - on a stream: time to first token through the output window (default 256 characters) against
 *   the same stream unguarded, the upstream sending a 4-character token every `tokenMs`
 *   (default 20 ms, about 50 tokens per second), so the figure is the window's wait in real time.
 * Standalone: `node -r @swc-node/register bench/guard.ts`.
 */
import { performance } from 'node:perf_hooks';
import { guardChatInput } from '../lambda/core/guard/apply';
import { type GuardAction, GuardSet, policiesFor } from '../lambda/core/guard/engine';
import { type GuardPolicyConfig, compilePolicies } from '../lambda/core/guard/policy';
import { guardChunks } from '../lambda/core/guard/stream';
import type { ChatCompletionChunk, ChatRequest } from '../lambda/providers/types';

export interface GuardBenchReport {
  readonly rules: number;
  readonly perRequestUs: { readonly promptKb: number; readonly us: number }[];
  readonly windowChars: number;
  readonly tokenMs: number;
  readonly ttftUnguardedMs: number;
  readonly ttftGuardedMs: number;
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

async function perRequestUs(guard: GuardSet, chars: number, minMs: number): Promise<number> {
  const body = requestOf(chars);
  for (let i = 0; i < 3; i++) await guardChatInput(body, guard, []);
  let n = 0;
  const t0 = performance.now();
  let elapsed = 0;
  do {
    await guardChatInput(body, guard, []);
    n++;
    elapsed = performance.now() - t0;
  } while (elapsed < minMs);
  return (elapsed * 1000) / n;
}

async function* tokens(count: number, tokenMs: number): AsyncGenerator<ChatCompletionChunk> {
  const base = { id: 'c', object: 'chat.completion.chunk' as const, created: 0, model: 'm' };
  for (let i = 0; i < count; i++) {
    await new Promise((r) => setTimeout(r, tokenMs));
    yield { ...base, choices: [{ index: 0, delta: { content: 'tok ' }, finish_reason: null }] };
  }
  yield { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] };
}

async function ttftMs(stream: AsyncIterable<ChatCompletionChunk>): Promise<number> {
  const t0 = performance.now();
  let first = -1;
  for await (const c of stream) if (first < 0 && c.choices[0]?.delta?.content) first = performance.now() - t0;
  return first;
}

export async function guardBench(opts: { minMs?: number; tokenMs?: number; tokens?: number } = {}): Promise<GuardBenchReport> {
  const guards = twentyRulePolicy();
  const guard = new GuardSet(policiesFor(compilePolicies(guards), ['bench']));
  const minMs = opts.minMs ?? 300;
  const perRequest = [];
  for (const promptKb of [1, 100]) perRequest.push({ promptKb, us: await perRequestUs(guard, promptKb * 1024, minMs) });
  const tokenMs = opts.tokenMs ?? 20;
  const count = opts.tokens ?? 120;
  const actions: GuardAction[] = [];
  const ttftUnguardedMs = await ttftMs(tokens(count, tokenMs));
  const ttftGuardedMs = await ttftMs(guardChunks(tokens(count, tokenMs), guard, actions));
  return { rules: guards.bench.input?.deny?.length ?? 0, perRequestUs: perRequest, windowChars: guard.windowChars(), tokenMs, ttftUnguardedMs, ttftGuardedMs };
}

export function renderGuard(r: GuardBenchReport): string {
  const lines = [`Prompt guard (${r.rules} deny rules + PII redaction, in process)`, '| prompt | input check per request |', '|---|---:|'];
  for (const p of r.perRequestUs) lines.push(`| ${p.promptKb} KB | ${p.us >= 1000 ? `${(p.us / 1000).toFixed(2)} ms` : `${p.us.toFixed(0)} µs`} |`);
  lines.push(
    `Stream time to first token, a 4-char token every ${r.tokenMs} ms: unguarded ${r.ttftUnguardedMs.toFixed(0)} ms, ` +
      `through the ${r.windowChars}-char output window ${r.ttftGuardedMs.toFixed(0)} ms (+${(r.ttftGuardedMs - r.ttftUnguardedMs).toFixed(0)} ms)`,
  );
  return lines.join('\n');
}

if (require.main === module) void guardBench().then((r) => console.log(renderGuard(r)));
