/**
 * USD per million input/output tokens for the main models of each provider (public list prices,
 * standard tier, no batch discounts, prompts under any long-context surcharge), with the prompt
 * cache's read and write prices where the provider lists them and its usage reports them.
 * Config `pricing` overrides or extends it, keyed by model name or `provider/model` (use that for
 * an Azure deployment name, or a negotiated price). Unknown models cost null: recorded as unknown,
 * never guessed, and they do not draw on USD budgets (set a price in config for such models).
 */
import type { ModelPrice, ProviderConfig, ProviderType } from './config';
import type { Usage } from '../apischema/openai';
import { bedrockFoundationModel } from '../contract/bedrock-model-ids';

const p = (input: number, output: number): ModelPrice => ({ input, output });
/** OpenAI: cached prompt tokens (usage.prompt_tokens_details.cached_tokens) at `share` of the input price. */
const o = (input: number, output: number, share: number): ModelPrice => ({ input, output, cacheRead: round(input * share) });
/** Anthropic (also on Bedrock): cache reads at 0.1×, 5-minute cache writes at 1.25× the input price. */
const a = (input: number, output: number): ModelPrice => ({ input, output, cacheRead: round(input * 0.1), cacheWrite: round(input * 1.25) });
const round = (usd: number) => Number(usd.toFixed(6));

/** Anthropic's web search server tool: USD per search, billed on top of tokens (usage.server_tool_use). */
export const ANTHROPIC_WEB_SEARCH_USD = 0.01;

/**
 * Server-side tool calls, the one notion behind every per-call fee: a provider runs the tool for
 * the model and bills each call on top of the tokens. A canonical usage carries them as
 * `server_tool_use.<kind>_requests` (Anthropic's own field, `web_search_requests`, extended to
 * the other kinds); what each kind is billed as (BilledUsage) and its per-call override in config
 * (ModelPrice) are named here.
 * - web_search: a web search (Anthropic's server tool; OpenAI's and xAI's `web_search_call` items
 *   with a `search` action, and OpenAI's `web_search_preview` on a reasoning model).
 * - web_search_preview: OpenAI's `web_search_preview` on a non-reasoning model, billed at its own rate.
 * - file_search: a `file_search_call` (OpenAI, xAI collections search).
 * Code interpreter is not here: OpenAI bills it per container session, which an answer does not
 * report (a container is reused across calls), so it stays unpriced rather than guessed.
 */
export const SERVER_TOOLS = {
  web_search: { billed: 'webSearches', price: 'webSearchCall' },
  web_search_preview: { billed: 'webSearchPreviews', price: 'webSearchPreviewCall' },
  file_search: { billed: 'fileSearches', price: 'fileSearchCall' },
} as const satisfies Record<string, { billed: keyof BilledUsage; price: keyof ModelPrice }>;
export type ServerToolKind = keyof typeof SERVER_TOOLS;
const SERVER_TOOL_KINDS = Object.keys(SERVER_TOOLS) as ServerToolKind[];
/** Each kind's count in a canonical usage's `server_tool_use` (`web_search_requests`, …). */
const SERVER_TOOL_USAGE_FIELDS = Object.fromEntries(SERVER_TOOL_KINDS.map((k) => [k, `${k}_requests`])) as Record<ServerToolKind, string>;

/** Who bills a provider's built-in tools, for the default per-call prices. */
export type ToolBiller = 'openai' | 'xai' | 'anthropic';

/**
 * Default USD per server tool call, by who bills it (public list prices, standard tier):
 * - OpenAI (developers.openai.com/api/docs/pricing, "Built-in tools", read 2026-12): web search
 *   $10 / 1k calls (`web_search`, and `web_search_preview` on reasoning models);
 *   `web_search_preview` on non-reasoning models $25 / 1k; file search $2.50 / 1k calls. The web
 *   search guide: only `search` actions incur a tool call cost, not `open_page` / `find_in_page`.
 * - xAI (docs.x.ai/developers/pricing, "Tool Invocation Costs"): web search $5 / 1k calls,
 *   collections search (`file_search`) $2.50 / 1k; only successful calls are billed
 *   (docs.x.ai/developers/tools/tool-usage-details).
 * - Anthropic (platform.claude.com web search tool docs): $10 / 1k searches.
 * Azure OpenAI has none: its web search runs on Grounding with Bing, billed by Bing's own meter
 * (learn.microsoft.com …/openai/how-to/web-search); price it in config (`webSearchCall`).
 */
export const TOOL_CALL_USD: Readonly<Record<ToolBiller, Readonly<Partial<Record<ServerToolKind, number>>>>> = {
  openai: { web_search: 0.01, web_search_preview: 0.025, file_search: 0.0025 },
  xai: { web_search: 0.005, file_search: 0.0025 },
  anthropic: { web_search: ANTHROPIC_WEB_SEARCH_USD },
};

