import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct, type IConstruct } from 'constructs';
import { COUNTERS_TABLE, KEYS_TABLE, USAGE_TABLE } from '../lambda/contract';
import {
  COUNTERS_ADMIN_ACTIONS,
  COUNTERS_READ_WRITE_ACTIONS,
  KEYS_ADMIN_ACTIONS,
  KEYS_ISSUER_ACTIONS,
  KEYS_READ_ACTIONS,
  USAGE_ADMIN_ACTIONS,
  USAGE_READ_WRITE_ACTIONS,
} from './private/iam-actions';
import { PropsProblems } from './private/validation';

export interface KeyStoreProps {
  /**
   * What happens to the tables when they leave the stack. Virtual keys and spend counters are
   * business data, so they outlive the stack unless you say otherwise.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * DynamoDB deletion protection on both tables.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * Customer-managed KMS key for both tables.
   * @default - the AWS managed key for DynamoDB (aws/dynamodb)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Use this existing keys table instead of creating one (partition key `pk`, string). May not be
   * combined with `removalPolicy`, `deletionProtection` or `encryptionKey`, which only shape tables this construct creates.
   * A table encrypted with a customer-managed key is imported with it
   * (`Table.fromTableAttributes({ tableName, encryptionKey })`), so the gateway is granted its use.
   * @default - a new table
   */
  readonly existingKeysTable?: dynamodb.ITable;
  /**
   * Use this existing counters table instead of creating one (partition key `pk`, string; TTL
   * attribute `expiresAt`). Same exclusivity as `existingKeysTable`.
   * @default - a new table
   */
  readonly existingCountersTable?: dynamodb.ITable;
  /**
   * Use this existing usage table instead of creating one (partition key `pk` and sort key `sk`,
   * strings; TTL attribute `expiresAt`): the per-key per-day rollups the usage page reads.
   * Same exclusivity as `existingKeysTable`.
   * @default - a new table
   */
  readonly existingUsageTable?: dynamodb.ITable;
}

/**
 * The gateway's DynamoDB state as the proxy and admin API use it: a `KeyStore`, or your own
 * implementation over tables you import (e.g. `dynamodb.Table.fromTableName`), with the tables'
 * key schemas as in `KeyStoreProps.existingKeysTable` and its siblings.
 */
export interface IKeyStore extends IConstruct {
  /** Virtual key records and key-hash lookups (partition key `pk`, string). */
  readonly keysTable: dynamodb.ITable;
  /** Limit counters and team limits (partition key `pk`, string; TTL attribute `expiresAt`). */
  readonly countersTable: dynamodb.ITable;
  /** Per-key per-day usage rollups (partition key `pk`, sort key `sk`, strings; TTL attribute `expiresAt`). */
  readonly usageTable: dynamodb.ITable;
  /** What the proxy needs: read keys, read and update counters, add to and read usage. */
  grantProxy(grantee: iam.IGrantable): iam.Grant;
  /** What the admin API needs: manage keys, read usage and team limits. */
  grantAdmin(grantee: iam.IGrantable): iam.Grant;
  /** What a deploy-time key issuer (VirtualKey) needs: write single key records. */
  grantKeyIssuer(grantee: iam.IGrantable): iam.Grant;
}

/**
 * The gateway's DynamoDB state: virtual keys (only hashes, never plaintext keys) and limit
 * counters (TTL on `expiresAt`, so spent windows expire by themselves). On-demand billing,
 * point-in-time recovery, encryption, deletion protection and RETAIN are defaults.
 */
export class KeyStore extends Construct implements IKeyStore {
  public readonly keysTable: dynamodb.ITable;
  public readonly countersTable: dynamodb.ITable;
  /** Per-key per-day usage rollups (ARCHITECTURE §16): what `GET /v1/usage` and the usage page read. */
  public readonly usageTable: dynamodb.ITable;

  constructor(scope: Construct, id: string, props: KeyStoreProps = {}) {
    super(scope, id);
    const problems = new PropsProblems('KeyStore');
    const shaping = (['removalPolicy', 'deletionProtection', 'encryptionKey'] as const).filter((k) => props[k] !== undefined);
    if (props.existingKeysTable && props.existingCountersTable && props.existingUsageTable && shaping.length)
      problems.add(
        shaping.join(', '),
        'only applies to tables this construct creates; remove it, or drop existingKeysTable/existingCountersTable/existingUsageTable',
      );
    problems.throwIfAny();

    this.keysTable = props.existingKeysTable ?? this.table('KeysTable', props);
    this.countersTable = props.existingCountersTable ?? this.table('CountersTable', props, COUNTERS_TABLE.ttlAttribute);
    this.usageTable = props.existingUsageTable ?? this.table('UsageTable', props, USAGE_TABLE.ttlAttribute, USAGE_TABLE.sortKey);
  }

  private table(id: string, props: KeyStoreProps, ttlAttribute?: string, sortKey?: string): dynamodb.Table {
    return new dynamodb.Table(this, id, {
      partitionKey: { name: KEYS_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: sortKey ? { name: sortKey, type: dynamodb.AttributeType.STRING } : undefined,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: props.encryptionKey ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.AWS_MANAGED,
      encryptionKey: props.encryptionKey,
      timeToLiveAttribute: ttlAttribute,
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }

  /** What the proxy needs: read keys (to verify them), read and update counters (to enforce limits). */
  grantProxy(grantee: iam.IGrantable): iam.Grant {
    return this.withKeys(
      grantee,
      this.keysTable
        .grant(grantee, ...KEYS_READ_ACTIONS)
        .combine(this.countersTable.grant(grantee, ...COUNTERS_READ_WRITE_ACTIONS))
        .combine(this.usageTable.grant(grantee, ...USAGE_READ_WRITE_ACTIONS)),
    );
  }

  /** What the VirtualKey issuer needs: write single key records (no Scan, no counters). */
  grantKeyIssuer(grantee: iam.IGrantable): iam.Grant {
    return this.withKeys(grantee, this.keysTable.grant(grantee, ...KEYS_ISSUER_ACTIONS), [this.keysTable]);
  }

  /** What the admin API needs: manage keys, read usage and team limits. */
  grantAdmin(grantee: iam.IGrantable): iam.Grant {
    return this.withKeys(
      grantee,
      this.keysTable
        .grant(grantee, ...KEYS_ADMIN_ACTIONS)
        .combine(this.countersTable.grant(grantee, ...COUNTERS_ADMIN_ACTIONS))
        .combine(this.usageTable.grant(grantee, ...USAGE_ADMIN_ACTIONS)),
    );
  }

  /**
   * The table grant, plus use of each customer-managed key the tables are encrypted with: the
   * `encryptionKey` of created tables, the key an imported table carries (`Table.fromTableAttributes`).
   */
  private withKeys(grantee: iam.IGrantable, grant: iam.Grant, tables = [this.keysTable, this.countersTable, this.usageTable]): iam.Grant {
    const keys = [...new Set(tables.map((t) => t.encryptionKey).filter((k) => k !== undefined))];
    return keys.reduce((all, key) => all.combine(key.grantEncryptDecrypt(grantee)), grant);
  }
}
