import { CfnOutput } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { GatewayConfig } from '../lambda/contract';
import { AdminApi } from './admin-api';
import { GatewayObservability, type GatewayObservabilityOptions } from './gateway-observability';
import { KeyStore, type KeyStoreProps } from './key-store';
import { ProviderSecrets, type ProviderSecretsProps } from './provider-secrets';
import { ProxyApi, type ProxyApiOptions } from './proxy-api';
import { RequestLog, type RequestLogProps } from './request-log';
import { ResponseCacheStore, type ResponseCacheStoreProps } from './response-cache';
import { cacheModes, checkGatewayConfig } from './private/gateway-config';
import { VirtualKey, type VirtualKeyOptions } from './virtual-key';
import { PropsProblems } from './private/validation';

export interface AiGatewayProps {
  /**
   * The routing config (providers, models, pricing, settings): the same schema as the local
   * `gateway.config.json`. Validated at synth; deployed inside the proxy function's asset.
   * Provider keys must be `{ "secret": NAME_OR_ARN }` (Secrets Manager) on AWS.
   */
  readonly config: GatewayConfig;
  /**
   * Virtual key and counter tables.
   * @default - new tables: on-demand, PITR, AWS-managed encryption, deletion protection, RETAIN
   */
  readonly keyStore?: KeyStoreProps;
  /**
   * How the secrets named in the config are provided.
   * @default - secrets named by plain name are created with a placeholder value; ARNs are imported
   */
  readonly secrets?: Omit<ProviderSecretsProps, 'config'>;
  /**
   * Request log: bucket, Firehose, Glue table, Athena workgroup.
   * @default - KMS-encrypted bucket, 365-day retention, RETAIN
   */
  readonly requestLog?: RequestLogProps;
  /**
   * API and function options (stage, memory, throttling, log retention, tracing, WAF).
   * @default - stage 'prod', 1024 MB, 100 rps / 200 burst, one-month logs, no tracing
   */
  readonly proxy?: ProxyApiOptions;
  /**
   * The response cache's store, created when the config turns a cache on (`cache.mode` at the top
   * level or on a route); the semantic index (S3 Vectors) only when a route caches semantically.
   * @default - a DynamoDB table with TTL; vectors of 1536 dimensions; both removed with the stack
   */
  readonly cache?: Omit<ResponseCacheStoreProps, 'semantic'>;
  /**
   * Topic every alarm notifies. The same as `observability.alarmTopic`; give one or the other.
   * @default - alarms without actions
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Alarm thresholds, the alarm topic and the dashboard name.
   * @default - 5xx rate alarm at 0.05, cache lookup failures at 10 per 5 minutes, no alarm actions, a generated dashboard name
   */
  readonly observability?: GatewayObservabilityOptions;
  /**
   * Emit CloudFormation outputs (URL, admin URL, table, bucket and workgroup names).
   * @default true
   */
  readonly outputs?: boolean;
}

/**
 * A complete AI gateway: an OpenAI/Anthropic-compatible streaming proxy on API Gateway + Lambda,
 * virtual keys and limits in DynamoDB, provider keys in Secrets Manager, an IAM-authorized admin
 * API, a request log queryable in Athena, alarms and a dashboard. Secure by default.
 *
 * ```ts
 * const gateway = new AiGateway(this, 'Gateway', {
 *   config: {
 *     providers: { openai: { type: 'openai', apiKey: { secret: 'ai-gateway/openai' } } },
 *     models: { 'gpt-4o': { targets: [{ provider: 'openai', model: 'gpt-4o' }] } },
 *   },
 * });
 * gateway.grantAdmin(opsRole);
 * ```
 */
export class AiGateway extends Construct {
  /** Base URL of the stage (ends in '/'); the OpenAI base URL is `${url}v1`. */
  public readonly url: string;
  /** The REST API serving `/v1/…`, `/health` and `/admin/…`. */
  public readonly api: apigateway.RestApi;
  /** The streaming proxy function. */
  public readonly proxyFunction: lambda.IFunction;
  /** The admin API function. */
  public readonly adminFunction: lambda.IFunction;
  /** Virtual key records and key-hash lookups (never plaintext keys). */
  public readonly keysTable: dynamodb.ITable;
  /** Rate-limit and budget counters, and team limits. */
  public readonly countersTable: dynamodb.ITable;
  /** Request log records, oversized bodies and Athena results. */
  public readonly logBucket: s3.IBucket;
  /** The response cache's store; only when the config turns a cache on. */
  public readonly cache?: ResponseCacheStore;
  /** The parts, for finer-grained use. */
  public readonly keyStore: KeyStore;
  public readonly secrets: ProviderSecrets;
  public readonly proxy: ProxyApi;
  public readonly admin: AdminApi;
  public readonly requestLog: RequestLog;
  public readonly observability: GatewayObservability;
  /** The prompt guard policies its config defines (`guards`): what a VirtualKey's `guard` may name. */
  public readonly guardPolicies: readonly string[];

