export * from './ai-gateway';
export * from './key-store';
export * from './provider-secrets';
export * from './proxy-api';
export * from './admin-api';
export * from './request-log';
export * from './gateway-observability';
export * from './virtual-key';
export type { GatewayConfig, ProviderConfig, ModelRoute, RouteTarget, TargetGroup, SecretRef } from '../lambda/core/config';
