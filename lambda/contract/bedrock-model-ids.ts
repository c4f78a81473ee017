/**
 * Bedrock model ids: one rule for the geographic prefix of a cross-region inference profile id
 * (`us.anthropic.claude-…`, `jp.…`, `global.…`), shared by the construct (which grants IAM on the
 * foundation model behind a profile), the price table and the Bedrock provider. Three regexes that
 * disagreed meant a `jp.`/`au.`/`ca.` profile got IAM but no price.
 */

/** The geographic prefixes Bedrock puts before a model id in an inference profile id. */
export const BEDROCK_PROFILE_PREFIXES = ['us', 'us-gov', 'eu', 'apac', 'jp', 'au', 'ca', 'global'] as const;

const PROFILE_PREFIX = new RegExp(`^(?:${BEDROCK_PROFILE_PREFIXES.join('|')})\\.`);

/** The foundation model an id refers to: the id itself, or the model behind an inference profile id. */
export function bedrockFoundationModel(id: string): string {
  return id.replace(PROFILE_PREFIX, '');
}
