/** AiGateway synthesized to CloudFormation: what matters for streaming, least privilege, data safety and the log schema. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { CONFIG_FILE_NAME } from '../../lambda/contract/env';
import { LOG_RECORD_FIELDS } from '../../lambda/core/log-record';
import { AiGateway, KeyStore, RequestLogEncryption } from '../../lib';
import { CONFIG, ENV, gatewayStack } from './fixtures';

type Resources = Record<string, { Type: string; Properties: any; DeletionPolicy?: string }>;
type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** The logical id of the single resource of a type whose properties match. */
function logicalId(template: Template, type: string, props: Record<string, unknown> = {}): string {
  const found = Object.keys(template.findResources(type, { Properties: props }));
  expect(found).toHaveLength(1);
  return found[0];
}

/** Every statement of every policy attached to a role. */
function statementsOf(template: Template, roleId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) } }) as Resources;
  return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

/** The logical ids a resource expression refers to (Ref / Fn::GetAtt), anywhere inside it. */
function referencedIds(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) referencedIds(v, out);
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.Ref === 'string') out.add(o.Ref);
    if (Array.isArray(o['Fn::GetAtt'])) out.add(o['Fn::GetAtt'][0] as string);
    for (const v of Object.values(o)) referencedIds(v, out);
  }
  return out;
}

function functionRoleId(template: Template, description: RegExp): string {
  const fns = template.findResources('AWS::Lambda::Function') as Resources;
  const [fn] = Object.values(fns).filter((f) => description.test(f.Properties.Description));
  return fn.Properties.Role['Fn::GetAtt'][0];
}

