/**
 * The parts take interfaces (IKeyStore, IProviderSecrets, IRequestLog, IResponseCacheStore), so a
 * ProxyApi and an AdminApi can run against resources another stack or team owns: here hand-written
 * implementations over imported tables, bucket, stream and secrets. The stack creates none of
 * them, changes none of their policies, and grants the functions exactly on the imported ARNs.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import type { GatewayConfig } from '../../lambda/core/config';
import {
  AdminApi,
  GatewayObservability,
  type IKeyStore,
  type IProviderSecrets,
  type IRequestLog,
  type IResponseCacheStore,
  LOG_PREFIXES,
  KeyStore,
  ProviderSecrets,
  ProxyApi,
  RequestLog,
  ResponseCacheStore,
} from '../../lib';
import { ENV } from './fixtures';

const CONFIG: GatewayConfig = {
  providers: { openai: { type: 'openai', apiKey: { secret: 'team/openai' } } },
  models: { 'gpt-4o': { targets: [{ provider: 'openai', model: 'gpt-4o' }] } },
  cache: { mode: 'exact' },
};

class ImportedKeyStore extends Construct implements IKeyStore {
  readonly keysTable = dynamodb.Table.fromTableName(this, 'Keys', 'team-keys');
  readonly countersTable = dynamodb.Table.fromTableName(this, 'Counters', 'team-counters');
  readonly usageTable = dynamodb.Table.fromTableName(this, 'Usage', 'team-usage');
  grantProxy(grantee: iam.IGrantable): iam.Grant {
    return this.keysTable
      .grant(grantee, 'dynamodb:GetItem')
      .combine(this.countersTable.grant(grantee, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'))
      .combine(this.usageTable.grant(grantee, 'dynamodb:UpdateItem', 'dynamodb:Query'));
  }
  grantAdmin(grantee: iam.IGrantable): iam.Grant {
    return this.keysTable
      .grant(grantee, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Scan')
      .combine(this.countersTable.grant(grantee, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'))
      .combine(this.usageTable.grant(grantee, 'dynamodb:Query', 'dynamodb:Scan'));
  }
  grantKeyIssuer(grantee: iam.IGrantable): iam.Grant {
    return this.keysTable.grant(grantee, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');
  }
}

class ImportedSecrets extends Construct implements IProviderSecrets {
  readonly openai = secretsmanager.Secret.fromSecretNameV2(this, 'OpenAI', 'team/openai');
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.openai.grantRead(grantee);
  }
}

class ImportedRequestLog extends Construct implements IRequestLog {
  readonly bucket = s3.Bucket.fromBucketName(this, 'Bucket', 'team-log-bucket');
  readonly deliveryStream = firehose.DeliveryStream.fromDeliveryStreamName(this, 'Stream', 'team-log-stream');
  grantWrite(grantee: iam.IGrantable): iam.Grant {
    return this.deliveryStream
      .grantPutRecords(grantee)
      .combine(iam.Grant.addToPrincipal({ grantee, actions: ['s3:PutObject'], resourceArns: [this.bucket.arnForObjects(`${LOG_PREFIXES.bodies}*`)] }));
  }
  grantCacheBlobs(grantee: iam.IGrantable, purge?: boolean): iam.Grant {
    const actions = purge ? ['s3:DeleteObject'] : ['s3:GetObject', 's3:PutObject'];
    return iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [this.bucket.arnForObjects(`${LOG_PREFIXES.cache}*`)] });
  }
  metricDeliverySuccess(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deliveryStream.metric('DeliveryToS3.Success', { statistic: 'Average', ...props });
  }
  metricIncomingRecords(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deliveryStream.metricIncomingRecords({ statistic: 'Sum', ...props });
  }
}

class ImportedCache extends Construct implements IResponseCacheStore {
  readonly table = dynamodb.Table.fromTableName(this, 'Table', 'team-cache');
  grantProxy(grantee: iam.IGrantable): iam.Grant {
    return this.table.grant(grantee, 'dynamodb:GetItem', 'dynamodb:PutItem');
  }
  grantPurge(grantee: iam.IGrantable): iam.Grant {
    return this.table.grant(grantee, 'dynamodb:Scan', 'dynamodb:BatchWriteItem');
  }
}

function importedStack() {
  const stack = new Stack(new App(), 'Imported', { env: ENV });
  const keyStore = new ImportedKeyStore(stack, 'KeyStore');
  const requestLog = new ImportedRequestLog(stack, 'RequestLog');
  const cache = new ImportedCache(stack, 'Cache');
  const proxy = new ProxyApi(stack, 'Proxy', { config: CONFIG, keyStore, secrets: new ImportedSecrets(stack, 'Secrets'), requestLog, cache });
  const admin = new AdminApi(stack, 'Admin', { api: proxy.api, keyStore, cache: { store: cache, requestLog } });
  new GatewayObservability(stack, 'Observability', {
    proxy,
    functions: { Proxy: proxy.handler, Admin: admin.handler },
    tables: [keyStore.keysTable, keyStore.countersTable],
    requestLog,
  });
  const template = Template.fromStack(stack);
  /** Resolved resources of the statements granting `action` to a function's role, as text. */
  const resourcesFor = (fn: typeof proxy.handler, action: string): string => {
    const roleId = stack.getLogicalId(fn.role!.node.defaultChild as never);
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    return JSON.stringify(statements.filter((s) => ([] as string[]).concat(s.Action).includes(action)).map((s) => s.Resource));
  };
  return { stack, proxy, admin, template, resourcesFor };
}

