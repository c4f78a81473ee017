/**
 * USD per million tokens for the main models of each provider (list prices). Config `pricing`
 * overrides or extends it. Unknown models cost null (recorded as unknown, never guessed).
 */
import type { ModelPrice } from './config';
import type { Usage } from '../providers/types';

export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = {
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'o3': { input: 2, output: 8 },
  'o4-mini': { input: 1.1, output: 4.4 },
  'gpt-5': { input: 1.25, output: 10 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'text-embedding-3-small': { input: 0.02, output: 0 },
  'text-embedding-3-large': { input: 0.13, output: 0 },
  'claude-opus-4-1': { input: 15, output: 75 },
  'claude-sonnet-4-5': { input: 3, output: 15 },
  'claude-sonnet-4': { input: 3, output: 15 },
  'claude-haiku-4-5': { input: 1, output: 5 },
  'claude-3-5-haiku': { input: 0.8, output: 4 },
  'gemini-2.5-pro': { input: 1.25, output: 10 },
  'gemini-2.5-flash': { input: 0.3, output: 2.5 },
  'gemini-2.0-flash': { input: 0.1, output: 0.4 },
  'mistral-large': { input: 2, output: 6 },
  'mistral-small': { input: 0.1, output: 0.3 },
  'deepseek-chat': { input: 0.27, output: 1.1 },
  'llama-3.3-70b-versatile': { input: 0.59, output: 0.79 },
  'amazon.nova-pro': { input: 0.8, output: 3.2 },
  'amazon.nova-lite': { input: 0.06, output: 0.24 },
  'mock-model': { input: 1, output: 2 },
};

export class PriceTable {
  private readonly prices: Map<string, ModelPrice>;

  constructor(overrides: Readonly<Record<string, ModelPrice>> = {}) {
    this.prices = new Map(Object.entries({ ...DEFAULT_PRICES, ...overrides }));
  }

  /** Exact `provider/model`, then exact model, then the longest known prefix (dated snapshots, Bedrock ids). */
  priceFor(provider: string, model: string): ModelPrice | undefined {
    const direct = this.prices.get(`${provider}/${model}`) ?? this.prices.get(model);
    if (direct) return direct;
    const bare = model.replace(/^(us|eu|apac|global)\./, '').replace(/^(anthropic|amazon|meta|mistral|cohere)\./, '');
    let best: ModelPrice | undefined;
    let bestLen = 0;
    for (const [name, price] of this.prices) {
      if (name.length > bestLen && (model.startsWith(name) || bare.startsWith(name))) {
        best = price;
        bestLen = name.length;
      }
    }
    return best;
  }

  cost(provider: string, model: string, usage: Pick<Usage, 'prompt_tokens' | 'completion_tokens'>): number | null {
    const p = this.priceFor(provider, model);
    if (!p) return null;
    return Number(((usage.prompt_tokens * p.input + usage.completion_tokens * p.output) / 1_000_000).toFixed(8));
  }
}