/** Who bills a configured provider's built-in tools; undefined when no list price is known (set one in config). */
export function toolBillerOf(p: ProviderConfig | undefined): ToolBiller | undefined {
  if (!p) return undefined;
  if (p.type === 'openai') return 'openai';
  if (p.type === 'anthropic' || p.type === 'bedrock') return 'anthropic';
  if (p.type === 'openai-compatible' && (p.preset === 'xai' || hostOf(p.baseUrl) === 'api.x.ai')) return 'xai';
  return undefined;
}

function hostOf(url: string | undefined): string | undefined {
  try {
    return url ? new URL(url).hostname : undefined;
  } catch {
    return undefined;
  }
}

export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = {
  // OpenAI (Azure OpenAI bills the same list prices for the same models)
  'gpt-5': o(1.25, 10, 0.1),
  'gpt-5.1': o(1.25, 10, 0.1),
  'gpt-5-mini': o(0.25, 2, 0.1),
  'gpt-5-nano': o(0.05, 0.4, 0.1),
  'gpt-4.1': o(2, 8, 0.25),
  'gpt-4.1-mini': o(0.4, 1.6, 0.25),
  'gpt-4.1-nano': o(0.1, 0.4, 0.25),
  'gpt-4o': o(2.5, 10, 0.5),
  'gpt-4o-mini': o(0.15, 0.6, 0.5),
  'gpt-4-turbo': p(10, 30),
  'gpt-4': p(30, 60),
  'gpt-35-turbo': p(0.5, 1.5), // Azure's spelling
  'gpt-3.5-turbo': p(0.5, 1.5),
  o1: o(15, 60, 0.5),
  'o1-mini': o(1.1, 4.4, 0.5),
  o3: o(2, 8, 0.25),
  'o3-mini': o(1.1, 4.4, 0.5),
  'o3-pro': p(20, 80),
  'o4-mini': o(1.1, 4.4, 0.25),
  'text-embedding-3-small': p(0.02, 0),
  'text-embedding-3-large': p(0.13, 0),
  'text-embedding-ada-002': p(0.1, 0),
  // Anthropic (also Bedrock ids such as us.anthropic.claude-sonnet-4-5-20250929-v1:0, by prefix)
  'claude-opus-4-5': a(5, 25),
  'claude-opus-4-1': a(15, 75),
  'claude-opus-4': a(15, 75),
  'claude-sonnet-4-5': a(3, 15),
  'claude-sonnet-4': a(3, 15),
  'claude-haiku-4-5': a(1, 5),
  'claude-3-7-sonnet': a(3, 15),
  'claude-3-5-sonnet': a(3, 15),
  'claude-3-5-haiku': a(0.8, 4),
  'claude-3-opus': a(15, 75),
  'claude-3-haiku': a(0.25, 1.25),
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

/** Bedrock vendor prefixes, dropped (after an inference profile's prefix) before matching. */
const BEDROCK_VENDOR = /^(anthropic|amazon|meta|mistral|cohere|ai21|deepseek|openai|qwen|writer)\./;

/**
 * What may follow a priced name in a snapshot of the same model: dates (`-2024-08-06`, `-20250929`),
 * numbered snapshots (`-0613`, `-002`, `-2411`), `-latest`, Bedrock versions (`-v1:0`, `:0`) and
 * Vertex versions (`@20240620`). Anything else (`-pro`, `-mini`, `-preview`, `-1`) names another
 * model, which is never priced as a cheaper sibling: `o1-pro` is not `o1`.
 */
const VERSION_SUFFIX = /^(?:-\d{4}-\d{2}-\d{2}|-\d{8}|-\d{2,4}|-latest|-v\d+(?::\d+)?|:\d+|@[\w.-]{1,40})*$/;

/** `name` is `model` itself or `model` is a version of it (VERSION_SUFFIX). */
function isVersionOf(model: string, name: string): boolean {
  return model.startsWith(name) && VERSION_SUFFIX.test(model.slice(name.length));
}

/** Bounds the per-process memo of resolved prices (model names come from requests). */
const MEMO_MAX = 1_000;

export class PriceTable {
  private readonly prices: Map<string, ModelPrice>;
  /** provider/model → resolved price: the prefix scan runs once per model, not once per request. */
  private readonly memo = new Map<string, ModelPrice | null>();

  /** Provider name → who bills its built-in tools. */
  private readonly billers: ReadonlyMap<string, ToolBiller>;
  private readonly configured: ReadonlySet<string>;

  /**
   * `providers`: the config's, for who bills each one's built-in tools (their default per-call
   * prices). A provider the table was not told of is taken to be of the type it is named after.
   */
  constructor(overrides: Readonly<Record<string, ModelPrice>> = {}, providers: Readonly<Record<string, ProviderConfig>> = {}) {
    this.prices = new Map(Object.entries({ ...DEFAULT_PRICES, ...overrides }));
    this.configured = new Set(Object.keys(providers));
    this.billers = new Map(Object.entries(providers).flatMap(([name, p]) => (toolBillerOf(p) ? [[name, toolBillerOf(p)!] as const] : [])));
  }

  /** USD per `kind` call on `provider`'s `model`: the config's price, else the provider's list price; undefined when neither is known. */
  toolCallPrice(provider: string, model: string, kind: ServerToolKind): number | undefined {
    const own = this.priceFor(provider, model)?.[SERVER_TOOLS[kind].price];
    if (own !== undefined) return own;
    const biller = this.billers.has(provider)
      ? this.billers.get(provider)
      : this.configured.has(provider)
        ? undefined
        : toolBillerOf({ type: provider as ProviderType });
    return biller ? TOOL_CALL_USD[biller][kind] : undefined;
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
    const bare = bedrockFoundationModel(model).replace(BEDROCK_VENDOR, '');
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

  /**
   * USD for a usage. `prompt_tokens` includes any cached tokens (as OpenAI counts them); those read
   * from or written to the prompt cache are priced at the cache's prices when known, else as input.
   * Server tool calls add their per-call price (toolCallPrice); a kind with no known price adds
   * nothing (the tokens are still priced), as code interpreter sessions do.
   */
  cost(provider: string, model: string, usage: BilledUsage): number | null {
    const price = this.priceFor(provider, model);
    if (!price) return null;
    const prompt = Math.max(0, usage.prompt_tokens);
    const read = Math.min(prompt, Math.max(0, usage.cacheReadTokens ?? 0));
    const write = Math.min(prompt - read, Math.max(0, usage.cacheWriteTokens ?? 0));
    const tokensUsd =
      ((prompt - read - write) * price.input +
        read * (price.cacheRead ?? price.input) +
        write * (price.cacheWrite ?? price.input) +
        usage.completion_tokens * price.output) /
      1_000_000;
    let toolsUsd = 0;
    for (const kind of SERVER_TOOL_KINDS) {
      const calls = Math.max(0, usage[SERVER_TOOLS[kind].billed] ?? 0);
      if (calls) toolsUsd += calls * (this.toolCallPrice(provider, model, kind) ?? 0);
    }
    return Number((tokensUsd + toolsUsd).toFixed(8));
  }
}

/** What a call is billed on: tokens, the prompt cache's share of them, and server-side tool use. */
export interface BilledUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  /** Prompt tokens read from the provider's prompt cache (included in prompt_tokens). */
  readonly cacheReadTokens?: number;
  /** Prompt tokens written to the provider's prompt cache (included in prompt_tokens). */
  readonly cacheWriteTokens?: number;
  /** Web searches run by the provider's server tool (SERVER_TOOLS.web_search). */
  readonly webSearches?: number;
  /** OpenAI `web_search_preview` calls by a non-reasoning model (SERVER_TOOLS.web_search_preview). */
  readonly webSearchPreviews?: number;
  /** File search calls (SERVER_TOOLS.file_search). */
  readonly fileSearches?: number;
}

type BilledExtras = Pick<BilledUsage, 'cacheReadTokens' | 'cacheWriteTokens' | 'webSearches' | 'webSearchPreviews' | 'fileSearches'>;

/**
 * The cache and server-tool parts of a canonical usage: OpenAI's `prompt_tokens_details.cached_tokens`,
 * the Anthropic cache writes the translators keep, and `server_tool_use.<kind>_requests` (SERVER_TOOLS).
 */
export function billedExtrasOf(u: Usage | undefined | null): BilledExtras {
  // Runs for every priced answer: plain property writes, no intermediate objects or key strings.
  const extras: Record<string, number> = {};
  if (!u) return extras;
  const cacheRead = positive((u.prompt_tokens_details as { cached_tokens?: unknown } | undefined)?.cached_tokens);
  if (cacheRead !== undefined) extras.cacheReadTokens = cacheRead;
  const cacheWrite = positive((u as { cache_creation_input_tokens?: unknown }).cache_creation_input_tokens);
  if (cacheWrite !== undefined) extras.cacheWriteTokens = cacheWrite;
  const server = (u as { server_tool_use?: Record<string, unknown> | null }).server_tool_use;
  if (server)
    for (const kind of SERVER_TOOL_KINDS) {
      const calls = positive(server[SERVER_TOOL_USAGE_FIELDS[kind]]);
      if (calls !== undefined) extras[SERVER_TOOLS[kind].billed] = calls;
    }
  return extras;
}

function positive(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
}
