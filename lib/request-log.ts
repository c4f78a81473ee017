import { Aws, Duration, Names, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, type IConstruct } from 'constructs';
import { LOG_RECORD_FIELDS } from '../lambda/contract';
import {
  ATHENA_QUERY_ACTIONS,
  BODY_PUT_ACTIONS,
  CACHE_BLOB_PROXY_ACTIONS,
  CACHE_BLOB_PURGE_ACTIONS,
  FIREHOSE_PUT_ACTIONS,
  GLUE_READ_ACTIONS,
  KMS_DECRYPT_ACTIONS,
  KMS_ENCRYPT_ACTIONS,
  LOG_OBJECT_READ_ACTIONS,
  QUERY_RESULT_WRITE_ACTIONS,
} from './private/iam-actions';
import { acknowledge, wildcardResourceFinding } from './private/nag';
import { logQueries } from '../lambda/contract';
import { PropsProblems } from './private/validation';

/** How the log bucket encrypts objects. */
export enum RequestLogEncryption {
  /** A customer-managed KMS key with rotation (created unless `encryptionKey` is given). */
  KMS = 'KMS',
  /** S3-managed keys (SSE-S3): no KMS cost, no key policy to manage. */
  S3_MANAGED = 'S3_MANAGED',
}

export interface RequestLogProps {
  /**
   * Use this existing bucket (in the stack's account) for records, oversized bodies, delivery
   * errors, large cached answers and Athena results instead of creating one. Firehose delivers
   * into it, the Glue table and the Athena workgroup point at it, and every grant targets it;
   * the stack adds no bucket policy, lifecycle rule or encryption setting to it, so its owner
   * provides them: public access blocked; a TLS-only bucket policy (deny `aws:SecureTransport`
   * false); default encryption, SSE-S3 or SSE-KMS with the key given as `encryptionKey` (or
   * carried by the imported bucket, `Bucket.fromBucketAttributes({ encryptionKey })`), whose key
   * policy lets the account's IAM policies grant its use; lifecycle expiry on `records/`, `bodies/`
   * and `errors/` (retention), `athena-results/`, and `cache/` after at least 31 days (a day past
   * the longest cache TTL). May not be combined with `encryption`, `removalPolicy`,
   * `serverAccessLogsBucket` or `infrequentAccessAfter`, which only shape a bucket this construct creates.
   * @default - a new bucket: encrypted, TLS-only, public access blocked, lifecycle on every prefix
   */
  readonly existingBucket?: s3.IBucket;
  /**
   * Object encryption of the log bucket (records, oversized bodies, Athena results). Not with
   * `existingBucket`, whose owner sets its encryption.
   * @default RequestLogEncryption.KMS
   */
  readonly encryption?: RequestLogEncryption;
  /**
   * KMS key for the bucket. Only with `encryption: KMS`; with `existingBucket`, the key its default
   * encryption uses, which Firehose, the proxy and Athena then encrypt with and are granted.
   * @default - a new key with yearly rotation; with `existingBucket`, the imported bucket's own `encryptionKey` if it has one, else none (SSE-S3)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * How long records and bodies are kept before S3 expires them, and how far back Athena's
   * partition projection reaches. With `existingBucket` only the latter: the bucket's own
   * lifecycle decides what is kept.
   * @default Duration.days(365)
   */
  readonly retention?: Duration;
  /**
   * When records move to S3 Standard-IA (must be at least 30 days and shorter than `retention`).
   * Not with `existingBucket`.
   * @default Duration.days(30)
   */
  readonly infrequentAccessAfter?: Duration;
  /**
   * What happens to the bucket (and a created KMS key) when they leave the stack. The log is an
   * audit trail, so it outlives the stack unless you say otherwise. Not with `existingBucket`.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Bucket receiving S3 server access logs of the log bucket. Not with `existingBucket`.
   * @default - no server access logs (CloudTrail data events can audit object access instead)
   */
  readonly serverAccessLogsBucket?: s3.IBucket;
  /**
   * How long Firehose buffers records before writing an object (60 to 900 seconds).
   * @default Duration.seconds(60)
   */
  readonly bufferingInterval?: Duration;
  /**
   * Glue database name (lowercase letters, digits and underscores).
   * @default - derived from the construct path, unique in the account
   */
  readonly databaseName?: string;
  /**
   * Athena workgroup name.
   * @default - the database name
   */
  readonly workGroupName?: string;
}

