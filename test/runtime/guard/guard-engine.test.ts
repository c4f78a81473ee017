/** The prompt guard's engine: policy validation, safe patterns, checks, the stream window, and body transforms. */
import { guardChatInput, guardChatOutput, guardEmbeddingsInput } from '../../../lambda/core/guard/apply';
import { type GuardAction, GuardBlocked, GuardSet, type GuardrailService, policiesFor } from '../../../lambda/core/guard/engine';
import { type GuardPolicyConfig, checkGuards, compilePolicies, longestLiteral } from '../../../lambda/core/guard/policy';
import { StreamWindow, guardChunks } from '../../../lambda/core/guard/stream';
import { GatewayError } from '../../../lambda/core/errors';
import type { ChatCompletion, ChatCompletionChunk, ChatRequest } from '../../../lambda/providers/types';

function guardOf(guards: Record<string, GuardPolicyConfig>, names = Object.keys(guards)): GuardSet {
  const problems: string[] = [];
  checkGuards(guards, problems);
  if (problems.length) throw new Error(problems.join('\n'));
  return new GuardSet(policiesFor(compilePolicies(guards), names));
}

function problemsOf(guards: unknown): string[] {
  const problems: string[] = [];
  checkGuards(guards, problems);
  return problems;
}

describe('policy validation at start-up', () => {
  test('a pattern the linear-time engine cannot run is rejected, naming policy, rule and pattern', () => {
    const problems = problemsOf({
      p: {
        input: {
          deny: [
            { id: 'twice', pattern: '(a)\\1' },
            { id: 'ahead', pattern: 'x(?=y)' },
          ],
        },
      },
    });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain('guards.p.input.deny[0] (\'twice\'): pattern "(a)\\\\1" is not supported');
    expect(problems[1]).toContain("guards.p.input.deny[1] ('ahead')");
    expect(problems[1]).toContain('no backreferences or lookaround');
  });

  test.each([
    [{ p: { input: { deny: [{ id: 'a', pattern: 'x', flags: 'q' }] } } }, 'unknown flag'],
    [
      {
        p: {
          input: {
            deny: [
              { id: 'a', pattern: 'x' },
              { id: 'a', pattern: 'y' },
            ],
          },
        },
      },
      "rule id 'a' is used twice",
    ],
    [{ p: { input: { roles: ['admin'] } } }, 'roles must be "all" or a non-empty list'],
    [{ p: { input: { pii: { action: 'mask' } } } }, 'pii must be { "action": "block"|"redact"'],
    [{ p: { input: { pii: { action: 'redact', types: ['dna'] } } } }, 'pii.types must be a non-empty list'],
    [{ p: { output: { allow: [{ id: 'a', pattern: 'x' }] } } }, 'output.allow is not a known output guard field'],
    [{ p: { output: { windowChars: 0 } } }, 'windowChars must be an integer'],
    [{ p: { bedrockGuardrail: { id: 'gr-1' } } }, 'bedrockGuardrail must be { "id"'],
    [{ none: {} }, "'none' is reserved"],
  ])('%j is rejected: %s', (guards, message) => {
    expect(problemsOf(guards).join('\n')).toContain(message);
  });

  test('the window holds at least the longest literal of any pattern', () => {
    expect(longestLiteral('password\\s*[:=]')).toBe(8);
    const literal = 'x'.repeat(300);
    const g = guardOf({ p: { output: { deny: [{ id: 'long', pattern: literal }] } } });
    expect(g.windowChars()).toBe(300);
  });
});

describe('safe patterns: the catastrophic-backtracking classics on 100 KB adversarial input', () => {
  const N = 100_000;
  test.each([
    ['(a+)+$', 'a'.repeat(N) + 'b', false],
    ['(a|aa)+$', 'a'.repeat(N) + 'b', false],
    ['(a|a?)+$', 'a'.repeat(N) + 'b', true], // the empty match at the end satisfies it
    ['^(a|a?)+$', 'a'.repeat(N) + 'b', false],
    ['(.*a){20}', 'a'.repeat(N), true],
    ['(.*a){20}', 'b'.repeat(N), false],
    ['^(\\w+\\s?)*$', 'ab '.repeat(N / 3) + '!', false],
    ['(x+x+)+y', 'x'.repeat(N), false],
    ['^([a-zA-Z0-9])(([\\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$', 'a'.repeat(N) + '!', false],
    ['[\\w.+-]+@[\\w-]+\\.[\\w.]+', 'a.'.repeat(N / 2), false],
    ['[\\w.+-]+@[\\w-]+\\.[\\w.]+', 'a.'.repeat(N / 2) + 'b@example.com', true],
  ])('%s is evaluated correctly', (pattern, input, matches) => {
    const g = guardOf({ p: { input: { deny: [{ id: 'classic', pattern }], roles: 'all' } } });
    const result = g.scan(input, 'input');
    expect(result.blocked !== undefined).toBe(matches);
  });

  test.each([['(a)\\1+$'], ['(?=a)+a'], ['(?<!b)a+'], ['\\k<x>']])('%s is rejected at start-up', (pattern) => {
    expect(problemsOf({ p: { input: { deny: [{ id: 'classic', pattern }] } } })).toHaveLength(1);
  });
});

