import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { handlerModules, routes as defaultRoutes, type RouteDefinition } from '../lambdas/routes';
import { runtimeEnvironment } from '../lambdas/core/config';
import { schemaLimitsOf } from '../lambdas/http/schemas';
import { nodeVcpus, parameterGroupFamily, type SkycacheConfig } from './config';
import { Api } from './constructs/api';
import { SnapshotExport } from './constructs/backup';
import { CacheCluster } from './constructs/cache-cluster';
import { HandlerFunction } from './constructs/handler-function';
import { Monitoring } from './constructs/monitoring';
import { Network } from './constructs/network';
import { acknowledgeFindings } from './nag';

export interface SkycacheStackProps extends StackProps {
  readonly config: SkycacheConfig;
  /** The route table. @default the one in lambdas/routes.ts */
  readonly routes?: readonly RouteDefinition[];
}

/** Handler modules that talk to CloudWatch besides the cache. */

/**
 * The whole service: network, cache, one function per handler module, the API generated from the route table,
 * the snapshot export and the monitoring — composed from the validated configuration.
 */
export class SkycacheStack extends Stack {
  readonly network: Network;
  readonly cache: CacheCluster;
  readonly api: Api;
  readonly functions: Map<string, HandlerFunction>;
  readonly backup?: SnapshotExport;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: SkycacheStackProps) {
    super(scope, id, props);
    // Server access logs are delivered under a bucket policy, not an ACL (the log bucket keeps ACLs disabled).
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const config = props.config;
    const routes = props.routes ?? defaultRoutes;
    const dataRemoval = config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const retention = (days: number) => days as logs.RetentionDays;

    // One customer-managed key for the cache at rest, its auth secret, and every log group of the stack.
    const key = new kms.Key(this, 'DataKey', {
      description: 'skycache: cache data at rest, the cache auth secret and the log groups',
      enableKeyRotation: true,
      removalPolicy: dataRemoval,
      pendingWindow: Duration.days(7),
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsEncryption',
        principals: [new iam.ServicePrincipal(`logs.${this.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${this.partition}:logs:${this.region}:${this.account}:log-group:*` },
        },
      }),
    );

    this.network = new Network(this, 'Network', {
      azCount: config.azCount,
      cidr: config.vpcCidr,
      cachePort: config.port,
      flowLogRetention: retention(config.flowLogRetentionDays),
      encryptionKey: key,
    });

    this.cache = new CacheCluster(this, 'Cache', {
      vpc: this.network.vpc,
      subnets: this.network.isolatedSubnets,
      securityGroup: this.network.cacheSecurityGroup,
      engine: config.engine,
      engineVersion: config.engineVersion,
      parameterGroupFamily: parameterGroupFamily(config),
      nodeType: config.nodeType,
      clusterMode: config.clusterMode,
      shards: config.shards,
      replicasPerShard: config.replicasPerShard,
      multiAz: config.multiAz,
      port: config.port,
      evictionPolicy: config.evictionPolicy,
      readFrom: config.readFrom,
      reservedMemoryPercent: config.reservedMemoryPercent,
      accessString: config.accessString,
      snapshotRetentionDays: config.snapshotRetentionDays,
      snapshotWindow: config.snapshotWindow,
      snapshotArns: config.restoreFromSnapshotArns,
      maintenanceWindow: config.maintenanceWindow,
      encryptionKey: key,
      logEncryptionKey: key,
      logRetention: retention(config.cacheLogRetentionDays),
      namePrefix: config.namePrefix,
      removalPolicy: config.retainData ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
    });

    const timeout = Duration.seconds(config.lambdaTimeoutSeconds);
    // The functions read their limits from this environment, API Gateway's models from the same settings.
    const functionEnvironment = { ...runtimeEnvironment(config), ...this.cache.connectionEnvironment() };

    this.functions = new Map();
    for (const module of handlerModules([...routes])) {
      const fn = new HandlerFunction(this, `${pascal(module)}Handler`, {
        handlerModule: module,
        description: `skycache: ${routes.filter((r) => r.handler === module).map((r) => `${r.method} ${r.path}`).join(', ')}`,
        vpc: this.network.vpc,
        subnets: this.network.isolatedSubnets,
        securityGroup: this.network.functionSecurityGroup,
        memorySize: config.lambdaMemoryMb,
        timeout,
        logRetention: retention(config.functionLogRetentionDays),
        logEncryptionKey: key,
        logLevel: config.logLevel,
        environment: functionEnvironment,
      });
      this.cache.grantConnect(fn.function);
      this.functions.set(module, fn);
    }

    this.api = new Api(this, 'Api', {
      routes,
      functions: new Map<string, lambda.IFunction>([...this.functions].map(([m, f]) => [m, f.function])),
      schemaLimits: schemaLimitsOf(config),
      authMode: config.authMode,
      stageName: config.stageName,
      throttleRateLimit: config.throttleRateLimit,
      throttleBurstLimit: config.throttleBurstLimit,
      quotaLimit: config.quotaLimit,
      quotaPeriod: apigateway.Period[config.quotaPeriod],
      loggingLevel: config.preset === 'prod' ? apigateway.MethodLoggingLevel.ERROR : apigateway.MethodLoggingLevel.INFO,
      accessLogRetention: retention(config.apiLogRetentionDays),
      logEncryptionKey: key,
      waf: config.wafEnabled,
      wafRateLimitPer5Min: config.wafRateLimitPer5Min,
    });

    if (config.exportEnabled) {
      this.backup = new SnapshotExport(this, 'Backup', {
        replicationGroupId: this.cache.replicationGroupId,
        vpc: this.network.vpc,
        subnets: this.network.isolatedSubnets,
        securityGroup: this.network.controlPlaneSecurityGroup,
        schedule: config.exportSchedule,
        transitionDays: config.exportTransitionDays,
        expirationDays: config.exportExpirationDays,
        logRetention: retention(config.functionLogRetentionDays),
        logEncryptionKey: key,
        logLevel: config.logLevel,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    }

    this.monitoring = new Monitoring(this, 'Monitoring', {
      replicationGroupId: this.cache.replicationGroupId,
      cacheNodes: this.cache.nodes,
      nodeVcpus: nodeVcpus(config.nodeType),
      apiName: this.api.restApi.restApiName,
      stage: this.api.stage,
      functions: [...this.functions].map(([name, f]) => ({ name, function: f.function, timeout })),
      exporter: this.backup?.exporter.function,
      alarmEmail: config.alarmEmail || undefined,
      // Dashboards are global to the account: the region keeps two deployments apart.
      dashboardName: `${this.stackName}-${this.region}`,
      keyRemovalPolicy: dataRemoval,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the cache API' });
    if (this.api.apiKey) {
      new CfnOutput(this, 'ApiKeyId', {
        value: this.api.apiKey.keyId,
        description: 'Id of the API key; its value: aws apigateway get-api-key --api-key <id> --include-value',
      });
    }
    new CfnOutput(this, 'CacheEndpoint', { value: `${this.cache.endpointAddress}:${this.cache.port}`, description: 'Cache endpoint (TLS, RBAC)' });
    new CfnOutput(this, 'CacheAuthSecretArn', { value: this.cache.authSecret.secretArn, description: 'Secret with the RBAC user and password' });
    if (this.backup) new CfnOutput(this, 'BackupBucket', { value: this.backup.bucket.bucketName, description: 'Where snapshots are exported' });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
    new CfnOutput(this, 'DashboardName', { value: `${this.stackName}-${this.region}` });

    acknowledgeFindings({ authMode: config.authMode, api: this.api, cache: this.cache, functions: this.functions, backup: this.backup });
  }
}

function pascal(id: string): string {
  return id.replace(/(^|[^a-zA-Z0-9]+)([a-zA-Z0-9])/g, (_, __, c: string) => c.toUpperCase());
}
