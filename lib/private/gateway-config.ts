/** Synth-time checks of the routing config, and what it implies for IAM (Bedrock models). */
import { ConfigError, type GatewayConfig, type RouteTargetEntry, isTargetGroup, validateConfig } from '../../lambda/core/config';
import type { PropsProblems } from './validation';

/** Adds every config problem (the runtime's own validator) plus what cannot work on Lambda. */
export function checkGatewayConfig(problems: PropsProblems, prop: string, config: GatewayConfig): void {
  try {
    validateConfig(config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) problems.add(prop, p);
    return;
  }
  for (const [name, provider] of Object.entries(config.providers)) {
    if (provider.apiKey && 'env' in provider.apiKey)
      problems.add(prop, `providers.${name}.apiKey reads the environment variable ${provider.apiKey.env}, which does not exist on Lambda; use { "secret": "<secret name or ARN>" } and put the key into Secrets Manager`);
    if (provider.baseUrl && /^https?:\/\/(localhost|127\.|\[::1\])/.test(provider.baseUrl))
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

/** Bedrock model ids (or inference profile ids) the routes send to, per config. */
export function bedrockModelIds(config: GatewayConfig): string[] {
  const bedrock = new Set(Object.entries(config.providers).filter(([, p]) => p.type === 'bedrock').map(([n]) => n));
  const ids = new Set<string>();
  for (const route of Object.values(config.models ?? {})) for (const t of targetsOf(route.targets, [])) if (bedrock.has(t.provider)) ids.add(t.model);
  return [...ids].sort();
}

export function hasBedrockProvider(config: GatewayConfig): boolean {
  return Object.values(config.providers).some((p) => p.type === 'bedrock');
}
