import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { build as esbuild } from 'esbuild';
import { handlerModules } from '../../lambdas/routes';
import { SERVER_BUNDLE, SERVER_ENTRY, serverBuildOptions, handlerBuildOptions } from '../../lib/bundling';
import { PROJECT_ROOT } from '../../lib/constructs/handler-function';
import { CONTAINER_PORT, LIVENESS_PROBE, READINESS_PATH } from '../../lib/constructs/service';
import { actionsOf, build, logicalIdAt, resourcesOf, synth, type Synthesized } from './helpers';

const CERTIFICATE = 'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012';
const dev = synth('dev', { front: 'service' });
const prod = synth('prod', { front: 'service' });
const publicProd = synth('prod', { front: 'service', loadBalancerScheme: 'internet-facing', certificateArn: CERTIFICATE });

function only(s: Synthesized, type: string): Record<string, unknown> {
  const found = Object.values(resourcesOf(s.template, type));
  expect(found).toHaveLength(1);
  return found[0].Properties ?? {};
}

describe('front=service replaces API Gateway and the API functions', () => {
  test.each([
    ['dev', dev],
    ['prod', prod],
  ])('%s: no REST API, no API function, one Fargate service', (_name, s) => {
    s.template.resourceCountIs('AWS::ApiGateway::RestApi', 0);
    // The same functions as front=api (the exporter, CDK's providers) less one per handler module.
    const withApi = synth(s.config.preset, {});
    const count = (t: Synthesized) => Object.keys(resourcesOf(t.template, 'AWS::Lambda::Function')).length;
    expect(count(s)).toBe(count(withApi) - handlerModules().length);
    s.template.resourceCountIs('AWS::ECS::Service', 1);
    s.template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 1);
    expect(s.stack.api).toBeUndefined();
  });

  test('front=api (the default) has no service resources', () => {
    const api = synth('dev');
    api.template.resourceCountIs('AWS::ECS::Service', 0);
    api.template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
    api.template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
  });
});

