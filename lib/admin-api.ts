import { Duration, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  ADMIN_ROUTES,
  CACHE_ADMIN_ROUTES,
  ENV_CACHE_BLOB_PREFIX,
  ENV_CACHE_TABLE,
  ENV_CACHE_VECTOR_INDEX_ARN,
  ENV_COUNTERS_TABLE,
  ENV_KEYS_TABLE,
  ENV_LOG_BUCKET,
  ENV_LOG_LEVEL,
  ENV_USAGE_TABLE,
} from '../lambda/contract';
import type { IKeyStore } from './key-store';
import { type IRequestLog, LOG_PREFIXES } from './request-log';
import type { IResponseCacheStore } from './response-cache';
import type { GatewayLogLevel } from './proxy-api';
import { bundleDir } from './private/assets';
import { createGatewayFunction } from './private/gateway-function';
import { API_INVOKE_ACTIONS } from './private/iam-actions';
import { acknowledge, wildcardResourceFinding } from './private/nag';

export interface AdminApiProps {
  /** The REST API to add `/admin/...` to (the proxy's API, so one URL serves both). */
  readonly api: apigateway.RestApi;
  /** The tables the admin function manages keys and team limits in (granted with `grantAdmin`). */
  readonly keyStore: IKeyStore;
  /**
   * Retention of the admin function's logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * X-Ray tracing on the admin function.
   * @default false
   */
  readonly tracing?: boolean;
  /**
   * Log verbosity of the admin function.
   * @default 'info'
   */
  readonly logLevel?: GatewayLogLevel;
  /**
   * The response cache to purge (`POST /admin/cache/purge`), with the request log whose bucket holds its large answers.
   * @default - no response cache: no purge route
   */
  readonly cache?: AdminCacheProps;
}

/** The response cache an admin API purges. */
export interface AdminCacheProps {
  /** The cache's entries and vectors (granted with `grantPurge`). */
  readonly store: IResponseCacheStore;
  /** The request log whose bucket holds the cache's large answers under `cache/` (granted with `grantCacheBlobs(…, true)`). */
  readonly requestLog: IRequestLog;
}

export { ADMIN_ROUTES, CACHE_ADMIN_ROUTES };

/**
 * The admin API: `/admin/keys…` and `/admin/teams/{team}` methods with IAM (SigV4) authorization, backed by an admin
 * function that shares the key store code with the proxy. Who may call it is decided by IAM
 * policy: `grantAdmin(role)`.
 */
export class AdminApi extends Construct {
  public readonly handler: lambda.IFunction;
  private readonly api: apigateway.RestApi;

  constructor(scope: Construct, id: string, props: AdminApiProps) {
    super(scope, id);
    this.api = props.api;
    const fn = createGatewayFunction(this, 'Function', {
      description: 'AI gateway admin API (virtual keys), IAM-authorized',
      assetDir: bundleDir('admin'),
      memorySize: 512,
      timeout: Duration.seconds(30),
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      tracing: props.tracing ?? false,
      environment: {
        [ENV_KEYS_TABLE]: props.keyStore.keysTable.tableName,
        [ENV_COUNTERS_TABLE]: props.keyStore.countersTable.tableName,
        [ENV_USAGE_TABLE]: props.keyStore.usageTable.tableName,
        [ENV_LOG_LEVEL]: props.logLevel ?? 'info',
        ...(props.cache
          ? {
              [ENV_CACHE_TABLE]: props.cache.store.table.tableName,
              [ENV_LOG_BUCKET]: props.cache.requestLog.bucket.bucketName,
              [ENV_CACHE_BLOB_PREFIX]: LOG_PREFIXES.cache,
              ...(props.cache.store.vectorIndexArn ? { [ENV_CACHE_VECTOR_INDEX_ARN]: props.cache.store.vectorIndexArn } : {}),
            }
          : {}),
      },
    });
    this.handler = fn;
    props.keyStore.grantAdmin(fn);
    if (props.cache) {
      props.cache.store.grantPurge(fn);
      props.cache.requestLog.grantCacheBlobs(fn, true);
      acknowledge(
        fn.role!,
        wildcardResourceFinding(this, props.cache.requestLog.bucket.arnForObjects(`${LOG_PREFIXES.cache}*`)),
        "A cache purge deletes the large cached answers of the purged entries, one object per cache key under the cache/ prefix of the gateway's log bucket.",
      );
    }

    // The admin entry uses the same streaming handler as the proxy, so its integration streams too.
    const integration = new apigateway.LambdaIntegration(fn, {
      proxy: true,
      responseTransferMode: apigateway.ResponseTransferMode.STREAM,
      timeout: Duration.seconds(29),
    });
    const admin = props.api.root.addResource('admin');
    for (const [method, path] of [...ADMIN_ROUTES, ...(props.cache ? CACHE_ADMIN_ROUTES : [])]) {
      const resource = path.split('/').reduce<apigateway.IResource>((r, part) => r.getResource(part) ?? r.addResource(part), admin);
      const m = resource.addMethod(method, integration, { authorizationType: apigateway.AuthorizationType.IAM });
      acknowledge(
        m,
        'AwsSolutions-COG4',
        'Admin methods are for operators and pipelines with AWS credentials: IAM (SigV4) authorization, granted with AiGateway.grantAdmin, not Cognito user pools.',
      );
    }
  }

  /** execute-api:Invoke on every admin method of the deployed stage (issue, list, revoke, rotate keys). */
  grantAdmin(grantee: iam.IGrantable): iam.Grant {
    const stage = this.api.deploymentStage.stageName;
    const arn = Stack.of(this).formatArn({ service: 'execute-api', resource: this.api.restApiId, resourceName: `${stage}/*/admin/*` });
    if (grantee.grantPrincipal instanceof Construct)
      acknowledge(
        grantee.grantPrincipal,
        wildcardResourceFinding(this, arn),
        'Admin callers may use every admin method (any verb, any key id) of this gateway stage, and nothing else on the API.',
      );
    return iam.Grant.addToPrincipal({ grantee, actions: API_INVOKE_ACTIONS, resourceArns: [arn] });
  }
}
