/**
 * USD per million input/output tokens for the main models of each provider (public list prices,
 * standard tier, no batch or cache discounts, prompts under any long-context surcharge).
 * Config `pricing` overrides or extends it, keyed by model name or `provider/model` (use that for
 * an Azure deployment name, or a negotiated price). Unknown models cost null: recorded as unknown,
 * never guessed, and they do not draw on USD budgets (set a price in config for such models).
 */
import type { ModelPrice } from './config';
import type { Usage } from '../apischema/openai';

const p = (input: number, output: number): ModelPrice => ({ input, output });

export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = {
  // OpenAI (Azure OpenAI bills the same list prices for the same models)
  'gpt-5': p(1.25, 10),
  'gpt-5.1': p(1.25, 10),
  'gpt-5-mini': p(0.25, 2),
  'gpt-5-nano': p(0.05, 0.4),
  'gpt-4.1': p(2, 8),
  'gpt-4.1-mini': p(0.4, 1.6),
  'gpt-4.1-nano': p(0.1, 0.4),
  'gpt-4o': p(2.5, 10),
  'gpt-4o-mini': p(0.15, 0.6),
  'gpt-4-turbo': p(10, 30),
  'gpt-4': p(30, 60),
  'gpt-35-turbo': p(0.5, 1.5), // Azure's spelling
  'gpt-3.5-turbo': p(0.5, 1.5),
  o1: p(15, 60),
  'o1-mini': p(1.1, 4.4),
  o3: p(2, 8),
  'o3-mini': p(1.1, 4.4),
  'o3-pro': p(20, 80),
  'o4-mini': p(1.1, 4.4),
  'text-embedding-3-small': p(0.02, 0),
  'text-embedding-3-large': p(0.13, 0),
  'text-embedding-ada-002': p(0.1, 0),
  // Anthropic (also Bedrock ids such as us.anthropic.claude-sonnet-4-5-20250929-v1:0, by prefix)
  'claude-opus-4-5': p(5, 25),
  'claude-opus-4-1': p(15, 75),
  'claude-opus-4': p(15, 75),
  'claude-sonnet-4-5': p(3, 15),
  'claude-sonnet-4': p(3, 15),
  'claude-haiku-4-5': p(1, 5),
  'claude-3-7-sonnet': p(3, 15),
  'claude-3-5-sonnet': p(3, 15),
  'claude-3-5-haiku': p(0.8, 4),
  'claude-3-opus': p(15, 75),
  'claude-3-haiku': p(0.25, 1.25),
  // Amazon Bedrock's own and hosted models (ids without their vendor prefix)
  'nova-premier': p(2.5, 12.5),
  'nova-pro': p(0.8, 3.2),
  'nova-lite': p(0.06, 0.24),
  'nova-micro': p(0.035, 0.14),
  'titan-embed-text-v2': p(0.02, 0),
  'llama3-3-70b-instruct': p(0.72, 0.72),
  'llama3-1-70b-instruct': p(0.72, 0.72),
  'llama3-1-8b-instruct': p(0.22, 0.22),
  'llama4-maverick-17b-instruct': p(0.24, 0.97),
  'llama4-scout-17b-instruct': p(0.17, 0.66),
  'command-r-plus': p(2.5, 10),
  'command-r': p(0.15, 0.6),
  'embed-english-v3': p(0.1, 0),
  // Google Gemini
  'gemini-3-pro-preview': p(2, 12),
  'gemini-2.5-pro': p(1.25, 10),
  'gemini-2.5-flash': p(0.3, 2.5),
  'gemini-2.5-flash-lite': p(0.1, 0.4),
  'gemini-2.0-flash': p(0.1, 0.4),
  'gemini-2.0-flash-lite': p(0.075, 0.3),
  'gemini-1.5-pro': p(1.25, 5),
  'gemini-1.5-flash': p(0.075, 0.3),
  'gemini-embedding-001': p(0.15, 0),
  'text-embedding-004': p(0, 0),
  // Mistral
  'mistral-large': p(2, 6),
  'mistral-medium': p(0.4, 2),
  'mistral-small': p(0.1, 0.3),
  'magistral-medium': p(2, 5),
  'magistral-small': p(0.5, 1.5),
  codestral: p(0.3, 0.9),
  'pixtral-large': p(2, 6),
  'ministral-8b': p(0.1, 0.1),
  'ministral-3b': p(0.04, 0.04),
  'open-mistral-nemo': p(0.15, 0.15),
  'mistral-embed': p(0.1, 0),
  // Groq
  'llama-3.3-70b-versatile': p(0.59, 0.79),
  'llama-3.1-8b-instant': p(0.05, 0.08),
  'openai/gpt-oss-120b': p(0.15, 0.75),
  'openai/gpt-oss-20b': p(0.1, 0.5),
  'meta-llama/llama-4-maverick-17b-128e-instruct': p(0.2, 0.6),
  'meta-llama/llama-4-scout-17b-16e-instruct': p(0.11, 0.34),
  'moonshotai/kimi-k2-instruct': p(1, 3),
  'qwen/qwen3-32b': p(0.29, 0.59),
  // DeepSeek (V3.2 list price, cache miss)
  'deepseek-chat': p(0.28, 0.42),
  'deepseek-reasoner': p(0.28, 0.42),
  // xAI
  'grok-4': p(3, 15),
  'grok-3-mini': p(0.3, 0.5),
  // the built-in mock provider, so local budgets can be tried without credentials
  'mock-model': p(1, 2),
};

