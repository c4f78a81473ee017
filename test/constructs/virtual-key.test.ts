/**
 * VirtualKey (ARCHITECTURE §15): a key issued at deploy time from an application stack into its own
 * secret, against a gateway in another stack of the same account and region; the custom resource,
 * the issuer's IAM scope, the application's grant, cdk-nag, and props validation.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AiGateway, VirtualKey } from '../../lib';
import { CONFIG, ENV } from './fixtures';

function twoStacks() {
  const app = new App();
  const gatewayStack = new Stack(app, 'GatewayStack', { env: ENV });
  const gateway = new AiGateway(gatewayStack, 'Gateway', { config: CONFIG });
  const appStack = new Stack(app, 'AppStack', { env: ENV });
  const key = new VirtualKey(appStack, 'CheckoutKey', {
    gateway,
    name: 'checkout',
    team: 'payments',
    models: ['gpt-4o*'],
    limits: { rpm: 600, tpm: 100_000, budgetUsd: { amount: 50, period: 'month' }, perUser: { rpm: 20 } },
    logging: 'redacted',
  });
  // The application's own function, as its team would write it (its own role, a pinned runtime).
  const fn = new lambda.Function(appStack, 'Checkout', {
    role: new iam.Role(appStack, 'CheckoutRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }),
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({});'),
    environment: { OPENAI_BASE_URL: `${gateway.url}v1`, GATEWAY_KEY_SECRET_ARN: key.secret.secretArn },
  });
  Validations.of(fn).acknowledge({ id: 'AwsSolutions-L1', reason: 'The test application pins Node.js 22, the runtime the gateway is tested with.' });
  const grant = key.grantRead(fn);
  return { app, gatewayStack, appStack, gateway, key, fn, grant, template: Template.fromStack(appStack) };
}

const policyStatements = (t: Template) =>
  Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p: any) =>
    p.Properties.PolicyDocument.Statement.map((s: any) => ({ ...s, roles: p.Properties.Roles })),
  );

describe('VirtualKey', () => {
  const s = twoStacks();
  const issuerRole = () => {
    const fns = s.template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('VirtualKey issuer') } });
    expect(Object.keys(fns)).toHaveLength(1);
    return (Object.values(fns)[0] as any).Properties.Role['Fn::GetAtt'][0] as string;
  };

  test('one custom resource, served by the prebuilt issuer, with the spec as one JSON string (numbers stay numbers)', () => {
    s.template.resourceCountIs('Custom::AiGatewayVirtualKey', 1);
    const [resource] = Object.values(s.template.findResources('Custom::AiGatewayVirtualKey')) as any[];
    expect(resource.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^AiGatewayVirtualKeyIssuer/), 'Arn'] });
    expect(resource.Properties.SecretArn).toEqual({ Ref: expect.stringMatching(/^CheckoutKeySecret/) });
    // The keys table lives in the gateway stack: an import of its export.
    expect(JSON.stringify(resource.Properties.KeysTable)).toContain('Fn::ImportValue');
    expect(JSON.parse(resource.Properties.Spec)).toEqual({
      name: 'checkout',
      team: 'payments',
      models: ['gpt-4o*'],
      limits: { rpm: 600, tpm: 100000, budgetUsd: { amount: 50, period: 'month' }, perUser: { rpm: 20 } },
      logging: 'redacted',
    });
    // The resource waits for its issuer's grants.
    expect(resource.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^AiGatewayVirtualKeyIssuerRole.*DefaultPolicy/)]));
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('VirtualKey issuer'),
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
    });
  });

  test("the issuer may write single key items in the gateway's keys table and its own secret, nothing else", () => {
    const role = issuerRole();
    const mine = policyStatements(s.template).filter((st) => JSON.stringify(st.roles).includes(role));
    const dynamo = mine.filter((st) => [].concat(st.Action).some((a: string) => a.startsWith('dynamodb:')));
    expect(dynamo).toHaveLength(1);
    expect([].concat(dynamo[0].Action).sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(JSON.stringify(dynamo[0].Resource)).toContain('Fn::ImportValue');
    expect(JSON.stringify(dynamo[0].Resource)).not.toContain('*');
    const secret = mine.filter((st) => [].concat(st.Action).some((a: string) => a.startsWith('secretsmanager:')));
    expect(secret.flatMap((st) => [].concat(st.Action)).sort()).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
    ]);
    for (const st of secret) expect(st.Resource).toEqual({ Ref: expect.stringMatching(/^CheckoutKeySecret/) });
    const others = mine.filter((st) => ![].concat(st.Action).every((a: string) => /^(dynamodb|secretsmanager|logs):/.test(a)));
    expect(others).toEqual([]);
  });

  test("the application's function may read the key's secret (and the grant says so)", () => {
    expect(s.grant.success).toBe(true);
    const fnRole = s.template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.handler', Code: { ZipFile: Match.anyValue() } } }) as any;
    const roleId = (Object.values(fnRole)[0] as any).Properties.Role['Fn::GetAtt'][0];
    const statements = policyStatements(s.template).filter((st) => JSON.stringify(st.roles).includes(roleId));
    expect(statements).toEqual([
      expect.objectContaining({
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: { Ref: expect.stringMatching(/^CheckoutKeySecret/) },
      }),
    ]);
  });

  test('keyId is the resource attribute KeyId', () => {
    expect(s.appStack.resolve(s.key.keyId)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^CheckoutKey/), 'KeyId'] });
  });

  test('cdk-nag AwsSolutions finds nothing unacknowledged in either stack', () => {
    for (const stack of [s.gatewayStack, s.appStack]) {
      const report = new AwsSolutionsChecks(stack).validateScope(stack);
      expect(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.resourceLogicalId}`))).toEqual([]);
    }
  });

  test('keys in one stack share one issuer; AiGateway.addVirtualKey issues one in the gateway stack', () => {
    const app = new App();
    const stack = new Stack(app, 'One', { env: ENV });
    const gateway = new AiGateway(stack, 'Gateway', { config: CONFIG });
    const a = gateway.addVirtualKey('A', { name: 'a' });
    new VirtualKey(stack, 'B', { gateway, name: 'b', oidcClientId: 'okta-app', trustUserHeader: true });
    const t = Template.fromStack(stack);
    t.resourceCountIs('Custom::AiGatewayVirtualKey', 2);
    expect(Object.keys(t.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('VirtualKey issuer') } }))).toHaveLength(1);
    expect(a.node.path).toBe('One/Gateway/A');
    const specs = Object.values(t.findResources('Custom::AiGatewayVirtualKey')).map((r: any) => JSON.parse(r.Properties.Spec));
    expect(specs).toEqual(expect.arrayContaining([{ name: 'b', oidcClientId: 'okta-app', trustUserHeader: true }]));
  });

  test("guard names one of the gateway's guard policies and reaches the key's record through the spec", () => {
    const app = new App();
    const stack = new Stack(app, 'Guarded', { env: ENV });
    const gateway = new AiGateway(stack, 'Gateway', {
      config: { ...CONFIG, guards: { 'no-secrets': { input: { pii: { action: 'block', types: ['secret'] } } } } },
    });
    expect(gateway.guardPolicies).toEqual(['no-secrets']);
    gateway.addVirtualKey('Support', { name: 'support', guard: 'no-secrets' });
    const [resource] = Object.values(Template.fromStack(stack).findResources('Custom::AiGatewayVirtualKey')) as any[];
    expect(JSON.parse(resource.Properties.Spec)).toEqual({ name: 'support', guard: 'no-secrets' });
    expect(() => gateway.addVirtualKey('Typo', { name: 'typo', guard: 'no-secret' })).toThrow(
      /Invalid VirtualKey props:[\s\S]*guard: names the guard policy 'no-secret', which the gateway's config does not define \(defined: no-secrets\)/,
    );
  });

  test('props are validated at synth, every problem named at once', () => {
    const app = new App();
    const gatewayStack = new Stack(app, 'G', { env: ENV });
    const gateway = new AiGateway(gatewayStack, 'Gateway', { config: CONFIG });
    const elsewhere = new Stack(app, 'Elsewhere', { env: { account: ENV.account, region: 'us-east-1' } });
    expect(
      () =>
        new VirtualKey(elsewhere, 'K', { gateway, name: ' ', limits: { rpm: 0, perUser: { tpm: 1.5 } }, logging: 'loud' as never, oidcClientId: 'has space' }),
    ).toThrow(
      /Invalid VirtualKey props:[\s\S]*name: [\s\S]*logging: [\s\S]*limits\.rpm: [\s\S]*limits\.perUser\.tpm: [\s\S]*oidcClientId: [\s\S]*gateway: is in region eu-west-1/,
    );
  });
});
