import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { snapshotExportEnvironment } from '../../lambdas/core/config';
import { HandlerFunction } from './handler-function';

/** What ElastiCache's export guide lets the regional snapshot service do on the export bucket. */
export const ELASTICACHE_SNAPSHOT_SERVICE_ACTIONS = [
  's3:PutObject',
  's3:GetObject',
  's3:ListBucket',
  's3:GetBucketAcl',
  's3:ListMultipartUploadParts',
  's3:ListBucketMultipartUploads',
] as const;

export interface SnapshotExportProps {
  /** The replication group whose newest automatic snapshot is exported. */
  readonly replicationGroupId: string;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** Must reach the ElastiCache API endpoint; needs no access to the cache itself. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** EventBridge schedule expression. @default 'cron(30 5 * * ? *)' (daily, 05:30 UTC) */
  readonly schedule?: string;
  /** Days until exports move to S3 Glacier Instant Retrieval. @default 30 */
  readonly transitionDays?: number;
  /** Days until exports (and noncurrent versions) are deleted. @default 90 */
  readonly expirationDays?: number;
  /** @default logs.RetentionDays.TWO_WEEKS */
  readonly logRetention?: logs.RetentionDays;
  readonly logEncryptionKey?: kms.IKey;
  /** @default 'INFO' */
  readonly logLevel?: string;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Daily export of the cache's newest automatic snapshot to S3, where it outlives the replication group:
 * - the bucket blocks public access, accepts TLS only, is versioned, logs access to a second bucket, moves exports
 *   to Glacier Instant Retrieval and later expires them, and is encrypted with SSE-S3 (S3-managed keys; see
 *   docs/infrastructure.md for why not SSE-KMS);
 * - its policy lets the ElastiCache snapshot service of this region write exports (and read them for a restore);
 * - a scheduled function calls CopySnapshot (TargetBucket) with a name derived from the snapshot, so a retry never
 *   exports twice; it throws on failure, which the export-failure alarm watches, and publishes a metric when the
 *   snapshot of the day is missing, which the missing-snapshot alarm watches.
 */
export class SnapshotExport extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogBucket: s3.Bucket;
  readonly exporter: HandlerFunction;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: SnapshotExportProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(props.expirationDays ?? 90) }],
      removalPolicy,
    });

    const transitionDays = props.transitionDays ?? 30;
    const expirationDays = props.expirationDays ?? 90;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      // ElastiCache writes exports as its own service principal: SSE-S3 needs no key grant to it.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'exports/',
      lifecycleRules: [
        {
          id: 'tier-and-expire-exports',
          transitions: [{ storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(transitionDays) }],
          expiration: Duration.days(expirationDays),
          noncurrentVersionExpiration: Duration.days(7),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy,
    });

    // ElastiCache's export guide ("Grant ElastiCache access to your Amazon S3 bucket", docs/infrastructure.md says
    // which version): the regional snapshot service principal, these six actions, on the bucket and its objects.
    // No aws:SourceAccount condition: no AWS source shows this principal sending it, and a condition on a key the
    // caller does not send silently denies every export.
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'ElastiCacheSnapshotExport',
        principals: [new iam.ServicePrincipal(`${stack.region}.elasticache-snapshot.amazonaws.com`)],
        actions: [...ELASTICACHE_SNAPSHOT_SERVICE_ACTIONS],
        resources: [this.bucket.bucketArn, this.bucket.arnForObjects('*')],
      }),
    );
    // The policy outlives the stack with the bucket: a restore from a retained bucket needs the service's read grant.
    this.bucket.policy?.applyRemovalPolicy(removalPolicy);

    this.exporter = new HandlerFunction(this, 'Exporter', {
      handlerModule: 'export-snapshot',
      description: 'skycache: exports the newest automatic cache snapshot to S3',
      vpc: props.vpc,
      subnets: props.subnets,
      securityGroup: props.securityGroup,
      timeout: Duration.seconds(60),
      memorySize: 256,
      logRetention: props.logRetention,
      logEncryptionKey: props.logEncryptionKey,
      logLevel: props.logLevel,
      environment: snapshotExportEnvironment({ replicationGroupId: props.replicationGroupId, bucket: this.bucket.bucketName, prefix: 'skycache' }),
    });
    const snapshotArn = stack.formatArn({ service: 'elasticache', resource: 'snapshot', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    this.exporter.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'FindAutomaticSnapshots',
        // DescribeSnapshots filters by replication group; it does not take snapshot ARNs as resources.
        actions: ['elasticache:DescribeSnapshots'],
        resources: ['*'],
      }),
    );
    this.exporter.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ExportSnapshots',
        actions: ['elasticache:CopySnapshot'],
        resources: [snapshotArn],
      }),
    );
    // CopySnapshot to a bucket is authorized against the caller as well as the bucket policy. The guide's caller
    // permissions, scoped to this bucket where S3 allows it; ListAllMyBuckets is account-level and takes only "*"
    // (ElastiCache checks the caller can see the bucket; without it the export fails with "unable to validate the
    // authenticated user has access on the S3 bucket").
    this.exporter.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'ExportListBuckets', actions: ['s3:ListAllMyBuckets'], resources: ['*'] }),
    );
    this.exporter.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ExportBucket',
        actions: ['s3:GetBucketLocation', 's3:ListBucket'],
        resources: [this.bucket.bucketArn],
      }),
    );
    this.exporter.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ExportObjects',
        actions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'],
        resources: [this.bucket.arnForObjects('*')],
      }),
    );

    this.rule = new events.Rule(this, 'Schedule', {
      description: 'skycache: export the newest cache snapshot to S3',
      schedule: events.Schedule.expression(props.schedule ?? 'cron(30 5 * * ? *)'),
      targets: [new targets.LambdaFunction(this.exporter.function, { retryAttempts: 2, maxEventAge: Duration.hours(2) })],
    });
  }
}