describe('AiGateway', () => {
  const { gateway, template } = gatewayStack();

  test('the proxy routes use a streaming Lambda integration with a 15-minute timeout', () => {
    const methods = template().findResources('AWS::ApiGateway::Method') as Resources;
    const proxyMethods = Object.entries(methods).filter(([id]) => /v1proxy|health/i.test(id));
    expect(proxyMethods).toHaveLength(2);
    for (const [, m] of proxyMethods) {
      const integration = m.Properties.Integration;
      expect(integration.Type).toBe('AWS_PROXY');
      expect(integration.ResponseTransferMode).toBe('STREAM');
      expect(integration.TimeoutInMillis).toBe(900000);
      const uriParts = integration.Uri['Fn::Join'][1] as unknown[];
      expect(uriParts.at(-1)).toMatch(/\/response-streaming-invocations$/);
      expect(JSON.stringify(uriParts)).toContain('2021-11-15/functions/');
    }
    template().hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{proxy+}' });
  });

  test('the usage page: GET /ui and /ui/{proxy+} reach the proxy function, unauthenticated like /health', () => {
    const t = template();
    const uiResource = logicalId(t, 'AWS::ApiGateway::Resource', { PathPart: 'ui' });
    const uiFiles = logicalId(t, 'AWS::ApiGateway::Resource', { PathPart: '{proxy+}', ParentId: { Ref: uiResource } });
    const methods = Object.values(t.findResources('AWS::ApiGateway::Method') as Resources).filter((m) =>
      [uiResource, uiFiles].includes(m.Properties.ResourceId?.Ref),
    );
    expect(methods.map((m) => m.Properties.HttpMethod)).toEqual(['GET', 'GET']);
    for (const m of methods) {
      expect(m.Properties.AuthorizationType).toBe('NONE');
      expect(m.Properties.Integration.ResponseTransferMode).toBe('STREAM');
    }
    // Both functions know the usage table: the proxy adds to it, the admin API reads it.
    const fns = Object.values(t.findResources('AWS::Lambda::Function') as Resources);
    for (const fn of fns) expect(fn.Properties.Environment.Variables.GATEWAY_USAGE_TABLE).toEqual({ Ref: expect.stringMatching(/UsageTable/) });
  });

  test('both functions run Node.js 22 on arm64 with the proxy timing out at 15 minutes', () => {
    const fns = Object.values(template().findResources('AWS::Lambda::Function') as Resources);
    expect(fns).toHaveLength(2);
    for (const fn of fns) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.Handler).toBe('index.handler');
    }
    template().hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('proxy'), Timeout: 900 });
  });

  test('functions log to their own log groups with retention, and no AWS managed policy is attached', () => {
    const groups = Object.values(template().findResources('AWS::Logs::LogGroup') as Resources);
    expect(groups.length).toBeGreaterThanOrEqual(3); // proxy, admin, access logs (+ Firehose errors)
    for (const g of groups) expect(g.Properties.RetentionInDays).toBeGreaterThan(0);
    for (const role of Object.values(template().findResources('AWS::IAM::Role') as Resources)) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('every admin method requires IAM (SigV4) authorization; client routes authenticate virtual keys in the proxy', () => {
    const methods = template().findResources('AWS::ApiGateway::Method') as Resources;
    const admin = Object.entries(methods).filter(([id]) => /admin/i.test(id));
    expect(admin.map(([, m]) => m.Properties.HttpMethod).sort()).toEqual(['GET', 'GET', 'GET', 'GET', 'GET', 'PATCH', 'POST', 'POST', 'POST', 'POST', 'PUT']);
    for (const [, m] of admin) {
      expect(m.Properties.AuthorizationType).toBe('AWS_IAM');
      expect(m.Properties.Integration.ResponseTransferMode).toBe('STREAM');
    }
    for (const [id, m] of Object.entries(methods)) if (!/admin/i.test(id)) expect(m.Properties.AuthorizationType).toBe('NONE');
  });

  test('the proxy role names only its own tables and the configured secrets; no data action on "*"', () => {
    const t = template();
    const roleId = functionRoleId(t, /proxy/);
    const statements = statementsOf(t, roleId);
    const keysTable = logicalId(t, 'AWS::DynamoDB::Table', { TimeToLiveSpecification: Match.absent() });
    const countersTable = logicalId(t, 'AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    });
    const usageTable = logicalId(t, 'AWS::DynamoDB::Table', { KeySchema: Match.arrayWith([{ AttributeName: 'sk', KeyType: 'RANGE' }]) });
    const createdSecret = logicalId(t, 'AWS::SecretsManager::Secret', { Name: 'ai-gateway/openai' });

    for (const s of statements) {
      for (const r of asList(s.Resource)) expect(r).not.toBe('*');
    }
    const byPrefix = (prefix: string) => statements.filter((s) => asList(s.Action).some((a) => a.startsWith(prefix)));

    const dynamo = byPrefix('dynamodb:');
    expect(dynamo.length).toBeGreaterThan(0);
    const dynamoIds = new Set(dynamo.flatMap((s) => [...referencedIds(s.Resource)]));
    expect([...dynamoIds].sort()).toEqual([keysTable, countersTable, usageTable].sort());
    // Keys are read-only for the proxy: only the admin function writes them.
    const keyWrites = dynamo.filter((s) => referencedIds(s.Resource).has(keysTable) && asList(s.Action).some((a) => /Put|Update|Delete|Scan/.test(a)));
    expect(keyWrites).toEqual([]);
    // Usage rollups: the proxy adds to rows and queries its own scope; it never scans them all.
    const usageActions = dynamo.filter((s) => referencedIds(s.Resource).has(usageTable)).flatMap((s) => asList(s.Action));
    expect(usageActions.sort()).toEqual(['dynamodb:Query', 'dynamodb:UpdateItem']);

    const secrets = byPrefix('secretsmanager:');
    const secretResources = secrets.flatMap((s) => asList(s.Resource));
    expect(secretResources).toHaveLength(2);
    expect(secretResources).toContainEqual({ Ref: createdSecret });
    expect(secretResources).toContain('arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/anthropic-AbC123');

    const firehose = byPrefix('firehose:');
    expect(firehose.flatMap((s) => [...referencedIds(s.Resource)])).toEqual([logicalId(t, 'AWS::KinesisFirehose::DeliveryStream')]);
    const s3 = byPrefix('s3:');
    expect(s3.flatMap((s) => asList(s.Action))).toEqual(['s3:PutObject']);
    expect(JSON.stringify(s3[0].Resource)).toContain('/bodies/*');

    const bedrock = byPrefix('bedrock:');
    const bedrockArns = JSON.stringify(bedrock.map((s) => s.Resource));
    expect(bedrockArns).toContain('foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(bedrockArns).toContain('inference-profile/eu.anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(bedrockArns).not.toMatch(/foundation-model\/\*/);
  });

  test('the admin role manages keys but cannot read provider secrets or the log', () => {
    const t = template();
    const actions = statementsOf(t, functionRoleId(t, /admin/)).flatMap((s) => asList(s.Action));
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Scan']));
    expect(actions.filter((a) => /^(secretsmanager|firehose|s3|bedrock):/.test(a))).toEqual([]);
  });

  test('tables: on-demand, encrypted, point-in-time recovery, deletion protection, retained; counters expire on expiresAt', () => {
    const all = Object.values(template().findResources('AWS::DynamoDB::Table') as Resources);
    expect(all).toHaveLength(3);
    // The usage rollups: one row per key per day, read by scope and day range, expiring on expiresAt.
    const usage = all.filter((t) => t.Properties.KeySchema.length === 2);
    expect(usage).toHaveLength(1);
    expect(usage[0].Properties.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(usage[0].Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    const tables = all.filter((t) => t.Properties.KeySchema.length === 1);
    expect(tables).toHaveLength(2);
    for (const table of [...tables, ...usage]) {
      expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true });
      expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(table.Properties.DeletionProtectionEnabled).toBe(true);
      expect(table.Properties.KeySchema[0]).toEqual({ AttributeName: 'pk', KeyType: 'HASH' });
      expect(table.DeletionPolicy).toBe('Retain');
    }
  });

  test('log bucket: KMS-encrypted, TLS-only, public access blocked, lifecycle on every prefix', () => {
    const t = template();
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() } }],
      },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Prefix: 'records/', ExpirationInDays: 365, Status: 'Enabled' }),
          Match.objectLike({ Prefix: 'bodies/', ExpirationInDays: 365 }),
          Match.objectLike({ Prefix: 'athena-results/', ExpirationInDays: 30 }),
        ]),
      },
    });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('Firehose writes GZIP JSON lines to the log bucket under a date prefix, encrypted', () => {
    const t = template();
    const bucket = logicalId(t, 'AWS::S3::Bucket');
    t.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamEncryptionConfigurationInput: { KeyType: 'AWS_OWNED_CMK' },
      ExtendedS3DestinationConfiguration: Match.objectLike({
        BucketARN: { 'Fn::GetAtt': [bucket, 'Arn'] },
        Prefix: 'records/dt=!{timestamp:yyyy-MM-dd}/',
        ErrorOutputPrefix: Match.stringLikeRegexp('^errors/.*dt=!\\{timestamp:yyyy-MM-dd\\}/$'),
        CompressionFormat: 'GZIP',
        EncryptionConfiguration: { KMSEncryptionConfig: { AWSKMSKeyARN: Match.anyValue() } },
      }),
    });
  });

  test('Glue columns are exactly the log record schema, with date partition projection over the Firehose prefix', () => {
    const tables = Object.values(template().findResources('AWS::Glue::Table') as Resources);
    expect(tables).toHaveLength(1);
    const input = tables[0].Properties.TableInput;
    const columns = input.StorageDescriptor.Columns as { Name: string; Type: string }[];
    expect(columns.map((c) => [c.Name, c.Type])).toEqual(LOG_RECORD_FIELDS.map((f) => [f.name, f.type]));
    expect(input.PartitionKeys).toEqual([expect.objectContaining({ Name: 'dt', Type: 'string' })]);
    expect(input.Parameters).toEqual(
      expect.objectContaining({ 'projection.enabled': 'true', 'projection.dt.type': 'date', 'projection.dt.format': 'yyyy-MM-dd' }),
    );
    // A literal Athena projection placeholder, not a template string.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Athena's own ${dt} syntax
    expect(JSON.stringify(input.Parameters['storage.location.template'])).toContain('/records/dt=${dt}/');
    expect(input.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe('org.openx.data.jsonserde.JsonSerDe');
    expect(template().findResources('AWS::Glue::Crawler')).toEqual({});
  });

  test('Athena: an encrypted workgroup and the six saved queries, reading only schema columns', () => {
    const t = template();
    t.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        ResultConfiguration: { OutputLocation: Match.anyValue(), EncryptionConfiguration: Match.objectLike({ EncryptionOption: 'SSE_KMS' }) },
      }),
    });
    const queries = Object.values(t.findResources('AWS::Athena::NamedQuery') as Resources).map((q) => q.Properties);
    expect(queries.map((q) => q.Name).sort()).toEqual(
      ['error rate by provider', 'fallback rate', 'p95 latency by model', 'spend by key per day', 'spend by user', 'top models by tokens'].map(
        (n) => `ai-gateway: ${n}`,
      ),
    );
    const columns = new Set(LOG_RECORD_FIELDS.map((f) => f.name as string));
    for (const q of queries) {
      expect(q.QueryString).toContain(`"${gateway.requestLog.databaseName}"."requests"`);
      // Every snake_case identifier that looks like a log column must be one.
      const used =
        (q.QueryString as string).match(
          /\b(?:request_id|ts|key_id|key_name|team|requested_model|provider|model|status|attempts|latency_ms|ttft_ms|prompt_tokens|completion_tokens|total_tokens|cost_usd)\b/g,
        ) ?? [];
      for (const c of used) expect(columns.has(c)).toBe(true);
    }
  });

  test('the routing config ships inside the proxy asset, not in environment variables (which stay far below 4 KB)', () => {
    const { app, stack, gateway: gw } = gatewayStack();
    const assembly = app.synth();
    const s3Key = Stack.of(gw).resolve((gw.proxyFunction.node.defaultChild as CfnFunction).code).s3Key as string;
    const staged = join(assembly.directory, `asset.${s3Key.replace(/\.zip$/, '')}`);
    expect(stack.stackName).toBe('GatewayStack');
    expect(existsSync(join(staged, 'index.js'))).toBe(true);
    expect(JSON.parse(readFileSync(join(staged, CONFIG_FILE_NAME), 'utf8'))).toEqual(CONFIG);
    for (const f of Object.values(template().findResources('AWS::Lambda::Function') as Resources)) {
      const env = f.Properties.Environment.Variables as Record<string, unknown>;
      expect(JSON.stringify(env)).not.toContain('providers');
      expect(JSON.stringify(env).length).toBeLessThan(1024);
    }
  });

  test('the proxy emits per-request metrics under its own Gateway dimension, which the metric helpers and dashboard use', () => {
    const fns = Object.values(template().findResources('AWS::Lambda::Function') as Resources);
    const proxyEnv = fns.find((f) => /proxy/.test(f.Properties.Description))!.Properties.Environment.Variables;
    expect(proxyEnv.GATEWAY_METRICS_ID).toBe(gateway.proxy.metricsGatewayId);
    const tokens = gateway.metricTokens({ model: 'openai/gpt-4o' });
    expect(tokens.namespace).toBe('AiGateway');
    expect(tokens.dimensions).toEqual({ Gateway: proxyEnv.GATEWAY_METRICS_ID, Model: 'openai/gpt-4o' });
    const dashboard = Object.values(template().findResources('AWS::CloudWatch::Dashboard') as Resources)[0];
    expect(JSON.stringify(dashboard.Properties.DashboardBody)).toContain(`\\"AiGateway\\",\\"Tokens\\",\\"Gateway\\",\\"${proxyEnv.GATEWAY_METRICS_ID}\\"`);
  });

  test('the stage is throttled and writes JSON access logs', () => {
    template().hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      MethodSettings: Match.arrayWith([Match.objectLike({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 })]),
    });
  });

  test('alarms cover 5xx rate, function errors and throttles, log delivery, the limits store and table throttles; one dashboard', () => {
    const alarms = Object.values(template().findResources('AWS::CloudWatch::Alarm') as Resources).map((a) => a.Properties);
    const metricNames = alarms.map(
      (a) =>
        a.MetricName ??
        a.Metrics?.map((m: any) => m.MetricStat?.Metric?.MetricName)
          .filter(Boolean)
          .join('+'),
    );
    expect(metricNames).toEqual(
      expect.arrayContaining([
        '5XXError',
        'Errors',
        'Throttles',
        'DeliveryToS3.Success',
        'ReadThrottleEvents+WriteThrottleEvents',
        'LimitsUnavailable',
        'RateLimitFailOpen',
      ]),
    );
    expect(alarms).toHaveLength(1 + 2 * 2 + 1 + 2 + 2);
    // The limiter's metrics: the namespace, name and Gateway dimension the proxy emits (lambda/core/limits/metrics.ts,
    // with the id the construct gives the proxy), summed, any one alarms.
    const proxyEnv = Object.values(template().findResources('AWS::Lambda::Function') as Resources)
      .map((f) => f.Properties?.Environment?.Variables)
      .find((v) => v?.GATEWAY_METRICS_ID);
    for (const name of ['LimitsUnavailable', 'RateLimitFailOpen']) {
      expect(alarms).toContainEqual(
        expect.objectContaining({
          Namespace: 'AiGateway/Limits',
          MetricName: name,
          Dimensions: [{ Name: 'Gateway', Value: proxyEnv.GATEWAY_METRICS_ID }],
          Statistic: 'Sum',
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
        }),
      );
    }
    template().resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  test('grantAdmin allows execute-api:Invoke on the admin routes only; grantQueryLogs reaches Athena, Glue and the log objects', () => {
    const app = new App();
    const stack = new Stack(app, 'Grants', { env: ENV });
    const gw = new AiGateway(stack, 'Gateway', { config: CONFIG });
    const { Role, AccountRootPrincipal } = require('aws-cdk-lib/aws-iam') as typeof import('aws-cdk-lib/aws-iam');
    const ops = new Role(stack, 'Ops', { assumedBy: new AccountRootPrincipal() });
    const analyst = new Role(stack, 'Analyst', { assumedBy: new AccountRootPrincipal() });
    gw.grantAdmin(ops);
    gw.grantQueryLogs(analyst);
    const t = Template.fromStack(stack);
    const opsStatements = statementsOf(t, stack.getLogicalId(ops.node.defaultChild as any));
    expect(opsStatements).toHaveLength(1);
    expect(opsStatements[0].Action).toBe('execute-api:Invoke');
    const resource = JSON.stringify(opsStatements[0].Resource);
    expect(resource).toContain(`{"Ref":"${stack.getLogicalId(gw.api.deploymentStage.node.defaultChild as any)}"},"/*/admin/*"`);
    expect(resource).toContain(`{"Ref":"${stack.getLogicalId(gw.api.node.defaultChild as any)}"}`);
    const analystActions = statementsOf(t, stack.getLogicalId(analyst.node.defaultChild as any)).flatMap((s) => asList(s.Action));
    expect(analystActions).toEqual(expect.arrayContaining(['athena:StartQueryExecution', 'glue:GetTable', 's3:GetObject', 'kms:Decrypt']));
  });
});