/** S3 key prefixes inside the log bucket. */
export const LOG_PREFIXES = {
  records: 'records/',
  bodies: 'bodies/',
  errors: 'errors/',
  athenaResults: 'athena-results/',
  /** Cached answers too large for one DynamoDB item (response cache). */
  cache: 'cache/',
} as const;

/** The Glue table's name inside the database. */
export const LOG_TABLE_NAME = 'requests';

/** Glue column comments are capped at 255 characters. */
const MAX_COMMENT = 255;

/** Glue/Athena columns, derived from the one record schema (the contract's log-schema.ts). */
export function logTableColumns(): glue.CfnTable.ColumnProperty[] {
  return LOG_RECORD_FIELDS.map((f) => ({ name: f.name, type: f.type, comment: f.description.slice(0, MAX_COMMENT) }));
}

/**
 * The request log as the proxy, the admin API and the alarms use it: a `RequestLog`, one imported
 * with `RequestLog.fromRequestLogAttributes`, or your own implementation over an imported delivery stream and bucket. The stream must deliver to the
 * bucket's `records/` prefix in the record format Athena reads (LOG_PREFIXES).
 */
export interface IRequestLog extends IConstruct {
  /** Holds oversized bodies under `bodies/` and large cached answers under `cache/` (and, for a `RequestLog`, the records). */
  readonly bucket: s3.IBucket;
  /** The Firehose stream the proxy puts log records into. */
  readonly deliveryStream: firehose.IDeliveryStream;
  /** What the proxy needs: put records into the stream, put oversized bodies under `bodies/`. */
  grantWrite(grantee: iam.IGrantable): iam.Grant;
  /** Read and write large cached answers under `cache/`, or with `purge` delete them. */
  grantCacheBlobs(grantee: iam.IGrantable, purge?: boolean): iam.Grant;
  /** Share of Firehose → S3 deliveries that succeeded (Average of DeliveryToS3.Success, 5 minutes; 1 = all). */
  metricDeliverySuccess(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Records the proxy put into the stream (Sum of IncomingRecords, 5 minutes). */
  metricIncomingRecords(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

/** An existing request log pipeline, for `RequestLog.fromRequestLogAttributes`. */
export interface RequestLogAttributes {
  /** The bucket the stream delivers to; it also takes oversized bodies (`bodies/`) and large cached answers (`cache/`). */
  readonly bucket: s3.IBucket;
  /** The Firehose stream the proxy puts log records into. */
  readonly deliveryStream: firehose.IDeliveryStream;
  /**
   * The KMS key the bucket encrypts objects with; the proxy is granted its use.
   * @default - the bucket's own `encryptionKey`, else none (SSE-S3)
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * What a created and an imported request log share: the proxy's and the cache's grants on the
 * stream, the bucket prefixes and the bucket's KMS key, and the delivery metrics.
 */
export abstract class RequestLogBase extends Construct implements IRequestLog {
  public abstract readonly bucket: s3.IBucket;
  public abstract readonly deliveryStream: firehose.IDeliveryStream;
  /** The KMS key the bucket's objects are encrypted with; none for SSE-S3. */
  public abstract readonly encryptionKey?: kms.IKey;

  /** What the proxy needs: put records into the stream, put oversized bodies under `bodies/` (and encrypt them with the bucket's key). */
  grantWrite(grantee: iam.IGrantable): iam.Grant {
    return this.withKey(
      grantee,
      KMS_ENCRYPT_ACTIONS,
      iam.Grant.addToPrincipal({ grantee, actions: FIREHOSE_PUT_ACTIONS, resourceArns: [this.deliveryStream.deliveryStreamArn] }).combine(
        iam.Grant.addToPrincipal({ grantee, actions: BODY_PUT_ACTIONS, resourceArns: [this.bucket.arnForObjects(`${LOG_PREFIXES.bodies}*`)] }),
      ),
    );
  }

  /**
   * What the response cache needs for answers too large for one DynamoDB item: the proxy reads
   * and writes them under `cache/` (and uses the bucket's key), a purge (`purge: true`) deletes them.
   */
  grantCacheBlobs(grantee: iam.IGrantable, purge = false): iam.Grant {
    const actions = purge ? CACHE_BLOB_PURGE_ACTIONS : CACHE_BLOB_PROXY_ACTIONS;
    const grant = iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [this.bucket.arnForObjects(`${LOG_PREFIXES.cache}*`)] });
    return purge ? grant : this.withKey(grantee, [...KMS_ENCRYPT_ACTIONS, ...KMS_DECRYPT_ACTIONS], grant);
  }

  /** The grant, plus these actions on the bucket's KMS key when it has one. */
  protected withKey(grantee: iam.IGrantable, keyActions: string[], grant: iam.Grant): iam.Grant {
    if (!this.encryptionKey) return grant;
    return grant.combine(iam.Grant.addToPrincipal({ grantee, actions: keyActions, resourceArns: [this.encryptionKey.keyArn] }));
  }

  /** Share of Firehose → S3 deliveries that succeeded (Average of DeliveryToS3.Success, 5 minutes; 1 = all). */
  metricDeliverySuccess(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deliveryStream.metric('DeliveryToS3.Success', { statistic: 'Average', period: Duration.minutes(5), ...props });
  }

  /** Records the proxy put into the stream (Sum of IncomingRecords, 5 minutes). */
  metricIncomingRecords(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deliveryStream.metricIncomingRecords({ statistic: 'Sum', period: Duration.minutes(5), ...props });
  }
}

/**
 * The request log: Firehose → S3 (date-partitioned `records/dt=YYYY-MM-DD/`, GZIP JSON lines,
 * encrypted, TLS-only, private, with lifecycle; or an `existingBucket` you own), a Glue table over
 * it with partition projection (no crawler), and an Athena workgroup with saved queries.
 */
export class RequestLog extends RequestLogBase {
  public readonly bucket: s3.IBucket;
  public readonly encryptionKey?: kms.IKey;
  public readonly deliveryStream: firehose.IDeliveryStream;
  public readonly databaseName: string;
  public readonly tableName = LOG_TABLE_NAME;
  public readonly workGroupName: string;
  /** Saved Athena queries by short name (spendByKeyPerDay, topModelsByTokens, ...). */
  public readonly namedQueries: Readonly<Record<string, athena.CfnNamedQuery>>;

  /**
   * A request log pipeline that exists already (another stack's, or one you run): the proxy puts
   * records into `deliveryStream` and oversized bodies and large cached answers into `bucket`,
   * with the same grants as a created RequestLog. The stream must deliver the records to the
   * bucket's `records/` prefix; Athena over it is yours to set up.
   */
  static fromRequestLogAttributes(scope: Construct, id: string, attrs: RequestLogAttributes): IRequestLog {
    class Imported extends RequestLogBase {
      public readonly bucket = attrs.bucket;
      public readonly deliveryStream = attrs.deliveryStream;
      public readonly encryptionKey = attrs.encryptionKey ?? attrs.bucket.encryptionKey;
    }
    return new Imported(scope, id);
  }

  constructor(scope: Construct, id: string, props: RequestLogProps = {}) {
    super(scope, id);
    const encryption = props.encryption ?? RequestLogEncryption.KMS;
    const retention = props.retention ?? Duration.days(365);
    const infrequentAccessAfter = props.infrequentAccessAfter ?? Duration.days(30);
    const existing = props.existingBucket;
    const problems = new PropsProblems('RequestLog');
    const shaping = (['encryption', 'removalPolicy', 'serverAccessLogsBucket', 'infrequentAccessAfter'] as const).filter((k) => props[k] !== undefined);
    if (existing && shaping.length)
      problems.add(
        shaping.join(', '),
        "only shapes a bucket this construct creates; remove it, or drop existingBucket (the existing bucket's owner sets its encryption, lifecycle and access logs)",
      );
    if (!existing && props.encryptionKey && encryption !== RequestLogEncryption.KMS)
      problems.add('encryptionKey', 'only applies with encryption: RequestLogEncryption.KMS; remove it or switch encryption to KMS');
    problems.range('bufferingInterval (seconds)', props.bufferingInterval?.toSeconds(), 60, 900);
    problems.range('infrequentAccessAfter (days)', infrequentAccessAfter.toDays(), 30, Math.max(30, retention.toDays() - 1));
    if (props.databaseName !== undefined && !/^[a-z0-9_]{1,255}$/.test(props.databaseName))
      problems.add('databaseName', 'must be lowercase letters, digits and underscores');
    problems.throwIfAny();

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    if (existing) {
      this.encryptionKey = props.encryptionKey ?? existing.encryptionKey;
    } else if (encryption === RequestLogEncryption.KMS) {
      this.encryptionKey =
        props.encryptionKey ??
        new kms.Key(this, 'Key', { description: 'AI gateway request log (records, bodies, Athena results)', enableKeyRotation: true, removalPolicy });
    }

    const bucket = existing ?? this.createBucket(props, removalPolicy, retention, infrequentAccessAfter);
    this.bucket = bucket;

    this.deliveryStream = new firehose.DeliveryStream(this, 'Stream', {
      encryption: firehose.StreamEncryption.awsOwnedKey(),
      destination: new firehose.S3Bucket(bucket, {
        // Firehose's arrival timestamp (UTC) partitions the records; Athena projects `dt` from it.
        dataOutputPrefix: `${LOG_PREFIXES.records}dt=!{timestamp:yyyy-MM-dd}/`,
        errorOutputPrefix: `${LOG_PREFIXES.errors}!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/`,
        bufferingInterval: props.bufferingInterval ?? Duration.seconds(60),
        bufferingSize: Size.mebibytes(5),
        compression: firehose.Compression.GZIP,
        encryptionKey: this.encryptionKey,
      }),
    });
    // The Firehose S3 destination's role (aws-cdk-lib's standard grant for delivery to S3).
    const firehoseWhy =
      "Firehose delivers objects under generated, date-partitioned keys of the gateway's log bucket; these are the actions and the bucket/* resource of aws-cdk-lib's standard Firehose-to-S3 grant, scoped to this one bucket and key.";
    for (const finding of [
      wildcardResourceFinding(this, bucket.arnForObjects('*')),
      'AwsSolutions-IAM5[Action::s3:GetObject*]',
      'AwsSolutions-IAM5[Action::s3:GetBucket*]',
      'AwsSolutions-IAM5[Action::s3:List*]',
      'AwsSolutions-IAM5[Action::s3:DeleteObject*]',
      'AwsSolutions-IAM5[Action::s3:Abort*]',
      ...(this.encryptionKey ? ['AwsSolutions-IAM5[Action::kms:ReEncrypt*]', 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]'] : []),
    ])
      acknowledge(this.deliveryStream, finding, firehoseWhy);
    acknowledge(
      Stack.of(this),
      'CloudFormation-Validate::W7001',
      "aws-cdk-lib's Firehose construct always adds its CIDR-block mapping (used for Redshift/HTTP destinations); the request log delivers to S3, so the mapping stays unreferenced.",
    );

    this.databaseName =
      props.databaseName ??
      (
        'ai_gateway_' +
        Names.uniqueId(this)
          .toLowerCase()
          .replace(/[^a-z0-9]/g, '_')
      ).slice(0, 120);
    this.workGroupName = props.workGroupName ?? this.databaseName;
    const database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: this.databaseName, description: 'AI gateway request log' },
    });
    const recordsLocation = `s3://${bucket.bucketName}/${LOG_PREFIXES.records}`;
    const table = new glue.CfnTable(this, 'Table', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.databaseName,
      tableInput: {
        name: LOG_TABLE_NAME,
        description: 'One record per gateway request (columns derived from LOG_RECORD_FIELDS); partitioned by delivery date dt',
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: [{ name: 'dt', type: 'string', comment: 'Delivery date, YYYY-MM-DD (UTC)' }],
        parameters: {
          classification: 'json',
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': `NOW-${Math.ceil(retention.toDays())}DAYS,NOW+1DAYS`,
          'projection.dt.interval': '1',
          'projection.dt.interval.unit': 'DAYS',
          'storage.location.template': `${recordsLocation}dt=\${dt}/`,
        },
        storageDescriptor: {
          columns: logTableColumns(),
          location: recordsLocation,
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          compressed: true,
          serdeInfo: {
            serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
            // One unreadable line must not fail every query over its day.
            parameters: { 'ignore.malformed.json': 'true' },
          },
        },
      },
    });
    table.node.addDependency(database);