describe('Fargate service', () => {
  test('arm64 Linux task of the configured size, running as the image\'s non-root user with a read-only root', () => {
    const task = only(prod, 'AWS::ECS::TaskDefinition');
    expect(task).toMatchObject({
      Cpu: String(prod.config.serviceCpu),
      Memory: String(prod.config.serviceMemoryMb),
      NetworkMode: 'awsvpc',
      RequiresCompatibilities: ['FARGATE'],
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
    });
    const [container] = task.ContainerDefinitions as Record<string, unknown>[];
    expect(container).toMatchObject({
      User: 'node',
      ReadonlyRootFilesystem: true,
      Essential: true,
      StopTimeout: 30,
      PortMappings: [{ ContainerPort: CONTAINER_PORT, Protocol: 'tcp' }],
      HealthCheck: { Command: ['CMD', 'node', '-e', LIVENESS_PROBE] },
      LogConfiguration: { LogDriver: 'awslogs', Options: expect.objectContaining({ mode: 'non-blocking', 'awslogs-stream-prefix': 'server' }) },
    });
  });

  test('at least two tasks in private subnets without public IPs; circuit breaker with rollback; never below the running count', () => {
    for (const s of [dev, prod]) {
      const service = only(s, 'AWS::ECS::Service');
      expect(service.DesiredCount).toBe(s.config.serviceMinTasks);
      expect(s.config.serviceMinTasks).toBeGreaterThanOrEqual(2);
      expect(service).toMatchObject({
        LaunchType: 'FARGATE',
        DeploymentConfiguration: { DeploymentCircuitBreaker: { Enable: true, Rollback: true }, MinimumHealthyPercent: 100, MaximumPercent: 200 },
        NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'DISABLED' } },
        HealthCheckGracePeriodSeconds: 30,
        EnableExecuteCommand: false,
        AvailabilityZoneRebalancing: 'ENABLED',
      });
      // The task subnets are the VPC's isolated subnets, one per zone.
      const subnets = (service.NetworkConfiguration as { AwsvpcConfiguration: { Subnets: { Ref: string }[] } }).AwsvpcConfiguration.Subnets;
      expect(subnets).toHaveLength(s.config.azCount);
      const vpcSubnets = resourcesOf(s.template, 'AWS::EC2::Subnet');
      for (const ref of subnets) expect(vpcSubnets[ref.Ref].Properties?.MapPublicIpOnLaunch).toBe(false);
      for (const ref of subnets) expect(ref.Ref).toMatch(/isolated/);
    }
  });

  test('Container Insights on the cluster', () => {
    expect(only(dev, 'AWS::ECS::Cluster').ClusterSettings).toEqual([{ Name: 'containerInsights', Value: 'enabled' }]);
  });

  test('the server gets the functions\' runtime environment, plus its port and the API key secret', () => {
    const api = synth('dev');
    const fn = Object.values(resourcesOf(api.template, 'AWS::Lambda::Function')).find((f) => (f.Properties?.Handler as string) === 'index.handler');
    const fnEnv = (fn?.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
    const task = only(dev, 'AWS::ECS::TaskDefinition');
    const env = Object.fromEntries(((task.ContainerDefinitions as { Environment: { Name: string; Value: unknown }[] }[])[0].Environment).map((e) => [e.Name, e.Value]));
    // Every variable a function gets, the server gets with the same value (one runtime contract for both fronts).
    expect(Object.keys(fnEnv).length).toBeGreaterThan(8);
    // NODE_OPTIONS is the function bundle's source-map switch (lib/bundling.ts), not part of the runtime contract.
    for (const [name, value] of Object.entries(fnEnv)) if (name !== 'NODE_OPTIONS') expect([name, env[name]]).toEqual([name, value]);
    expect(env.PORT).toBe(String(CONTAINER_PORT));
    expect(env.API_KEY_HASHES_SECRET_ARN).toEqual({ Ref: logicalIdAt(dev, 'skycache-dev/ApiKeyHashes') });
    // Cluster mode (prod) names the configuration endpoint instead of a URL, as for the functions.
    const prodEnv = ((only(prod, 'AWS::ECS::TaskDefinition').ContainerDefinitions as { Environment: { Name: string }[] }[])[0].Environment).map((e) => e.Name);
    expect(prodEnv).toContain('REDIS_CLUSTER_NODES');
  });

  test('auto scaling between the configured bounds on CPU and on requests per target', () => {
    expect(only(prod, 'AWS::ApplicationAutoScaling::ScalableTarget')).toMatchObject({
      MinCapacity: prod.config.serviceMinTasks,
      MaxCapacity: prod.config.serviceMaxTasks,
      ScalableDimension: 'ecs:service:DesiredCount',
    });
    const policies = Object.values(resourcesOf(prod.template, 'AWS::ApplicationAutoScaling::ScalingPolicy')).map((p) => p.Properties?.TargetTrackingScalingPolicyConfiguration as Record<string, unknown>);
    expect(policies).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ TargetValue: prod.config.serviceTargetCpuPercent, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' } }),
        expect.objectContaining({
          TargetValue: prod.config.serviceRequestsPerTargetPerMinute,
          PredefinedMetricSpecification: expect.objectContaining({ PredefinedMetricType: 'ALBRequestCountPerTarget' }),
        }),
      ]),
    );
    expect(policies).toHaveLength(2);
  });
});

