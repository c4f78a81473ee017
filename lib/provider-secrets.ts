import { createHash } from 'node:crypto';
import { RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, type IConstruct } from 'constructs';
import { PLACEHOLDER_SECRET_VALUE } from '../lambda/contract';
import type { GatewayConfig } from '../lambda/contract';
import { acknowledge } from './private/nag';

export interface ProviderSecretsProps {
  /** The routing config: every `apiKey: { secret: NAME_OR_ARN }` in it becomes a secret here. */
  readonly config: GatewayConfig;
  /**
   * Create the secrets the config names by plain name (not by ARN), holding a placeholder for
   * you to replace with the provider's key (README "Deploy to AWS"). When false, names refer to
   * secrets that already exist. Secrets named by ARN always refer to existing secrets.
   * @default true
   */
  readonly createSecrets?: boolean;
  /**
   * What happens to created secrets when they leave the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Secret names and ARNs the config refers to, in config order, without repeats. */
export function secretRefsOf(config: GatewayConfig): string[] {
  const refs: string[] = [];
  for (const provider of Object.values(config.providers)) {
    const ref = provider.apiKey;
    if (ref && 'secret' in ref && !refs.includes(ref.secret)) refs.push(ref.secret);
  }
  return refs;
}

/** A construct id from a secret name or ARN: stable, readable, and distinct for distinct refs (a short hash). */
function idFor(ref: string): string {
  const readable = ref
    .replace(/^arn:[^:]*:secretsmanager:[^:]*:[^:]*:secret:/, '')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 48);
  return `Secret${readable}${createHash('sha256').update(ref).digest('hex').slice(0, 8)}`;
}

/**
 * The provider keys the proxy may read: a `ProviderSecrets`, or your own implementation over
 * secrets you import (e.g. `secretsmanager.Secret.fromSecretNameV2`). It must cover every
 * `{ secret: NAME_OR_ARN }` the routing config names.
 */
export interface IProviderSecrets extends IConstruct {
  /** Read access to exactly the provider secrets, and nothing else. */
  grantRead(grantee: iam.IGrantable): iam.Grant;
}

/**
 * Provider credentials in Secrets Manager, one secret per name or ARN the config refers to.
 * The gateway reads exactly these (grantRead) and nothing else.
 */
export class ProviderSecrets extends Construct implements IProviderSecrets {
  /** Config ref (name or ARN, as written in the config) → secret. */
  public readonly secrets: ReadonlyMap<string, secretsmanager.ISecret>;

  constructor(scope: Construct, id: string, props: ProviderSecretsProps) {
    super(scope, id);
    const create = props.createSecrets ?? true;
    const secrets = new Map<string, secretsmanager.ISecret>();
    for (const ref of secretRefsOf(props.config)) {
      const cid = idFor(ref);
      if (ref.startsWith('arn:')) {
        // A complete ARN ends in Secrets Manager's 6-character suffix; a partial one does not.
        const complete = /-[A-Za-z0-9]{6}$/.test(ref);
        secrets.set(ref, secretsmanager.Secret.fromSecretAttributes(this, cid, complete ? { secretCompleteArn: ref } : { secretPartialArn: ref }));
      } else if (create) {
        const secret = new secretsmanager.Secret(this, cid, {
          secretName: ref,
          description: `Provider API key for the AI gateway (${ref}). Replace the placeholder with the real key.`,
          secretStringValue: SecretValue.unsafePlainText(PLACEHOLDER_SECRET_VALUE),
          removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
        });
        acknowledge(
          secret,
          'AwsSolutions-SMG4',
          "Holds an API key issued by a third-party model provider (OpenAI, Anthropic, ...); it can only be rotated in that provider's console, so a rotation Lambda has nothing to call. The gateway re-reads it within the secret cache TTL after a manual rotation.",
        );
        secrets.set(ref, secret);
      } else {
        secrets.set(ref, secretsmanager.Secret.fromSecretNameV2(this, cid, ref));
      }
    }
    this.secrets = secrets;
  }

  /**
   * Read access to exactly these secrets (GetSecretValue, DescribeSecret on their ARNs, and
   * Decrypt on a secret's customer-managed key). When the config names no secret there is
   * nothing to grant: the result is a dropped grant (`success` false) that adds no statement.
   */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    const grants = [...this.secrets.values()].map((secret) => secret.grantRead(grantee));
    return grants.length ? grants.reduce((all, grant) => all.combine(grant)) : iam.Grant.drop(grantee, 'read provider secrets: the config names none');
  }
}
