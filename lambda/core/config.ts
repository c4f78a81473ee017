/**
 * The gateway's routing config (ARCHITECTURE §4, a contract). One type shared by the
 * construct props and the local `gateway.config.json`, validated at start-up.
 */
import { OPENAI_COMPATIBLE_PRESETS } from './openai-compatible-presets';
import { type IdentityConfig, checkIdentity } from './identity/config';

export type { IdentityConfig, JwtIssuerConfig } from './identity/config';
import { type CacheConfig, checkCacheConfig } from './cache/config';
import { isObject } from './is-object';
import { type GuardPolicyConfig, checkGuardReference, checkGuards } from './guard/config';

export type { CacheConfig } from './cache/config';

export const PROVIDER_TYPES = ['openai', 'azure-openai', 'anthropic', 'bedrock', 'gemini', 'openai-compatible', 'mock'] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

/** Where a provider's credential comes from: an environment variable, or a Secrets Manager secret (name or ARN). */
export type SecretRef = { readonly env: string } | { readonly secret: string };

export interface ProviderConfig {
  readonly type: ProviderType;
  /** Credential sent upstream. Never taken from the client request. */
  readonly apiKey?: SecretRef;
  /** Upstream base URL. Only ever read from config, never from a request. */
  readonly baseUrl?: string;
  /** Named preset of the openai-compatible family (groq, mistral, ...), giving a default baseUrl. */
  readonly preset?: string;
  /** AWS region (bedrock). */
  readonly region?: string;
  /** API version query parameter (azure-openai). */
  readonly apiVersion?: string;
  /** Public model name → deployment name (azure-openai). */
  readonly deployments?: Readonly<Record<string, string>>;
  /** Extra static headers sent upstream (for example an organisation id). */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * How /v1/responses reaches this provider: `native` sends the client's Responses body to the
   * provider's own Responses API; `translate` turns it into a chat completion (every OpenAI-style
   * server serves those). Only the OpenAI-style types (openai, azure-openai, openai-compatible)
   * have a Responses API to choose.
   * @default 'native' for openai, azure-openai and the openai-compatible presets whose servers
   * serve it (xai); 'translate' for every other openai-compatible server
   */
  readonly responsesApi?: 'native' | 'translate';
}

/** The provider types with an OpenAI-style Responses API that `responsesApi` can choose. */
export const RESPONSES_API_TYPES: readonly ProviderType[] = ['openai', 'azure-openai', 'openai-compatible'];

export interface RouteTarget {
  readonly provider: string;
  readonly model: string;
  /** Relative weight under the `loadbalance` strategy. @default 1 */
  readonly weight?: number;
  /** Per-target timeouts, overriding the route's. */
  readonly timeouts?: TimeoutConfig;
}

/**
 * A group of targets tried as one: e.g. a load-balanced pair of deployments as the first
 * fallback target, `{ "strategy": "loadbalance", "targets": [...] }`. Groups nest.
 */
export interface TargetGroup {
  /** @default 'fallback' */
  readonly strategy?: RoutingStrategy;
  readonly targets: readonly RouteTargetEntry[];
  /** Relative weight when this group is itself load-balanced. @default 1 */
  readonly weight?: number;
}

/** A route's target: one provider model, or a group (told apart by its `targets` list). */
export type RouteTargetEntry = RouteTarget | TargetGroup;

export type RoutingStrategy = 'fallback' | 'loadbalance';

export function isTargetGroup(entry: RouteTargetEntry): entry is TargetGroup {
  return Array.isArray((entry as TargetGroup).targets);
}

/** Skipping a target that keeps failing (per process). */
export interface CooldownConfig {
  /** Consecutive failures (429, 5xx, timeouts, connection errors) that start a cooldown; 0 disables cooldowns. @default 3 */
  readonly failures?: number;
  /** How long a cooling target is skipped before it is tried again. @default 30000 */
  readonly cooldownMs?: number;
}

export interface RetryConfig {
  /** Attempts per target, including the first. @default 1 */
  readonly attempts?: number;
  /** Base backoff in ms (exponential, full jitter). @default 200 */
  readonly backoffMs?: number;
  /** Cap on any single wait, including a honoured Retry-After. @default 5000 */
  readonly maxBackoffMs?: number;
  /** Upstream statuses that move on (retry / next target). @default [408, 409, 429, 500, 502, 503, 504, 529] */
  readonly onStatus?: readonly number[];
}

