import { Annotations, Duration, Names, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import {
  CONFIG_FILE_NAME,
  ENV_CACHE_BLOB_PREFIX,
  ENV_CACHE_TABLE,
  ENV_CACHE_VECTOR_INDEX_ARN,
  ENV_COUNTERS_TABLE,
  ENV_USAGE_TABLE,
  ENV_KEYS_TABLE,
  ENV_LOG_BODY_PREFIX,
  ENV_LOG_BUCKET,
  ENV_LOG_LEVEL,
  ENV_LOG_STREAM,
  ENV_METRICS_ID,
  ENV_SECRET_TTL_SECONDS,
  bedrockFoundationModel,
} from '../lambda/contract';
import { METRICS_NAMESPACE, type RequestMetric } from '../lambda/contract';
import type { GatewayConfig } from '../lambda/contract';
import type { IKeyStore } from './key-store';
import type { IProviderSecrets } from './provider-secrets';
import type { IResponseCacheStore } from './response-cache';
import { type IRequestLog, LOG_PREFIXES } from './request-log';
import { bundleWithFiles } from './private/assets';
import { createGatewayFunction } from './private/gateway-function';
import { bedrockGuardrailsOf, bedrockTargets, checkGatewayConfig, hasBedrockProvider } from './private/gateway-config';
import { BEDROCK_GUARDRAIL_ACTIONS, BEDROCK_INVOKE_ACTIONS } from './private/iam-actions';
import { acknowledge, wildcardResourceFinding } from './private/nag';
import { PropsProblems } from './private/validation';

/** Log verbosity of the gateway functions. */
export type GatewayLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Options of the proxy API that AiGateway passes through. */
export interface ProxyApiOptions {
  /**
   * API Gateway stage name (the first path segment of the URL).
   * @default 'prod'
   */
  readonly stageName?: string;
  /**
   * Proxy function memory in MB (CPU scales with it; JSON parsing and SSE translation are CPU work).
   * @default 1024
   */
  readonly memorySize?: number;
  /**
   * Stage-wide steady-state request rate (requests per second).
   * @default 100
   */
  readonly throttlingRateLimit?: number;
  /**
   * Stage-wide burst of requests.
   * @default 200
   */
  readonly throttlingBurstLimit?: number;
  /**
   * Retention of the functions' logs and the API access logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * X-Ray tracing on the functions and the stage.
   * @default false
   */
  readonly tracing?: boolean;
  /**
   * Log verbosity of the gateway functions.
   * @default 'info'
   */
  readonly logLevel?: GatewayLogLevel;
  /**
   * How long a provider key read from Secrets Manager is cached per container; after you rotate
   * a key the gateway uses the new one within this time (at once if the provider rejects the old one).
   * @default Duration.minutes(5)
   */
  readonly secretCacheTtl?: Duration;
  /**
   * WAFv2 web ACL (REGIONAL scope) to associate with the stage.
   * @default - no web ACL
   */
  readonly webAclArn?: string;
}

export interface ProxyApiProps extends ProxyApiOptions {
  /** The routing config, shipped inside the proxy function's asset (not in environment variables). */
  readonly config: GatewayConfig;
  /** Tables the proxy reads keys from and keeps limit counters in (granted with `grantProxy`): a `KeyStore` or your own `IKeyStore`. */
  readonly keyStore: IKeyStore;
  /** The provider secrets the proxy may read, and no others (granted with `grantRead`). */
  readonly secrets: IProviderSecrets;
  /** Where the proxy delivers log records and oversized bodies (granted with `grantWrite`). */
  readonly requestLog: IRequestLog;
  /**
   * The response cache's entries and vectors (granted with `grantProxy`); large answers go to the
   * request log's bucket. Required when the config turns a cache on.
   * @default - no response cache
   */
  readonly cache?: IResponseCacheStore;
}

/** 15 minutes: API Gateway's cap for streamed integrations, and Lambda's maximum run time. */
const STREAM_TIMEOUT = Duration.minutes(15);

/**
 * The client-facing REST API: `/v1/{proxy+}` and `/health`, Lambda proxy integrations in
 * response-streaming mode (InvokeWithResponseStream, 15-minute timeout), the proxy function on
 * arm64 / Node.js 22 with the routing config inside its asset, stage throttling and access logs.
 */
export class ProxyApi extends Construct {
  public readonly api: apigateway.RestApi;
  public readonly handler: lambda.IFunction;
  public readonly accessLogs: logs.ILogGroup;
  /** The stage's base URL, ending in '/'. Clients use `${url}v1` as the OpenAI base URL. */
  public readonly url: string;
  /** Value of the `Gateway` dimension of this gateway's metrics in the `AiGateway` namespace. */
  public readonly metricsGatewayId: string;

  constructor(scope: Construct, id: string, props: ProxyApiProps) {
    super(scope, id);
    const problems = new PropsProblems('ProxyApi');
    checkGatewayConfig(problems, 'config', props.config);
    problems.range('memorySize', props.memorySize, 128, 10240);
    problems.range('throttlingRateLimit', props.throttlingRateLimit, 1, 10000);
    problems.range('throttlingBurstLimit', props.throttlingBurstLimit, 1, 5000);
    if (props.stageName !== undefined && !/^[A-Za-z0-9_-]{1,128}$/.test(props.stageName)) problems.add('stageName', 'must be letters, digits, - or _');
    problems.throwIfAny();

    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    this.metricsGatewayId = Names.uniqueResourceName(this, { maxLength: 64 });
    const fn = createGatewayFunction(this, 'Function', {
      description: 'AI gateway proxy (OpenAI/Anthropic-compatible, streaming)',
      assetDir: bundleWithFiles('proxy', { [CONFIG_FILE_NAME]: JSON.stringify(props.config) }),
      memorySize: props.memorySize ?? 1024,
      timeout: STREAM_TIMEOUT,
      logRetention,
      tracing: props.tracing ?? false,
      environment: {
        [ENV_KEYS_TABLE]: props.keyStore.keysTable.tableName,
        [ENV_COUNTERS_TABLE]: props.keyStore.countersTable.tableName,
        [ENV_USAGE_TABLE]: props.keyStore.usageTable.tableName,
        [ENV_LOG_STREAM]: props.requestLog.deliveryStream.deliveryStreamName,
        [ENV_LOG_BUCKET]: props.requestLog.bucket.bucketName,
        [ENV_LOG_BODY_PREFIX]: LOG_PREFIXES.bodies,
        [ENV_LOG_LEVEL]: props.logLevel ?? 'info',
        [ENV_SECRET_TTL_SECONDS]: String((props.secretCacheTtl ?? Duration.minutes(5)).toSeconds()),
        [ENV_METRICS_ID]: this.metricsGatewayId,
        ...(props.cache
          ? {
              [ENV_CACHE_TABLE]: props.cache.table.tableName,
              [ENV_CACHE_BLOB_PREFIX]: LOG_PREFIXES.cache,
              ...(props.cache.vectorIndexArn ? { [ENV_CACHE_VECTOR_INDEX_ARN]: props.cache.vectorIndexArn } : {}),
            }
          : {}),
      },
    });
    this.handler = fn;
    if (props.cache) {
      props.cache.grantProxy(fn);
      props.requestLog.grantCacheBlobs(fn);
      acknowledge(
        fn.role!,
        wildcardResourceFinding(this, props.requestLog.bucket.arnForObjects(`${LOG_PREFIXES.cache}*`)),
        "Cached answers too large for one DynamoDB item are one object per cache key under the cache/ prefix of the gateway's log bucket; the key is only known at run time.",
      );
    }
    props.keyStore.grantProxy(fn);
    props.secrets.grantRead(fn);
    props.requestLog.grantWrite(fn);
    this.grantBedrock(fn, props.config);
    this.grantGuardrails(fn, props.config);
    acknowledge(
      fn.role!,
      wildcardResourceFinding(this, props.requestLog.bucket.arnForObjects(`${LOG_PREFIXES.bodies}*`)),
      "Bodies too large for one Firehose record are written as one object per request under the bodies/ prefix of the gateway's log bucket; the object key (request id) is only known at run time.",
    );
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logRetention });
    this.api = new apigateway.RestApi(this, 'Api', {
      description: 'AI gateway: OpenAI/Anthropic-compatible proxy with virtual keys',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      cloudWatchRole: false,
      deployOptions: {
        stageName: props.stageName ?? 'prod',
        throttlingRateLimit: props.throttlingRateLimit ?? 100,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 200,
        tracingEnabled: props.tracing ?? false,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields({
          caller: false,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: false,
        }),
      },
    });
    this.url = this.api.url;

    const integration = new apigateway.LambdaIntegration(fn, {
      proxy: true,
      responseTransferMode: apigateway.ResponseTransferMode.STREAM,
      timeout: STREAM_TIMEOUT,
    });
    const v1 = this.api.root.addResource('v1');
    // The usage page (/ui) and its files: public like /health; its data needs a key or an admin session.
    const ui = this.api.root.addResource('ui');
    const methods = [
      v1.addResource('{proxy+}').addMethod('ANY', integration),
      this.api.root.addResource('health').addMethod('GET', integration),
      ui.addMethod('GET', integration),
      ui.addResource('{proxy+}').addMethod('GET', integration),
    ];
    for (const method of methods) {
      acknowledge(
        method,
        'AwsSolutions-APIG4',
        'Clients authenticate with gateway virtual keys (sk-gw-…, OpenAI/Anthropic SDK style), which the proxy function verifies against the keys table; /health and the usage page static files (/ui) are deliberately open, its data is not.',
      );
      acknowledge(
        method,
        'AwsSolutions-COG4',
        'Clients authenticate with gateway virtual keys verified by the proxy function, not Cognito user pools: SDK callers send an API key, not a user token.',
      );
    }
    acknowledge(
      this.api,
      'AwsSolutions-APIG2',
      'The proxy validates every body itself and answers in the OpenAI/Anthropic error shape the SDKs parse; an API Gateway validator would answer in a different shape.',
    );
    acknowledge(
      this.api.deploymentStage,
      'AwsSolutions-APIG6',
      'Execution logging needs the account-wide API Gateway CloudWatch role, which a library construct must not overwrite; access logs are on, and the proxy logs each request itself.',
    );
    if (!props.webAclArn)
      acknowledge(
        this.api.deploymentStage,
        'AwsSolutions-APIG3',
        'No web ACL by default (WAF is billed per ACL and rule); pass proxy.webAclArn to associate one. Stage throttling and per-key rate limits bound abuse.',
      );
    if (props.webAclArn) new wafv2.CfnWebACLAssociation(this, 'WebAcl', { resourceArn: this.api.deploymentStage.stageArn, webAclArn: props.webAclArn });
  }

  /** Bedrock calls go through IAM: allow exactly the models the routes name (foundation models in any region, for cross-region inference, and inference profiles). */
  private grantBedrock(fn: lambda.IFunction, config: GatewayConfig): void {
    const targets = bedrockTargets(config);
    if (!targets.length) {
      if (hasBedrockProvider(config))
        Annotations.of(this).addWarning(
          'A bedrock provider is configured but no route targets it: the proxy gets no Bedrock permissions, so provider/model requests to it will be denied.',
        );
      return;
    }
    const stack = Stack.of(this);
    const foundationModelArn = (model: string) =>
      stack.formatArn({ service: 'bedrock', region: '*', account: '', resource: 'foundation-model', resourceName: model });
    const models = [...new Set(targets.map((t) => bedrockFoundationModel(t.modelId)))];
    const resourceArns = [
      ...models.map(foundationModelArn),
      // The profile lives in the region the provider calls (its `region`, else the stack's).
      ...targets.map((t) => stack.formatArn({ service: 'bedrock', region: t.region, resource: 'inference-profile', resourceName: t.modelId })),
    ];
    iam.Grant.addToPrincipal({ grantee: fn, actions: BEDROCK_INVOKE_ACTIONS, resourceArns });
    for (const model of models)
      acknowledge(
        fn.role!,
        wildcardResourceFinding(this, foundationModelArn(model)),
        `Cross-region inference serves the configured Bedrock model ${model} from any region of its profile, so its foundation-model ARN uses region "*"; the model id is exactly the one in the routing config.`,
      );
  }

  /** The prompt guard's Amazon Bedrock guardrails (ApplyGuardrail): exactly the guardrails the guard policies name, in their regions. */
  private grantGuardrails(fn: lambda.IFunction, config: GatewayConfig): void {
    const guardrails = bedrockGuardrailsOf(config);
    if (!guardrails.length) return;
    const stack = Stack.of(this);
    const resourceArns = guardrails.map((g) =>
      g.id.startsWith('arn:') ? g.id : stack.formatArn({ service: 'bedrock', region: g.region, resource: 'guardrail', resourceName: g.id }),
    );
    iam.Grant.addToPrincipal({ grantee: fn, actions: BEDROCK_GUARDRAIL_ACTIONS, resourceArns });
  }

  /** Requests per period (Sum of Count, 5 minutes). */
  metricRequests(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.api.metricCount({ period: Duration.minutes(5), ...props });
  }

  /** Share of requests answered 5xx (Average of 5XXError, 5 minutes; 0.05 = 5 %). */
  metricServerErrorRate(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.api.metricServerError({ statistic: 'Average', period: Duration.minutes(5), ...props });
  }

  /** Share of requests answered 4xx (Average of 4XXError, 5 minutes). */
  metricClientErrorRate(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.api.metricClientError({ statistic: 'Average', period: Duration.minutes(5), ...props });
  }

  /**
   * A gateway metric the proxy emits per request (Embedded Metric Format): Requests, Errors,
   * Tokens, CostUsd, LatencyMs, Fallbacks (requests where a target other than the route's first
   * was tried or served; retries of one target are not fallbacks), CooldownSkips (requests that
   * passed over a target cooling down or being probed), and the response cache's CacheHits (exact
   * and semantic), CacheMisses, CacheSavedUsd (what the hits' original answers cost) and
   * CacheErrors (lookups that failed and were bypassed). Sum over 5 minutes unless overridden; pass
   * `model` ('provider/model' that served it) for one model.
   */
  metricGateway(metricName: RequestMetric, options: cloudwatch.MetricOptions & { readonly model?: string } = {}): cloudwatch.Metric {
    const { model, ...props } = options;
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { Gateway: this.metricsGatewayId, ...(model ? { Model: model } : {}) },
      statistic: 'Sum',
      period: Duration.minutes(5),
      ...props,
    });
  }

  /** Tokens served (Sum of Tokens, 5 minutes). */
  metricTokens(options?: cloudwatch.MetricOptions & { readonly model?: string }): cloudwatch.Metric {
    return this.metricGateway('Tokens', options);
  }

  /** Spend in USD from usage and the pricing table (Sum of CostUsd, 5 minutes). */
  metricCostUsd(options?: cloudwatch.MetricOptions & { readonly model?: string }): cloudwatch.Metric {
    return this.metricGateway('CostUsd', options);
  }

  /** Time to the integration's first byte as API Gateway sees it (p95 of IntegrationLatency, 5 minutes). */
  metricIntegrationLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.api.metricIntegrationLatency({ statistic: 'p95', period: Duration.minutes(5), ...props });
  }
}
