/**
 * The AWS home of the runtime: builds the proxy gateway and the admin app from the function's
 * environment (table, stream and bucket names set by the constructs) and the routing config
 * shipped inside the asset. Both Lambda entry points use it, so the proxy and the admin API share
 * the key store code with the local server.
 *
 * The entries import this module lazily (on the first invocation), and the Firehose / S3 /
 * Secrets Manager clients load later still, when first needed: importing the bundle stays cheap
 * and the first request only pays for the DynamoDB client it cannot do without.
 */
import { bedrockGuardrails, usesBedrockGuardrails } from './bedrock-guardrails';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAdminApp } from '../core/admin';
import { KeyVerifier } from '../core/keys';
import { type Gateway, createGateway } from '../core/app';
import { builtinProviders } from '../providers/registry';
import { type GatewayConfig, validateConfig } from '../core/config';
import type { LogSink } from '../core/log-record';
import type { Logger } from '../core/ports';
import { createDynamoClient } from '../stores/dynamo-client';
import { DynamoKeyStore } from '../stores/dynamo-key-store';
import { createDynamoLimiter } from '../stores/dynamo-limiter';
import { DynamoResponseStore } from '../stores/dynamo-response-store';
import { consoleLogger } from './console-logger';
import { DeferredLogSink } from './deferred-log-sink';
import { EmfMetrics } from './emf-metrics';
import { SecretsManagerSecretSource, sdkSecretReader } from './secrets-manager';
import {
  CONFIG_FILE_NAME,
  ENV_COUNTERS_TABLE,
  ENV_KEYS_TABLE,
  ENV_LOG_BODY_PREFIX,
  ENV_LOG_BUCKET,
  ENV_LOG_LEVEL,
  ENV_LOG_STREAM,
  ENV_METRICS_ID,
  ENV_SECRET_TTL_SECONDS,
} from '../contract/env';
import { ENV_USAGE_TABLE } from '../contract/env';
import { DynamoUsageRollups } from '../stores/dynamo-usage-rollups';
import { RollupLogSink } from '../core/usage/rollup-sink';
import { createUsageApi } from '../core/usage/usage-api';
import { fileUiAssets } from './file-ui-assets';
import { createKeepAliveFetch } from './keep-alive-fetch';
import { createUiSessions } from '../core/usage/ui-sessions';
import { DynamoUiSessionStore } from '../stores/dynamo-ui-sessions';
import { ResponseCache } from '../core/cache/response-cache';
import { awsCacheStores } from './aws-cache';

type Env = Record<string, string | undefined>;

