/** Resolving a requested model name to its route: a configured model, or `provider/model` directly. */
import {
  type CooldownConfig,
  type GatewayConfig,
  type ModelRoute,
  type RetryConfig,
  type RouteTargetEntry,
  type RoutingStrategy,
  type TimeoutConfig,
  isTargetGroup,
} from './config';
import { errors } from './errors';
import type { ResolvedProvider } from './provider';

export const DEFAULT_COOLDOWN_FAILURES = 3;
export const DEFAULT_COOLDOWN_MS = 30_000;

export interface ResolvedTarget {
  readonly provider: ResolvedProvider;
  readonly model: string;
  readonly weight: number;
  readonly timeouts: TimeoutConfig;
  /** Identity for per-process state (cooldowns): the same provider model in two routes is one target. */
  readonly id: string;
}

/** A set of targets tried as one unit: the route itself, or a nested group. */
export interface ResolvedGroup {
  readonly strategy: RoutingStrategy;
  readonly members: readonly ResolvedNode[];
  readonly weight: number;
}

export type ResolvedNode = ResolvedTarget | ResolvedGroup;

export const isGroup = (node: ResolvedNode): node is ResolvedGroup => 'members' in node;

export interface ResolvedRoute {
  readonly name: string;
  readonly strategy: RoutingStrategy;
  /** Every provider target of the route, flattened in config order (targets[0] is the primary). */
  readonly targets: readonly ResolvedTarget[];
  /** The route as a tree of groups, which the router orders per request. */
  readonly plan: ResolvedGroup;
  readonly retry: RetryConfig;
  readonly timeouts: TimeoutConfig;
  readonly cooldown: Required<CooldownConfig>;
}

export class ModelCatalog {
  private readonly routes = new Map<string, ResolvedRoute>();

  constructor(private readonly config: GatewayConfig) {
    for (const [name, route] of Object.entries(config.models ?? {})) this.routes.set(name, this.resolve(name, route));
  }

  private resolve(name: string, route: ModelRoute): ResolvedRoute {
    const timeouts = { ...this.config.settings?.timeouts, ...route.timeouts };
    const cooldown = { ...this.config.settings?.cooldown, ...route.cooldown };
    const targets: ResolvedTarget[] = [];
    const node = (entry: RouteTargetEntry): ResolvedNode => {
      if (isTargetGroup(entry)) return { strategy: entry.strategy ?? 'fallback', members: entry.targets.map(node), weight: entry.weight ?? 1 };
      const target: ResolvedTarget = {
        provider: { name: entry.provider, config: this.config.providers[entry.provider] },
        model: entry.model,
        weight: entry.weight ?? 1,
        timeouts: { ...timeouts, ...entry.timeouts },
        id: `${entry.provider}/${entry.model}`,
      };
      targets.push(target);
      return target;
    };
    const strategy = route.strategy ?? 'fallback';
    const plan: ResolvedGroup = { strategy, members: route.targets.map(node), weight: 1 };
    return {
      name,
      strategy,
      targets,
      plan,
      retry: { ...this.config.settings?.retry, ...route.retry },
      timeouts,
      cooldown: { failures: cooldown.failures ?? DEFAULT_COOLDOWN_FAILURES, cooldownMs: cooldown.cooldownMs ?? DEFAULT_COOLDOWN_MS },
    };
  }

  /** Configured model names (what /v1/models lists, filtered by the key's globs). */
  names(): string[] {
    return [...this.routes.keys()];
  }

  route(requested: string): ResolvedRoute {
    const configured = this.routes.get(requested);
    if (configured) return configured;
    const slash = requested.indexOf('/');
    if (slash > 0) {
      const providerName = requested.slice(0, slash);
      const model = requested.slice(slash + 1);
      // Own providers only (never `constructor` or `__proto__`), and a model that cannot climb out of
      // the provider's URL path (`azure/..` would address another endpoint).
      const provider = Object.hasOwn(this.config.providers, providerName) ? this.config.providers[providerName] : undefined;
      if (provider && model && !model.split('/').some((segment) => segment === '.' || segment === '..')) {
        // Not cached: any model string is accepted here, so a cache would grow without bound.
        return this.resolve(requested, { targets: [{ provider: providerName, model }] });
      }
    }
    throw errors.unknownModel(requested);
  }
}
