/**
 * The reservation estimator against real token counts. The reference is OpenAI's o200k tokenizer
 * with the chat framing the API bills (checked first against the prompt_tokens the OpenAI API
 * reported for the cookbook sample), so the measured error is the error against real usage.
 */
import { countChatCompletionTokens } from 'gpt-tokenizer/cjs/model/gpt-4o';
import { estimateEmbeddingTokens, estimatePromptTokens, estimateTextTokens } from '../../../lambda/core/tokens';
import type { ChatRequest } from '../../../lambda/providers/types';
import { COOKBOOK_MESSAGES, SAMPLES } from './estimation-samples';

type Count = NonNullable<typeof countChatCompletionTokens>;
type Messages = Parameters<Count>[0]['messages'];
const real = (messages: unknown) => (countChatCompletionTokens as Count)({ messages: messages as Messages });
const estimate = (messages: unknown) => estimatePromptTokens({ model: 'gpt-4o', messages } as ChatRequest);

test('the reference counts what the OpenAI API reported for the cookbook sample on gpt-4o (124 prompt tokens)', () => {
  expect(real(COOKBOOK_MESSAGES)).toBe(124);
});

test.each(SAMPLES.map((s) => [s.name, s] as const))('estimate within 15%% of real usage: %s', (_name, sample) => {
  const r = real(sample.messages);
  const e = estimate(sample.messages);
  expect(Math.abs(e - r) / r).toBeLessThanOrEqual(0.15);
});

test('mean absolute error over the samples stays under 8%', () => {
  const errors = SAMPLES.map((s) => Math.abs(estimate(s.messages) - real(s.messages)) / real(s.messages));
  expect(errors.reduce((a, b) => a + b, 0) / errors.length).toBeLessThan(0.08);
});

test('a 1 MB prompt is estimated whole, in proportion to its size (its speed is timed in bench/estimation.ts)', () => {
  const sentence = 'The quick brown fox jumps over the lazy dog. ';
  const big = sentence.repeat(23_000);
  const n = estimateTextTokens(big);
  expect(n).toBeGreaterThan(150_000);
  expect(n).toBeGreaterThan(23_000 * (estimateTextTokens(sentence) - 1)); // per-sentence estimates round up; the whole does once
  expect(n).toBeLessThanOrEqual(23_000 * estimateTextTokens(sentence));
});

test('images, names and tools count; embeddings inputs of every shape count', () => {
  const withImage = estimate([
    {
      role: 'user',
      content: [
        { type: 'text', text: 'what is this' },
        { type: 'image_url', image_url: { url: 'data:,' } },
      ],
    },
  ]);
  expect(withImage).toBeGreaterThan(765);
  expect(estimate([{ role: 'user', name: 'alice', content: 'hi' }])).toBeGreaterThan(estimate([{ role: 'user', content: 'hi' }]));
  expect(estimateEmbeddingTokens('hello world')).toBe(estimateTextTokens('hello world'));
  expect(estimateEmbeddingTokens(['a b', 'c d'])).toBe(estimateTextTokens('a b') + estimateTextTokens('c d'));
  expect(estimateEmbeddingTokens([[1, 2, 3], [4]])).toBe(4);
});