describe('checks', () => {
  const guards: Record<string, GuardPolicyConfig> = {
    route: { input: { deny: [{ id: 'no-passwords', pattern: 'password\\s*[:=]', flags: 'i' }], pii: { action: 'redact', types: ['email'] } } },
    key: { input: { pii: { action: 'block', types: ['secret'] } } },
    topic: { input: { allow: [{ id: 'billing', pattern: '\\b(invoice|refund|billing)\\b', flags: 'i' }] } },
  };

  test('a deny pattern blocks, naming policy and rule; the text is not in the error', () => {
    const actions: GuardAction[] = [];
    const g = guardOf(guards, ['route']);
    expect(() => g.checkLocal('my PASSWORD: hunter2', 'input', actions)).toThrow(GuardBlocked);
    expect(actions).toEqual([{ policy: 'route', rule: 'no-passwords', where: 'input', action: 'block' }]);
  });

  test("a policy's rules are checked together (one pass), and the first matching rule in config order is named, with each rule's own flags", () => {
    const g = guardOf({
      many: {
        input: {
          deny: [
            { id: 'first', pattern: 'alpha\\s+beta' },
            { id: 'second', pattern: 'BETA', flags: 'i' },
            { id: 'third', pattern: 'gamma' },
          ],
        },
      },
    });
    expect(() => g.checkLocal('gamma then alpha  beta', 'input', [])).toThrow(expect.objectContaining({ rule: 'first' }));
    expect(() => g.checkLocal('only beta and gamma', 'input', [])).toThrow(expect.objectContaining({ rule: 'second' }));
    expect(() => g.checkLocal('just gamma', 'input', [])).toThrow(expect.objectContaining({ rule: 'third' }));
    // 'first' has no i flag: upper case does not match it; 'second' has one.
    expect(() => g.checkLocal('ALPHA BETA', 'input', [])).toThrow(expect.objectContaining({ rule: 'second' }));
    expect(g.checkLocal('nothing here', 'input', [])).toBe('nothing here');
  });

  test("the route's and the key's policies both apply", () => {
    const g = guardOf(guards, ['route', 'key']);
    const actions: GuardAction[] = [];
    expect(g.checkLocal('mail a@example.com', 'input', actions)).toBe('mail [REDACTED:email]');
    expect(() => g.checkLocal('key sk-proj-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe', 'input', actions)).toThrow(
      expect.objectContaining({ policy: 'key', rule: 'pii:secret' }),
    );
    expect(actions).toEqual([
      { policy: 'route', rule: 'pii:email', where: 'input', action: 'redact' },
      { policy: 'key', rule: 'pii:secret', where: 'input', action: 'block' },
    ]);
  });

  test('an allow-list lets only its topic through', () => {
    const g = guardOf(guards, ['topic']);
    expect(g.checkLocal('Where is my refund?', 'input', [])).toBe('Where is my refund?');
    expect(() => g.checkLocal('Write me a poem', 'input', [])).toThrow(expect.objectContaining({ policy: 'topic', rule: 'allow' }));
  });
});

