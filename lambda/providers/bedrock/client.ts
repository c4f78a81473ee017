/**
 * The Bedrock runtime client, created lazily once per region/endpoint and loaded with a dynamic
 * import, so gateways that never call Bedrock do not pay for the SDK at cold start.
 * Credentials come from the default AWS chain (the Lambda role; env or profile locally). The
 * SDK's own retries are off: the gateway's router decides about retries and fallback.
 */
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import type { ProviderConfig } from '../../core/config';

export type BedrockSdk = typeof import('@aws-sdk/client-bedrock-runtime');

let sdk: Promise<BedrockSdk> | undefined;
const clients = new Map<string, BedrockRuntimeClient>();

export function loadBedrockSdk(): Promise<BedrockSdk> {
  sdk ??= import('@aws-sdk/client-bedrock-runtime');
  return sdk;
}

export async function bedrockClient(config: ProviderConfig): Promise<{ client: BedrockRuntimeClient; sdk: BedrockSdk }> {
  const mod = await loadBedrockSdk();
  const region = config.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const cacheKey = `${region} ${config.baseUrl ?? ''}`;
  let client = clients.get(cacheKey);
  if (!client) {
    client = new mod.BedrockRuntimeClient({ region, maxAttempts: 1, ...(config.baseUrl ? { endpoint: config.baseUrl } : {}) });
    clients.set(cacheKey, client);
  }
  return { client, sdk: mod };
}
