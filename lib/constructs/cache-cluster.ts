import { createHash } from 'node:crypto';
import { Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { connectionEnvironment } from '../../lambdas/core/config';
import { APP_ACCESS_STRING } from '../../lambdas/core/redis-commands';
import type { Engine, EvictionPolicy } from '../config';

export interface CacheClusterProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** Attached to every node; its ingress decides who reaches the cache. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** @default 'valkey' */
  readonly engine?: Engine;
  /** @default '8.0' */
  readonly engineVersion?: string;
  /** Parameter group family matching the engine version, e.g. `valkey8`. */
  readonly parameterGroupFamily: string;
  /** @default 'cache.t4g.small' */
  readonly nodeType?: string;
  /** Cluster mode enabled: data sharded over `shards` node groups. @default false */
  readonly clusterMode?: boolean;
  /** Node groups; more than one needs cluster mode. @default 1 */
  readonly shards?: number;
  /** @default 1 */
  readonly replicasPerShard?: number;
  /** Multi-AZ (replicas in other zones, promoted on failure). Needs at least one replica. @default true */
  readonly multiAz?: boolean;
  /**
   * Where the handlers read: `replica` sends reads to replicas (the reader endpoint, or the cluster's replicas),
   * eventually consistent. @default 'primary'
   */
  readonly readFrom?: 'primary' | 'replica';
  /** A non-default port. @default 6380 */
  readonly port?: number;
  /** @default 'allkeys-lru' */
  readonly evictionPolicy?: EvictionPolicy;
  /** `reserved-memory-percent`. @default 25 */
  readonly reservedMemoryPercent?: number;
  /** RBAC access string of the application user. @default APP_ACCESS_STRING: the commands the service sends, no others */
  readonly accessString?: string;
  /** Days of automatic snapshots kept (at least 1: the export copies the newest). @default 1 */
  readonly snapshotRetentionDays?: number;
  /** @default '03:00-04:00' (UTC) */
  readonly snapshotWindow?: string;
  /**
   * S3 ARNs of exported .rdb files the group is seeded from when it is created (`SnapshotArns`); changing them
   * replaces the group. Validated in lib/config.ts. @default none (an empty cache)
   */
  readonly snapshotArns?: readonly string[];
  /** @default 'sun:05:00-sun:06:00' (UTC) */
  readonly maintenanceWindow?: string;
  /** Customer-managed key for data at rest and the auth secret. @default a new key with rotation on */
  readonly encryptionKey?: kms.IKey;
  /** Key of the slow-log and engine-log groups. @default AWS-owned encryption of CloudWatch Logs */
  readonly logEncryptionKey?: kms.IKey;
  /** @default logs.RetentionDays.TWO_WEEKS */
  readonly logRetention?: logs.RetentionDays;
  /** Prefix of the RBAC user and user group ids (unique per account and region). @default 'skycache' */
  readonly namePrefix?: string;
  /**
   * What happens to the cache when it leaves the stack: SNAPSHOT (a final snapshot) or DESTROY.
   * @default RemovalPolicy.SNAPSHOT
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A node of the replication group, as CloudWatch names it (the CacheClusterId dimension). No role: which node is
 * primary changes on every failover.
 */
export interface CacheNode {
  readonly cacheClusterId: string;
  readonly shard: number;
}

/**
 * An ElastiCache (Valkey or Redis OSS) replication group that is highly available and locked down by default:
 * Multi-AZ with automatic failover, TLS required in transit, encryption at rest with a customer-managed KMS key,
 * RBAC (a disabled `default` user and an application user whose password is generated in Secrets Manager and only
 * reaches the template as a dynamic reference), a non-default port, a parameter group with the eviction policy,
 * slow and engine logs in CloudWatch Logs, and automatic snapshots.
 */
export class CacheCluster extends Construct {
  readonly replicationGroup: elasticache.CfnReplicationGroup;
  readonly key: kms.IKey;
  /** JSON `{ "username", "password" }` of the application user. */
  readonly authSecret: secretsmanager.Secret;
  readonly userName: string;
  readonly port: number;
  readonly clusterMode: boolean;
  readonly readFrom: 'primary' | 'replica';
  readonly nodes: CacheNode[];
  readonly slowLogGroup: logs.LogGroup;
  readonly engineLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: CacheClusterProps) {
    super(scope, id);
    const engine = props.engine ?? 'valkey';
    const clusterMode = props.clusterMode ?? false;
    const shards = props.shards ?? 1;
    const replicas = props.replicasPerShard ?? 1;
    const multiAz = props.multiAz ?? true;
    if (multiAz && replicas < 1) throw new Error('CacheCluster: Multi-AZ needs at least one replica per shard');
    if (!clusterMode && shards !== 1) throw new Error('CacheCluster: more than one shard needs cluster mode');
    this.port = props.port ?? 6380;
    this.clusterMode = clusterMode;
    this.readFrom = props.readFrom ?? 'primary';
    if (this.readFrom === 'replica' && replicas < 1) throw new Error('CacheCluster: replica reads need at least one replica per shard');
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.SNAPSHOT;
    const dataRemoval = removalPolicy === RemovalPolicy.DESTROY ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    this.key =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: 'skycache: cache data at rest and the cache auth secret',
        enableKeyRotation: true,
        removalPolicy: dataRemoval,
        pendingWindow: Duration.days(7),
      });

    // RBAC ids are unique per account and region: derive them from the stack name and this construct's path.
    const suffix = createHash('sha256').update(`${Stack.of(this).stackName}/${this.node.path}`).digest('hex').slice(0, 8);
    const prefix = props.namePrefix ?? 'skycache';
    this.userName = `${prefix}-app`;

    this.authSecret = new secretsmanager.Secret(this, 'AuthSecret', {
      description: `skycache: RBAC password of the ElastiCache user ${this.userName}`,
      encryptionKey: this.key,
      removalPolicy: dataRemoval,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: this.userName }),
        generateStringKey: 'password',
        passwordLength: 64,
        // ElastiCache passwords are 16-128 printable characters; letters and digits avoid every excluded one.
        excludePunctuation: true,
      },
    });
    const defaultUserSecret = new secretsmanager.Secret(this, 'DefaultUserSecret', {
      description: 'skycache: password of the disabled ElastiCache default user (never used to connect)',
      encryptionKey: this.key,
      removalPolicy: dataRemoval,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });

    const appUser = new elasticache.CfnUser(this, 'AppUser', {
      engine,
      userId: `${prefix}-app-${suffix}`,
      userName: this.userName,
      accessString: props.accessString ?? APP_ACCESS_STRING,
      authenticationMode: {
        Type: 'password',
        Passwords: [this.authSecret.secretValueFromJson('password').unsafeUnwrap()],
      },
    });
    // A user group must contain a user named "default"; ours is switched off and has a password nobody knows.
    const defaultUser = new elasticache.CfnUser(this, 'DefaultUser', {
      engine,
      userId: `${prefix}-default-${suffix}`,
      userName: 'default',
      accessString: 'off -@all',
      authenticationMode: { Type: 'password', Passwords: [defaultUserSecret.secretValue.unsafeUnwrap()] },
    });
    const userGroup = new elasticache.CfnUserGroup(this, 'UserGroup', {
      engine,
      userGroupId: `${prefix}-${suffix}`,
      userIds: [appUser.userId, defaultUser.userId],
    });
    userGroup.node.addDependency(appUser);
    userGroup.node.addDependency(defaultUser);

    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'SubnetGroup', {
      description: 'skycache cache subnets (isolated)',
      subnetIds: props.vpc.selectSubnets(props.subnets).subnetIds,
    });

    const parameterGroup = new elasticache.CfnParameterGroup(this, 'Parameters', {
      description: 'skycache cache parameters',
      cacheParameterGroupFamily: props.parameterGroupFamily,
      properties: {
        'maxmemory-policy': props.evictionPolicy ?? 'allkeys-lru',
        'reserved-memory-percent': String(props.reservedMemoryPercent ?? 25),
        'cluster-enabled': clusterMode ? 'yes' : 'no',
      },
    });

    const logRetention = props.logRetention ?? logs.RetentionDays.TWO_WEEKS;
    const logGroup = (logId: string) =>
      new logs.LogGroup(this, logId, {
        retention: logRetention,
        encryptionKey: props.logEncryptionKey,
        removalPolicy: RemovalPolicy.DESTROY,
      });
    this.slowLogGroup = logGroup('SlowLog');
    this.engineLogGroup = logGroup('EngineLog');
    const delivery = (logType: string, group: logs.ILogGroup) => ({
      destinationType: 'cloudwatch-logs',
      destinationDetails: { cloudWatchLogsDetails: { logGroup: group.logGroupName } },
      logFormat: 'json',
      logType,
    });

    const azs = props.vpc.availabilityZones;
    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'ReplicationGroup', {
      replicationGroupDescription: 'skycache',
      engine,
      engineVersion: props.engineVersion ?? '8.0',
      cacheNodeType: props.nodeType ?? 'cache.t4g.small',
      port: this.port,
      clusterMode: clusterMode ? 'enabled' : 'disabled',
      ...(clusterMode
        ? { numNodeGroups: shards, replicasPerNodeGroup: replicas }
        : {
            numCacheClusters: 1 + replicas,
            // Spread the primary and its replicas over the zones.
            preferredCacheClusterAZs: Array.from({ length: 1 + replicas }, (_, i) => azs[i % azs.length]),
          }),
      multiAzEnabled: multiAz,
      automaticFailoverEnabled: clusterMode || replicas >= 1,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [props.securityGroup.securityGroupId],
      cacheParameterGroupName: parameterGroup.ref,
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      atRestEncryptionEnabled: true,
      kmsKeyId: this.key.keyArn,
      userGroupIds: [userGroup.ref],
      snapshotRetentionLimit: props.snapshotRetentionDays ?? 1,
      snapshotWindow: props.snapshotWindow ?? '03:00-04:00',
      ...(props.snapshotArns?.length ? { snapshotArns: [...props.snapshotArns] } : {}),
      preferredMaintenanceWindow: props.maintenanceWindow ?? 'sun:05:00-sun:06:00',
      autoMinorVersionUpgrade: true,
      networkType: 'ipv4',
      ipDiscovery: 'ipv4',
      logDeliveryConfigurations: [delivery('slow-log', this.slowLogGroup), delivery('engine-log', this.engineLogGroup)],
    });
    this.replicationGroup.node.addDependency(userGroup);
    this.replicationGroup.applyRemovalPolicy(removalPolicy);

    // Node ids follow ElastiCache's naming: <group>-<nnn> (cluster mode off) or <group>-<shard>-<nnn> (on).
    const groupId = this.replicationGroupId;
    this.nodes = [];
    for (let s = 1; s <= (clusterMode ? shards : 1); s++) {
      for (let n = 1; n <= 1 + replicas; n++) {
        const nodeSuffix = clusterMode ? `-${pad(s, 4)}-${pad(n, 3)}` : `-${pad(n, 3)}`;
        this.nodes.push({ cacheClusterId: Fn.join('', [groupId, nodeSuffix]), shard: s });
      }
    }
  }

  /** The replication group id (CloudFormation generates it). */
  get replicationGroupId(): string {
    return this.replicationGroup.ref;
  }

  /** Host of the endpoint clients connect to: the configuration endpoint (cluster mode) or the primary endpoint. */
  get endpointAddress(): string {
    return this.clusterMode
      ? this.replicationGroup.attrConfigurationEndPointAddress
      : this.replicationGroup.attrPrimaryEndPointAddress;
  }

  /**
   * The environment the handlers connect with: TLS, the RBAC user name, the secret's ARN (never the password), and
   * either REDIS_CLUSTER_NODES (cluster mode) or REDIS_URL.
   */
  connectionEnvironment(): Record<string, string> {
    const hostPort = `${this.endpointAddress}:${this.port}`;
    return connectionEnvironment({
      ...(this.clusterMode ? { clusterNodes: hostPort } : { url: `rediss://${hostPort}` }),
      tls: true,
      username: this.userName,
      authSecretArn: this.authSecret.secretArn,
      readFrom: this.readFrom,
      // Without cluster mode, replica reads go through the replication group's reader endpoint.
      ...(this.readFrom === 'replica' && !this.clusterMode
        ? { readerUrl: `rediss://${this.replicationGroup.attrReaderEndPointAddress}:${this.port}` }
        : {}),
    });
  }

  /** Lets `grantee` read the auth secret (and decrypt it with the key). */
  grantConnect(grantee: iam.IGrantable): void {
    this.authSecret.grantRead(grantee);
  }
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