describe('bodies', () => {
  const guards: Record<string, GuardPolicyConfig> = {
    p: {
      input: { pii: { action: 'redact', types: ['email'] } },
      output: { deny: [{ id: 'no-secret-word', pattern: 'swordfish' }], pii: { action: 'redact', types: ['email'] } },
    },
    all: { input: { pii: { action: 'redact', types: ['email'] }, roles: 'all' } },
  };
  const request: ChatRequest = {
    model: 'm',
    messages: [
      { role: 'system', content: 'Support for ops@example.com' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'I am bob@example.com' },
          { type: 'image_url', image_url: { url: 'https://x/y.png' } },
        ],
      },
    ],
  };

  test('input: user messages by default, string contents and text parts; other roles untouched', async () => {
    const out = await guardChatInput(request, guardOf(guards, ['p']), []);
    expect(out.messages[0].content).toBe('Support for ops@example.com');
    expect(out.messages[1].content).toEqual([
      { type: 'text', text: 'I am [REDACTED:email]' },
      { type: 'image_url', image_url: { url: 'https://x/y.png' } },
    ]);
    expect((request.messages[1].content as { text: string }[])[0].text).toBe('I am bob@example.com'); // the original is not mutated
  });

  test('input: roles "all" checks every role', async () => {
    const out = await guardChatInput(request, guardOf(guards, ['all']), []);
    expect(out.messages[0].content).toBe('Support for [REDACTED:email]');
  });

  test('embeddings inputs are checked', async () => {
    const out = await guardEmbeddingsInput({ model: 'e', input: ['x@example.com', 'plain'] }, guardOf(guards, ['p']), []);
    expect(out.input).toEqual(['[REDACTED:email]', 'plain']);
  });

  const answer = (content: string, args?: string): ChatCompletion => ({
    id: 'c',
    object: 'chat.completion',
    created: 0,
    model: 'm',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content,
          ...(args ? { tool_calls: [{ id: 't', type: 'function' as const, function: { name: 'f', arguments: args } }] } : {}),
        },
        finish_reason: args ? 'tool_calls' : 'stop',
      },
    ],
  });

  test('output: a blocked answer is withheld with finish_reason content_filter', async () => {
    const actions: GuardAction[] = [];
    const out = await guardChatOutput(answer('the password is swordfish'), guardOf(guards, ['p']), actions);
    expect(out.choices[0]).toEqual({ index: 0, message: { role: 'assistant', content: null }, finish_reason: 'content_filter' });
    expect(actions).toEqual([{ policy: 'p', rule: 'no-secret-word', where: 'output', action: 'block' }]);
  });

  test('output: tool-call arguments are checked as output text', async () => {
    const redacted = await guardChatOutput(answer('', '{"to":"eve@example.com"}'), guardOf(guards, ['p']), []);
    expect(redacted.choices[0].message.tool_calls?.[0].function.arguments).toBe('{"to":"[REDACTED:email]"}');
    const blocked = await guardChatOutput(answer('', '{"q":"swordfish"}'), guardOf(guards, ['p']), []);
    expect(blocked.choices[0].finish_reason).toBe('content_filter');
    expect(blocked.choices[0].message.tool_calls).toBeUndefined();
  });
});

