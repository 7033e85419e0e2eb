import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { Network } from './network';

export interface ServiceNetworkProps {
  readonly network: Network;
  /** The cache port: the only port the tasks may reach the cache on. */
  readonly cachePort: number;
  /** The port the server listens on in its container. */
  readonly containerPort: number;
  /**
   * Ports the load balancer listens on (the HTTPS port and the HTTP port that redirects to it, or HTTP alone).
   */
  readonly listenerPorts: readonly number[];
  /** `true`: the load balancer takes connections from anywhere; `false`: from the VPC's CIDR only. */
  readonly internetFacing: boolean;
}

/**
 * What the service front adds to the network, none of it needing a NAT:
 * - `loadBalancerSecurityGroup`: the listener ports from the VPC (internal) or the internet (internet-facing), out
 *   to the tasks' container port only;
 * - `taskSecurityGroup`: the container port from the load balancer; out to the cache port, the interface endpoints,
 *   and HTTPS for the S3 gateway endpoint (image layers);
 * - interface endpoints for what the tasks' runtime needs besides the stack's own (Secrets Manager, CloudWatch):
 *   ECR API and registry (image pull) and CloudWatch Logs (the awslogs driver), and an S3 gateway endpoint whose
 *   policy admits only reads of ECR's image-layer bucket.
 */
export class ServiceNetwork extends Construct {
  readonly loadBalancerSecurityGroup: ec2.SecurityGroup;
  readonly taskSecurityGroup: ec2.SecurityGroup;
  readonly interfaceEndpoints: ec2.InterfaceVpcEndpoint[] = [];
  readonly s3Endpoint: ec2.GatewayVpcEndpoint;

  constructor(scope: Construct, id: string, props: ServiceNetworkProps) {
    super(scope, id);
    const { network } = props;
    const vpc = network.vpc;

    this.loadBalancerSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc,
      description: `skycache load balancer: ${props.listenerPorts.join(', ')} from ${props.internetFacing ? 'the internet' : 'the VPC'}, to the tasks only`,
      allowAllOutbound: false,
    });
    const clients = props.internetFacing ? ec2.Peer.anyIpv4() : ec2.Peer.ipv4(vpc.vpcCidrBlock);
    for (const port of props.listenerPorts) {
      this.loadBalancerSecurityGroup.addIngressRule(clients, ec2.Port.tcp(port), props.internetFacing ? 'API clients (internet)' : 'API clients in the VPC');
    }

    this.taskSecurityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc,
      description: 'skycache server tasks: the container port from the load balancer; out to the cache and the AWS API endpoints',
      allowAllOutbound: false,
    });
    const containerPort = ec2.Port.tcp(props.containerPort);
    this.taskSecurityGroup.addIngressRule(this.loadBalancerSecurityGroup, containerPort, 'requests from the load balancer');
    this.loadBalancerSecurityGroup.addEgressRule(this.taskSecurityGroup, containerPort, 'the server tasks');

    const cachePort = ec2.Port.tcp(props.cachePort);
    network.cacheSecurityGroup.addIngressRule(this.taskSecurityGroup, cachePort, 'cache port from the server tasks');
    this.taskSecurityGroup.addEgressRule(network.cacheSecurityGroup, cachePort, 'cache port');
    network.endpointSecurityGroup.addIngressRule(this.taskSecurityGroup, ec2.Port.HTTPS, 'HTTPS to the AWS API endpoints from the server tasks');
    this.taskSecurityGroup.addEgressRule(network.endpointSecurityGroup, ec2.Port.HTTPS, 'AWS API endpoints');
    // The S3 gateway endpoint is a route, not an address: its prefix list id differs per region and is unknown to an
    // environment-agnostic synth. The subnets have no other route out, so 443 reaches only S3 through the endpoint
    // (whose policy below admits ECR's layer bucket only) and the interface endpoints.
    this.taskSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.HTTPS, 'S3 through the gateway endpoint (image layers)');

    for (const [endpointId, service] of [
      ['EcrApiEndpoint', ec2.InterfaceVpcEndpointAwsService.ECR],
      ['EcrDockerEndpoint', ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER],
      ['LogsEndpoint', ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS],
    ] as const) {
      this.interfaceEndpoints.push(
        new ec2.InterfaceVpcEndpoint(this, endpointId, {
          vpc,
          service,
          subnets: network.isolatedSubnets,
          securityGroups: [network.endpointSecurityGroup],
          privateDnsEnabled: true,
          open: false,
        }),
      );
    }

    this.s3Endpoint = new ec2.GatewayVpcEndpoint(this, 'S3Endpoint', {
      vpc,
      service: ec2.GatewayVpcEndpointAwsService.S3,
      subnets: [network.isolatedSubnets],
    });
    // ECR keeps image layers in this AWS-owned bucket (the policy ECR documents for pulls through a gateway endpoint).
    this.s3Endpoint.addToPolicy(
      new iam.PolicyStatement({
        sid: 'EcrImageLayers',
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject'],
        resources: [`arn:${Stack.of(this).partition}:s3:::prod-${Stack.of(this).region}-starport-layer-bucket/*`],
      }),
    );
  }
}