describe('load balancer', () => {
  test('internal by default, in the isolated subnets, plain HTTP on 80 only, forwarding to the tasks', () => {
    const lb = only(dev, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    expect(lb.Scheme).toBe('internal');
    expect((lb.Subnets as { Ref: string }[]).every((r) => /isolated/.test(r.Ref))).toBe(true);
    const listener = only(dev, 'AWS::ElasticLoadBalancingV2::Listener');
    expect(listener).toMatchObject({ Port: 80, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward' }] });
  });

  test('with a certificate: HTTPS on 443 with a TLS 1.2+ policy, and 80 redirected to it', () => {
    const listeners = Object.values(resourcesOf(publicProd.template, 'AWS::ElasticLoadBalancingV2::Listener')).map((l) => l.Properties ?? {});
    expect(listeners).toHaveLength(2);
    expect(listeners).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Port: 443, Protocol: 'HTTPS', SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06', Certificates: [{ CertificateArn: CERTIFICATE }], DefaultActions: [expect.objectContaining({ Type: 'forward' })] }),
        expect.objectContaining({
          Port: 80,
          Protocol: 'HTTP',
          DefaultActions: [{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } }],
        }),
      ]),
    );
  });

  test('internet-facing only when configured: in public subnets without public IPs on launch; the tasks stay private', () => {
    const lb = only(publicProd, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    expect(lb.Scheme).toBe('internet-facing');
    const subnets = resourcesOf(publicProd.template, 'AWS::EC2::Subnet');
    for (const ref of lb.Subnets as { Ref: string }[]) {
      expect(ref.Ref).toMatch(/public/);
      expect(subnets[ref.Ref].Properties?.MapPublicIpOnLaunch).toBe(false);
    }
    publicProd.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    const service = only(publicProd, 'AWS::ECS::Service') as { NetworkConfiguration: { AwsvpcConfiguration: { Subnets: { Ref: string }[]; AssignPublicIp: string } } };
    expect(service.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp).toBe('DISABLED');
    for (const ref of service.NetworkConfiguration.AwsvpcConfiguration.Subnets) expect(ref.Ref).toMatch(/isolated/);
    // Without internet-facing there are no public subnets and no internet gateway at all.
    prod.template.resourceCountIs('AWS::EC2::InternetGateway', 0);
  });

  test('drops invalid header fields and writes access logs to its own bucket', () => {
    const attributes = Object.fromEntries((only(dev, 'AWS::ElasticLoadBalancingV2::LoadBalancer').LoadBalancerAttributes as { Key: string; Value: unknown }[]).map((a) => [a.Key, a.Value]));
    const bucketId = logicalIdAt(dev, 'skycache-dev/LoadBalancer/AccessLogs');
    expect(attributes).toMatchObject({
      'routing.http.drop_invalid_header_fields.enabled': 'true',
      'access_logs.s3.enabled': 'true',
      'access_logs.s3.bucket': { Ref: bucketId },
      'access_logs.s3.prefix': 'alb',
      'deletion_protection.enabled': 'false',
    });
    expect(prod.template.toJSON().Resources[logicalIdAt(prod, 'skycache-prod/LoadBalancer/LoadBalancer')].Properties.LoadBalancerAttributes).toEqual(
      expect.arrayContaining([{ Key: 'deletion_protection.enabled', Value: 'true' }]),
    );
  });

  test('the access log bucket: SSE-S3 (the only encryption ALB log delivery supports), TLS-only, private, expiring, writable by ELB log delivery only under its prefix', () => {
    const id = logicalIdAt(dev, 'skycache-dev/LoadBalancer/AccessLogs');
    const bucket = dev.template.toJSON().Resources[id];
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LifecycleConfiguration: { Rules: [expect.objectContaining({ ExpirationInDays: dev.config.apiLogRetentionDays, Status: 'Enabled' })] },
    });
    const policy = Object.values(resourcesOf(dev.template, 'AWS::S3::BucketPolicy')).find((p) => (p.Properties?.Bucket as { Ref: string }).Ref === id);
    const statements = (policy?.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        expect.objectContaining({ Sid: 'ElbAccessLogsDeliveryService', Principal: { Service: 'logdelivery.elasticloadbalancing.amazonaws.com' }, Action: 's3:PutObject' }),
        expect.objectContaining({ Sid: 'ElbAccessLogsRegionalAccount', Action: 's3:PutObject' }),
      ]),
    );
    const writes = statements.filter((st) => st.Effect === 'Allow');
    for (const st of writes) expect(JSON.stringify(st.Resource)).toContain('/alb/AWSLogs/');
    // The regional ELB account comes from a mapping by region: the stack stays environment-agnostic.
    expect(JSON.stringify(writes)).toContain('Fn::FindInMap');
  });

  test('target group: the container port, health checks on the readiness route, deregistration before the stop timeout', () => {
    expect(only(prod, 'AWS::ElasticLoadBalancingV2::TargetGroup')).toMatchObject({
      Port: CONTAINER_PORT,
      Protocol: 'HTTP',
      TargetType: 'ip',
      HealthCheckPath: READINESS_PATH,
      Matcher: { HttpCode: '200' },
      HealthCheckIntervalSeconds: 10,
      HealthCheckTimeoutSeconds: 5,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 3,
      TargetGroupAttributes: expect.arrayContaining([{ Key: 'deregistration_delay.timeout_seconds', Value: '25' }]),
    });
  });
});

