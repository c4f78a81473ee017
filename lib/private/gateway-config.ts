/** Synth-time checks of the routing config, and what it implies for IAM (Bedrock models). */
import { ConfigError, type GatewayConfig, type RouteTargetEntry, isTargetGroup, validateConfig } from '../../lambda/contract';
import type { PropsProblems } from './validation';

/** Adds every config problem (the runtime's own validator) plus what cannot work on Lambda. */
export function checkGatewayConfig(problems: PropsProblems, prop: string, config: GatewayConfig): void {
  try {
    validateConfig(config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) problems.add(prop, p);
  }
  // What cannot work on Lambda, checked even when the schema has problems, so all come at once.
  const providers = typeof config?.providers === 'object' && config.providers !== null ? config.providers : {};
  for (const [name, provider] of Object.entries(providers)) {
    if (typeof provider !== 'object' || provider === null) continue;
    const apiKey = provider.apiKey as { env?: unknown } | undefined;
    if (apiKey && typeof apiKey === 'object' && typeof apiKey.env === 'string')
      problems.add(
        prop,
        `providers.${name}.apiKey reads the environment variable ${apiKey.env}, which does not exist on Lambda; use { "secret": "<secret name or ARN>" } and put the key into Secrets Manager`,
      );
    if (typeof provider.baseUrl === 'string' && /^https?:\/\/(localhost|127\.|\[::1\])/.test(provider.baseUrl))
      problems.add(prop, `providers.${name}.baseUrl (${provider.baseUrl}) points at the local machine, which a Lambda function cannot reach`);
  }
}

function targetsOf(entries: readonly RouteTargetEntry[], out: { provider: string; model: string }[]) {
  for (const e of entries) {
    if (isTargetGroup(e)) targetsOf(e.targets, out);
    else out.push({ provider: e.provider, model: e.model });
  }
  return out;
}

/** A Bedrock model (or inference profile) id the routes send to, with the region its provider calls. */
export interface BedrockTarget {
  readonly modelId: string;
  /** The provider's `region`; undefined means the stack's region. */
  readonly region?: string;
}

/** Bedrock targets of the routes, per config, without repeats, in a stable order. */
export function bedrockTargets(config: GatewayConfig): BedrockTarget[] {
  const regions = new Map(
    Object.entries(config.providers)
      .filter(([, p]) => p.type === 'bedrock')
      .map(([n, p]) => [n, p.region]),
  );
  const seen = new Map<string, BedrockTarget>();
  for (const route of Object.values(config.models ?? {}))
    for (const t of targetsOf(route.targets, []))
      if (regions.has(t.provider)) seen.set(`${regions.get(t.provider) ?? ''}|${t.model}`, { modelId: t.model, region: regions.get(t.provider) });
  return [...seen.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, v]) => v);
}

/** An Amazon Bedrock guardrail a guard policy applies, and the region its ApplyGuardrail calls go to. */
export interface GuardrailRef {
  /** The guardrail id, or its ARN. */
  readonly id: string;
  /** The policy's `region`; undefined means the stack's region. */
  readonly region?: string;
}

/** The guardrails the config's guard policies name, without repeats, in a stable order. */
export function bedrockGuardrailsOf(config: GatewayConfig): GuardrailRef[] {
  const seen = new Map<string, GuardrailRef>();
  for (const p of Object.values(config.guards ?? {})) {
    const g = p.bedrockGuardrail;
    if (g) seen.set(`${g.region ?? ''}|${g.id}`, { id: g.id, region: g.region });
  }
  return [...seen.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, v]) => v);
}

export function hasBedrockProvider(config: GatewayConfig): boolean {
  return Object.values(config.providers).some((p) => p.type === 'bedrock');
}

/** Whether any route caches (exactly or semantically), and whether any does so semantically. */
export function cacheModes(config: GatewayConfig): { readonly any: boolean; readonly semantic: boolean } {
  const modes = [config.cache?.mode, ...Object.values(config.models ?? {}).map((r) => (r.cache ?? config.cache)?.mode)];
  return { any: modes.some((m) => m === 'exact' || m === 'semantic'), semantic: modes.includes('semantic') };
}
