/**
 * What the local server says at start-up about setups that will surprise later: a provider whose
 * credential is missing (every call to it would fail), and a listen address other than loopback
 * (the admin API is then reachable from the network).
 */
import type { GatewayConfig } from '../core/config';
import type { Logger, SecretSource } from '../core/ports';

/** One warning per configured provider whose key cannot be read, naming what to set. */
export async function warnMissingCredentials(config: GatewayConfig, secrets: SecretSource, logger: Logger): Promise<string[]> {
  const missing: string[] = [];
  for (const [name, provider] of Object.entries(config.providers)) {
    if (!provider.apiKey) continue;
    try {
      await secrets.get(provider.apiKey);
    } catch (err) {
      // The secret sources' messages name the variable or secret, never a value.
      const reason = err instanceof Error ? err.message : 'unreadable';
      logger.warn(`provider '${name}' has no credential: ${reason}. Calls to it answer 502 provider_credentials_unavailable until it is set.`, {
        provider: name,
      });
      missing.push(name);
    }
  }
  return missing;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The warning for a non-loopback listen address, or undefined on loopback. */
export function exposureWarning(host: string, dataDir: string): string | undefined {
  if (isLoopback(host)) return undefined;
  return (
    `listening on ${host}, not loopback: other machines can reach the gateway, including its admin API (/admin/*, ` +
    `which issues and revokes keys). Protect it: a strong GATEWAY_ADMIN_TOKEN kept secret, and a firewall or network ` +
    `policy in front of the port. The embedded store listens on 127.0.0.1 only, but its files under ${dataDir} ` +
    `(key hashes, counters, request logs) must be protected too.`
  );
}