describe('AiGateway options', () => {
  test('S3-managed log encryption creates no KMS key and the workgroup uses SSE_S3', () => {
    const { template } = gatewayStack({ requestLog: { encryption: RequestLogEncryption.S3_MANAGED } });
    template().resourceCountIs('AWS::KMS::Key', 0);
    template().hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    });
    template().hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({ ResultConfiguration: Match.objectLike({ EncryptionConfiguration: { EncryptionOption: 'SSE_S3' } }) }),
    });
  });

  test('createSecrets: false imports secrets by name instead of creating them', () => {
    const { template } = gatewayStack({ secrets: { createSecrets: false } });
    template().resourceCountIs('AWS::SecretsManager::Secret', 0);
    const statements = JSON.stringify(template().findResources('AWS::IAM::Policy'));
    expect(statements).toContain('secret:ai-gateway/openai-??????');
  });

  test('tracing turns on X-Ray for the functions and the stage; the only "*" resource is X-Ray\'s', () => {
    const { template } = gatewayStack({ proxy: { tracing: true } });
    template().hasResourceProperties('AWS::Lambda::Function', { TracingConfig: { Mode: 'Active' } });
    template().hasResourceProperties('AWS::ApiGateway::Stage', { TracingEnabled: true });
    const policies = Object.values(template().findResources('AWS::IAM::Policy') as Resources);
    for (const s of policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[])) {
      if (asList(s.Resource).includes('*')) expect(asList(s.Action).every((a) => a.startsWith('xray:'))).toBe(true);
    }
  });

  test("Bedrock grants follow the provider's region for inference profiles, and name only routed models", () => {
    const { template } = gatewayStack({
      config: {
        providers: { us: { type: 'bedrock', region: 'us-east-1' }, here: { type: 'bedrock' } },
        models: {
          a: { targets: [{ provider: 'us', model: 'us.anthropic.claude-3-5-haiku-20241022-v1:0' }] },
          b: { targets: [{ provider: 'here', model: 'amazon.titan-embed-text-v2:0' }] },
        },
      },
    });
    const statements = Object.values(template().findResources('AWS::IAM::Policy') as Resources).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Statement[],
    );
    const bedrock = JSON.stringify(statements.filter((s) => asList(s.Action).includes('bedrock:InvokeModel')).map((s) => s.Resource));
    expect(bedrock).toContain(':bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0');
    expect(bedrock).toContain(':bedrock:eu-west-1:123456789012:inference-profile/amazon.titan-embed-text-v2:0');
    expect(bedrock).toContain(':bedrock:*::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0');
    expect(bedrock).toContain(':bedrock:*::foundation-model/amazon.titan-embed-text-v2:0');
    expect(bedrock.match(/foundation-model\//g)).toHaveLength(2);
  });

  test('the proxy may apply exactly the Bedrock guardrails the guard policies name (ApplyGuardrail), in their regions', () => {
    const guarded = gatewayStack({
      config: {
        ...CONFIG,
        guards: {
          here: { bedrockGuardrail: { id: 'gr-here123', version: '1' } },
          us: { bedrockGuardrail: { id: 'gr-us456', version: 'DRAFT', region: 'us-east-1', on: ['output'] } },
          byArn: { bedrockGuardrail: { id: 'arn:aws:bedrock:eu-central-1:123456789012:guardrail/gr-arn789', version: '2' } },
          local: { input: { deny: [{ id: 'x', pattern: 'swordfish' }] } },
        },
      },
    });
    const statements = Object.values(guarded.template().findResources('AWS::IAM::Policy') as Resources).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Statement[],
    );
    const apply = statements.filter((s) => asList(s.Action).includes('bedrock:ApplyGuardrail'));
    expect(apply).toHaveLength(1);
    expect(asList(apply[0].Action)).toEqual(['bedrock:ApplyGuardrail']);
    const resources = JSON.stringify(apply[0].Resource);
    expect(resources).toContain(':bedrock:eu-west-1:123456789012:guardrail/gr-here123');
    expect(resources).toContain(':bedrock:us-east-1:123456789012:guardrail/gr-us456');
    expect(resources).toContain('arn:aws:bedrock:eu-central-1:123456789012:guardrail/gr-arn789');
    expect(asList(apply[0].Resource)).toHaveLength(3);
    // Without a guardrail in the config, no ApplyGuardrail at all.
    const plain = JSON.stringify(gatewayStack().template().findResources('AWS::IAM::Policy'));
    expect(plain).not.toContain('bedrock:ApplyGuardrail');
  });

  test('observability options reach the dashboard and alarms: name, 5xx and cache thresholds, topic', () => {
    const stack = new Stack(new App(), 'Observed', { env: ENV });
    const topic = new Topic(stack, 'Pager');
    new AiGateway(stack, 'Gateway', {
      config: { ...CONFIG, cache: { mode: 'exact' } },
      observability: { dashboardName: 'team-ai-gateway', serverErrorRateThreshold: 0.2, cacheErrorsThreshold: 50, alarmTopic: topic },
    });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'team-ai-gateway' });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: '5XXError', Threshold: 0.2 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'CacheErrors', Threshold: 50 });
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm') as Resources);
    for (const a of alarms) expect(a.Properties.AlarmActions).toEqual([{ Ref: stack.getLogicalId(topic.node.defaultChild as never) }]);
  });

  test('without observability options: 5xx at 0.05, cache failures at 10, a generated dashboard name', () => {
    const t = gatewayStack({ config: { ...CONFIG, cache: { mode: 'exact' } } }).template();
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: '5XXError', Threshold: 0.05 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'CacheErrors', Threshold: 10 });
    t.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: Match.absent() });
  });

  test('a web ACL is associated with the stage when given', () => {
    const { template } = gatewayStack({ proxy: { webAclArn: 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/gw/abc' } });
    template().hasResourceProperties('AWS::WAFv2::WebACLAssociation', { WebACLArn: 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/gw/abc' });
  });
});

describe('validation at synth', () => {
  const make = (props: object) => () => gatewayStack(props as never);

  test('every config problem is reported at once, naming the prop', () => {
    const bad = {
      providers: { openai: { type: 'openia' }, local: { type: 'openai-compatible', baseUrl: 'not a url' } },
      models: { x: { targets: [{ provider: 'nope', model: 'm' }] } },
    };
    expect(make({ config: bad })).toThrow(
      /Invalid AiGateway props:[\s\S]*config: providers\.openai\.type must be one of[\s\S]*config: providers\.local\.baseUrl[\s\S]*config: models\.x\.targets\[0\]\.provider 'nope'/,
    );
  });

  test('environment-variable provider keys and local base URLs are refused: they cannot work on Lambda', () => {
    const config = {
      providers: { openai: { type: 'openai', apiKey: { env: 'OPENAI_API_KEY' } }, ollama: { type: 'openai-compatible', baseUrl: 'http://127.0.0.1:11434/v1' } },
      models: { m: { targets: [{ provider: 'openai', model: 'gpt-4o' }] } },
    };
    expect(make({ config })).toThrow(
      /providers\.openai\.apiKey reads the environment variable OPENAI_API_KEY[\s\S]*use \{ "secret"[\s\S]*providers\.ollama\.baseUrl .* cannot reach/,
    );
  });

  test('bring-your-own tables cannot be combined with props that shape created tables', () => {
    const app = new App();
    const stack = new Stack(app, 'Byo', { env: ENV });
    new Topic(stack, 'SomethingElse'); // a template needs at least one resource
    const existing = dynamodb.Table.fromTableName(stack, 'Keys', 'my-keys');
    const counters = dynamodb.Table.fromTableName(stack, 'Counters', 'my-counters');
    const usage = dynamodb.Table.fromTableName(stack, 'Usage', 'my-usage');
    expect(
      () =>
        new KeyStore(stack, 'Store', { existingKeysTable: existing, existingCountersTable: counters, existingUsageTable: usage, deletionProtection: false }),
    ).toThrow(/Invalid KeyStore props:[\s\S]*deletionProtection: only applies to tables this construct creates/);
    const store = new KeyStore(stack, 'Store2', { existingKeysTable: existing, existingCountersTable: counters, existingUsageTable: usage });
    expect(store.keysTable.tableName).toBe('my-keys');
    Template.fromStack(stack).resourceCountIs('AWS::DynamoDB::Table', 0);
  });

  test('the alarm topic is given once: top level or in observability, not both', () => {
    const stack = new Stack(new App(), 'TwoTopics', { env: ENV });
    const topic = new Topic(stack, 'Pager');
    expect(() => new AiGateway(stack, 'Gateway', { config: CONFIG, alarmTopic: topic, observability: { alarmTopic: topic } })).toThrow(
      /Invalid AiGateway props:[\s\S]*alarmTopic: is also given as observability\.alarmTopic/,
    );
  });

  test('observability thresholds out of range are named', () => {
    expect(make({ observability: { serverErrorRateThreshold: 5, cacheErrorsThreshold: 0 } })).toThrow(
      /Invalid GatewayObservability props:[\s\S]*serverErrorRateThreshold: is a share of requests[\s\S]*cacheErrorsThreshold: must be between 1/,
    );
  });

  test('out-of-range options are named with their limits', () => {
    expect(make({ proxy: { memorySize: 64, throttlingRateLimit: 0 } })).toThrow(
      /Invalid ProxyApi props:[\s\S]*memorySize: must be between 128 and 10240[\s\S]*throttlingRateLimit/,
    );
  });
});

describe('ProviderSecrets', () => {
  test('one secret per distinct ref, even when two names differ only in punctuation', () => {
    const { template } = gatewayStack({
      config: {
        providers: {
          a: { type: 'openai', apiKey: { secret: 'team/openai' } },
          b: { type: 'openai', apiKey: { secret: 'team-openai' } },
          c: { type: 'anthropic', apiKey: { secret: 'team/openai' } },
        },
        models: { m: { targets: [{ provider: 'a', model: 'gpt-4o' }] } },
      },
    });
    const names = Object.values(template().findResources('AWS::SecretsManager::Secret') as Resources).map((s) => s.Properties.Name);
    expect(names.sort()).toEqual(['team-openai', 'team/openai']);
  });
});
