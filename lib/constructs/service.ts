import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { PROJECT_ROOT } from './handler-function';

/** The port the server listens on in its container (the image's PORT). */
export const CONTAINER_PORT = 8080;
/** The server's liveness route (no Redis): the container health check. */
export const LIVENESS_PATH = '/healthz';
/** The server's readiness route (Redis answers): the target group health check. */
export const READINESS_PATH = '/readyz';
/**
 * The liveness probe, run by `node -e` inside the container: the Dockerfile's HEALTHCHECK runs the same one
 * (test/infra/service.test.ts keeps them equal). The image is slim: no curl, but Node's fetch.
 */
export const LIVENESS_PROBE = "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))";

export interface ServiceProps {
  readonly vpc: ec2.IVpc;
  /** Private subnets of the tasks (no public IPs are assigned). */
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  /** The listener whose default action forwards to the tasks. */
  readonly listener: elbv2.ApplicationListener;
  /** Environment of the server: the same runtime environment as the Lambda functions, plus its own. */
  readonly environment: Record<string, string>;
  /** CPU units of a task (1024 = 1 vCPU). @default 1024 */
  readonly cpu?: number;
  /** @default 2048 */
  readonly memoryLimitMiB?: number;
  /** Tasks always running, spread across the zones of `subnets`. @default 2 */
  readonly minTasks?: number;
  /** @default 4 */
  readonly maxTasks?: number;
  /** Average task CPU auto scaling keeps. @default 50 */
  readonly targetCpuPercent?: number;
  /** Requests per task per minute (ALBRequestCountPerTarget) auto scaling keeps. @default 300000 */
  readonly requestsPerTargetPerMinute?: number;
  /** The Dockerfile's directory. @default the repository root */
  readonly imageDirectory?: string;
  /** @default logs.RetentionDays.TWO_WEEKS */
  readonly logRetention?: logs.RetentionDays;
  /** @default AWS-owned encryption of CloudWatch Logs */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * Seconds a stopping task has between SIGTERM and SIGKILL to finish its in-flight requests; the load balancer
   * stops sending it new ones first (deregistration delay). @default 30
   */
  readonly stopTimeout?: Duration;
}

/**
 * The production HTTP server (lambdas/server/main.ts, built by the repository's Dockerfile as an image asset) on ECS
 * Fargate, arm64: at least two tasks across the zones of private subnets without public IPs, behind the given
 * listener with health checks on the readiness route; auto scaling on CPU and on requests per target; rolling
 * deployments that never go below the running count, stopped and rolled back by the circuit breaker when new tasks
 * do not become healthy. Container Insights on. The task role starts empty (callers grant what the server uses);
 * the execution role may only pull this image and write this log group.
 */
export class Service extends Construct {
  readonly cluster: ecs.Cluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly service: ecs.FargateService;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly scaling: ecs.ScalableTaskCount;
  readonly taskRole: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ServiceProps) {
    super(scope, id);
    const minTasks = props.minTasks ?? 2;
    const stopTimeout = props.stopTimeout ?? Duration.seconds(30);

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.TWO_WEEKS,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'skycache server tasks: what the server itself calls',
    });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu ?? 1024,
      memoryLimitMiB: props.memoryLimitMiB ?? 2048,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.ARM64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
      taskRole: this.taskRole,
    });

    this.container = this.taskDefinition.addContainer('Server', {
      image: ecs.ContainerImage.fromAsset(props.imageDirectory ?? PROJECT_ROOT, { file: 'Dockerfile', platform: Platform.LINUX_ARM64 }),
      essential: true,
      environment: { ...props.environment, PORT: String(CONTAINER_PORT) },
      portMappings: [{ containerPort: CONTAINER_PORT, protocol: ecs.Protocol.TCP }],
      readonlyRootFilesystem: true,
      user: 'node',
      stopTimeout,
      healthCheck: {
        command: ['CMD', 'node', '-e', LIVENESS_PROBE],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(3),
        startPeriod: Duration.seconds(10),
        retries: 3,
      },
      logging: ecs.LogDrivers.awsLogs({
        logGroup: this.logGroup,
        streamPrefix: 'server',
        // A slow log pipe must not block the event loop: lines beyond the buffer are dropped, requests are not.
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: Size.mebibytes(25),
      }),
    });

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: minTasks,
      vpcSubnets: props.subnets,
      securityGroups: [props.securityGroup],
      assignPublicIp: false,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      healthCheckGracePeriod: Duration.seconds(30),
      enableExecuteCommand: false,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      availabilityZoneRebalancing: ecs.AvailabilityZoneRebalancing.ENABLED,
    });

    this.targetGroup = props.listener.addTargets('Server', {
      port: CONTAINER_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [this.service.loadBalancerTarget({ containerName: this.container.containerName, containerPort: CONTAINER_PORT })],
      healthCheck: {
        path: READINESS_PATH,
        healthyHttpCodes: '200',
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
      // Shorter than the stop timeout: a stopping task is out of the load balancer before SIGKILL.
      deregistrationDelay: Duration.seconds(Math.max(0, stopTimeout.toSeconds() - 5)),
    });

    this.scaling = this.service.autoScaleTaskCount({ minCapacity: minTasks, maxCapacity: props.maxTasks ?? 4 });
    this.scaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: props.targetCpuPercent ?? 50,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.seconds(300),
    });
    this.scaling.scaleOnRequestCount('Requests', {
      targetGroup: this.targetGroup,
      requestsPerTarget: props.requestsPerTargetPerMinute ?? 300_000,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.seconds(300),
    });
  }

  /** The execution role ECS creates for pulling the image and writing logs. */
  get executionRole(): iam.IRole {
    return this.taskDefinition.obtainExecutionRole();
  }
}