/** A missing variable is a deployment bug: fail loudly, naming it. */
export function requireEnv(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is not set (the AiGateway construct sets it)`);
  return value;
}

/** The routing config deployed inside the asset, validated once per container. */
export function loadBundledConfig(dir: string): GatewayConfig {
  return validateConfig(JSON.parse(readFileSync(join(dir, CONFIG_FILE_NAME), 'utf8')));
}

function stores(env: Env) {
  const tables = { keys: requireEnv(env, ENV_KEYS_TABLE), counters: requireEnv(env, ENV_COUNTERS_TABLE) };
  const dynamo = createDynamoClient({ region: env.AWS_REGION });
  const logger: Logger = consoleLogger(env[ENV_LOG_LEVEL] ?? 'info');
  return {
    tables,
    usageTable: env[ENV_USAGE_TABLE],
    dynamo,
    logger,
    keyStore: new DynamoKeyStore(dynamo, tables.keys),
    metricsGatewayId: env[ENV_METRICS_ID] ?? 'default',
  };
}

/** The usage rollups, when the stack made a usage table (stacks from before it had none). */
function rollupsOf(s: ReturnType<typeof stores>): DynamoUsageRollups | undefined {
  return s.usageTable ? new DynamoUsageRollups(s.dynamo, s.usageTable) : undefined;
}

/** Usage-page admin sessions, minted by the admin API (IAM) and accepted by the proxy's GET /v1/usage. */
function uiSessionsOf(s: ReturnType<typeof stores>) {
  return createUiSessions(new DynamoUiSessionStore(s.dynamo, s.tables.keys), Date.now);
}

function withRollups(sink: LogSink, s: ReturnType<typeof stores>): LogSink {
  const rollups = rollupsOf(s);
  return rollups ? new RollupLogSink(sink, rollups, s.logger) : sink;
}

function limiter(s: ReturnType<typeof stores>, config?: GatewayConfig) {
  return createDynamoLimiter({
    client: s.dynamo,
    tableName: s.tables.counters,
    failMode: config?.settings?.rateLimitFailMode,
    logger: s.logger,
    metricsGatewayId: s.metricsGatewayId,
  });
}

/** Firehose records, with bodies too large for one record moved to the log bucket. Loaded on first flush. */
function firehoseSink(env: Env, logger: Logger): LogSink {
  const deliveryStreamName = requireEnv(env, ENV_LOG_STREAM);
  const bucket = env[ENV_LOG_BUCKET];
  return new DeferredLogSink(async () => {
    const { FirehoseLogSink } = await import('./firehose-log-sink');
    // The SDK is external (the Lambda runtime ships it): a plain require, run on first use only.
    const { FirehoseClient } = require('@aws-sdk/client-firehose') as typeof import('@aws-sdk/client-firehose');
    let bodyStore: import('./s3-body-store').S3BodyStore | undefined;
    if (bucket) {
      const { S3BodyStore } = await import('./s3-body-store');
      const { S3Client } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
      bodyStore = new S3BodyStore({ client: new S3Client({ region: env.AWS_REGION }), bucket, prefix: env[ENV_LOG_BODY_PREFIX] });
    }
    return new FirehoseLogSink({ client: new FirehoseClient({ region: env.AWS_REGION }), deliveryStreamName, logger, bodyStore });
  }, logger);
}

/**
 * The proxy gateway: bundled config, DynamoDB keys and counters, Secrets Manager credentials, Firehose logs.
 * Providers are called through the local server's keep-alive client, not the platform fetch: on
 * the Lambda handler's path it costs 30-50% less CPU per request and has a lower p99
 * (bench/upstream-client.ts), and it sends a request again when it meets a pooled connection the
 * provider closed while the environment was frozen.
 */
export function createAwsGateway(env: Env, configDir: string): Gateway {
  const s = stores(env);
  const config = loadBundledConfig(configDir);
  const ttlSeconds = Number(env[ENV_SECRET_TTL_SECONDS] ?? 300);
  return createGateway({
    config,
    providers: builtinProviders,
    fetch: createKeepAliveFetch().fetch,
    keyStore: s.keyStore,
    secrets: new SecretsManagerSecretSource({
      read: sdkSecretReader(env.AWS_REGION),
      ttlMs: (Number.isFinite(ttlSeconds) ? ttlSeconds : 300) * 1000,
      env,
      logger: s.logger,
    }),
    logSink: withRollups(firehoseSink(env, s.logger), s),
    metrics: new EmfMetrics({ gatewayId: s.metricsGatewayId }),
    limiter: limiter(s, config),
    responseStore: new DynamoResponseStore(s.dynamo, s.tables.counters),
    logger: s.logger,
    usageRollups: rollupsOf(s),
    isUsageAdmin: uiSessionsOf(s).isSession,
    uiAssets: fileUiAssets(join(configDir, 'ui')),
    cache: awsCacheStores(env, s.dynamo),
    guardrails: usesBedrockGuardrails(config.guards) ? bedrockGuardrails({ defaultRegion: env.AWS_REGION }) : undefined,
  });
}

/** The admin app. API Gateway has already checked the caller's IAM signature, so `authorize` admits all. */
export function createAwsAdmin(env: Env): ReturnType<typeof createAdminApp> {
  const s = stores(env);
  const limits = limiter(s);
  const rollups = rollupsOf(s);
  const usageApi = rollups
    ? createUsageApi({ rollups, keyStore: s.keyStore, verifier: new KeyVerifier(s.keyStore, { cacheTtlMs: 0, now: Date.now }), limits, now: Date.now })
    : undefined;
  const cacheStores = awsCacheStores(env, s.dynamo);
  return createAdminApp({
    keyStore: s.keyStore,
    cache: cacheStores && new ResponseCache({ ...cacheStores, now: Date.now, logger: s.logger }),
    usage: limits,
    teams: limits,
    authorize: () => true,
    logger: s.logger,
    usageApi,
    uiSessions: uiSessionsOf(s),
  });
}
