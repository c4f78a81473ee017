/**
 * RequestLog over an existing bucket (`requestLog.existingBucket`): Firehose delivers into it, the
 * Glue table and Athena workgroup point at it, every grant (bodies, large cached answers, queries)
 * targets it and its KMS key, and the stack creates no bucket, key or bucket policy.
 */
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { GatewayConfig } from '../../lambda/core/config';
import { AiGateway, RequestLogEncryption } from '../../lib';
import { CONFIG, ENV } from './fixtures';

const CACHED: GatewayConfig = { ...CONFIG, cache: { mode: 'exact' } };
const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

type Statement = { Action: string | string[]; Resource: unknown };

function existingBucketStack(bucket: (stack: Stack) => s3.IBucket, encryptionKey?: (stack: Stack) => kms.IKey) {
  const stack = new Stack(new App(), 'ExistingLogs', { env: ENV });
  const gateway = new AiGateway(stack, 'Gateway', {
    config: CACHED,
    requestLog: { existingBucket: bucket(stack), encryptionKey: encryptionKey?.(stack) },
  });
  const analyst = new iam.Role(stack, 'Analyst', { assumedBy: new iam.AccountRootPrincipal() });
  gateway.grantQueryLogs(analyst);
  const template = Template.fromStack(stack);
  const statementsOf = (role: iam.IRole): Statement[] => {
    const roleId = stack.getLogicalId(role.node.defaultChild as never);
    return Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
  };
  /** Resolved resources of a role's statements that allow `action`, as text. */
  const resourcesFor = (role: iam.IRole, action: string) =>
    JSON.stringify(
      statementsOf(role)
        .filter((s) => ([] as string[]).concat(s.Action).includes(action))
        .map((s) => s.Resource),
    );
  const only = (type: string) => {
    const found = Object.values(template.findResources(type));
    expect(found).toHaveLength(1);
    return found[0].Properties;
  };
  return { stack, gateway, analyst, template, resourcesFor, only };
}

const kmsBucket = (stack: Stack) =>
  s3.Bucket.fromBucketAttributes(stack, 'TeamLogs', { bucketName: 'team-logs', encryptionKey: kms.Key.fromKeyArn(stack, 'TeamKey', KEY_ARN) });

describe('RequestLog with an existing KMS-encrypted bucket', () => {
  const { gateway, analyst, template, resourcesFor, only } = existingBucketStack(kmsBucket);

  test('creates no bucket, bucket policy or KMS key', () => {
    for (const type of ['AWS::S3::Bucket', 'AWS::S3::BucketPolicy', 'AWS::KMS::Key']) template.resourceCountIs(type, 0);
    expect(gateway.logBucket.bucketName).toBe('team-logs');
  });

  test("Firehose delivers into it, encrypting with the bucket's key", () => {
    const s3Config = only('AWS::KinesisFirehose::DeliveryStream').ExtendedS3DestinationConfiguration;
    expect(JSON.stringify(s3Config.BucketARN)).toContain(':s3:::team-logs');
    expect(s3Config.Prefix).toBe('records/dt=!{timestamp:yyyy-MM-dd}/');
    expect(s3Config.EncryptionConfiguration).toEqual({ KMSEncryptionConfig: { AWSKMSKeyARN: KEY_ARN } });
    // Its role is granted on the bucket and key in its own policy (an imported bucket's policy is not touched).
    const roleId = s3Config.RoleARN['Fn::GetAtt'][0];
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
    expect(JSON.stringify(statements.filter((s) => ([] as string[]).concat(s.Action).includes('s3:PutObject')))).toContain(':s3:::team-logs/*');
    expect(JSON.stringify(statements.filter((s) => ([] as string[]).concat(s.Action).includes('kms:Encrypt')))).toContain(KEY_ARN);
  });

  test('the Glue table and the Athena workgroup point at it, results encrypted with its key', () => {
    const table = only('AWS::Glue::Table').TableInput;
    expect(table.StorageDescriptor.Location).toBe('s3://team-logs/records/');
    expect(table.Parameters['storage.location.template']).toBe(`s3://team-logs/records/dt=\${dt}/`);
    expect(only('AWS::Athena::WorkGroup').WorkGroupConfiguration.ResultConfiguration).toEqual({
      OutputLocation: 's3://team-logs/athena-results/',
      EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: KEY_ARN },
    });
  });

  test('the proxy writes bodies and cached answers there; the admin purge and the query grants target it too', () => {
    const proxyRole = gateway.proxyFunction.role!;
    expect(resourcesFor(proxyRole, 's3:PutObject')).toContain(':s3:::team-logs/bodies/*');
    expect(resourcesFor(proxyRole, 's3:GetObject')).toContain(':s3:::team-logs/cache/*');
    expect(resourcesFor(proxyRole, 'kms:GenerateDataKey')).toContain(KEY_ARN);
    expect(resourcesFor(gateway.adminFunction.role!, 's3:DeleteObject')).toContain(':s3:::team-logs/cache/*');
    expect(resourcesFor(analyst, 's3:GetObject')).toContain(':s3:::team-logs/records/*');
    expect(resourcesFor(analyst, 's3:PutObject')).toContain(':s3:::team-logs/athena-results/*');
    expect(resourcesFor(analyst, 'kms:Decrypt')).toContain(KEY_ARN);
    const env = Object.values(template.findResources('AWS::Lambda::Function')).map((f) => f.Properties.Environment?.Variables ?? {});
    expect(env.filter((v) => v.GATEWAY_LOG_BUCKET).map((v) => v.GATEWAY_LOG_BUCKET)).toEqual(['team-logs', 'team-logs']);
  });
});