    const workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: this.workGroupName,
      description: 'Queries over the AI gateway request log',
      state: 'ENABLED',
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        // A runaway query over years of logs stops at 10 GB scanned.
        bytesScannedCutoffPerQuery: 10 * 1024 ** 3,
        resultConfiguration: {
          outputLocation: `s3://${bucket.bucketName}/${LOG_PREFIXES.athenaResults}`,
          encryptionConfiguration: this.encryptionKey ? { encryptionOption: 'SSE_KMS', kmsKey: this.encryptionKey.keyArn } : { encryptionOption: 'SSE_S3' },
        },
      },
    });

    const queries: Record<string, athena.CfnNamedQuery> = {};
    // The SQL is defined once beside the record schema (lambda/core/log-queries.ts), columns checked against it.
    for (const q of logQueries({ database: this.databaseName, table: LOG_TABLE_NAME })) {
      const key = q.name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
      const named = new athena.CfnNamedQuery(this, `Query${key[0].toUpperCase()}${key.slice(1)}`, {
        database: this.databaseName,
        workGroup: workGroup.name,
        name: `ai-gateway: ${q.name.replace(/-/g, ' ')}`,
        description: q.description,
        queryString: q.sql,
      });
      named.node.addDependency(workGroup);
      named.node.addDependency(table);
      queries[key] = named;
    }
    this.namedQueries = queries;
  }

  /** The log bucket this construct creates: encrypted, TLS-only, private, with lifecycle on every prefix. */
  private createBucket(props: RequestLogProps, removalPolicy: RemovalPolicy, retention: Duration, infrequentAccessAfter: Duration): s3.Bucket {
    const bucket = new s3.Bucket(this, 'Bucket', {
      encryption: this.encryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
      encryptionKey: this.encryptionKey,
      bucketKeyEnabled: this.encryptionKey ? true : undefined,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      removalPolicy,
      serverAccessLogsBucket: props.serverAccessLogsBucket,
      serverAccessLogsPrefix: props.serverAccessLogsBucket ? 'ai-gateway-request-log/' : undefined,
      lifecycleRules: [
        ...[LOG_PREFIXES.records, LOG_PREFIXES.bodies, LOG_PREFIXES.errors].map((prefix) => ({
          id: `expire-${prefix.replace('/', '')}`,
          prefix,
          expiration: retention,
          transitions:
            retention.toDays() > infrequentAccessAfter.toDays()
              ? [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: infrequentAccessAfter }]
              : [],
        })),
        { id: 'expire-athena-results', prefix: LOG_PREFIXES.athenaResults, expiration: Duration.days(30) },
        // A day past the longest cache TTL (30 days): no cached answer outlives its entry by more.
        { id: 'expire-cache', prefix: LOG_PREFIXES.cache, expiration: Duration.days(31) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
    if (!props.serverAccessLogsBucket) {
      acknowledge(
        bucket,
        'AwsSolutions-S1',
        'Only Firehose and the proxy role write to this bucket and only the grantQueryLogs principals read it; pass requestLog.serverAccessLogsBucket to add S3 access logs (a second bucket per gateway is not a default).',
      );
    }
    return bucket;
  }

  /** Run the saved queries (and any other) in the workgroup: Athena, the Glue table, the log objects, the results prefix. */
  grantQuery(grantee: iam.IGrantable): iam.Grant {
    const stack = Stack.of(this);
    const workGroupArn = stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: this.workGroupName });
    const objectArns = [LOG_PREFIXES.records, LOG_PREFIXES.bodies, LOG_PREFIXES.athenaResults].map((p) => this.bucket.arnForObjects(`${p}*`));
    const grant = [
      iam.Grant.addToPrincipal({ grantee, actions: ATHENA_QUERY_ACTIONS, resourceArns: [workGroupArn] }),
      iam.Grant.addToPrincipal({
        grantee,
        actions: GLUE_READ_ACTIONS,
        resourceArns: [
          stack.formatArn({ service: 'glue', resource: 'catalog' }),
          stack.formatArn({ service: 'glue', resource: 'database', resourceName: this.databaseName }),
          stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${this.databaseName}/${LOG_TABLE_NAME}` }),
        ],
      }),
      iam.Grant.addToPrincipal({ grantee, actions: LOG_OBJECT_READ_ACTIONS, resourceArns: [this.bucket.bucketArn, ...objectArns] }),
      iam.Grant.addToPrincipal({ grantee, actions: QUERY_RESULT_WRITE_ACTIONS, resourceArns: [this.bucket.arnForObjects(`${LOG_PREFIXES.athenaResults}*`)] }),
    ].reduce((all, g) => all.combine(g));
    // Athena reads every object of a day's partition and writes results under generated names.
    if (grantee.grantPrincipal instanceof Construct)
      for (const arn of objectArns)
        acknowledge(
          grantee.grantPrincipal,
          wildcardResourceFinding(this, arn),
          "Athena scans every object under the request log prefixes (records/, bodies/) of this gateway's log bucket and writes query results under generated names in athena-results/.",
        );
    return this.withKey(grantee, [...KMS_DECRYPT_ACTIONS, ...KMS_ENCRYPT_ACTIONS], grant);
  }
}
