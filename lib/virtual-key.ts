import { CustomResource, Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { type KeyLimits, type LoggingPolicy, NO_GUARD } from '../lambda/contract';
import type { AiGateway } from './ai-gateway';
import { bundleDir } from './private/assets';
import { KEY_SECRET_WRITE_ACTIONS } from './private/iam-actions';
import { createGatewayFunction } from './private/gateway-function';
import { acknowledge } from './private/nag';
import { PropsProblems } from './private/validation';

/** A virtual key's limits (the admin API's `limits`), including `perUser`. */
export type VirtualKeyLimits = KeyLimits;

/** The key's settings, as in the admin API's create body (ARCHITECTURE §6). */
export interface VirtualKeyOptions {
  /** Name shown in records, logs and usage. At most 200 characters. */
  readonly name: string;
  /**
   * Model name globs the key may call.
   * @default - every configured model
   */
  readonly models?: readonly string[];
  /**
   * Requests and tokens per minute, tokens per day, a USD budget, and `perUser` limits applied to each end user.
   * @default - no limits of its own (team limits still apply)
   */
  readonly limits?: VirtualKeyLimits;
  /**
   * Team the key belongs to (team limits, cache scope, usage by team).
   * @default - no team
   */
  readonly team?: string;
  /**
   * What the request log keeps of bodies: `full`, `redacted` or `metadata` (none).
   * @default 'metadata'
   */
  readonly logging?: LoggingPolicy;
  /**
   * OIDC application (a JWT's app claim) whose tokens act as this key; unique across the gateway's keys.
   * @default - the key is used by its plaintext only
   */
  readonly oidcClientId?: string;
  /**
   * Whether the `x-gateway-user` header (else the body's `user`) names the end user on requests with the plain key.
   * @default false
   */
  readonly trustUserHeader?: boolean;
  /**
   * A prompt guard policy (a name in the gateway config's `guards`) applied to this key's requests
   * on top of the route's own policy: both apply. It must be one of the gateway's policies.
   * @default - only the route's policy (or the config's `settings.guard`)
   */
  readonly guard?: string;
}

export interface VirtualKeyProps extends VirtualKeyOptions {
  /** The gateway that accepts the key. It may live in another stack of the same account and region. */
  readonly gateway: AiGateway;
}

const ISSUER_ID = 'AiGatewayVirtualKeyIssuer';
const LOGGING: readonly LoggingPolicy[] = ['full', 'metadata', 'redacted'];

/**
 * A virtual key issued at deploy time (ARCHITECTURE §15). The plaintext key exists only in
 * `secret`: a custom resource writes it there and records its hash in the gateway's keys table.
 * Changing the props updates the key's record in place; removing the construct revokes the key.
 * Give an application the key with `grantRead` and the base URL with `${gateway.url}v1`.
 *
 * ```ts
 * const key = new VirtualKey(this, 'CheckoutKey', { gateway, name: 'checkout', models: ['gpt-4o*'], limits: { rpm: 600 } });
 * key.grantRead(checkoutFunction);
 * ```
 */
export class VirtualKey extends Construct {
  /** The key's id (`key_…`), as in the request log and the admin API. */
  public readonly keyId: string;
  /** The secret holding the key (`sk-gw-…`) as its plain SecretString. */
  public readonly secret: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: VirtualKeyProps) {
    super(scope, id);
    checkProps(this, props);
    const stack = Stack.of(this);

    const secret = new secretsmanager.Secret(this, 'Secret', {
      description: `AI gateway virtual key '${props.name}' (written by its VirtualKey resource; read it, never set it)`,
    });
    acknowledge(
      secret,
      'AwsSolutions-SMG4',
      'The virtual key is issued and replaced by the gateway (admin rotate, or a new VirtualKey); a Secrets Manager rotation function cannot issue gateway keys.',
    );
    this.secret = secret;

    const issuer = issuerFunction(stack);
    props.gateway.keyStore.grantKeyIssuer(issuer);
    secret.grantRead(issuer);
    iam.Grant.addToPrincipal({ grantee: issuer, actions: KEY_SECRET_WRITE_ACTIONS, resourceArns: [secret.secretArn] });

    const { name, models, limits, team, logging, oidcClientId, trustUserHeader, guard } = props;
    const spec = { name, models, limits, team, logging, oidcClientId, trustUserHeader, guard };
    const resource = new CustomResource(this, 'Resource', {
      serviceToken: issuer.functionArn,
      resourceType: 'Custom::AiGatewayVirtualKey',
      properties: {
        KeysTable: props.gateway.keysTable.tableName,
        SecretArn: secret.secretArn,
        // One JSON string: CloudFormation would turn numbers in properties into strings.
        Spec: stack.toJsonString(spec),
      },
    });
    // The issuer may only run once its grants are in place.
    if (issuer.role) resource.node.addDependency(issuer.role);
    this.keyId = resource.getAttString('KeyId');
  }

  /** Read the key (secretsmanager:GetSecretValue, DescribeSecret on this secret, and its KMS key if any). */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.secret.grantRead(grantee);
  }
}

