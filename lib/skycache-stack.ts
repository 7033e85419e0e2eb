import { ArnFormat, CfnOutput, Duration, RemovalPolicy, SecretValue, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { handlerModules, routes as defaultRoutes, type RouteDefinition } from '../lambdas/routes';
import { ENV, loggingEnvironment, runtimeEnvironment, statsEnvironment } from '../lambdas/core/config';
import { schemaLimitsOf } from '../lambdas/http/schemas';
import { longPollTimeoutSeconds, nodeVcpus, parameterGroupFamily, type SkycacheConfig } from './config';
import { Api } from './constructs/api';
import { SnapshotExport } from './constructs/backup';
import { CacheCluster } from './constructs/cache-cluster';
import { HandlerFunction } from './constructs/handler-function';
import { LoadBalancer, listenerPorts } from './constructs/load-balancer';
import { Monitoring } from './constructs/monitoring';
import { Network } from './constructs/network';
import { CONTAINER_PORT, Service } from './constructs/service';
import { ServiceMonitoring } from './constructs/service-monitoring';
import { ServiceNetwork } from './constructs/service-network';
import { secureLogGroups } from './log-groups';
import { acknowledgeFindings } from './nag';

export interface SkycacheStackProps extends StackProps {
  readonly config: SkycacheConfig;
  /** The route table. @default the one in lambdas/routes.ts */
  readonly routes?: readonly RouteDefinition[];
}

/** The handler module that reads CloudWatch (GetMetricData) besides the cache. */
const STATS_HANDLER = 'stats';

/** What `front=service` adds: the network pieces, the load balancer, the server fleet and its alarms. */
export interface ServiceFront {
  readonly network: ServiceNetwork;
  readonly loadBalancer: LoadBalancer;
  readonly service: Service;
  /** Hashes of the API keys the server accepts (API_KEY_HASHES_SECRET_ARN). */
  readonly apiKeyHashes: secretsmanager.Secret;
  readonly monitoring: ServiceMonitoring;
}

/** The module whose subscribe routes long-poll: its timeout covers the wait (longPollTimeoutSeconds). */
const TOPICS_HANDLER = 'topics';

/**
 * The whole service: network, cache, one function per handler module, the API generated from the route table,
 * the snapshot export and the monitoring — composed from the validated configuration.
 */
export class SkycacheStack extends Stack {
  readonly network: Network;
  readonly cache: CacheCluster;
  /** `front=api`: API Gateway and its functions. */
  readonly api?: Api;
  readonly functions: Map<string, HandlerFunction>;
  /** `front=service`: the server fleet behind a load balancer. */
  readonly serviceFront?: ServiceFront;
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
    secureLogGroups(this, key, { retain: config.retainData });

    this.network = new Network(this, 'Network', {
      azCount: config.azCount,
      cidr: config.vpcCidr,
      cachePort: config.port,
      flowLogRetention: retention(config.flowLogRetentionDays),
      encryptionKey: key,
      // The ElastiCache API is only called by the snapshot exporter.
      interfaceEndpoints: [
        ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
        ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
        ...(config.exportEnabled ? [ec2.InterfaceVpcEndpointAwsService.ELASTICACHE] : []),
      ],
      publicSubnets: config.front === 'service' && config.loadBalancerScheme === 'internet-facing',
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
    const longPollTimeout = Duration.seconds(longPollTimeoutSeconds(config));
    const timeoutOf = (module: string) => (module === TOPICS_HANDLER ? longPollTimeout : timeout);

    this.functions = new Map();
    for (const module of config.front === 'api' ? handlerModules([...routes]) : []) {
      const fn = new HandlerFunction(this, `${pascal(module)}Handler`, {
        handlerModule: module,
        description: `skycache: ${routes.filter((r) => r.handler === module).map((r) => `${r.method} ${r.path}`).join(', ')}`,
        vpc: this.network.vpc,
        subnets: this.network.isolatedSubnets,
        securityGroup: this.network.functionSecurityGroup,
        memorySize: config.lambdaMemoryMb,
        timeout: timeoutOf(module),
        logRetention: retention(config.functionLogRetentionDays),
        logEncryptionKey: key,
        logLevel: config.logLevel,
        environment: {
          ...functionEnvironment,
          // The stats read the fleet's figures from CloudWatch: the service's hit/miss metrics and these nodes' own.
          ...(module === STATS_HANDLER ? statsEnvironment(this.cache.nodes.map((n) => n.cacheClusterId)) : {}),
        },
      });
      this.cache.grantConnect(fn.function);
      if (module === STATS_HANDLER) {
        fn.role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            sid: 'ReadCacheMetrics',
            // GetMetricData has no resource-level permissions.
            actions: ['cloudwatch:GetMetricData'],
            resources: ['*'],
          }),
        );
      }
      this.functions.set(module, fn);
    }

    if (config.front === 'api') this.api = new Api(this, 'Api', {
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

    this.scopeEndpoints();

    this.monitoring = new Monitoring(this, 'Monitoring', {
      replicationGroupId: this.cache.replicationGroupId,
      cacheNodes: this.cache.nodes,
      nodeVcpus: nodeVcpus(config.nodeType),
      apiName: this.api?.restApi.restApiName,
      stage: this.api?.stage,
      functions: [...this.functions].map(([name, f]) => ({
        name,
        function: f.function,
        timeout: timeoutOf(name),
        ...(name === TOPICS_HANDLER ? { waitsUpTo: Duration.seconds(config.topicMaxWaitSeconds) } : {}),
      })),
      exporter: this.backup?.exporter.function,
      alarmEmail: config.alarmEmail || undefined,
      // Dashboards are global to the account: the region keeps two deployments apart.
      dashboardName: `${this.stackName}-${this.region}`,
      keyRemovalPolicy: dataRemoval,
    });

    if (config.front === 'service') {
      // The same environment as the functions: one runtime contract (lambdas/core/config.ts) for both fronts.
      this.serviceFront = this.addServiceFront(
        config,
        // Its stats route reads CloudWatch as the stats function does.
        { ...functionEnvironment, ...statsEnvironment(this.cache.nodes.map((n) => n.cacheClusterId)), ...loggingEnvironment(config.logLevel) },
        key,
      );
    }

    new CfnOutput(this, 'ApiUrl', { value: this.api?.url ?? this.serviceFront?.loadBalancer.url ?? '', description: 'Base URL of the cache API' });
    if (this.serviceFront) {
      new CfnOutput(this, 'ApiKeyHashesSecretArn', {
        value: this.serviceFront.apiKeyHashes.secretArn,
        description: 'Secret with the SHA-256 hashes of the API keys the service accepts (docs/infrastructure.md)',
      });
    }
    if (this.api?.apiKey) {
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

    acknowledgeFindings({ authMode: config.authMode, api: this.api, cache: this.cache, functions: this.functions, backup: this.backup, serviceFront: this.serviceFront });
  }

  /**
   * `front=service`: the production server on Fargate behind an Application Load Balancer, with the same runtime
   * environment as the functions, the readiness and scaling settings of the configuration, and its alarms on the
   * stack's topic and dashboard.
   */
  private addServiceFront(config: SkycacheConfig, environment: Record<string, string>, key: kms.IKey): ServiceFront {
    const internetFacing = config.loadBalancerScheme === 'internet-facing';
    const https = Boolean(config.certificateArn);
    const network = new ServiceNetwork(this, 'ServiceNetwork', {
      network: this.network,
      cachePort: config.port,
      containerPort: CONTAINER_PORT,
      listenerPorts: listenerPorts(https),
      internetFacing,
    });
    const loadBalancer = new LoadBalancer(this, 'LoadBalancer', {
      vpc: this.network.vpc,
      subnets: internetFacing ? this.network.publicSubnets : this.network.isolatedSubnets,
      securityGroup: network.loadBalancerSecurityGroup,
      internetFacing,
      certificateArn: config.certificateArn || undefined,
      deletionProtection: config.retainData,
      accessLogExpirationDays: config.apiLogRetentionDays,
    });
    // An empty list admits no key: the operator puts the hashes in (docs/infrastructure.md), so no key is in the template.
    const apiKeyHashes = new secretsmanager.Secret(this, 'ApiKeyHashes', {
      description: 'skycache: SHA-256 hashes (hex) of the API keys the service front accepts, as {"sha256": [...]}',
      secretStringValue: SecretValue.unsafePlainText(JSON.stringify({ sha256: [] })),
      encryptionKey: key,
      removalPolicy: config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const service = new Service(this, 'Service', {
      vpc: this.network.vpc,
      subnets: this.network.isolatedSubnets,
      securityGroup: network.taskSecurityGroup,
      listener: loadBalancer.listener,
      environment: { ...environment, [ENV.apiKeyHashesSecretArn]: apiKeyHashes.secretArn },
      cpu: config.serviceCpu,
      memoryLimitMiB: config.serviceMemoryMb,
      minTasks: config.serviceMinTasks,
      maxTasks: config.serviceMaxTasks,
      targetCpuPercent: config.serviceTargetCpuPercent,
      requestsPerTargetPerMinute: config.serviceRequestsPerTargetPerMinute,
      logRetention: config.functionLogRetentionDays as logs.RetentionDays,
      logEncryptionKey: key,
    });
    this.cache.grantConnect(service.taskRole);
    apiKeyHashes.grantRead(service.taskRole);
    service.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadCacheMetrics',
        // The stats route reads the cache's metrics; GetMetricData has no resource-level permissions.
        actions: ['cloudwatch:GetMetricData'],
        resources: ['*'],
      }),
    );
    const monitoring = new ServiceMonitoring(this, 'ServiceMonitoring', {
      loadBalancer: loadBalancer.loadBalancer,
      targetGroup: service.targetGroup,
      service: service.service,
      monitoring: this.monitoring,
    });
    return { network, loadBalancer, service, apiKeyHashes, monitoring };
  }

  /** What may pass each interface endpoint: the AWS API calls the functions make (lambdas/), on this stack's resources. */
  private scopeEndpoints(): void {
    const { SECRETS_MANAGER, CLOUDWATCH_MONITORING, ELASTICACHE } = ec2.InterfaceVpcEndpointAwsService;
    // lambdas/core/redis.ts: the RBAC password, by the secret's ARN.
    this.network.allowThroughEndpoint(SECRETS_MANAGER, ['secretsmanager:GetSecretValue'], [this.cache.authSecret.secretArn]);
    // lambdas/metrics/fleet-stats.ts: GetMetricData has no resource-level permissions.
    this.network.allowThroughEndpoint(CLOUDWATCH_MONITORING, ['cloudwatch:GetMetricData'], ['*']);
    if (this.backup) {
      // lambdas/domain/snapshot-export.ts: DescribeSnapshots takes no snapshot ARN; CopySnapshot names snapshots.
      this.network.allowThroughEndpoint(ELASTICACHE, ['elasticache:DescribeSnapshots'], ['*']);
      this.network.allowThroughEndpoint(ELASTICACHE, ['elasticache:CopySnapshot'], [
        this.formatArn({ service: 'elasticache', resource: 'snapshot', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      ]);
    }
  }
}

function pascal(id: string): string {
  return id.replace(/(^|[^a-zA-Z0-9]+)([a-zA-Z0-9])/g, (_, __, c: string) => c.toUpperCase());
}