describe('the stream window', () => {
  const g = guardOf({
    p: { output: { deny: [{ id: 'no-secret-word', pattern: 'swordfish' }], pii: { action: 'redact', types: ['email'] }, windowChars: 16 } },
  });

  test('prose is released as soon as no match can be in progress through it, not a window later', async () => {
    const w = new StreamWindow(g, [], 16);
    const tokens = ['Hello', ' there', ', how', ' are', ' you', ' today', '?'];
    const released: string[] = [];
    for (const token of tokens) released.push(await w.push(token));
    // The first word leaves with the second token (until then it may still be the start of an address)…
    expect(released.slice(0, 2)).toEqual(['', 'Hello ']);
    // …and from then on at most the last word waits, never a window's worth.
    let pushed = '';
    let out = '';
    tokens.forEach((t, i) => {
      pushed += t;
      out += released[i];
      expect(pushed.startsWith(out)).toBe(true);
      expect(pushed.length - out.length).toBeLessThanOrEqual(t.length + 5);
    });
    expect(out + (await w.end())).toBe(tokens.join(''));
  });

  test('a candidate for a match waits until it matches or cannot, and the text before it leaves', async () => {
    const w = new StreamWindow(g, [], 16);
    expect(await w.push('the code is swo')).toBe('the code is ');
    expect(await w.push('rn in time')).toBe('sworn in ');
    expect(await w.end()).toBe('time');
  });

  test("a word boundary at the held text's start sees the character released before it", async () => {
    const words = guardOf({ w: { output: { deny: [{ id: 'word', pattern: '\\bswordfish\\b' }] } } });
    const w = new StreamWindow(words, [], 16);
    expect(await w.push('the codex')).toBe('the codex'); // no rule can be starting in it
    // 'codexswordfish' holds no word 'swordfish': not blocked, although the held text alone would be.
    expect((await w.push('swordfish')) + (await w.end())).toBe('swordfish');
    await expect(new StreamWindow(words, [], 16).push('swordfish ')).rejects.toThrow(GuardBlocked);
  });

  test('a candidate longer than the window is cut at the window: the held text stays bounded', async () => {
    const w = new StreamWindow(g, [], 16);
    let out = '';
    for (const ch of 'x'.repeat(40)) out += await w.push(ch);
    expect(out).toBe('x'.repeat(out.length));
    expect(40 - out.length).toBeLessThanOrEqual(16 + 4);
    expect(out + (await w.end())).toBe('x'.repeat(40));
  });

  test('matches split anywhere are caught: a forbidden word blocks and an e-mail is redacted whole, at every split point and char by char', async () => {
    // The e-mail (21 characters) fits the window: that is the length a stream is guaranteed to catch.
    const g = guardOf({
      p: { output: { deny: [{ id: 'no-secret-word', pattern: '\\bswordfish\\b' }], pii: { action: 'redact', types: ['email'] }, windowChars: 24 } },
    });
    const forbidden = 'we said the code is swordfish, and left';
    const email = 'write to bob.smith@example.com today, or call later on.';
    const feeds = (text: string) => [...Array.from({ length: text.length - 1 }, (_, i) => [text.slice(0, i + 1), text.slice(i + 1)]), [...text]];
    for (const pieces of feeds(forbidden)) {
      const w = new StreamWindow(g, [], 24);
      let out = '';
      const run = async () => {
        for (const p of pieces) out += await w.push(p);
        out += await w.end();
      };
      await expect(run()).rejects.toThrow(GuardBlocked);
      expect(out).not.toContain('swordfish');
    }
    for (const pieces of feeds(email)) {
      const w = new StreamWindow(g, [], 24);
      let out = '';
      for (const p of pieces) out += await w.push(p);
      out += await w.end();
      expect(out).toBe('write to [REDACTED:email] today, or call later on.');
    }
  });

  test('with a Bedrock guardrail on output, text is released in batches ending at a word, once a window follows it', async () => {
    const calls: string[] = [];
    const guardrails: GuardrailService = {
      apply: async (_g, _source, texts) => {
        calls.push(...texts);
        return { action: 'none' };
      },
    };
    const batched = new GuardSet(
      policiesFor(compilePolicies({ b: { bedrockGuardrail: { id: 'gr-1', version: '1', on: ['output'] }, output: { windowChars: 16 } } }), ['b']),
      guardrails,
    );
    const w = new StreamWindow(batched, [], 16);
    const text = 'one two three four five six seven eight nine ten';
    const released: string[] = [];
    for (const ch of text) {
      const out = await w.push(ch);
      if (out) released.push(out);
    }
    expect(released.length).toBeGreaterThan(1); // released while streaming, not only at the end
    for (const r of released) expect(r.endsWith(' ')).toBe(true); // never half a word
    expect(released.join('') + (await w.end())).toBe(text);
    expect(calls.join('')).toBe(text); // each batch checked once
  });

  test('a forbidden word split across chunks is caught', async () => {
    const w = new StreamWindow(g, [], 16);
    await w.push('the word is swo');
    await expect((async () => (await w.push('rdfish and more text to fill the window')) + (await w.end()))()).rejects.toThrow(GuardBlocked);
  });

  test('an e-mail split across chunks is redacted before release, never released in part', async () => {
    const w = new StreamWindow(g, [], 16);
    let out = '';
    for (const piece of ['write to bob.sm', 'ith@exam', 'ple.com', ' today, or call later on.']) out += await w.push(piece);
    out += await w.end();
    expect(out).toBe('write to [REDACTED:email] today, or call later on.');
  });

  const chunk = (content: string | undefined, finish: ChatCompletionChunk['choices'][number]['finish_reason'] = null): ChatCompletionChunk => ({
    id: 'c',
    object: 'chat.completion.chunk',
    created: 0,
    model: 'm',
    choices: [{ index: 0, delta: content === undefined ? {} : { content }, finish_reason: finish }],
  });

  async function* from(chunks: ChatCompletionChunk[]) {
    yield* chunks;
  }

  test('on canonical chunks: redacted text, then the finish chunk', async () => {
    const out: ChatCompletionChunk[] = [];
    for await (const c of guardChunks(from([chunk('mail bob@ex'), chunk('ample.com now'), chunk(undefined, 'stop')]), g, [])) out.push(c);
    expect(out.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('mail [REDACTED:email] now');
    expect(out[out.length - 1].choices[0].finish_reason).toBe('stop');
  });

  test('on canonical chunks: a block is a guardrail_blocked GatewayError, naming policy and rule', async () => {
    const run = async () => {
      for await (const _ of guardChunks(from([chunk('sword'), chunk('fish'), chunk(undefined, 'stop')]), g, [])) void _;
    };
    await expect(run()).rejects.toThrow(GatewayError);
    await expect(run()).rejects.toMatchObject({
      status: 400,
      code: 'guardrail_blocked',
      message: expect.stringContaining("policy 'p', rule 'no-secret-word'"),
    });
  });
});
