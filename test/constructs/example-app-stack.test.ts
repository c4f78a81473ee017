/** The example: AiGateway composed inside an application stack, each role granted only what it needs. */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ExampleAppStack } from './example-app-stack';
import { ENV } from './fixtures';

describe('ExampleAppStack', () => {
  const stack = new ExampleAppStack(new App(), 'ExampleApp', { env: ENV });
  const template = Template.fromStack(stack);
  const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);

  function actionsOf(roleId: string): { actions: string[]; resources: string } {
    const policies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } })) as any[];
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    return { actions: statements.flatMap((s: any) => [].concat(s.Action)), resources: JSON.stringify(statements.map((s: any) => s.Resource)) };
  }

  test('the application reads its own virtual-key secret and nothing of the gateway', () => {
    const { actions, resources } = actionsOf(id(stack.appRole));
    expect(actions.filter((a) => a.startsWith('secretsmanager:')).sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    expect(resources).toContain(id(stack.virtualKeySecret));
    expect(actions.filter((a) => /^(dynamodb|firehose|s3|kms|bedrock|execute-api):/.test(a))).toEqual([]);
    expect(resources).not.toContain(id(stack.gateway.secrets.secrets.get('example-app/openai')! as never));
  });

  test('the application function gets the gateway URL as its OpenAI base URL', () => {
    const fn = template.findResources('AWS::Lambda::Function')[id(stack.appFunction)];
    const vars = fn.Properties.Environment.Variables;
    expect(vars.GATEWAY_KEY_SECRET_ARN).toEqual({ Ref: id(stack.virtualKeySecret) });
    const url = JSON.stringify(vars.OPENAI_BASE_URL);
    expect(url).toContain(`{"Ref":"${id(stack.gateway.api)}"}`);
    expect(url).toContain(`{"Ref":"${id(stack.gateway.api.deploymentStage)}"},"/v1"]]}`);
  });

  test('the platform role may call the admin API, the analyst role may query the request log', () => {
    expect(actionsOf(id(stack.platformRole)).actions).toEqual(['execute-api:Invoke']);
    expect(actionsOf(id(stack.platformRole)).resources).toContain('/*/admin/*');
    const analyst = actionsOf(id(stack.analystRole)).actions;
    expect(analyst).toEqual(expect.arrayContaining(['athena:StartQueryExecution', 'athena:GetQueryResults', 'glue:GetTable', 's3:GetObject']));
    expect(analyst.filter((a) => a.startsWith('dynamodb:') || a.startsWith('secretsmanager:'))).toEqual([]);
  });

  test("the gateway inside it uses the app stack's stage, throttling and alarm topic", () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'live',
      MethodSettings: Match.arrayWith([Match.objectLike({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 })]),
    });
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as any[];
    expect(alarms.length).toBeGreaterThan(0);
    for (const a of alarms) expect(a.Properties.AlarmActions).toEqual([{ Ref: id(stack.node.findChild('Alarms') as never) }]);
  });
});
