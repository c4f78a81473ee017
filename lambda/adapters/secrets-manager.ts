/**
 * Provider credentials from Secrets Manager, cached per container. A secret holds the provider's
 * API key as its plain SecretString. `{ env: NAME }` refs still read the environment, so one config
 * works in both homes.
 *
 * The cache keeps a value for at most `ttlMs` (so a rotated key is picked up without a redeploy),
 * re-reads it in the background before then (so no request waits on Secrets Manager while the
 * provider is in use) and shares one in-flight read among concurrent requests; `refresh(ref)`
 * drops a value the provider has just rejected, so the next request reads it fresh.
 */
import type { SecretRef } from '../core/config';
import { type Logger, type SecretSource, silentLogger } from '../core/ports';
import { PLACEHOLDER_SECRET_VALUE } from '../contract/env';
import { RefreshingCache } from '../core/refreshing-cache';

/** Reads one secret's SecretString. `sdkSecretReader` is the Secrets Manager binding; tests pass a stub. */
export type SecretStringReader = (secretId: string) => Promise<string | undefined>;

/**
 * GetSecretValue through the AWS SDK, loaded on first use: a gateway whose providers need no
 * secret (mock, env keys, Bedrock via IAM) never pays for loading the client on a cold start.
 */
export function sdkSecretReader(region?: string): SecretStringReader {
  let client: Promise<{ read: SecretStringReader }> | undefined;
  const load = async () => {
    // External SDK (the Lambda runtime ships it): a plain require, run on first use only.
    const sdk = require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager');
    const c = new sdk.SecretsManagerClient({ region });
    return { read: async (id: string) => (await c.send(new sdk.GetSecretValueCommand({ SecretId: id }))).SecretString };
  };
  return async (secretId) => {
    client ??= load();
    return (await client).read(secretId);
  };
}

export interface SecretsManagerSourceOptions {
  readonly read: SecretStringReader;
  /** How long a value is trusted before it is read again. @default 300000 (5 minutes) */
  readonly ttlMs?: number;
  readonly env?: Record<string, string | undefined>;
  readonly now?: () => number;
  /** Where read failures are reported (the core turns them into a provider failure without the reason). */
  readonly logger?: Logger;
}

export class SecretsManagerSecretSource implements SecretSource {
  private readonly cache: RefreshingCache<string, string>;

  constructor(private readonly opts: SecretsManagerSourceOptions) {
    const logger = opts.logger ?? silentLogger;
    this.cache = new RefreshingCache({
      maxAgeMs: opts.ttlMs ?? 300_000,
      now: opts.now ?? Date.now,
      // The cached value served the request; the next refresh or expiry reads again.
      onRefreshError: (err) => logger.warn('re-reading a provider credential failed', { error: err instanceof Error ? err.message : 'error' }),
    });
  }

  async get(ref: SecretRef): Promise<string> {
    if ('env' in ref) {
      const value = (this.opts.env ?? process.env)[ref.env];
      if (!value) throw new Error(`set the environment variable ${ref.env} on the function`);
      return value;
    }
    const secretId = ref.secret;
    try {
      return await this.cache.get(secretId, () => this.read(secretId));
    } catch (err) {
      // A failed read is not cached: the next request tries again. The reason names the secret, never a value.
      (this.opts.logger ?? silentLogger).error('provider credential unavailable', { error: (err as Error).message });
      throw err;
    }
  }

  refresh(ref: SecretRef): void {
    if ('secret' in ref) this.cache.invalidate(ref.secret);
  }

  private async read(secretId: string): Promise<string> {
    let raw: string | undefined;
    try {
      raw = await this.opts.read(secretId);
    } catch (err) {
      // Names the secret and the AWS error, never a value.
      throw new Error(`reading secret ${secretId} failed: ${err instanceof Error ? err.name : 'error'}`);
    }
    const value = raw?.trim();
    if (!value || value === PLACEHOLDER_SECRET_VALUE)
      throw new Error(`secret ${secretId} holds no API key yet; put the provider's API key into it (README "Deploy to AWS")`);
    return value;
  }
}
