/**
 * cdk-nag AwsSolutions over the gateway stacks: zero unacknowledged findings (errors or
 * warnings), and every acknowledgment carries a rule id and a reason written for this stack.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { AiGateway, RequestLogEncryption } from '../../lib';
import { ExampleAppStack } from './example-app-stack';
import { CONFIG, ENV, gatewayStack } from './fixtures';

function findings(stack: Stack): string[] {
  const report = new AwsSolutionsChecks(stack).validateScope(stack);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.resourceLogicalId ?? r.templatePath}`));
}

function acknowledgments(root: IConstruct): { path: string; id: string; reason: string }[] {
  return root.node
    .findAll()
    .flatMap((c) =>
      c.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id, reason }))),
    );
}

describe('cdk-nag AwsSolutions', () => {
  test('the default gateway stack has no unacknowledged findings', () => {
    expect(findings(gatewayStack().stack)).toEqual([]);
  });

  test('with tracing, S3-managed log encryption and createSecrets: false, still none', () => {
    const { stack } = gatewayStack({
      proxy: { tracing: true },
      requestLog: { encryption: RequestLogEncryption.S3_MANAGED },
      secrets: { createSecrets: false },
    });
    expect(findings(stack)).toEqual([]);
  });

  test('with an existing KMS-encrypted log bucket and a response cache, still none', () => {
    const stack = new Stack(new App(), 'ExistingLogs', { env: ENV });
    const key = kms.Key.fromKeyArn(stack, 'TeamKey', 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    new AiGateway(stack, 'Gateway', {
      config: { ...CONFIG, cache: { mode: 'exact' } },
      requestLog: { existingBucket: s3.Bucket.fromBucketAttributes(stack, 'TeamLogs', { bucketName: 'team-logs', encryptionKey: key }) },
    });
    expect(findings(stack)).toEqual([]);
  });

  test('the example application stack composing AiGateway has none', () => {
    const stack = new ExampleAppStack(new App(), 'ExampleApp', { env: ENV });
    expect(findings(stack)).toEqual([]);
  });

  test('a finding the gateway does not acknowledge is still reported (the check is live)', () => {
    const { stack, gateway } = gatewayStack();
    // An unencrypted, public-readable-by-ACL bucket next to the gateway must be caught.
    const { Bucket } = require('aws-cdk-lib/aws-s3') as typeof import('aws-cdk-lib/aws-s3');
    new Bucket(gateway, 'Careless');
    expect(findings(stack).some((f) => f.startsWith('AwsSolutions-S1') || f.startsWith('AwsSolutions-S10'))).toBe(true);
  });

  test('every acknowledgment names an AwsSolutions rule (or a CloudFormation check) and gives a specific reason', () => {
    const acks = acknowledgments(gatewayStack({ proxy: { tracing: true } }).stack);
    expect(acks.length).toBeGreaterThan(5);
    for (const a of acks) {
      // aws-cdk-lib stores rule ids without a known prefix as `Annotation::<id>`; cdk-nag reads them back.
      expect(a.id).toMatch(/^((Annotation::)?AwsSolutions-[A-Z]+\d+(\[.+\])?|CloudFormation-Validate::W\d+)$/);
      expect(a.reason.length).toBeGreaterThan(60);
    }
    // No blanket acknowledgment on the stack for an AwsSolutions rule, and IAM5 only finding by finding.
    expect(acks.filter((a) => a.path === 'GatewayStack' && a.id.startsWith('AwsSolutions'))).toEqual([]);
    expect(acks.filter((a) => /(^|::)AwsSolutions-IAM5$/.test(a.id))).toEqual([]);
  });
});
