/**
 * The environment contract between the constructs (lib/) and the Lambda entry points. Only
 * names and small values live in the environment (Lambda caps it at 4 KB); the routing config
 * ships inside the function's asset as CONFIG_FILE_NAME.
 */

/** Environment variables the Lambda functions read their table names from. */
export const ENV_KEYS_TABLE = 'GATEWAY_KEYS_TABLE';
export const ENV_COUNTERS_TABLE = 'GATEWAY_COUNTERS_TABLE';
/** Set only when the routing config turns the response cache on. */
export const ENV_CACHE_TABLE = 'GATEWAY_CACHE_TABLE';
/** The usage rollups' table (absent on stacks made before it: no rollups are kept then). */
export const ENV_USAGE_TABLE = 'GATEWAY_USAGE_TABLE';

/** Firehose delivery stream receiving the request log records. */
export const ENV_LOG_STREAM = 'GATEWAY_LOG_STREAM';
/** Log bucket; bodies too large for one Firehose record go there under ENV_LOG_BODY_PREFIX. */
export const ENV_LOG_BUCKET = 'GATEWAY_LOG_BUCKET';
export const ENV_LOG_BODY_PREFIX = 'GATEWAY_LOG_BODY_PREFIX';
/** The semantic cache's S3 Vectors index (its ARN); set only when a route caches semantically. */
export const ENV_CACHE_VECTOR_INDEX_ARN = 'GATEWAY_CACHE_VECTOR_INDEX_ARN';
/** Prefix in the log bucket for cached answers too large for one DynamoDB item. */
export const ENV_CACHE_BLOB_PREFIX = 'GATEWAY_CACHE_BLOB_PREFIX';
/** Value of the `Gateway` dimension of the gateway's CloudWatch metrics (EMF). */
export const ENV_METRICS_ID = 'GATEWAY_METRICS_ID';
/** debug | info | warn | error. */
export const ENV_LOG_LEVEL = 'GATEWAY_LOG_LEVEL';
/** Seconds a Secrets Manager value is cached per container. */
export const ENV_SECRET_TTL_SECONDS = 'GATEWAY_SECRET_TTL_SECONDS';

/** The routing config file placed beside the proxy bundle (index.js) at synth time. */
export const CONFIG_FILE_NAME = 'gateway.config.json';

/**
 * The value a secret created by the ProviderSecrets construct starts with, until the operator
 * puts the provider's API key into it. The runtime names the secret in a clear error instead of
 * sending the placeholder upstream.
 */
export const PLACEHOLDER_SECRET_VALUE = 'REPLACE_WITH_PROVIDER_API_KEY';