export interface TimeoutConfig {
  /**
   * Time to the upstream's first byte: for streams, to its first content event (default 120000);
   * for JSON calls, to the response headers (unset by default, since a non-streaming upstream only
   * answers once it has generated everything; `totalMs` bounds those).
   */
  readonly firstByteMs?: number;
  /** Total time for a non-streaming call, per attempt. @default 600000 */
  readonly totalMs?: number;
  /** Longest silence allowed inside a stream after its first content event; keep it below API Gateway's 5-minute idle cut. @default 180000 */
  readonly idleMs?: number;
  /**
   * Budget for the whole route until a stream starts or a JSON answer is complete: every
   * attempt, retry and backoff together. Route or settings level only. Keeps a chain of slow
   * targets from outlasting API Gateway's 5-minute idle cut. @default 290000
   */
  readonly routeMs?: number;
}

export interface ModelRoute {
  /** @default 'fallback' */
  readonly strategy?: RoutingStrategy;
  readonly targets: readonly RouteTargetEntry[];
  readonly retry?: RetryConfig;
  readonly timeouts?: TimeoutConfig;
  /** Overrides `settings.cooldown` for this route's targets. */
  readonly cooldown?: CooldownConfig;
  /** This route's response cache; replaces the top-level `cache` as a whole. */
  readonly cache?: CacheConfig;
  /** The prompt guard policy for this route (a name in `guards`, or 'none'); replaces `settings.guard`. */
  readonly guard?: string;
}

export interface ModelPrice {
  /** USD per million input tokens. */
  readonly input: number;
  /** USD per million output tokens. */
  readonly output: number;
  /** USD per million prompt tokens read from the provider's prompt cache. @default - the input price */
  readonly cacheRead?: number;
  /** USD per million prompt tokens written to the provider's prompt cache (Anthropic, Bedrock). @default - the input price */
  readonly cacheWrite?: number;
  /**
   * USD per web search call run by the provider's built-in tool (OpenAI's `web_search` and a
   * reasoning model's `web_search_preview`, xAI's `web_search`, Anthropic's web search).
   * @default - the provider's list price: OpenAI $0.01, xAI $0.005, Anthropic $0.01; none for other providers (Azure OpenAI's search is billed by Bing grounding)
   */
  readonly webSearchCall?: number;
  /**
   * USD per `web_search_preview` call by a non-reasoning model (OpenAI bills those at their own rate).
   * @default - OpenAI's list price, $0.025; none for other providers
   */
  readonly webSearchPreviewCall?: number;
  /** USD per `file_search` call. @default - the provider's list price: OpenAI $0.0025, xAI $0.0025; none for other providers */
  readonly fileSearchCall?: number;
}

/** The per-call price fields of a ModelPrice (server-side tool calls), validated like token prices. */
export const PER_CALL_PRICES: readonly string[] = ['webSearchCall', 'webSearchPreviewCall', 'fileSearchCall'];
const OPTIONAL_PRICES: readonly string[] = ['cacheRead', 'cacheWrite', ...PER_CALL_PRICES];

export interface GatewayConfig {
  readonly providers: Readonly<Record<string, ProviderConfig>>;
  readonly models?: Readonly<Record<string, ModelRoute>>;
  /** Price overrides keyed by `provider-model` name (e.g. `gpt-4o`) or `provider/model`. */
  readonly pricing?: Readonly<Record<string, ModelPrice>>;
  readonly settings?: GatewaySettings;
  /** Who may call besides virtual keys: OIDC issuers whose JWTs map to keys (ARCHITECTURE §15). */
  readonly identity?: IdentityConfig;
  /** The response cache for every route (ARCHITECTURE §13); a route's own `cache` replaces it. @default - off */
  readonly cache?: CacheConfig;
  /** Named prompt guard policies (ARCHITECTURE §14), applied by `settings.guard`, a route's `guard` and a key's `guard`. */
  readonly guards?: Readonly<Record<string, GuardPolicyConfig>>;
}

export interface GatewaySettings {
  /** How long a verified key is trusted before it is read again: bounds how long a revoked key keeps working. @default 5000 */
  readonly keyCacheTtlMs?: number;
  /** Largest request body accepted. @default 10485760 (10 MB) */
  readonly maxBodyBytes?: number;
  /** Default timeouts for every route. */
  readonly timeouts?: TimeoutConfig;
  /** Default retry policy for every route. */
  readonly retry?: RetryConfig;
  /** Default cooldown policy for every route. */
  readonly cooldown?: CooldownConfig;
  /**
   * Longest a stream may run (from the request's start) before the gateway ends it with an
   * in-band error event, so it ends cleanly before API Gateway's 15-minute integration cap.
   * @default 870000 (14.5 minutes)
   */
  readonly streamMaxDurationMs?: number;
  /** What request-rate limits do when the counter store fails. Budgets and auth always fail closed. @default 'closed' */
  readonly rateLimitFailMode?: 'open' | 'closed';
  /** Stored responses of /v1/responses. */
  readonly responses?: ResponsesSettings;
  /** The prompt guard policy of every route that names none ('none': off). @default - no guard */
  readonly guard?: string;
}

