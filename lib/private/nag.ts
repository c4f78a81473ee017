/**
 * cdk-nag (v3) acknowledgments through CDK's own Validations API. Each sits next to the resource
 * it excuses, with a reason specific to this stack; IAM5 findings are acknowledged one by one
 * (`AwsSolutions-IAM5[Resource::…]`), never in bulk.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** One part of a resolved ARN as cdk-nag prints it: `<Logical.Attr>` for GetAtt, `<Logical>` for Ref. */
function nagPart(part: unknown): string {
  if (typeof part === 'string') return part;
  const o = part as Record<string, unknown>;
  if (typeof o.Ref === 'string') return `<${o.Ref}>`;
  if (Array.isArray(o['Fn::GetAtt'])) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
  if (Array.isArray(o['Fn::Join'])) return (o['Fn::Join'] as [string, unknown[]])[1].map(nagPart).join((o['Fn::Join'] as [string])[0]);
  return JSON.stringify(part);
}

/**
 * The IAM5 finding id cdk-nag reports for a wildcard resource ARN (a string with tokens), e.g.
 * `AwsSolutions-IAM5[Resource::<LogBucket1234.Arn>/bodies/*]`, so the acknowledgment names
 * exactly that resource in whatever stack it lands in.
 */
export function wildcardResourceFinding(scope: IConstruct, arn: string): string {
  return `AwsSolutions-IAM5[Resource::${nagPart(Stack.of(scope).resolve(arn))}]`;
}