/** Bedrock cross-region inference prefixes and vendor prefixes, dropped before matching. */
const BEDROCK_REGION = /^(us|eu|apac|us-gov|global)\./;
const BEDROCK_VENDOR = /^(anthropic|amazon|meta|mistral|cohere|ai21|deepseek|openai|qwen|writer)\./;

/** `name` is `model` or a prefix of it that ends where a version suffix starts (`-2024…`, `-v1:0`, `@…`). */
function isVersionOf(model: string, name: string): boolean {
  if (!model.startsWith(name)) return false;
  const next = model.charAt(name.length);
  return next === '' || next === '-' || next === ':' || next === '@';
}

/** Bounds the per-process memo of resolved prices (model names come from requests). */
const MEMO_MAX = 1_000;

export class PriceTable {
  private readonly prices: Map<string, ModelPrice>;
  /** provider/model → resolved price: the prefix scan runs once per model, not once per request. */
  private readonly memo = new Map<string, ModelPrice | null>();

  constructor(overrides: Readonly<Record<string, ModelPrice>> = {}) {
    this.prices = new Map(Object.entries({ ...DEFAULT_PRICES, ...overrides }));
  }

  /**
   * Exact `provider/model`, then exact model, then the longest known name the model is a version
   * of (dated snapshots, `-latest`, Bedrock ids). `gpt-4.5` does not match `gpt-4`: a different
   * model is never priced as another.
   */
  priceFor(provider: string, model: string): ModelPrice | undefined {
    const memoKey = `${provider}/${model}`;
    const memoised = this.memo.get(memoKey);
    if (memoised !== undefined) return memoised ?? undefined;
    const price = this.resolve(provider, model);
    if (this.memo.size >= MEMO_MAX) this.memo.clear();
    this.memo.set(memoKey, price ?? null);
    return price;
  }

  private resolve(provider: string, model: string): ModelPrice | undefined {
    const direct = this.prices.get(`${provider}/${model}`) ?? this.prices.get(model);
    if (direct) return direct;
    const bare = model.replace(BEDROCK_REGION, '').replace(BEDROCK_VENDOR, '');
    let best: ModelPrice | undefined;
    let bestLen = 0;
    for (const [name, price] of this.prices) {
      if (name.length > bestLen && (isVersionOf(model, name) || isVersionOf(bare, name))) {
        best = price;
        bestLen = name.length;
      }
    }
    return best;
  }

  cost(provider: string, model: string, usage: Pick<Usage, 'prompt_tokens' | 'completion_tokens'>): number | null {
    const price = this.priceFor(provider, model);
    if (!price) return null;
    return Number(((usage.prompt_tokens * price.input + usage.completion_tokens * price.output) / 1_000_000).toFixed(8));
  }
}
