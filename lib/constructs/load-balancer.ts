import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { FactName } from 'aws-cdk-lib/region-info';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export const HTTPS_PORT = 443;
/** Key prefix of the access logs in their bucket. */
export const ACCESS_LOG_PREFIX = 'alb';
/**
 * The regional ELB account of us-east-1, for regions the CDK's facts have no ELB account for (those launched after
 * August 2022, which deliver as the service principal instead): granting it there admits nothing new.
 */
const ELB_ACCOUNT_FALLBACK = '127311923021';
export const HTTP_PORT = 80;

/** The ports a load balancer listens on: HTTPS and the HTTP port that redirects to it, or plain HTTP alone. */
export function listenerPorts(https: boolean): number[] {
  return https ? [HTTPS_PORT, HTTP_PORT] : [HTTP_PORT];
}

export interface LoadBalancerProps {
  readonly vpc: ec2.IVpc;
  /** Where the load balancer's nodes are: isolated subnets (internal) or public subnets (internet-facing). */
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  /** @default false (internal) */
  readonly internetFacing?: boolean;
  /**
   * ACM certificate ARN: HTTPS on 443 with it, and HTTP on 80 redirected there. Required when internet-facing.
   * @default none: plain HTTP on 80 (internal only)
   */
  readonly certificateArn?: string;
  /** TLS policy of the HTTPS listener. @default elbv2.SslPolicy.RECOMMENDED_TLS (TLS 1.3 and 1.2 only) */
  readonly sslPolicy?: elbv2.SslPolicy;
  /** Days access logs are kept. @default 90 */
  readonly accessLogExpirationDays?: number;
  /** Seconds a connection may stay idle (the server's keep-alive timeout must be longer). @default 60 */
  readonly idleTimeout?: Duration;
  /** @default false */
  readonly deletionProtection?: boolean;
  /** @default RemovalPolicy.RETAIN (a bucket with logs in it cannot be deleted by CloudFormation) */
  readonly accessLogRemovalPolicy?: RemovalPolicy;
}

/**
 * An Application Load Balancer for the service front: internal unless told otherwise (then HTTPS only, TLS 1.2+,
 * HTTP redirected), invalid header fields dropped, and access logs in a bucket of their own —
 * encrypted with S3-managed keys (SSE-S3), the only encryption ALB log delivery supports, TLS-only, no public
 * access, expiring. `listener` is the one that forwards to targets.
 */
export class LoadBalancer extends Construct {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly listener: elbv2.ApplicationListener;
  readonly accessLogBucket: s3.Bucket;
  readonly https: boolean;
  readonly internetFacing: boolean;

  constructor(scope: Construct, id: string, props: LoadBalancerProps) {
    super(scope, id);
    const internetFacing = (this.internetFacing = props.internetFacing ?? false);
    this.https = Boolean(props.certificateArn);
    if (internetFacing && !this.https) throw new Error('LoadBalancer: an internet-facing load balancer needs certificateArn (HTTPS only)');

    this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(props.accessLogExpirationDays ?? 90), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      removalPolicy: props.accessLogRemovalPolicy ?? RemovalPolicy.RETAIN,
    });

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      internetFacing,
      securityGroup: props.securityGroup,
      dropInvalidHeaderFields: true,
      deletionProtection: props.deletionProtection ?? false,
      idleTimeout: props.idleTimeout ?? Duration.seconds(60),
      http2Enabled: true,
    });
    this.logAccessLogs(ACCESS_LOG_PREFIX);

    if (this.https) {
      this.listener = this.loadBalancer.addListener('Https', {
        port: HTTPS_PORT,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [acm.Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn as string)],
        sslPolicy: props.sslPolicy ?? elbv2.SslPolicy.RECOMMENDED_TLS,
        open: false,
      });
      this.loadBalancer.addListener('HttpRedirect', {
        port: HTTP_PORT,
        protocol: elbv2.ApplicationProtocol.HTTP,
        open: false,
        defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: String(HTTPS_PORT), permanent: true }),
      });
    } else {
      this.listener = this.loadBalancer.addListener('Http', { port: HTTP_PORT, protocol: elbv2.ApplicationProtocol.HTTP, open: false });
    }
  }

  /**
   * Access logs to the bucket. Not `logAccessLogs()`: that needs the region at synth to pick the principal, and this
   * stack is environment-agnostic. Regions from before August 2022 deliver as their regional ELB account (a
   * CloudFormation mapping by region, from the CDK's region facts), newer ones as the log delivery service
   * principal; the policy admits both, each to this account's log prefix only.
   */
  private logAccessLogs(prefix: string): void {
    const stack = Stack.of(this);
    const logObjects = this.accessLogBucket.arnForObjects(`${prefix}/AWSLogs/${stack.account}/*`);
    this.accessLogBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'ElbAccessLogsRegionalAccount',
        principals: [new iam.AccountPrincipal(stack.regionalFact(FactName.ELBV2_ACCOUNT, ELB_ACCOUNT_FALLBACK))],
        actions: ['s3:PutObject'],
        resources: [logObjects],
      }),
    );
    this.accessLogBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'ElbAccessLogsDeliveryService',
        principals: [new iam.ServicePrincipal('logdelivery.elasticloadbalancing.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [logObjects],
      }),
    );
    this.loadBalancer.setAttribute('access_logs.s3.enabled', 'true');
    this.loadBalancer.setAttribute('access_logs.s3.bucket', this.accessLogBucket.bucketName);
    this.loadBalancer.setAttribute('access_logs.s3.prefix', prefix);
    // The load balancer checks that it may write to the bucket when the attribute is set.
    if (this.accessLogBucket.policy) this.loadBalancer.node.addDependency(this.accessLogBucket.policy);
  }

  /** The base URL clients use. */
  get url(): string {
    return `${this.https ? 'https' : 'http'}://${this.loadBalancer.loadBalancerDnsName}`;
  }
}