test('ProxyApi and AdminApi over imported resources create no table, bucket, stream, secret or bucket policy', () => {
  const { template } = importedStack();
  for (const type of [
    'AWS::DynamoDB::Table',
    'AWS::S3::Bucket',
    'AWS::S3::BucketPolicy',
    'AWS::KinesisFirehose::DeliveryStream',
    'AWS::SecretsManager::Secret',
  ])
    template.resourceCountIs(type, 0);
  template.resourceCountIs('AWS::Lambda::Function', 2);
});

test('the proxy is configured with, and granted on, the imported resources', () => {
  const { stack, template, proxy, resourcesFor } = importedStack();
  const proxyFn = template.toJSON().Resources[stack.getLogicalId(proxy.handler.node.defaultChild as never)];
  expect(proxyFn.Properties.Environment.Variables).toMatchObject({
    GATEWAY_KEYS_TABLE: 'team-keys',
    GATEWAY_COUNTERS_TABLE: 'team-counters',
    GATEWAY_USAGE_TABLE: 'team-usage',
    GATEWAY_LOG_STREAM: 'team-log-stream',
    GATEWAY_LOG_BUCKET: 'team-log-bucket',
    GATEWAY_CACHE_TABLE: 'team-cache',
  });
  expect(resourcesFor(proxy.handler, 'dynamodb:GetItem')).toMatch(/table\/team-keys.*table\/team-counters|table\/team-counters.*table\/team-keys/);
  expect(resourcesFor(proxy.handler, 'dynamodb:Query')).toContain('table/team-usage');
  expect(resourcesFor(proxy.handler, 'firehose:PutRecordBatch')).toContain('deliverystream/team-log-stream');
  expect(resourcesFor(proxy.handler, 's3:PutObject')).toContain('team-log-bucket/bodies/*');
  expect(resourcesFor(proxy.handler, 's3:PutObject')).toContain('team-log-bucket/cache/*');
  expect(resourcesFor(proxy.handler, 'secretsmanager:GetSecretValue')).toContain('secret:team/openai');
});

test('the admin function manages the imported keys and purges the imported cache', () => {
  const { admin, resourcesFor } = importedStack();
  expect(resourcesFor(admin.handler, 'dynamodb:Scan')).toMatch(/table\/team-keys/);
  expect(resourcesFor(admin.handler, 'dynamodb:BatchWriteItem')).toContain('table/team-cache');
  expect(resourcesFor(admin.handler, 's3:DeleteObject')).toContain('team-log-bucket/cache/*');
  expect(resourcesFor(admin.handler, 'secretsmanager:GetSecretValue')).toBe('[]');
});

