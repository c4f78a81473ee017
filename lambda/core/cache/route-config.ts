/**
 * Each route's effective cache settings (ARCHITECTURE §13): the route's own `cache` when it has
 * one, else the top-level `cache`, else off; and the route's fingerprint, hashed into every cache
 * key so that changing what a route calls retires its entries instead of serving answers of the
 * old targets.
 */
import type { GatewayConfig } from '../config';
import type { ResolvedRoute } from '../models';
import { type ResolvedCacheConfig, resolveCacheConfig } from './config';
import { routeFingerprint } from './key';

export interface RouteCache {
  readonly config: ResolvedCacheConfig;
  readonly fingerprint: string;
}

export class CacheConfigs {
  private readonly configured = new Map<string, RouteCache>();
  private readonly topLevel: ResolvedCacheConfig;

  constructor(private readonly config: GatewayConfig) {
    this.topLevel = resolveCacheConfig(config.cache);
  }

  /** Whether any route caches at all (a gateway with none skips the stage's work). */
  get anyOn(): boolean {
    return this.topLevel.mode !== 'off' || Object.values(this.config.models ?? {}).some((r) => r.cache?.mode !== undefined && r.cache.mode !== 'off');
  }

  for(route: ResolvedRoute): RouteCache {
    const known = this.configured.get(route.name);
    if (known) return known;
    const own = this.config.models?.[route.name];
    const resolved: RouteCache = {
      config: own?.cache ? resolveCacheConfig(own.cache) : this.topLevel,
      fingerprint: routeFingerprint({ name: route.name, strategy: route.strategy, targets: route.targets.map((t) => t.id) }),
    };
    // Only configured routes are remembered: `provider/model` names are the client's to invent.
    if (own) this.configured.set(route.name, resolved);
    return resolved;
  }
}