describe('network of the service front', () => {
  const ingressOf = (s: Synthesized, sgPath: string) => {
    const sg = s.template.toJSON().Resources[logicalIdAt(s, sgPath)].Properties;
    return sg.SecurityGroupIngress as Record<string, unknown>[];
  };

  test('internal load balancer: its ports from the VPC CIDR only; internet-facing: 443 and 80 from anywhere', () => {
    const internal = ingressOf(dev, 'skycache-dev/ServiceNetwork/LoadBalancerSecurityGroup');
    expect(internal).toEqual([expect.objectContaining({ FromPort: 80, ToPort: 80, CidrIp: { 'Fn::GetAtt': [expect.stringMatching(/Vpc/), 'CidrBlock'] } })]);
    const open = ingressOf(publicProd, 'skycache-prod/ServiceNetwork/LoadBalancerSecurityGroup');
    expect(open.map((r) => [r.FromPort, r.CidrIp])).toEqual([
      [443, '0.0.0.0/0'],
      [80, '0.0.0.0/0'],
    ]);
  });

  test('tasks: the container port from the load balancer only; out to the cache port, the endpoints and S3 (443) only', () => {
    const taskSg = logicalIdAt(dev, 'skycache-dev/ServiceNetwork/TaskSecurityGroup');
    const lbSg = logicalIdAt(dev, 'skycache-dev/ServiceNetwork/LoadBalancerSecurityGroup');
    const ingress = Object.values(resourcesOf(dev.template, 'AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties ?? {});
    expect(ingress.filter((r) => (r.GroupId as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0] === taskSg)).toEqual([
      expect.objectContaining({ FromPort: CONTAINER_PORT, ToPort: CONTAINER_PORT, SourceSecurityGroupId: { 'Fn::GetAtt': [lbSg, 'GroupId'] } }),
    ]);
    const cacheSg = logicalIdAt(dev, 'skycache-dev/Network/CacheSecurityGroup');
    expect(ingress).toEqual(expect.arrayContaining([expect.objectContaining({ GroupId: { 'Fn::GetAtt': [cacheSg, 'GroupId'] }, FromPort: dev.config.port, SourceSecurityGroupId: { 'Fn::GetAtt': [taskSg, 'GroupId'] } })]));
    const egress = Object.values(resourcesOf(dev.template, 'AWS::EC2::SecurityGroupEgress'))
      .map((r) => r.Properties ?? {})
      .filter((r) => (r.GroupId as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0] === taskSg);
    const inline = (dev.template.toJSON().Resources[taskSg].Properties.SecurityGroupEgress ?? []) as Record<string, unknown>[];
    const ports = [...egress, ...inline].map((r) => r.FromPort).sort();
    expect(ports).toEqual([443, 443, dev.config.port].sort());
  });

  test('endpoints for image pulls and logs without a NAT: ECR API and registry, CloudWatch Logs, an S3 gateway limited to ECR\'s layer bucket', () => {
    const services = Object.values(resourcesOf(dev.template, 'AWS::EC2::VPCEndpoint')).map((e) => JSON.stringify(e.Properties?.ServiceName));
    for (const name of ['.ecr.api', '.ecr.dkr', '.logs', '.secretsmanager', '.s3']) expect(services.some((s) => s.includes(name))).toBe(true);
    dev.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    const s3 = Object.values(resourcesOf(dev.template, 'AWS::EC2::VPCEndpoint')).find((e) => JSON.stringify(e.Properties?.ServiceName).includes('.s3'));
    expect(s3?.Properties).toMatchObject({ VpcEndpointType: 'Gateway' });
    const statements = (s3?.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({ Action: 's3:GetObject', Effect: 'Allow' });
    expect(JSON.stringify(statements[0].Resource)).toContain('-starport-layer-bucket/*');
    for (const e of Object.values(resourcesOf(dev.template, 'AWS::EC2::VPCEndpoint')).filter((x) => x.Properties?.VpcEndpointType === 'Interface')) {
      expect(e.Properties?.PrivateDnsEnabled).toBe(true);
    }
  });
});

describe('roles', () => {
  const statementsOf = (s: Synthesized, rolePath: string) => {
    const roleId = logicalIdAt(s, rolePath);
    return Object.values(resourcesOf(s.template, 'AWS::IAM::Policy'))
      .filter((p) => (p.Properties?.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
      .flatMap((p) => (p.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
  };

  test('task role: read the cache secret and the API key hashes by ARN, and GetMetricData — nothing else', () => {
    const statements = statementsOf(dev, 'skycache-dev/Service/TaskRole');
    expect(actionsOf(statements).sort()).toEqual(['cloudwatch:GetMetricData', 'secretsmanager:DescribeSecret', 'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:GetSecretValue'].sort());
    const secrets = statements.filter((st) => actionsOf([st]).includes('secretsmanager:GetSecretValue')).map((st) => st.Resource);
    expect(secrets).toEqual(expect.arrayContaining([{ Ref: logicalIdAt(dev, 'skycache-dev/Cache/AuthSecret') }, { Ref: logicalIdAt(dev, 'skycache-dev/ApiKeyHashes') }]));
    expect(only(dev, 'AWS::ECS::TaskDefinition').TaskRoleArn).toEqual({ 'Fn::GetAtt': [logicalIdAt(dev, 'skycache-dev/Service/TaskRole'), 'Arn'] });
  });

  test('execution role: pull from the asset repository and write the service\'s log group only', () => {
    const statements = statementsOf(dev, 'skycache-dev/Service/Task/ExecutionRole');
    expect(actionsOf(statements).sort()).toEqual(['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetAuthorizationToken', 'ecr:GetDownloadUrlForLayer', 'logs:CreateLogStream', 'logs:PutLogEvents'].sort());
    const wildcard = statements.filter((st) => st.Resource === '*');
    expect(actionsOf(wildcard)).toEqual(['ecr:GetAuthorizationToken']);
    const logs = statements.find((st) => actionsOf([st]).includes('logs:PutLogEvents'));
    expect(logs?.Resource).toEqual({ 'Fn::GetAtt': [logicalIdAt(dev, 'skycache-dev/Service/Logs'), 'Arn'] });
    for (const role of ['skycache-dev/Service/Task/ExecutionRole', 'skycache-dev/Service/TaskRole']) {
      expect(dev.template.toJSON().Resources[logicalIdAt(dev, role)].Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  test('the API key hashes secret starts empty (admits no key) and is encrypted with the stack\'s key', () => {
    const secret = dev.template.toJSON().Resources[logicalIdAt(dev, 'skycache-dev/ApiKeyHashes')].Properties;
    expect(JSON.parse(secret.SecretString)).toEqual({ sha256: [] });
    expect(secret.KmsKeyId).toEqual({ 'Fn::GetAtt': [logicalIdAt(dev, 'skycache-dev/DataKey'), 'Arn'] });
  });

  test('the server\'s log group is encrypted with the stack\'s key and kept for the configured days', () => {
    expect(prod.template.toJSON().Resources[logicalIdAt(prod, 'skycache-prod/Service/Logs')].Properties).toMatchObject({
      RetentionInDays: prod.config.functionLogRetentionDays,
      KmsKeyId: { 'Fn::GetAtt': [logicalIdAt(prod, 'skycache-prod/DataKey'), 'Arn'] },
    });
  });
});

describe('alarms and dashboard', () => {
  const alarms = (s: Synthesized) => Object.values(resourcesOf(s.template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties ?? {});

  test('5XX rate, target p99 latency, unhealthy targets, task CPU and memory alarm to the stack\'s topic', () => {
    const topic = { Ref: logicalIdAt(dev, 'skycache-dev/Monitoring/AlarmTopic') };
    const byMetric = (predicate: (a: Record<string, unknown>) => boolean) => alarms(dev).filter(predicate);
    const json = (a: Record<string, unknown>) => JSON.stringify(a);
    const service = [
      byMetric((a) => json(a).includes('HTTPCode_Target_5XX_Count') && json(a).includes('HTTPCode_ELB_5XX_Count')),
      byMetric((a) => a.MetricName === 'TargetResponseTime' && a.ExtendedStatistic === 'p99' && a.Threshold === 0.25),
      byMetric((a) => a.MetricName === 'UnHealthyHostCount' && a.Threshold === 1 && a.ComparisonOperator === 'GreaterThanOrEqualToThreshold'),
      byMetric((a) => a.MetricName === 'CPUUtilization' && a.Namespace === 'AWS/ECS'),
      byMetric((a) => a.MetricName === 'MemoryUtilization' && a.Namespace === 'AWS/ECS'),
    ];
    for (const found of service) {
      expect(found).toHaveLength(1);
      expect(found[0].AlarmActions).toEqual([topic]);
      expect(found[0].OKActions).toEqual([topic]);
    }
    // No API Gateway alarms without API Gateway.
    expect(alarms(dev).some((a) => json(a).includes('AWS/ApiGateway'))).toBe(false);
  });

  test('the service\'s graphs are on the stack\'s dashboard', () => {
    const body = JSON.stringify(only(dev, 'AWS::CloudWatch::Dashboard').DashboardBody);
    for (const title of ['Service requests and 5XX rate', 'Service target response time (s)', 'Service tasks', 'Service alarms']) expect(body).toContain(title);
    expect(body).not.toContain('API requests and errors');
  });
});

describe('outputs', () => {
  test('the API URL is the load balancer\'s, https with a certificate; the API key hash secret is named', () => {
    expect(JSON.stringify(dev.template.toJSON().Outputs.ApiUrl.Value)).toContain('http://');
    expect(JSON.stringify(publicProd.template.toJSON().Outputs.ApiUrl.Value)).toContain('https://');
    expect(dev.template.toJSON().Outputs.ApiKeyHashesSecretArn.Value).toEqual({ Ref: logicalIdAt(dev, 'skycache-dev/ApiKeyHashes') });
  });
});

describe('cdk synth with front=service (offline, no Docker)', () => {
  test.each([
    ['dev', {}],
    ['prod', { loadBalancerScheme: 'internet-facing', certificateArn: CERTIFICATE }],
  ] as const)('%s synthesizes with cdk-nag passing and stages only the image\'s build context', (preset, overrides) => {
    const s = build(preset, { front: 'service', ...overrides });
    Validations.of(s.app).addPlugins(new AwsSolutionsChecks(s.app));
    const assembly = s.app.synth();
    const artifact = assembly.getStackByName(s.stack.stackName);
    expect(Object.keys(artifact.template.Resources).length).toBeGreaterThan(80);
    const manifest = JSON.parse(fs.readFileSync(path.join(assembly.directory, `${s.stack.stackName}.assets.json`), 'utf8')) as {
      dockerImages: Record<string, { source: { directory: string; dockerFile?: string; platform?: string } }>;
    };
    const images = Object.values(manifest.dockerImages);
    expect(images).toHaveLength(1);
    expect(images[0].source).toMatchObject({ dockerFile: 'Dockerfile', platform: 'linux/arm64' });
    const staged = path.join(assembly.directory, images[0].source.directory);
    const files = (fs.readdirSync(staged, { recursive: true }) as string[]).map((f) => f.split(path.sep).join('/'));
    expect(files).toEqual(expect.arrayContaining(['Dockerfile', 'package.json', 'package-lock.json', 'tsconfig.json', 'lib/bundling.ts', 'lambdas/server/main.ts', 'lambdas/routes.ts']));
    for (const f of files) expect(f).toMatch(/^(Dockerfile|\.dockerignore|package\.json|package-lock\.json|tsconfig\.json|lib|lib\/bundling\.ts|lambdas(\/.*)?)$/);
  });
});

describe('Dockerfile', () => {
  const dockerfile = fs.readFileSync(path.join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
  const instructions = dockerfile.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
  const runtimeStage = dockerfile.slice(dockerfile.indexOf('AS runtime'));

  test('two stages: the build stage installs with npm ci and bundles with lib/bundling.ts; the runtime stage copies only the bundle', () => {
    expect(instructions.filter((l) => l.startsWith('FROM '))).toEqual([
      expect.stringMatching(/^FROM --platform=\$BUILDPLATFORM node:22-bookworm-slim AS build$/),
      'FROM node:22-bookworm-slim AS runtime',
    ]);
    expect(dockerfile).toContain('RUN npm ci');
    expect(dockerfile).toContain(`RUN npx tsx lib/bundling.ts server ${SERVER_ENTRY} ${SERVER_BUNDLE}`);
    const copies = runtimeStage.split('\n').filter((l) => l.startsWith('COPY'));
    expect(copies).toEqual([`COPY --from=build --chown=root:root /build/${path.dirname(SERVER_BUNDLE)}/ ./`]);
    expect(runtimeStage).toContain(`CMD ["node", "${path.basename(SERVER_BUNDLE)}"]`);
  });

  test('runs as the non-root node user, on the container port, with the same liveness probe as the task definition', () => {
    expect(runtimeStage).toMatch(/^USER node$/m);
    expect(runtimeStage).toContain(`PORT=${CONTAINER_PORT}`);
    expect(runtimeStage).toMatch(/^HEALTHCHECK /m);
    expect(runtimeStage).toContain(`CMD ["node", "-e", "${LIVENESS_PROBE}"]`);
  });

  test('.dockerignore admits only what the Dockerfile copies', () => {
    const ignore = fs.readFileSync(path.join(PROJECT_ROOT, '.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(ignore[0]).toBe('*');
    expect(ignore.slice(1).every((l) => l.startsWith('!'))).toBe(true);
    for (const copied of ['package.json', 'package-lock.json', 'tsconfig.json', 'lib/bundling.ts', 'lambdas/']) expect(ignore).toContain(`!${copied}`);
  });
});

describe('server bundle', () => {
  test('uses the functions\' esbuild settings, with the AWS SDK bundled (a container has none of its own)', () => {
    const server = serverBuildOptions('in.ts', 'out.mjs');
    const handler = handlerBuildOptions('in.ts', 'out.mjs');
    expect({ ...server, external: undefined }).toEqual({ ...handler, external: undefined });
    expect(server.external).toEqual([]);
  });

  test('the entry bundles into one minified ESM file that needs no node_modules', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skycache-server-bundle-'));
    try {
      const outfile = path.join(dir, 'main.mjs');
      const result = await esbuild(serverBuildOptions(path.join(PROJECT_ROOT, SERVER_ENTRY), outfile));
      expect(result.errors).toEqual([]);
      const code = fs.readFileSync(outfile, 'utf8');
      expect(code).toMatch(/export\s*\{|^import/m);
      expect(fs.existsSync(`${outfile}.map`)).toBe(true);
      // Every import left in the bundle is a Node built-in.
      const imports = Object.values(result.metafile?.outputs ?? {}).flatMap((o) => o.imports).filter((i) => i.external);
      for (const i of imports) expect(i.path).toMatch(/^(node:|[a-z_]+$)/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
