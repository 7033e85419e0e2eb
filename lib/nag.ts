import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { AuthMode } from './config';
import type { Api } from './constructs/api';
import type { SnapshotExport } from './constructs/backup';
import type { CacheCluster } from './constructs/cache-cluster';
import type { HandlerFunction } from './constructs/handler-function';
import type { ServiceFront } from './skycache-stack';

/**
 * Every cdk-nag (AwsSolutions) finding this stack accepts, each on the narrowest construct it concerns and with the
 * reason it is accepted. Anything not listed here fails the synth.
 */
export interface NagScope {
  readonly authMode: AuthMode;
  /** `front=api`. */
  readonly api?: Api;
  readonly cache: CacheCluster;
  /** API functions by handler module. */
  readonly functions: ReadonlyMap<string, HandlerFunction>;
  readonly backup?: SnapshotExport;
  /** `front=service`. */
  readonly serviceFront?: ServiceFront;
}

function ack(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

const ENI_AND_XRAY =
  'Resource::* only in two statements: ec2:*NetworkInterface* (Lambda creates the ENIs of a VPC function before ' +
  'any ENI ARN exists) and xray:PutTraceSegments/PutTelemetryRecords (X-Ray has no resource-level permissions).';

const NODE_22 =
  'The functions run on Node.js 22 (nodejs22.x), the runtime the handlers are built (esbuild target node22) and ' +
  'tested for; moving to a newer runtime is a deliberate, tested upgrade, not an automatic one.';

export function acknowledgeFindings(s: NagScope): void {
  // --- API
  if (s.api) acknowledgeApi(s.api, s.authMode);
  if (s.serviceFront) acknowledgeServiceFront(s.serviceFront);

  // --- cache
  ack(s.cache.replicationGroup, 'AwsSolutions-AEC6', 'Authenticated with RBAC instead of a Redis AUTH token: UserGroupIds names a user group whose default user is disabled and whose application user has a 64-character password generated in Secrets Manager.');
  ack(s.cache.authSecret, 'AwsSolutions-SMG4', 'Rotating an ElastiCache RBAC password needs ModifyUser and the secret to change in lockstep while clients reconnect; no rotation function ships yet, so rotation is manual (docs/infrastructure.md). The password is generated, 64 characters, and encrypted with the customer-managed key.');
  const defaultUserSecret = s.cache.node.tryFindChild('DefaultUserSecret');
  if (defaultUserSecret) {
    ack(defaultUserSecret, 'AwsSolutions-SMG4', 'Password of the disabled ("off") default user, which no client can log in as; it exists only because ElastiCache requires a user named default in every user group.');
  }

  // --- functions
  for (const fn of s.functions.values()) {
    ack(fn, 'AwsSolutions-L1', NODE_22);
    ack(fn, 'AwsSolutions-IAM5[Resource::*]', ENI_AND_XRAY);
  }
  if (s.backup) {
    const exporter = s.backup.exporter;
    ack(exporter, 'AwsSolutions-L1', NODE_22);
    ack(exporter, 'AwsSolutions-IAM5[Resource::*]', `${ENI_AND_XRAY} elasticache:DescribeSnapshots lists snapshots by replication group and takes no snapshot ARN; s3:ListAllMyBuckets is account-level (no bucket ARN) and ElastiCache's export guide requires it of the CopySnapshot caller.`);
    ack(exporter, 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:elasticache:<AWS::Region>:<AWS::AccountId>:snapshot:*]', 'elasticache:CopySnapshot names the source (an automatic snapshot whose name ElastiCache chooses) and the target snapshot; both are snapshot ARNs in this account and region only.');
    ack(exporter, `AwsSolutions-IAM5[Resource::<${bucketLogicalId(s.backup)}.Arn>/*]`, 'Exports are written as objects named after each snapshot, so object access is granted on the export bucket\'s objects (and that bucket only).');
  }
}

function acknowledgeApi(api: Api, authMode: AuthMode): void {
  for (const method of api.methods) {
    if (authMode === 'apiKey') {
      ack(method, 'AwsSolutions-APIG4', 'Authorized by API key: every method sets ApiKeyRequired and keys are bound to a usage plan with throttling and a quota. Deploy with -c authMode=iam for AWS_IAM (SigV4) on every method instead.');
    }
    ack(method, 'AwsSolutions-COG4', 'skycache is a service-to-service cache, called by backends, not end users: it is authorized by API keys (usage plan) or AWS_IAM, so there is no Cognito user pool to authorize against.');
  }
  if (!api.webAcl) {
    ack(api.stage, 'AwsSolutions-APIG3', 'WAF is off in this configuration (wafEnabled=false, the dev preset): callers must present an API key (or SigV4) and are throttled per key by the usage plan and per stage. The prod preset associates a WAFv2 web ACL.');
  }
  const cloudWatchRole = api.restApi.node.tryFindChild('CloudWatchRole');
  if (cloudWatchRole) {
    ack(cloudWatchRole, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]', 'The account-level role API Gateway uses to write execution and access logs; AmazonAPIGatewayPushToCloudWatchLogs is the policy AWS documents for it and is scoped to CloudWatch Logs.');
  }
}

function acknowledgeServiceFront(f: ServiceFront): void {
  ack(f.network.loadBalancerSecurityGroup, 'AwsSolutions-EC23', f.loadBalancer.internetFacing
    ? 'The load balancer is internet-facing by configuration (loadBalancerScheme=internet-facing): it accepts 443 (HTTPS, TLS 1.2+) and 80 only to redirect to 443; every API request still needs an API key.'
    : 'Internal load balancer: ingress is the VPC CIDR only (a token cdk-nag cannot resolve, so it cannot tell it from 0.0.0.0/0); the load balancer has no public address.');
  ack(f.loadBalancer.accessLogBucket, 'AwsSolutions-S1', 'This bucket holds the load balancer\'s access logs; logging access to the log bucket itself would need yet another bucket. It is TLS-only, blocks public access and is written only by the ELB log delivery identities.');
  ack(f.apiKeyHashes, 'AwsSolutions-SMG4', 'Holds SHA-256 hashes of API keys, not a credential a service could rotate: a key is rotated by adding the new key\'s hash, moving clients, then removing the old hash (docs/infrastructure.md).');
  ack(f.service.taskRole, 'AwsSolutions-IAM5[Resource::*]', 'Only cloudwatch:GetMetricData (the stats route reads the cache\'s metrics), which has no resource-level permissions; the secrets are granted by ARN.');
  ack(f.service.executionRole, 'AwsSolutions-IAM5[Resource::*]', 'Only ecr:GetAuthorizationToken, which has no resource-level permissions; image layers are pulled from the CDK asset repository and logs written to the service\'s log group, both by ARN.');
  ack(f.service.taskDefinition, 'AwsSolutions-ECS2', 'The environment holds configuration only (limits, timeouts, the cache endpoint and user name, log level) and the ARNs of two secrets; the server reads the secrets\' values from Secrets Manager at runtime, so no secret value is in the task definition.');
}

function bucketLogicalId(backup: SnapshotExport): string {
  return Stack.of(backup).getLogicalId(backup.bucket.node.defaultChild as CfnElement);
}
