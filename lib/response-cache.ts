import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3vectors from 'aws-cdk-lib/aws-s3vectors';
import { Construct, type IConstruct } from 'constructs';
import { CACHE_TABLE } from '../lambda/contract';
import { CACHE_PROXY_ACTIONS, CACHE_PURGE_ACTIONS, VECTORS_PROXY_ACTIONS, VECTORS_PURGE_ACTIONS } from './private/iam-actions';
import { acknowledge } from './private/nag';
import { PropsProblems } from './private/validation';

export interface ResponseCacheStoreProps {
  /**
   * Create the semantic index (an S3 Vectors vector bucket and index) besides the entry table.
   * @default false
   */
  readonly semantic?: boolean;
  /**
   * Dimensions of the semantic cache's embedding model (text-embedding-3-small: 1536, Titan Text
   * Embeddings v2: 1024 by default). Fixed when the index is created; changing it replaces the index.
   * @default 1536
   */
  readonly vectorDimensions?: number;
  /**
   * Customer-managed KMS key for the entry table.
   * @default - the AWS managed key for DynamoDB (aws/dynamodb)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What happens to the table and vector index when they leave the stack. Cached answers are
   * rebuilt by the next miss, so by default they go with the stack.
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The response cache's store as the proxy and admin API use it: a `ResponseCacheStore`, one
 * imported with `ResponseCacheStore.fromResponseCacheStoreAttributes`, or your own implementation
 * over an imported table (partition key `pk`, string; TTL attribute `expiresAt`) and, for the
 * semantic cache, an S3 Vectors index.
 */
export interface IResponseCacheStore extends IConstruct {
  /** Cache entries, one item per exact key. */
  readonly table: dynamodb.ITable;
  /**
   * The semantic cache's vector index ARN (metadata `partition` and `expiresAt` filterable).
   * @default - no vector index: only exact caching
   */
  readonly vectorIndexArn?: string;
  /** What the proxy needs: read and write entries, query and write vectors. */
  grantProxy(grantee: iam.IGrantable): iam.Grant;
  /** What a purge needs (the admin API): find and delete entries and their vectors. */
  grantPurge(grantee: iam.IGrantable): iam.Grant;
}

/** An existing response cache store, for `ResponseCacheStore.fromResponseCacheStoreAttributes`. */
export interface ResponseCacheStoreAttributes {
  /**
   * The entry table (partition key `pk`, string; TTL attribute `expiresAt`). A table encrypted with
   * a customer-managed key is imported with it (`Table.fromTableAttributes({ encryptionKey })`).
   */
  readonly table: dynamodb.ITable;
  /**
   * The semantic cache's S3 Vectors index ARN (cosine distance, filterable metadata `partition` and `expiresAt`).
   * @default - no vector index: only exact caching
   */
  readonly vectorIndexArn?: string;
}

/** What a created and an imported response cache store share: the proxy's and the purge's grants. */
export abstract class ResponseCacheStoreBase extends Construct implements IResponseCacheStore {
  public abstract readonly table: dynamodb.ITable;
  public abstract readonly vectorIndexArn?: string;

  /** What the proxy needs: read and write entries, query and write vectors. */
  grantProxy(grantee: iam.IGrantable): iam.Grant {
    let grant = this.table.grant(grantee, ...CACHE_PROXY_ACTIONS);
    if (this.vectorIndexArn) grant = grant.combine(iam.Grant.addToPrincipal({ grantee, actions: VECTORS_PROXY_ACTIONS, resourceArns: [this.vectorIndexArn] }));
    return this.withKey(grantee, grant);
  }

  /** What a purge needs (the admin API): find and delete entries and their vectors. */
  grantPurge(grantee: iam.IGrantable): iam.Grant {
    let grant = this.table.grant(grantee, ...CACHE_PURGE_ACTIONS);
    if (this.vectorIndexArn) grant = grant.combine(iam.Grant.addToPrincipal({ grantee, actions: VECTORS_PURGE_ACTIONS, resourceArns: [this.vectorIndexArn] }));
    return this.withKey(grantee, grant);
  }

  /** The grant, plus use of the table's customer-managed key when there is one. */
  protected withKey(grantee: iam.IGrantable, grant: iam.Grant): iam.Grant {
    const key = this.table.encryptionKey;
    return key ? grant.combine(key.grantEncryptDecrypt(grantee)) : grant;
  }
}

/**
 * Where the response cache (ARCHITECTURE §13) keeps its entries: a DynamoDB table with TTL on
 * `expiresAt` (answers too large for an item go to the log bucket's cache/ prefix), and, for the
 * semantic cache, an Amazon S3 Vectors vector bucket and cosine index whose filterable metadata
 * (`partition`, `expiresAt`) keeps every lookup inside its own scope.
 */
export class ResponseCacheStore extends ResponseCacheStoreBase {
  /** Cache entries, one item per exact key. */
  public readonly table: dynamodb.ITable;
  /** The semantic cache's vector bucket; only when `semantic` is set. */
  public readonly vectorBucket?: s3vectors.CfnVectorBucket;
  /** The semantic cache's vector index; only when `semantic` is set. */
  public readonly vectorIndex?: s3vectors.CfnIndex;
  /** The vector index's ARN (the runtime addresses the index by it); only when `semantic` is set. */
  public readonly vectorIndexArn?: string;

  /** A cache store that exists already (another gateway's or stack's), with the same grants as a created one. */
  static fromResponseCacheStoreAttributes(scope: Construct, id: string, attrs: ResponseCacheStoreAttributes): IResponseCacheStore {
    class Imported extends ResponseCacheStoreBase {
      public readonly table = attrs.table;
      public readonly vectorIndexArn = attrs.vectorIndexArn;
    }
    return new Imported(scope, id);
  }

  constructor(scope: Construct, id: string, props: ResponseCacheStoreProps = {}) {
    super(scope, id);
    const problems = new PropsProblems('ResponseCacheStore');
    problems.range('vectorDimensions', props.vectorDimensions, 1, 4096);
    problems.throwIfAny();
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;

    const table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: CACHE_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: props.encryptionKey ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.AWS_MANAGED,
      encryptionKey: props.encryptionKey,
      timeToLiveAttribute: CACHE_TABLE.ttlAttribute,
      removalPolicy,
    });
    acknowledge(
      table,
      'AwsSolutions-DDB3',
      'A response cache holds nothing that cannot be rebuilt: a lost entry is one provider call. Point-in-time recovery would bill backups of throwaway data.',
    );
    this.table = table;

    if (props.semantic) {
      const bucket = new s3vectors.CfnVectorBucket(this, 'VectorBucket', { encryptionConfiguration: { sseType: 'AES256' } });
      bucket.applyRemovalPolicy(removalPolicy);
      const index = new s3vectors.CfnIndex(this, 'VectorIndex', {
        vectorBucketArn: bucket.attrVectorBucketArn,
        indexName: 'responses',
        dataType: 'float32',
        dimension: props.vectorDimensions ?? 1536,
        distanceMetric: 'cosine',
      });
      index.applyRemovalPolicy(removalPolicy);
      this.vectorBucket = bucket;
      this.vectorIndex = index;
      this.vectorIndexArn = index.attrIndexArn;
    }
  }
}
