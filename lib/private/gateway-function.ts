/**
 * The shape both gateway Lambdas share: Node.js 22 on arm64, a prebuilt bundle, its own log group
 * with retention, and a role that may write only to that log group (no AWS managed policy).
 */
import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { acknowledge } from './nag';

export interface GatewayFunctionOptions {
  readonly description: string;
  readonly assetDir: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  readonly logRetention: logs.RetentionDays;
  readonly tracing: boolean;
}

export function createGatewayFunction(scope: Construct, id: string, o: GatewayFunctionOptions): lambda.Function {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, { retention: o.logRetention, removalPolicy: RemovalPolicy.DESTROY });
  const role = new iam.Role(scope, `${id}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: o.description });
  logGroup.grantWrite(role);
  const fn = new lambda.Function(scope, id, {
    description: o.description,
    // nodejs22.x: the Node major the test suite and CI run on (.nvmrc, engines), so what is deployed is
    // what was tested, and the bundles target it (scripts/build.mjs). Lambda supports it until Node 22's
    // end of life (April 2027); moving to nodejs24.x is this line, the esbuild target and .nvmrc together.
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(o.assetDir),
    memorySize: o.memorySize,
    timeout: o.timeout,
    environment: o.environment,
    logGroup,
    role,
    tracing: o.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
  });
  if (o.tracing)
    acknowledge(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray (tracing: true) only accepts Resource "*" for PutTraceSegments/PutTelemetryRecords; no data action is granted on "*".',
    );
  acknowledge(
    fn,
    'AwsSolutions-L1',
    'The bundle is built and tested for Node.js 22 (esbuild target node22); moving to a newer runtime is a deliberate, tested change.',
  );
  return fn;
}
