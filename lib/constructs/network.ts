import { Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface NetworkProps {
  /**
   * Availability zones to span (the VPC's subnets, hence the cache nodes and the functions' ENIs).
   * @default 2
   */
  readonly azCount?: number;
  /** @default '10.40.0.0/16' */
  readonly cidr?: string;
  /** Port of the cache: the only port the functions' security group may reach the cache on. */
  readonly cachePort: number;
  /**
   * AWS APIs the functions call, each reached through an interface endpoint (the subnets have no route out).
   * @default Secrets Manager and ElastiCache
   */
  readonly interfaceEndpoints?: ec2.InterfaceVpcEndpointAwsService[];
  /** @default logs.RetentionDays.TWO_WEEKS */
  readonly flowLogRetention?: logs.RetentionDays;
  /** Key of the flow log group. @default AWS-owned encryption of CloudWatch Logs */
  readonly encryptionKey?: kms.IKey;
  /** @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Public subnets (an internet gateway, no NAT) for an internet-facing load balancer; nothing else is placed in
   * them and they assign no public IPs. @default false
   */
  readonly publicSubnets?: boolean;
}

/**
 * A VPC with isolated subnets only (no internet or NAT gateway), interface endpoints for the AWS APIs the functions
 * call, flow logs of all traffic, and the security groups that tie functions, endpoints and cache together:
 * - `cacheSecurityGroup` admits the cache port from `functionSecurityGroup` and nothing else;
 * - `functionSecurityGroup` may reach the cache port and the endpoints (443) only;
 * - `controlPlaneSecurityGroup` (functions that only call AWS APIs, such as the snapshot exporter) may reach the
 *   endpoints only.
 */
export class Network extends Construct {
  readonly vpc: ec2.Vpc;
  readonly isolatedSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  readonly publicSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PUBLIC };
  readonly cacheSecurityGroup: ec2.SecurityGroup;
  readonly functionSecurityGroup: ec2.SecurityGroup;
  readonly controlPlaneSecurityGroup: ec2.SecurityGroup;
  readonly endpointSecurityGroup: ec2.SecurityGroup;
  readonly flowLogGroup: logs.LogGroup;
  /** The interface endpoints by service short name (`secretsmanager`, `monitoring`, `elasticache`). */
  readonly interfaceEndpoints = new Map<string, ec2.InterfaceVpcEndpoint>();
  private readonly scopedEndpoints = new Set<string>();

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const azCount = props.azCount ?? 2;

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.cidr ?? '10.40.0.0/16'),
      // Explicit zones: an environment-agnostic stack would otherwise get two, whatever maxAzs says.
      availabilityZones: Array.from({ length: azCount }, (_, i) => Fn.select(i, Fn.getAzs())),
      natGateways: 0,
      // Public subnets come after the isolated ones, so adding them leaves the isolated subnets' CIDRs as they were.
      subnetConfiguration: [
        { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 22 },
        ...(props.publicSubnets ? [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false }] : []),
      ],
      restrictDefaultSecurityGroup: true,
    });

    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.flowLogRetention ?? logs.RetentionDays.TWO_WEEKS,
      encryptionKey: props.encryptionKey,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    const sg = (sgId: string, description: string) =>
      new ec2.SecurityGroup(this, sgId, { vpc: this.vpc, description, allowAllOutbound: false });
    this.cacheSecurityGroup = sg('CacheSecurityGroup', 'skycache cache nodes: the cache port from the functions only');
    this.functionSecurityGroup = sg('FunctionSecurityGroup', 'skycache API functions: the cache port and the AWS API endpoints only');
    this.controlPlaneSecurityGroup = sg('ControlPlaneSecurityGroup', 'skycache control-plane functions: the AWS API endpoints only');
    this.endpointSecurityGroup = sg('EndpointSecurityGroup', 'skycache interface endpoints: HTTPS from the functions only');

    const cachePort = ec2.Port.tcp(props.cachePort);
    this.cacheSecurityGroup.addIngressRule(this.functionSecurityGroup, cachePort, 'cache port from the API functions');
    this.functionSecurityGroup.addEgressRule(this.cacheSecurityGroup, cachePort, 'cache port');
    for (const client of [this.functionSecurityGroup, this.controlPlaneSecurityGroup]) {
      this.endpointSecurityGroup.addIngressRule(client, ec2.Port.HTTPS, 'HTTPS to the AWS API endpoints');
      client.addEgressRule(this.endpointSecurityGroup, ec2.Port.HTTPS, 'AWS API endpoints');
    }

    const endpoints = props.interfaceEndpoints ?? [
      ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
      ec2.InterfaceVpcEndpointAwsService.ELASTICACHE,
    ];
    for (const service of endpoints) {
      const endpoint = this.vpc.addInterfaceEndpoint(endpointId(service), {
        service,
        subnets: this.isolatedSubnets,
        securityGroups: [this.endpointSecurityGroup],
        privateDnsEnabled: true,
        open: false,
      });
      this.interfaceEndpoints.set(service.shortName, endpoint);
    }
    // Without a statement an endpoint keeps the default policy (any action by anyone on any resource).
    this.node.addValidation({
      validate: () =>
        [...this.interfaceEndpoints.keys()]
          .filter((name) => !this.scopedEndpoints.has(name))
          .map((name) => `the ${name} endpoint has no policy: say what may pass it with allowThroughEndpoint()`),
    });
  }

  /**
   * Lets principals of this account call `actions` on `resources` through the service's endpoint. The endpoint
   * policy replaces the default full access, so each endpoint allows what the stack's callers need and no more
   * (their IAM policies still decide who may call what).
   */
  allowThroughEndpoint(service: ec2.InterfaceVpcEndpointAwsService, actions: string[], resources: string[]): void {
    const endpoint = this.interfaceEndpoints.get(service.shortName);
    if (!endpoint) throw new Error(`Network: no interface endpoint for ${service.shortName}`);
    endpoint.addToPolicy(
      new iam.PolicyStatement({
        principals: [new iam.AnyPrincipal()],
        actions,
        resources,
        conditions: { StringEquals: { 'aws:PrincipalAccount': Stack.of(this).account } },
      }),
    );
    this.scopedEndpoints.add(service.shortName);
  }
}

/** `com.amazonaws.<region>.secretsmanager` → `SecretsmanagerEndpoint`. */
function endpointId(service: ec2.InterfaceVpcEndpointAwsService): string {
  const short = service.shortName.replace(/[^a-zA-Z0-9]/g, '');
  return `${short.charAt(0).toUpperCase()}${short.slice(1)}Endpoint`;
}