describe('RequestLog with an existing bucket, other encryption', () => {
  test('an SSE-S3 bucket (no key): results use SSE_S3 and nobody is granted a key', () => {
    const { gateway, template, resourcesFor, only } = existingBucketStack((stack) => s3.Bucket.fromBucketName(stack, 'TeamLogs', 'team-logs'));
    template.resourceCountIs('AWS::KMS::Key', 0);
    expect(only('AWS::KinesisFirehose::DeliveryStream').ExtendedS3DestinationConfiguration.EncryptionConfiguration).toBeUndefined();
    expect(only('AWS::Athena::WorkGroup').WorkGroupConfiguration.ResultConfiguration.EncryptionConfiguration).toEqual({ EncryptionOption: 'SSE_S3' });
    expect(resourcesFor(gateway.proxyFunction.role!, 'kms:GenerateDataKey')).toBe('[]');
  });

  test('encryptionKey names the key of a bucket imported by name', () => {
    const { gateway, resourcesFor, only } = existingBucketStack(
      (stack) => s3.Bucket.fromBucketName(stack, 'TeamLogs', 'team-logs'),
      (stack) => kms.Key.fromKeyArn(stack, 'TeamKey', KEY_ARN),
    );
    expect(only('AWS::Athena::WorkGroup').WorkGroupConfiguration.ResultConfiguration.EncryptionConfiguration.KmsKey).toBe(KEY_ARN);
    expect(resourcesFor(gateway.proxyFunction.role!, 'kms:GenerateDataKey')).toContain(KEY_ARN);
  });

  test('props that only shape a created bucket are refused with existingBucket, all named at once', () => {
    const stack = new Stack(new App(), 'Refused', { env: ENV });
    const existingBucket = s3.Bucket.fromBucketName(stack, 'TeamLogs', 'team-logs');
    expect(
      () =>
        new AiGateway(stack, 'Gateway', {
          config: CONFIG,
          requestLog: {
            existingBucket,
            encryption: RequestLogEncryption.S3_MANAGED,
            removalPolicy: RemovalPolicy.DESTROY,
            serverAccessLogsBucket: existingBucket,
          },
        }),
    ).toThrow(/Invalid RequestLog props:[\s\S]*encryption, removalPolicy, serverAccessLogsBucket: only shapes a bucket this construct creates/);
  });
});
