/**
 * Every IAM action list the constructs grant, in one place (after aws-cdk-lib's perms.ts), so a
 * review of what the gateway may do starts and ends here.
 */

/** Proxy: verify virtual keys (read-only on the keys table). */
export const KEYS_READ_ACTIONS = ['dynamodb:GetItem'];

/** Admin API: issue, list, patch, revoke and rotate keys. */
export const KEYS_ADMIN_ACTIONS = [...KEYS_READ_ACTIONS, 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Scan'];

/** VirtualKey issuer (custom resource): create, update and revoke key records and their hash and OIDC pointer items; never Scan. */
export const KEYS_ISSUER_ACTIONS = [...KEYS_READ_ACTIONS, 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];

/** VirtualKey issuer: put the issued key into the key's own secret (reading it comes from grantRead). */
export const KEY_SECRET_WRITE_ACTIONS = ['secretsmanager:PutSecretValue'];

/** Proxy: reserve and settle limit counters (conditional updates), read team limits, keep and delete stored responses. */
export const COUNTERS_READ_WRITE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];

/** Admin API: usage reports and team limits. */
export const COUNTERS_ADMIN_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];

/** Proxy: add finished requests to the usage rollups, and read them for GET /v1/usage. */
export const USAGE_READ_WRITE_ACTIONS = ['dynamodb:UpdateItem', 'dynamodb:Query'];

/** Admin API: usage reports over any key, team, or all of them. */
export const USAGE_ADMIN_ACTIONS = ['dynamodb:Query', 'dynamodb:Scan'];

/** Proxy: deliver log records. */
export const FIREHOSE_PUT_ACTIONS = ['firehose:PutRecord', 'firehose:PutRecordBatch'];

/** Proxy: store bodies too large for one Firehose record. */
export const BODY_PUT_ACTIONS = ['s3:PutObject'];

/** Writing objects encrypted with the log bucket's key. */
export const KMS_ENCRYPT_ACTIONS = ['kms:Encrypt', 'kms:GenerateDataKey'];

/** Reading log objects (Athena queries) encrypted with the log bucket's key. */
export const KMS_DECRYPT_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey'];

/** Proxy: call Bedrock models named in the routing config. */
export const BEDROCK_INVOKE_ACTIONS = ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'];

/** Proxy: check prompts and answers with the Amazon Bedrock guardrails the guard policies name. */
export const BEDROCK_GUARDRAIL_ACTIONS = ['bedrock:ApplyGuardrail'];

/** Clients: call the gateway's proxy routes through IAM-authorized invocation (execute-api). */
export const API_INVOKE_ACTIONS = ['execute-api:Invoke'];

/** Analysts: run the saved Athena queries over the request log. */
export const ATHENA_QUERY_ACTIONS = [
  'athena:StartQueryExecution',
  'athena:GetQueryExecution',
  'athena:GetQueryResults',
  'athena:StopQueryExecution',
  'athena:GetWorkGroup',
  'athena:ListNamedQueries',
  'athena:GetNamedQuery',
  'athena:BatchGetNamedQuery',
];
export const GLUE_READ_ACTIONS = ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartitions'];
export const LOG_OBJECT_READ_ACTIONS = ['s3:GetObject', 's3:ListBucket', 's3:GetBucketLocation'];
export const QUERY_RESULT_WRITE_ACTIONS = ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'];

/** Proxy: look up cache entries and store new ones (exact cache). */
export const CACHE_PROXY_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem'];

/** Admin API: purge cache entries (find them with a scan, delete them in batches). */
export const CACHE_PURGE_ACTIONS = ['dynamodb:Scan', 'dynamodb:BatchWriteItem'];

/**
 * Proxy: query and write the semantic cache's vectors. A query with a metadata filter also needs
 * s3vectors:GetVectors; DeleteVectors drops a vector whose entry has expired.
 */
export const VECTORS_PROXY_ACTIONS = ['s3vectors:QueryVectors', 's3vectors:GetVectors', 's3vectors:PutVectors', 's3vectors:DeleteVectors'];

/** Admin API: delete the vectors of purged entries. */
export const VECTORS_PURGE_ACTIONS = ['s3vectors:DeleteVectors'];

/** Proxy: cached answers too large for one DynamoDB item, under the log bucket's cache/ prefix. */
export const CACHE_BLOB_PROXY_ACTIONS = ['s3:PutObject', 's3:GetObject'];

/** Admin API: remove the large answers of purged entries. */
export const CACHE_BLOB_PURGE_ACTIONS = ['s3:DeleteObject'];
