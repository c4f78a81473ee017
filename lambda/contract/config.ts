/**
 * The routing config's schema (ARCHITECTURE §4): its types and its validator, as the constructs use
 * them at synth time. The schema is written in core/config.ts (with its cache and identity parts),
 * which imports nothing of the runtime, so the gateway validates the same way at start-up.
 */
export {
  ConfigError,
  type GatewayConfig,
  type ModelRoute,
  type ProviderConfig,
  type RouteTarget,
  type RouteTargetEntry,
  type SecretRef,
  type TargetGroup,
  type CacheConfig,
  isTargetGroup,
  validateConfig,
} from '../core/config';
export type { CacheMode, CacheScope, SemanticCacheConfig } from '../core/cache/config';
export type { KeyLimits, LoggingPolicy } from '../core/keys';
export { NO_GUARD, type BedrockGuardrailConfig, type GuardPolicyConfig } from '../core/guard/config';
