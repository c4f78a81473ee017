/**
 * Example: an application stack that composes AiGateway and grants its own roles what they need.
 *
 * - The application function calls the gateway with a virtual key kept in its own secret (issued
 *   once with `ai-gateway keys create … --aws` and stored there): it needs the URL and read access
 *   to that one secret, nothing on the gateway's tables or provider secrets.
 * - The platform team's role manages virtual keys through the IAM-authorized admin API.
 * - The finance/analytics role queries spend and usage in Athena.
 */
import { Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { AiGateway } from '../../lib';

export class ExampleAppStack extends Stack {
  public readonly gateway: AiGateway;
  public readonly appFunction: lambda.Function;
  public readonly appRole: iam.Role;
  public readonly platformRole: iam.Role;
  public readonly analystRole: iam.Role;
  public readonly virtualKeySecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const alarms = new sns.Topic(this, 'Alarms', { enforceSSL: true });

    this.gateway = new AiGateway(this, 'Gateway', {
      config: {
        providers: {
          openai: { type: 'openai', apiKey: { secret: 'example-app/openai' } },
          bedrock: { type: 'bedrock', region: 'eu-west-1' },
        },
        models: {
          chat: {
            targets: [
              { provider: 'openai', model: 'gpt-4o-mini' },
              { provider: 'bedrock', model: 'anthropic.claude-3-5-haiku-20241022-v1:0' },
            ],
          },
        },
        settings: { keyCacheTtlMs: 5000 },
      },
      proxy: { stageName: 'live', throttlingRateLimit: 50, throttlingBurstLimit: 100, logRetention: logs.RetentionDays.THREE_MONTHS },
      alarmTopic: alarms,
    });

    // The application's own virtual key, put here after `ai-gateway keys create --name example-app`.
    this.virtualKeySecret = new secretsmanager.Secret(this, 'AppVirtualKey', {
      description: 'Virtual key (sk-gw-…) the example application calls the AI gateway with',
    });
    acknowledge(
      this.virtualKeySecret,
      'AwsSolutions-SMG4',
      'A gateway virtual key is rotated through the gateway admin API (keys rotate, with a grace period), not by a Secrets Manager rotation function.',
    );

    const appLogs = new logs.LogGroup(this, 'AppLogs', { retention: logs.RetentionDays.ONE_MONTH });
    this.appRole = new iam.Role(this, 'AppRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    appLogs.grantWrite(this.appRole);
    this.virtualKeySecret.grantRead(this.appRole);
    this.appFunction = new lambda.Function(this, 'App', {
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 });'),
      role: this.appRole,
      logGroup: appLogs,
      timeout: Duration.seconds(60),
      environment: { OPENAI_BASE_URL: `${this.gateway.url}v1`, GATEWAY_KEY_SECRET_ARN: this.virtualKeySecret.secretArn },
    });
    acknowledge(this.appFunction, 'AwsSolutions-L1', 'The example application pins Node.js 22 to match the gateway runtime it is tested with.');

    this.platformRole = new iam.Role(this, 'PlatformRole', { assumedBy: new iam.AccountRootPrincipal(), description: 'Manages AI gateway virtual keys' });
    this.gateway.grantAdmin(this.platformRole);

    this.analystRole = new iam.Role(this, 'AnalystRole', {
      assumedBy: new iam.AccountRootPrincipal(),
      description: 'Queries AI gateway spend and usage in Athena',
    });
    this.gateway.grantQueryLogs(this.analystRole);
  }
}

/** cdk-nag acknowledgment beside the resource it excuses. */
function acknowledge(scope: Construct, id: string, reason: string) {
  Validations.of(scope).acknowledge({ id, reason });
}
