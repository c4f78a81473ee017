/** Resolving a requested model name to its route: a configured model, or `provider/model` directly. */
import type { GatewayConfig, ModelRoute, RetryConfig, TimeoutConfig } from './config';
import { errors } from './errors';
import type { ResolvedProvider } from '../providers/types';

export interface ResolvedTarget {
  readonly provider: ResolvedProvider;
  readonly model: string;
  readonly weight: number;
  readonly timeouts: TimeoutConfig;
}

export interface ResolvedRoute {
  readonly name: string;
  readonly strategy: 'fallback' | 'loadbalance';
  readonly targets: readonly ResolvedTarget[];
  readonly retry: RetryConfig;
  readonly timeouts: TimeoutConfig;
}

export class ModelCatalog {
  private readonly routes = new Map<string, ResolvedRoute>();

  constructor(private readonly config: GatewayConfig) {
    for (const [name, route] of Object.entries(config.models ?? {})) this.routes.set(name, this.resolve(name, route));
  }

  private resolve(name: string, route: ModelRoute): ResolvedRoute {
    const timeouts = { ...this.config.settings?.timeouts, ...route.timeouts };
    return {
      name,
      strategy: route.strategy ?? 'fallback',
      retry: { ...this.config.settings?.retry, ...route.retry },
      timeouts,
      targets: route.targets.map((t) => ({
        provider: { name: t.provider, config: this.config.providers[t.provider] },
        model: t.model,
        weight: t.weight ?? 1,
        timeouts: { ...timeouts, ...t.timeouts },
      })),
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
      const provider = this.config.providers[providerName];
      if (provider && model) {
        // Not cached: any model string is accepted here, so a cache would grow without bound.
        return this.resolve(requested, { targets: [{ provider: providerName, model }] });
      }
    }
    throw errors.unknownModel(requested);
  }
}
