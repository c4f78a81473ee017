/**
 * One rule for Bedrock inference profile ids: the construct's IAM grant, the price table and the
 * Bedrock provider all see through the same geographic prefixes (three regexes that disagreed gave
 * a `jp.`/`au.`/`ca.` profile IAM but no price).
 */
import { BEDROCK_PROFILE_PREFIXES, bedrockFoundationModel } from '../../../lambda/contract/bedrock-model-ids';
import { PriceTable } from '../../../lambda/core/pricing';
import { embeddingFamily } from '../../../lambda/providers/bedrock/embeddings';

const usage = { prompt_tokens: 1000, completion_tokens: 1000 };

test.each(BEDROCK_PROFILE_PREFIXES)('a %s. inference profile names its foundation model, is priced like it, and embeds like it', (prefix) => {
  const model = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
  expect(bedrockFoundationModel(`${prefix}.${model}`)).toBe(model);
  const prices = new PriceTable();
  expect(prices.cost('bedrock', `${prefix}.${model}`, usage)).toBe(prices.cost('bedrock', model, usage));
  expect(prices.cost('bedrock', model, usage)).not.toBeNull();
  expect(embeddingFamily(`${prefix}.cohere.embed-english-v3`)).toBe('cohere');
  expect(embeddingFamily(`${prefix}.amazon.titan-embed-text-v2:0`)).toBe('titan');
});

test('an id without a profile prefix, or with an unknown one, is left as it is', () => {
  expect(bedrockFoundationModel('anthropic.claude-3-haiku-20240307-v1:0')).toBe('anthropic.claude-3-haiku-20240307-v1:0');
  expect(bedrockFoundationModel('xx.anthropic.claude-3-haiku-20240307-v1:0')).toBe('xx.anthropic.claude-3-haiku-20240307-v1:0');
});