  constructor(scope: Construct, id: string, props: AiGatewayProps) {
    super(scope, id);
    const problems = new PropsProblems('AiGateway');
    checkGatewayConfig(problems, 'config', props.config);
    if (props.alarmTopic && props.observability?.alarmTopic)
      problems.add('alarmTopic', 'is also given as observability.alarmTopic; give the topic once (observability.alarmTopic)');
    problems.throwIfAny();

    this.keyStore = new KeyStore(this, 'KeyStore', props.keyStore);
    this.secrets = new ProviderSecrets(this, 'ProviderSecrets', { ...props.secrets, config: props.config });
    this.requestLog = new RequestLog(this, 'RequestLog', props.requestLog);
    const caching = cacheModes(props.config);
    if (caching.any) this.cache = new ResponseCacheStore(this, 'ResponseCache', { ...props.cache, semantic: caching.semantic });
    this.proxy = new ProxyApi(this, 'Proxy', {
      ...props.proxy,
      config: props.config,
      keyStore: this.keyStore,
      secrets: this.secrets,
      requestLog: this.requestLog,
      cache: this.cache,
    });
    this.admin = new AdminApi(this, 'Admin', {
      api: this.proxy.api,
      keyStore: this.keyStore,
      logRetention: props.proxy?.logRetention,
      tracing: props.proxy?.tracing,
      logLevel: props.proxy?.logLevel,
      cache: this.cache ? { store: this.cache, requestLog: this.requestLog } : undefined,
    });
    this.observability = new GatewayObservability(this, 'Observability', {
      ...props.observability,
      alarmTopic: props.observability?.alarmTopic ?? props.alarmTopic,
      proxy: this.proxy,
      functions: { Proxy: this.proxy.handler, Admin: this.admin.handler },
      tables: [this.keyStore.keysTable, this.keyStore.countersTable, ...(this.cache ? [this.cache.table] : [])],
      requestLog: this.requestLog,
      cache: this.cache !== undefined,
    });

    this.url = this.proxy.url;
    this.api = this.proxy.api;
    this.proxyFunction = this.proxy.handler;
    this.adminFunction = this.admin.handler;
    this.keysTable = this.keyStore.keysTable;
    this.countersTable = this.keyStore.countersTable;
    this.logBucket = this.requestLog.bucket;
    this.guardPolicies = Object.keys(props.config.guards ?? {});

    if (props.outputs ?? true) {
      new CfnOutput(this, 'Url', { value: `${this.url}v1`, description: 'OpenAI-compatible base URL (baseURL of the openai SDK)' });
      new CfnOutput(this, 'AdminUrl', { value: this.url, description: 'Admin API base URL (IAM/SigV4): ai-gateway keys … --url <this> --aws' });
      new CfnOutput(this, 'AthenaWorkGroup', { value: this.requestLog.workGroupName, description: 'Athena workgroup with the saved request-log queries' });
    }
  }

  /** Manage virtual keys through the admin API (execute-api:Invoke on /admin/*, SigV4). */
  grantAdmin(grantee: iam.IGrantable): iam.Grant {
    return this.admin.grantAdmin(grantee);
  }

  /**
   * Issue a virtual key at deploy time into a Secrets Manager secret (a `VirtualKey` in this
   * gateway's scope). For a key in an application's own stack, use `new VirtualKey(appStack, id, { gateway, … })`.
   */
  addVirtualKey(id: string, options: VirtualKeyOptions): VirtualKey {
    return new VirtualKey(this, id, { ...options, gateway: this });
  }

  /** Query the request log in Athena (workgroup, Glue table, log objects, results prefix). */
  grantQueryLogs(grantee: iam.IGrantable): iam.Grant {
    return this.requestLog.grantQuery(grantee);
  }

  /** Share of proxy requests answered 5xx (Average of 5XXError, 5 minutes). */
  metricServerErrorRate(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.proxy.metricServerErrorRate(props);
  }

  /** Proxy requests (Sum of Count, 5 minutes). */
  metricRequests(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.proxy.metricRequests(props);
  }

  /** Tokens served, all models or one `provider/model` (Sum of Tokens, 5 minutes). */
  metricTokens(options?: cloudwatch.MetricOptions & { readonly model?: string }): cloudwatch.Metric {
    return this.proxy.metricTokens(options);
  }

  /** Spend in USD, all models or one `provider/model` (Sum of CostUsd, 5 minutes). */
  metricCostUsd(options?: cloudwatch.MetricOptions & { readonly model?: string }): cloudwatch.Metric {
    return this.proxy.metricCostUsd(options);
  }

  /** Time to the integration's first byte (p95 of IntegrationLatency, 5 minutes). */
  metricIntegrationLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.proxy.metricIntegrationLatency(props);
  }
}
