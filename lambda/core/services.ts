/**
 * The long-lived parts of a gateway, built once from its dependencies and shared by the stages and
 * the endpoint handlers: the model catalog, prices, the key verifier, the limiter, the router and
 * the providers. Nothing here is per request.
 */
import { DEFAULT_MAX_BODY_BYTES } from './body';
import type { GatewayConfig } from './config';
import { CooldownTracker } from './cooldown';
import type { GuardrailService } from './guard/engine';
import { compilePolicies } from './guard/policy';
import { Identifier } from './identity/identify';
import { JwtVerifier } from './identity/jwt-verifier';
import { KeyVerifier, type KeyStore } from './keys';
import type { LogSink } from './log-record';
import { LogWriter } from './log-writer';
import { ModelCatalog } from './models';
import { type Limiter, type Logger, type MetricsPublisher, type SecretSource, silentLogger, unlimited } from './ports';
import { PriceTable } from './pricing';
import type { ProviderRegistry } from './provider';
import { Router, type RouterDeps, realSleep } from './router';
import type { ResponseStore } from './response-store';
import type { UsageRollups } from './usage/rollups';
import type { UiAssets } from './usage/ui-assets';
import type { CacheStore, VectorIndex } from './cache/ports';
import { ResponseCache } from './cache/response-cache';
import { routedEmbedder } from './cache/routed-embedder';
import { CacheConfigs } from './cache/route-config';

export interface GatewayDeps {
  readonly config: GatewayConfig;
  readonly keyStore: KeyStore;
  readonly secrets: SecretSource;
  readonly logSink: LogSink;
  /** Where each request's metrics are published, once, after its record. @default - none */
  readonly metrics?: MetricsPublisher;
  readonly limiter?: Limiter;
  /** The provider adapters by type, handed over by the composition root (the core imports none). */
  readonly providers: ProviderRegistry;
  /** fetch used for upstream calls. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly sleep?: RouterDeps['sleep'];
  readonly logger?: Logger;
  readonly newRequestId?: () => string;
  /** Per-day usage rollups behind `GET /v1/usage` and the usage page; absent, those answer 404. */
  readonly usageRollups?: UsageRollups;
  /** Whether a request carries an admin credential for `GET /v1/usage` (the usage page's admin sign-in). */
  readonly isUsageAdmin?: (req: Request) => boolean | Promise<boolean>;
  /** The usage page's built files; absent, `/ui` answers 404. */
  readonly uiAssets?: UiAssets;
  /** Amazon Bedrock Guardrails (ApplyGuardrail), for guard policies that name a guardrail. */
  readonly guardrails?: GuardrailService;
  /** Where /v1/responses keeps stored responses. Without one, every response is answered with `store: false`. */
  readonly responseStore?: ResponseStore;
  /**
   * Where the response cache keeps its entries (and, for semantic routes, its vectors). Without
   * one, every route answers uncached (`x-gateway-cache: off`) whatever the config says.
   */
  readonly cache?: { readonly store: CacheStore; readonly vectors?: VectorIndex };
}

export type GatewayServices = ReturnType<typeof createServices>;

export function createServices(deps: GatewayDeps) {
  const now = deps.now ?? Date.now;
  const logger = deps.logger ?? silentLogger;
  const settings = deps.config.settings ?? {};
  const verifier = new KeyVerifier(deps.keyStore, {
    cacheTtlMs: settings.keyCacheTtlMs ?? 5_000,
    now,
    // The request was answered from the cached record; a later one retries the read.
    onRefreshError: (err) => logger.warn('re-reading a cached key failed', { error: String(err) }),
  });
  const catalog = new ModelCatalog(deps.config);
  const providers = deps.providers;
  const upstreamFetch = deps.fetch ?? globalThis.fetch;
  const router = new Router({
    now,
    random: deps.random ?? Math.random,
    sleep: deps.sleep ?? realSleep,
    cooldowns: new CooldownTracker(now),
    refreshCredential: (target) => {
      const ref = target.provider.config.apiKey;
      if (!ref) return false;
      deps.secrets.refresh?.(ref);
      return true;
    },
  });
  return {
    deps,
    config: deps.config,
    now,
    logger,
    limiter: deps.limiter ?? unlimited,
    providers,
    upstreamFetch,
    secrets: deps.secrets,
    logWriter: new LogWriter(deps.logSink, logger),
    metrics: deps.metrics,
    maxBodyBytes: settings.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    catalog,
    prices: new PriceTable(deps.config.pricing, deps.config.providers),
    /** The config's prompt guard policies, compiled once (patterns were validated with the config). */
    guardPolicies: compilePolicies(deps.config.guards),
    verifier,
    identifier: new Identifier(
      verifier,
      deps.config.identity?.jwt?.length
        ? new JwtVerifier(deps.config.identity.jwt, {
            // Signing keys come from the configured issuers only, over the platform's own fetch.
            fetch: globalThis.fetch,
            now,
            verifiedCacheTtlMs: settings.keyCacheTtlMs ?? 5_000,
            onFetchError: (issuer, err) => logger.warn('fetching signing keys failed', { issuer, error: String(err) }),
          })
        : undefined,
    ),
    router,
    /** The response cache (ARCHITECTURE §13), when the gateway has a store for it. */
    cache: deps.cache
      ? new ResponseCache({
          store: deps.cache.store,
          vectors: deps.cache.vectors,
          embed: routedEmbedder({ catalog, router, providers, secrets: deps.secrets, upstreamFetch }),
          now,
          logger,
        })
      : undefined,
    /** Each route's effective cache settings. */
    cacheConfigs: new CacheConfigs(deps.config),
  };
}
