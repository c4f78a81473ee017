/** The mock provider's lexical embeddings: paraphrases close, unrelated texts apart (so the semantic cache can be tried locally). */
import { lexicalEmbedding, stems } from '../../../lambda/providers/mock/embedding';

const cos = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);

test('paraphrases using the same content words are at similarity 1', () => {
  expect(cos(lexicalEmbedding('Summarize this contract'), lexicalEmbedding('Give me a summary of this contract'))).toBeCloseTo(1, 5);
  expect(cos(lexicalEmbedding('What is the capital of France?'), lexicalEmbedding('Tell me the capital of France, please'))).toBeCloseTo(1, 5);
});

test('texts about different things are far below the default threshold', () => {
  expect(cos(lexicalEmbedding('Summarize this contract'), lexicalEmbedding('Summarize this email'))).toBeLessThan(0.95);
  expect(cos(lexicalEmbedding('Summarize this contract'), lexicalEmbedding('Translate the invoice into German'))).toBeLessThan(0.5);
});

test('vectors are unit length, of the requested size, deterministic', () => {
  const v = lexicalEmbedding('hello world', 64);
  expect(v).toHaveLength(64);
  expect(cos(v, v)).toBeCloseTo(1, 4);
  expect(lexicalEmbedding('hello world', 64)).toEqual(v);
  expect(stems('Give me THE summary')).toEqual(['summa']);
});