export interface ResponsesSettings {
  /** Days a stored response (and its conversation) is kept for GET /v1/responses/{id} and previous_response_id. @default 30 */
  readonly ttlDays?: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid gateway config:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const isPositiveNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;

function checkSecretRef(v: unknown, at: string, problems: string[]) {
  if (v === undefined) return;
  if (!isObject(v)) return void problems.push(`${at} must be { "env": NAME } or { "secret": NAME_OR_ARN }`);
  const keys = Object.keys(v);
  if (keys.length !== 1 || !['env', 'secret'].includes(keys[0]) || typeof v[keys[0]] !== 'string' || !(v[keys[0]] as string))
    problems.push(`${at} must be { "env": NAME } or { "secret": NAME_OR_ARN }`);
}

function checkTimeouts(v: unknown, at: string, problems: string[]) {
  if (v === undefined) return;
  if (!isObject(v)) return void problems.push(`${at} must be an object`);
  for (const k of Object.keys(v)) {
    if (!['firstByteMs', 'totalMs', 'idleMs', 'routeMs'].includes(k))
      problems.push(`${at}.${k} is not a known timeout (firstByteMs, totalMs, idleMs, routeMs)`);
    else if (!isPositiveNumber(v[k])) problems.push(`${at}.${k} must be a positive number of milliseconds`);
  }
}

function checkRetry(v: unknown, at: string, problems: string[]) {
  if (v === undefined) return;
  if (!isObject(v)) return void problems.push(`${at} must be an object`);
  if (v.attempts !== undefined && !(Number.isInteger(v.attempts) && (v.attempts as number) >= 1)) problems.push(`${at}.attempts must be an integer >= 1`);
  for (const k of ['backoffMs', 'maxBackoffMs'])
    if (v[k] !== undefined && !(typeof v[k] === 'number' && (v[k] as number) >= 0)) problems.push(`${at}.${k} must be a number >= 0`);
  if (v.onStatus !== undefined && !(Array.isArray(v.onStatus) && v.onStatus.every((s) => Number.isInteger(s) && s >= 100 && s <= 599)))
    problems.push(`${at}.onStatus must be a list of HTTP status codes`);
}

function checkCooldown(v: unknown, at: string, problems: string[]) {
  if (v === undefined) return;
  if (!isObject(v)) return void problems.push(`${at} must be an object`);
  for (const k of Object.keys(v))
    if (!['failures', 'cooldownMs'].includes(k)) problems.push(`${at}.${k} is not a known cooldown setting (failures, cooldownMs)`);
  if (v.failures !== undefined && !(Number.isInteger(v.failures) && (v.failures as number) >= 0))
    problems.push(`${at}.failures must be an integer >= 0 (0 disables cooldowns)`);
  if (v.cooldownMs !== undefined && !isPositiveNumber(v.cooldownMs)) problems.push(`${at}.cooldownMs must be a positive number of milliseconds`);
}

const MAX_GROUP_DEPTH = 4;

/** A route's (or group's) targets: provider targets and nested groups, each problem named by its path. */
function checkTargets(targets: unknown, at: string, providers: unknown, problems: string[], depth = 0) {
  if (!Array.isArray(targets) || targets.length === 0) {
    problems.push(`${at} must be a non-empty list`);
    return;
  }
  for (const [i, t] of (targets as unknown[]).entries()) {
    const tat = `${at}[${i}]`;
    if (!isObject(t)) {
      problems.push(`${tat} must be { "provider", "model" } or a group { "strategy", "targets" }`);
      continue;
    }
    if (t.weight !== undefined && !(typeof t.weight === 'number' && Number.isFinite(t.weight) && t.weight >= 0))
      problems.push(`${tat}.weight must be a number >= 0`);
    if (t.targets !== undefined) {
      if (t.provider !== undefined || t.model !== undefined) problems.push(`${tat} is a group (it has "targets") and may not also set provider/model`);
      if (t.strategy !== undefined && t.strategy !== 'fallback' && t.strategy !== 'loadbalance')
        problems.push(`${tat}.strategy must be "fallback" or "loadbalance"`);
      if (depth + 1 >= MAX_GROUP_DEPTH) problems.push(`${tat}: groups may nest at most ${MAX_GROUP_DEPTH - 1} levels deep`);
      else checkTargets(t.targets, `${tat}.targets`, providers, problems, depth + 1);
      continue;
    }
    if (t.strategy !== undefined) problems.push(`${tat}.strategy is only allowed on a group (an entry with "targets")`);
    if (typeof t.provider !== 'string' || !t.provider) problems.push(`${tat}.provider must be a provider name`);
    else if (isObject(providers) && !(t.provider in providers)) problems.push(`${tat}.provider '${t.provider}' is not defined in providers`);
    if (typeof t.model !== 'string' || !t.model) problems.push(`${tat}.model must be a non-empty string`);
    checkTimeouts(t.timeouts, `${tat}.timeouts`, problems);
    if (isObject(t.timeouts) && t.timeouts.routeMs !== undefined)
      problems.push(`${tat}.timeouts.routeMs applies to a whole route: set it on the route or in settings.timeouts`);
  }
}

/** Validate untrusted config (JSON file or construct props). Collects every problem, throws once. */
export function validateConfig(input: unknown): GatewayConfig {
  const problems: string[] = [];
  if (!isObject(input)) throw new ConfigError(['config must be a JSON object with "providers" (and optionally "models")']);
  const known = ['providers', 'models', 'pricing', 'settings', 'identity', 'guards', 'cache', '$schema'];
  for (const k of Object.keys(input)) if (!known.includes(k)) problems.push(`${k} is not a known top-level field (${known.slice(0, -1).join(', ')})`);

  const providers = input.providers;
  if (!isObject(providers) || Object.keys(providers).length === 0) {
    problems.push('providers must be an object with at least one provider');
  } else {
    for (const [name, p] of Object.entries(providers)) {
      const at = `providers.${name}`;
      if (name.includes('/')) problems.push(`${at}: a provider name may not contain '/'`);
      if (!isObject(p)) {
        problems.push(`${at} must be an object`);
        continue;
      }
      if (!PROVIDER_TYPES.includes(p.type as ProviderType))
        problems.push(`${at}.type must be one of ${PROVIDER_TYPES.join(', ')} (got ${JSON.stringify(p.type)})`);
      checkSecretRef(p.apiKey, `${at}.apiKey`, problems);
      if (p.baseUrl !== undefined) {
        let url: URL | undefined;
        try {
          url = new URL(String(p.baseUrl));
        } catch {
          /* reported below */
        }
        if (typeof p.baseUrl !== 'string' || !url || !/^https?:$/.test(url.protocol)) problems.push(`${at}.baseUrl must be an http(s) URL`);
      }
      for (const k of ['preset', 'region', 'apiVersion'] as const)
        if (p[k] !== undefined && typeof p[k] !== 'string') problems.push(`${at}.${k} must be a string`);
      for (const k of ['deployments', 'headers'] as const) {
        if (p[k] === undefined) continue;
        if (!isObject(p[k]) || !Object.values(p[k] as object).every((x) => typeof x === 'string')) problems.push(`${at}.${k} must map strings to strings`);
      }
      if (p.type === 'openai-compatible' && p.baseUrl === undefined && p.preset === undefined)
        problems.push(`${at} (openai-compatible) needs a baseUrl or a preset`);
      // Azure has no default endpoint: each resource has its own host.
      if (p.type === 'azure-openai' && p.baseUrl === undefined)
        problems.push(`${at} (azure-openai) needs a baseUrl such as https://<resource>.openai.azure.com`);
      if (typeof p.preset === 'string' && !Object.hasOwn(OPENAI_COMPATIBLE_PRESETS, p.preset))
        problems.push(`${at}.preset '${p.preset}' is not a known preset (${Object.keys(OPENAI_COMPATIBLE_PRESETS).join(', ')}); set baseUrl instead`);
      if (p.preset !== undefined && p.type !== 'openai-compatible') problems.push(`${at}.preset is only for type openai-compatible`);
      if (p.responsesApi !== undefined) {
        if (p.responsesApi !== 'native' && p.responsesApi !== 'translate') problems.push(`${at}.responsesApi must be 'native' or 'translate'`);
        else if (!RESPONSES_API_TYPES.includes(p.type as ProviderType))
          problems.push(`${at}.responsesApi is only for types ${RESPONSES_API_TYPES.join(', ')} (a ${String(p.type)} provider is always translated)`);
      }
    }
  }

  const models = input.models;
  if (models !== undefined) {
    if (!isObject(models)) problems.push('models must be an object of model routes');
    else
      for (const [name, r] of Object.entries(models)) {
        const at = `models.${name}`;
        if (!isObject(r)) {
          problems.push(`${at} must be an object with "targets"`);
          continue;
        }
        if (r.strategy !== undefined && r.strategy !== 'fallback' && r.strategy !== 'loadbalance')
          problems.push(`${at}.strategy must be "fallback" or "loadbalance"`);
        checkTargets(r.targets, `${at}.targets`, providers, problems);
        checkRetry(r.retry, `${at}.retry`, problems);
        checkTimeouts(r.timeouts, `${at}.timeouts`, problems);
        checkCooldown(r.cooldown, `${at}.cooldown`, problems);
        checkCacheConfig(r.cache, `${at}.cache`, models, problems);
      }
  }

  checkCacheConfig(input.cache, 'cache', models, problems);

  if (input.pricing !== undefined) {
    if (!isObject(input.pricing)) problems.push('pricing must be an object of { input, output } prices');
    else
      for (const [name, p] of Object.entries(input.pricing)) {
        const price = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
        if (!isObject(p) || !price(p.input) || !price(p.output)) problems.push(`pricing.${name} must be { "input": USD_PER_MTOK, "output": USD_PER_MTOK }`);
        else
          for (const [field, v] of Object.entries(p)) {
            if (field === 'input' || field === 'output') continue;
            if (!OPTIONAL_PRICES.includes(field))
              problems.push(`pricing.${name}.${field} is not a known price (${['input', 'output', ...OPTIONAL_PRICES].join(', ')})`);
            else if (!price(v))
              problems.push(`pricing.${name}.${field} must be a price in ${PER_CALL_PRICES.includes(field) ? 'USD per call' : 'USD per million tokens'} (≥ 0)`);
          }
      }
  }

  const s = input.settings;
  if (s !== undefined) {
    if (!isObject(s)) problems.push('settings must be an object');
    else {
      if (s.keyCacheTtlMs !== undefined && !(typeof s.keyCacheTtlMs === 'number' && s.keyCacheTtlMs >= 0 && s.keyCacheTtlMs <= 60_000))
        problems.push('settings.keyCacheTtlMs must be between 0 and 60000');
      if (s.maxBodyBytes !== undefined && !isPositiveNumber(s.maxBodyBytes)) problems.push('settings.maxBodyBytes must be a positive number');
      if (s.rateLimitFailMode !== undefined && s.rateLimitFailMode !== 'open' && s.rateLimitFailMode !== 'closed')
        problems.push('settings.rateLimitFailMode must be "open" or "closed"');
      checkTimeouts(s.timeouts, 'settings.timeouts', problems);
      checkRetry(s.retry, 'settings.retry', problems);
      checkCooldown(s.cooldown, 'settings.cooldown', problems);
      if (s.streamMaxDurationMs !== undefined && !isPositiveNumber(s.streamMaxDurationMs))
        problems.push('settings.streamMaxDurationMs must be a positive number of milliseconds');
      if (s.responses !== undefined) {
        if (!isObject(s.responses)) problems.push('settings.responses must be an object such as { "ttlDays": 30 }');
        else {
          for (const k of Object.keys(s.responses)) if (k !== 'ttlDays') problems.push(`settings.responses.${k} is not a known setting (ttlDays)`);
          const ttl = s.responses.ttlDays;
          if (ttl !== undefined && !(typeof ttl === 'number' && Number.isFinite(ttl) && ttl > 0 && ttl <= 3650))
            problems.push('settings.responses.ttlDays must be a number of days, more than 0 and at most 3650');
        }
      }
    }
  }

  checkIdentity(input.identity, problems);
  checkGuards(input.guards, problems);
  if (isObject(s)) checkGuardReference(s.guard, 'settings.guard', input.guards, problems);
  if (isObject(models))
    for (const [name, r] of Object.entries(models)) if (isObject(r)) checkGuardReference(r.guard, `models.${name}.guard`, input.guards, problems);

  if (problems.length) throw new ConfigError(problems);
  return input as unknown as GatewayConfig;
}

/** The config used when no file exists: the mock provider always, real providers when their keys are in the environment. */
export function defaultConfig(env: Record<string, string | undefined>): GatewayConfig {
  const providers: Record<string, ProviderConfig> = { mock: { type: 'mock' } };
  const models: Record<string, ModelRoute> = {
    'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] },
  };
  if (env.OPENAI_API_KEY) providers.openai = { type: 'openai', apiKey: { env: 'OPENAI_API_KEY' } };
  if (env.ANTHROPIC_API_KEY) providers.anthropic = { type: 'anthropic', apiKey: { env: 'ANTHROPIC_API_KEY' } };
  return { providers, models };
}
