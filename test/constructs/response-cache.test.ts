/**
 * The response cache's infrastructure: created only when the config turns a cache on; a DynamoDB
 * table with TTL, and for semantic caching an S3 Vectors vector bucket and cosine index; the proxy
 * granted exactly what a lookup and a store need, the admin function what a purge needs; cdk-nag clean.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { GatewayConfig } from '../../lambda/core/config';
import { CONFIG, gatewayStack } from './fixtures';

const EXACT: GatewayConfig = { ...CONFIG, cache: { mode: 'exact', ttlSeconds: 600 } };
const SEMANTIC: GatewayConfig = {
  ...CONFIG,
  models: { ...CONFIG.models, embed: { targets: [{ provider: 'openai', model: 'text-embedding-3-small' }] } },
  cache: { mode: 'exact' },
};
// Semantic on one route only: the vector index exists because of it.
(SEMANTIC.models as Record<string, unknown>)['gpt-4o'] = { ...CONFIG.models!['gpt-4o'], cache: { mode: 'semantic', semantic: { embeddingModel: 'embed' } } };

/** The statements of the policies attached to the role whose logical id starts with `rolePrefix`. */
function statementsOf(
  template: ReturnType<ReturnType<typeof gatewayStack>['template']>,
  rolePrefix: string,
): { Action: string | string[]; Resource: unknown }[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref.startsWith(rolePrefix)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

const actionsOf = (statements: { Action: string | string[] }[]) => statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

const tablesOf = (t: ReturnType<ReturnType<typeof gatewayStack>['template']>) => Object.keys(t.findResources('AWS::DynamoDB::Table'));

test('no cache config: no cache table, no vector index, no purge route', () => {
  const t = gatewayStack().template();
  expect(tablesOf(t).filter((id) => id.includes('ResponseCache'))).toEqual([]);
  t.resourceCountIs('AWS::S3Vectors::VectorBucket', 0);
  expect(JSON.stringify(t.toJSON())).not.toMatch(/GATEWAY_CACHE_TABLE|cache\/purge/);
});

test('exact cache: a TTL table (encrypted, on-demand), its name in the proxy environment, no vectors', () => {
  const t = gatewayStack({ config: EXACT }).template();
  expect(tablesOf(t).length).toBe(tablesOf(gatewayStack().template()).length + 1);
  expect(tablesOf(t).filter((id) => id.includes('ResponseCache'))).toHaveLength(1);
  t.hasResourceProperties('AWS::DynamoDB::Table', {
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    BillingMode: 'PAY_PER_REQUEST',
    SSESpecification: { SSEEnabled: true },
  });
  t.resourceCountIs('AWS::S3Vectors::VectorBucket', 0);
  t.hasResourceProperties('AWS::Lambda::Function', {
    Description: Match.stringLikeRegexp('proxy'),
    Environment: { Variables: Match.objectLike({ GATEWAY_CACHE_TABLE: Match.anyValue(), GATEWAY_CACHE_BLOB_PREFIX: 'cache/' }) },
  });
  // Large answers expire with the longest TTL.
  t.hasResourceProperties('AWS::S3::Bucket', {
    LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'expire-cache', Prefix: 'cache/', ExpirationInDays: 31 })]) },
  });
});

test('semantic cache: an S3 Vectors bucket and a cosine float32 index of the configured dimensions', () => {
  const t = gatewayStack({ config: SEMANTIC, cache: { vectorDimensions: 1024 } }).template();
  t.resourceCountIs('AWS::S3Vectors::VectorBucket', 1);
  t.hasResourceProperties('AWS::S3Vectors::VectorBucket', { EncryptionConfiguration: { SseType: 'AES256' } });
  t.hasResourceProperties('AWS::S3Vectors::Index', { DataType: 'float32', Dimension: 1024, DistanceMetric: 'cosine' });
  t.hasResourceProperties('AWS::Lambda::Function', {
    Description: Match.stringLikeRegexp('proxy'),
    Environment: { Variables: Match.objectLike({ GATEWAY_CACHE_VECTOR_INDEX_ARN: { 'Fn::GetAtt': [Match.anyValue(), 'IndexArn'] } }) },
  });
});

test('the proxy gets exactly the cache actions it needs, on the cache table and the index only', () => {
  const t = gatewayStack({ config: SEMANTIC }).template();
  const proxy = statementsOf(t, 'GatewayProxyFunction');
  const vectors = proxy.filter((s) => actionsOf([s as { Action: string | string[] }]).some((a) => a.startsWith('s3vectors:')));
  expect(vectors).toHaveLength(1);
  expect(actionsOf(vectors as { Action: string[] }[]).sort()).toEqual([
    's3vectors:DeleteVectors',
    's3vectors:GetVectors',
    's3vectors:PutVectors',
    's3vectors:QueryVectors',
  ]);
  expect(vectors[0].Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/VectorIndex/), 'IndexArn'] });
  const cacheTable = proxy.filter((s) => JSON.stringify(s.Resource).includes('ResponseCacheTable'));
  expect(actionsOf(cacheTable as { Action: string[] }[]).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
  // The proxy cannot purge: no scan or batch delete anywhere in its policy.
  expect(actionsOf(proxy)).not.toContain('dynamodb:BatchWriteItem');
});

test('the admin function can purge: scan and batch-delete entries, delete vectors and large answers; POST /admin/cache/purge is IAM-authorized', () => {
  const t = gatewayStack({ config: SEMANTIC }).template();
  const admin = actionsOf(statementsOf(t, 'GatewayAdminFunction'));
  expect(admin).toEqual(expect.arrayContaining(['dynamodb:Scan', 'dynamodb:BatchWriteItem', 's3vectors:DeleteVectors', 's3:DeleteObject']));
  expect(admin).not.toContain('s3vectors:QueryVectors');
  t.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'purge' });
  t.hasResourceProperties('AWS::ApiGateway::Method', {
    HttpMethod: 'POST',
    AuthorizationType: 'AWS_IAM',
    ResourceId: { Ref: Match.stringLikeRegexp('cachepurge') },
  });
});

test('cdk-nag AwsSolutions: the semantic cache stack has no unacknowledged findings', () => {
  const { stack } = gatewayStack({ config: SEMANTIC });
  const report = new AwsSolutionsChecks(stack).validateScope(stack);
  expect(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.resourceLogicalId ?? r.templatePath}`))).toEqual([]);
});

test('bad vector dimensions are a validation error naming the prop', () => {
  expect(() => gatewayStack({ config: SEMANTIC, cache: { vectorDimensions: 0 } })).toThrow(/vectorDimensions/);
});

test('the dashboard shows the cache hit rate, savings and failed lookups, with an alarm on failed lookups, only when a cache is on', () => {
  const dashboardText = (config?: GatewayConfig) => {
    const t = gatewayStack(config ? { config } : {}).template();
    return { body: JSON.stringify(Object.values(t.findResources('AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody), t };
  };
  const on = dashboardText(EXACT);
  expect(on.body).toMatch(/Cache hit rate/);
  expect(on.body).toMatch(/CacheSavedUsd/);
  expect(on.body).toMatch(/CacheErrors/);
  on.t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'CacheErrors', Namespace: 'AiGateway', Threshold: 10 });
  const off = dashboardText();
  expect(off.body).not.toMatch(/Cache hit rate|CacheErrors/);
});
