/**
 * cdk-nag (v3) acknowledgments through CDK's own Validations API. Each sits next to the resource
 * it excuses, with a reason specific to this stack; IAM5 findings are acknowledged one by one
 * (`AwsSolutions-IAM5[Resource::…]`), never in bulk.
 */
import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/**
 * The IAM5 finding id of a wildcard under a resource's ARN, e.g.
 * `AwsSolutions-IAM5[Resource::<LogBucket1234.Arn>/bodies/*]`. Computed from the resource's
 * logical id, so the acknowledgment names exactly that resource in whatever stack it lands in.
 */
export function arnWildcardFinding(resource: IConstruct, suffix: string): string {
  const element = resource.node.defaultChild as CfnElement;
  return `AwsSolutions-IAM5[Resource::<${Stack.of(resource).getLogicalId(element)}.Arn>${suffix}]`;
}