/** One issuer function per stack serves every VirtualKey in it; each key adds its own grants. */
function issuerFunction(stack: Stack): lambda.Function {
  const existing = stack.node.tryFindChild(ISSUER_ID) as lambda.Function | undefined;
  if (existing) return existing;
  return createGatewayFunction(stack, ISSUER_ID, {
    description: 'AI gateway VirtualKey issuer (CloudFormation custom resource): issues, updates and revokes virtual keys',
    assetDir: bundleDir('virtual-key'),
    memorySize: 256,
    timeout: Duration.minutes(1),
    environment: {},
    logRetention: logs.RetentionDays.ONE_MONTH,
    tracing: false,
  });
}

function checkProps(scope: Construct, props: VirtualKeyProps): void {
  const problems = new PropsProblems('VirtualKey');
  const known = (v: unknown) => v !== undefined && !Token.isUnresolved(v);
  if (known(props.name) && (!props.name.trim() || props.name.length > 200)) problems.add('name', 'must be 1 to 200 characters');
  if (props.models && !Token.isUnresolved(props.models) && props.models.some((m) => known(m) && (!m || m.length > 200)))
    problems.add('models', 'each must be a model name glob of 1 to 200 characters');
  if (props.logging !== undefined && !LOGGING.includes(props.logging)) problems.add('logging', `must be one of ${LOGGING.join(', ')}`);
  const checkLimits = (limits: KeyLimits | undefined, at: string) => {
    if (!limits) return;
    for (const k of ['rpm', 'tpm', 'tokensPerDay'] as const) {
      const v = limits[k];
      if (known(v) && !(Number.isInteger(v) && (v as number) > 0)) problems.add(`${at}.${k}`, 'must be a positive integer');
    }
    const b = limits.budgetUsd;
    if (b && known(b.amount) && !(b.amount > 0)) problems.add(`${at}.budgetUsd.amount`, 'must be a positive number of USD');
  };
  checkLimits(props.limits, 'limits');
  checkLimits(props.limits?.perUser, 'limits.perUser');
  if (props.oidcClientId !== undefined && known(props.oidcClientId) && !/^[\x21-\x7e]{1,256}$/.test(props.oidcClientId))
    problems.add('oidcClientId', 'must be the client id: 1 to 256 visible ASCII characters, no spaces');
  if (props.guard !== undefined && known(props.guard)) {
    const policies = props.gateway.guardPolicies;
    if (props.guard !== NO_GUARD && !policies.includes(props.guard))
      problems.add('guard', `names the guard policy '${props.guard}', which the gateway's config does not define (defined: ${policies.join(', ') || 'none'})`);
  }
  // The issuer writes the gateway's table directly: the stacks must share an account and region.
  const here = Stack.of(scope);
  const there = Stack.of(props.gateway);
  for (const attr of ['account', 'region'] as const)
    if (!Token.isUnresolved(here[attr]) && !Token.isUnresolved(there[attr]) && here[attr] !== there[attr])
      problems.add('gateway', `is in ${attr} ${there[attr]}, this stack in ${here[attr]}: a VirtualKey must be in the gateway's account and region`);
  problems.throwIfAny();
}