test('cdk-nag: the library acknowledges its wildcards on the imported bucket by their ARNs, leaving no finding', () => {
  const { stack } = importedStack();
  const report = new AwsSolutionsChecks(stack).validateScope(stack);
  expect(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.resourceLogicalId}`))).toEqual([]);
});

describe('fromXxxAttributes: imported parts with the same grants as created ones', () => {
  const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const INDEX_ARN = 'arn:aws:s3vectors:eu-west-1:123456789012:bucket/team-vectors/index/responses';

  function fromAttributesStack() {
    const stack = new Stack(new App(), 'FromAttributes', { env: ENV });
    const keyStore = new KeyStore(stack, 'KeyStore', {
      existingKeysTable: dynamodb.Table.fromTableName(stack, 'Keys', 'team-keys'),
      existingCountersTable: dynamodb.Table.fromTableName(stack, 'Counters', 'team-counters'),
      existingUsageTable: dynamodb.Table.fromTableName(stack, 'Usage', 'team-usage'),
    });
    const requestLog = RequestLog.fromRequestLogAttributes(stack, 'RequestLog', {
      bucket: s3.Bucket.fromBucketAttributes(stack, 'Bucket', { bucketName: 'team-log-bucket', encryptionKey: kms.Key.fromKeyArn(stack, 'Key', KEY_ARN) }),
      deliveryStream: firehose.DeliveryStream.fromDeliveryStreamName(stack, 'Stream', 'team-log-stream'),
    });
    const cache = ResponseCacheStore.fromResponseCacheStoreAttributes(stack, 'Cache', {
      table: dynamodb.Table.fromTableName(stack, 'CacheTable', 'team-cache'),
      vectorIndexArn: INDEX_ARN,
    });
    const secrets = new ProviderSecrets(stack, 'Secrets', { config: CONFIG, createSecrets: false });
    const proxy = new ProxyApi(stack, 'Proxy', { config: CONFIG, keyStore, secrets, requestLog, cache });
    const admin = new AdminApi(stack, 'Admin', { api: proxy.api, keyStore, cache: { store: cache, requestLog } });
    const template = Template.fromStack(stack);
    const statementsOf = (fn: typeof proxy.handler) => {
      const roleId = stack.getLogicalId(fn.role!.node.defaultChild as never);
      return Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((p) => JSON.stringify(p.Properties.Roles).includes(roleId))
        .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
        .map((st) => ({ actions: ([] as string[]).concat(st.Action), resources: JSON.stringify(st.Resource) }));
    };
    return { stack, proxy, admin, template, statementsOf };
  }

  test('the proxy gets the library grants on the imported stream, bucket prefixes, key and vector index', () => {
    const { template, proxy, statementsOf } = fromAttributesStack();
    for (const type of ['AWS::DynamoDB::Table', 'AWS::S3::Bucket', 'AWS::S3::BucketPolicy', 'AWS::KinesisFirehose::DeliveryStream', 'AWS::KMS::Key'])
      template.resourceCountIs(type, 0);
    const statements = statementsOf(proxy.handler);
    const find = (action: string, resource: string) => statements.find((st) => st.actions.includes(action) && st.resources.includes(resource));
    expect(find('firehose:PutRecordBatch', 'deliverystream/team-log-stream')?.actions).toEqual(['firehose:PutRecord', 'firehose:PutRecordBatch']);
    expect(find('s3:PutObject', 'team-log-bucket/bodies/*')?.actions).toEqual(['s3:PutObject']);
    expect(find('s3:GetObject', 'team-log-bucket/cache/*')?.actions).toEqual(['s3:PutObject', 's3:GetObject']);
    expect(find('kms:GenerateDataKey', KEY_ARN)).toBeDefined();
    expect(find('s3vectors:QueryVectors', INDEX_ARN)).toBeDefined();
    expect(find('dynamodb:PutItem', 'table/team-cache')).toBeDefined();
  });

  test('the admin purge gets the library grants on the imported cache and bucket; cdk-nag has no finding', () => {
    const { stack, admin, statementsOf } = fromAttributesStack();
    const statements = statementsOf(admin.handler);
    expect(statements.find((st) => st.actions.includes('s3:DeleteObject'))?.resources).toContain('team-log-bucket/cache/*');
    expect(statements.find((st) => st.actions.includes('s3vectors:DeleteVectors'))?.resources).toContain(INDEX_ARN);
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    expect(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.resourceLogicalId}`))).toEqual([]);
  });
});
