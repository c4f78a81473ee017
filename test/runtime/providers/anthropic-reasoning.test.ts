/** Anthropic extended thinking through the canonical (chat completions) format: providers/reasoning.ts. */
import { toAnthropicRequest } from '../../../lambda/providers/anthropic/request';
import { fromAnthropicResponse } from '../../../lambda/providers/anthropic/response';
import { anthropicStreamTranslator } from '../../../lambda/providers/anthropic/stream';
import { REASONING_BUDGET_TOKENS } from '../../../lambda/providers/reasoning';
import { type ChatRequest, UpstreamError } from '../../../lambda/providers/types';

const req = (extra: Partial<ChatRequest>): ChatRequest => ({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...extra });

function clientFaultOf(fn: () => unknown): UpstreamError {
  try {
    fn();
  } catch (err) {
    if (err instanceof UpstreamError) return err;
    throw err;
  }
  throw new Error('expected a client fault');
}

describe('Anthropic reasoning requests', () => {
  test('reasoning_effort becomes a thinking budget, and max_tokens leaves room for the answer', () => {
    const out = toAnthropicRequest(req({ reasoning_effort: 'high' }), 'claude');
    expect(out.thinking).toEqual({ type: 'enabled', budget_tokens: REASONING_BUDGET_TOKENS.high });
    expect(out.max_tokens).toBeGreaterThan(REASONING_BUDGET_TOKENS.high);
  });

  test("Anthropic's own thinking object passes through; type disabled means no thinking", () => {
    expect(toAnthropicRequest(req({ thinking: { type: 'enabled', budget_tokens: 2000 } }), 'claude').thinking).toEqual({
      type: 'enabled',
      budget_tokens: 2000,
    });
    expect(toAnthropicRequest(req({ thinking: { type: 'disabled' } }), 'claude').thinking).toBeUndefined();
    expect(toAnthropicRequest(req({ reasoning_effort: 'none' }), 'claude').thinking).toBeUndefined();
  });

  test('temperature is left out with thinking (Anthropic refuses it), and kept without', () => {
    expect(toAnthropicRequest(req({ reasoning_effort: 'low', temperature: 0.5 }), 'claude').temperature).toBeUndefined();
    expect(toAnthropicRequest(req({ temperature: 0.5 }), 'claude').temperature).toBe(0.5);
  });

  test('a max_tokens not above the budget, a malformed effort, and a forced tool with thinking are 400s naming the problem', () => {
    const small = clientFaultOf(() => toAnthropicRequest(req({ reasoning_effort: 'medium', max_tokens: 100 }), 'claude'));
    expect([small.status, small.message]).toEqual([400, expect.stringMatching(/max_tokens \(100\).*thinking budget/)]);
    expect(clientFaultOf(() => toAnthropicRequest(req({ reasoning_effort: 'extreme' }), 'claude')).message).toMatch(/reasoning_effort/);
    expect(clientFaultOf(() => toAnthropicRequest(req({ thinking: { type: 'enabled', budget_tokens: 10 } }), 'claude')).message).toMatch(/budget_tokens/);
    const forced = clientFaultOf(() =>
      toAnthropicRequest(req({ reasoning_effort: 'low', tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'required' }), 'claude'),
    );
    expect(forced.upstreamCode).toBe('unsupported_with_reasoning');
  });

  test('thinking blocks an assistant message carries back go upstream first, as Anthropic signed them', () => {
    const out = toAnthropicRequest(
      req({
        reasoning_effort: 'low',
        messages: [
          { role: 'user', content: 'go' },
          {
            role: 'assistant',
            content: null,
            thinking_blocks: [{ type: 'thinking', thinking: 'plan', signature: 'sig' }, { type: 'bogus' }],
            tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{}' } }],
          },
          { role: 'tool', tool_call_id: 't1', content: 'ok' },
        ],
      }),
      'claude',
    );
    expect(out.messages[1].content).toEqual([
      { type: 'thinking', thinking: 'plan', signature: 'sig' },
      { type: 'tool_use', id: 't1', name: 'f', input: {} },
    ]);
  });
});

describe('Anthropic reasoning answers', () => {
  test('a JSON answer carries reasoning_content and the signed thinking_blocks', () => {
    const c = fromAnthropicResponse({
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude',
      content: [
        { type: 'thinking', thinking: 'Let me think.', signature: 'sig1' },
        { type: 'redacted_thinking', data: 'opaque' },
        { type: 'text', text: '42' },
      ],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 3, output_tokens: 5 },
    });
    expect(c.choices[0].message).toMatchObject({
      content: '42',
      reasoning_content: 'Let me think.',
      thinking_blocks: [
        { type: 'thinking', thinking: 'Let me think.', signature: 'sig1' },
        { type: 'redacted_thinking', data: 'opaque' },
      ],
    });
  });

  test('an answer without thinking has no reasoning fields', () => {
    const c = fromAnthropicResponse({
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude',
      content: [{ type: 'text', text: 'hi' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 1, output_tokens: 1 },
    });
    expect(c.choices[0].message).not.toHaveProperty('reasoning_content');
    expect(c.choices[0].message).not.toHaveProperty('thinking_blocks');
  });

  test('a stream gives reasoning_content deltas, then the whole signed block once its signature arrives', () => {
    const t = anthropicStreamTranslator('claude');
    const deltas = [
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'a' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'b' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } },
    ]
      .flatMap((e) => t(e as never))
      .map((c) => c.choices[0].delta);
    expect(deltas).toEqual([
      { reasoning_content: 'a' },
      { reasoning_content: 'b' },
      { thinking_blocks: [{ type: 'thinking', thinking: 'ab', signature: 'sig' }] },
    ]);
  });
});
