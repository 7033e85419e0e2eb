import { Match } from 'aws-cdk-lib/assertions';
import { logicalIdAt, resourcesOf, synth } from './helpers';

const dev = synth('dev');
const prod = synth('prod');

test('dev spans two availability zones, prod three', () => {
  dev.template.resourceCountIs('AWS::EC2::Subnet', 2);
  prod.template.resourceCountIs('AWS::EC2::Subnet', 3);
  const zones = (s: typeof dev) =>
    new Set(Object.values(resourcesOf(s.template, 'AWS::EC2::Subnet')).map((r) => JSON.stringify(r.Properties?.AvailabilityZone)));
  expect(zones(dev).size).toBe(2);
  expect(zones(prod).size).toBe(3);
});

describe.each([
  ['dev', dev],
  ['prod', prod],
])('network (%s preset)', (_name, s) => {
  const t = s.template;
  const path = (p: string) => `${s.stack.stackName}/Network/${p}`;

  test('isolated subnets only: no internet gateway, no NAT', () => {
    t.resourceCountIs('AWS::EC2::InternetGateway', 0);
    t.resourceCountIs('AWS::EC2::NatGateway', 0);
    t.resourcePropertiesCountIs('AWS::EC2::Subnet', { MapPublicIpOnLaunch: true }, 0);
    t.resourcePropertiesCountIs('AWS::EC2::Route', { DestinationCidrBlock: '0.0.0.0/0' }, 0);
  });

  test('flow logs of all traffic to an encrypted log group', () => {
    t.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC', TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    const logGroupId = logicalIdAt(s, path('FlowLogs'));
    expect(t.toJSON().Resources[logGroupId].Properties.KmsKeyId).toBeDefined();
  });

  test('interface endpoints for the AWS APIs the functions call, private DNS, endpoint SG only', () => {
    const endpointSg = logicalIdAt(s, path('EndpointSecurityGroup'));
    for (const service of ['secretsmanager', 'elasticache']) {
      t.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        ServiceName: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(`\\.${service}$`)])] }),
        VpcEndpointType: 'Interface',
        PrivateDnsEnabled: true,
        SecurityGroupIds: [{ 'Fn::GetAtt': [endpointSg, 'GroupId'] }],
      });
    }
    // No function calls CloudWatch's API: no endpoint for it.
    expect(Object.keys(t.findResources('AWS::EC2::VPCEndpoint'))).toHaveLength(2);
  });

  test('only the API functions reach the cache, and only on the cache port', () => {
    const cacheSg = logicalIdAt(s, path('CacheSecurityGroup'));
    const fnSg = logicalIdAt(s, path('FunctionSecurityGroup'));
    const ingress = Object.values(resourcesOf(t, 'AWS::EC2::SecurityGroupIngress')).filter(
      (r) => JSON.stringify(r.Properties?.GroupId) === JSON.stringify({ 'Fn::GetAtt': [cacheSg, 'GroupId'] }),
    );
    expect(ingress).toHaveLength(1);
    expect(ingress[0].Properties).toMatchObject({
      IpProtocol: 'tcp',
      FromPort: s.config.port,
      ToPort: s.config.port,
      SourceSecurityGroupId: { 'Fn::GetAtt': [fnSg, 'GroupId'] },
    });
    // No inline ingress (e.g. a CIDR) on the cache security group.
    expect(t.toJSON().Resources[cacheSg].Properties.SecurityGroupIngress).toBeUndefined();
  });

  test('no security group admits the internet', () => {
    for (const sg of Object.values(resourcesOf(t, 'AWS::EC2::SecurityGroup'))) {
      for (const rule of (sg.Properties?.SecurityGroupIngress as { CidrIp?: string }[] | undefined) ?? []) {
        expect(rule.CidrIp).not.toBe('0.0.0.0/0');
      }
    }
    t.resourcePropertiesCountIs('AWS::EC2::SecurityGroupIngress', { CidrIp: '0.0.0.0/0' }, 0);
  });

  test('function security groups do not allow all outbound traffic', () => {
    for (const id of ['FunctionSecurityGroup', 'ControlPlaneSecurityGroup', 'CacheSecurityGroup']) {
      const egress = t.toJSON().Resources[logicalIdAt(s, path(id))].Properties.SecurityGroupEgress ?? [];
      expect(egress.some((r: { CidrIp?: string; IpProtocol?: string }) => r.CidrIp === '0.0.0.0/0' && r.IpProtocol === '-1')).toBe(false);
    }
  });

  test('the default security group is restricted', () => {
    t.resourceCountIs('Custom::VpcRestrictDefaultSG', 1);
  });
});

describe.each([
  ['dev', dev],
  ['prod', prod],
])('endpoint policies (%s preset)', (_name, s) => {
  const endpoints = Object.values(resourcesOf(s.template, 'AWS::EC2::VPCEndpoint'));
  type Statement = { Effect: string; Principal: unknown; Action: string | string[]; Resource: unknown; Condition: unknown };
  const statementsOf = (service: string): Statement[] => {
    const endpoint = endpoints.find((e) => JSON.stringify(e.Properties?.ServiceName).includes(`.${service}"`));
    if (!endpoint) throw new Error(`no ${service} endpoint`);
    return (endpoint.Properties?.PolicyDocument as { Statement: Statement[] }).Statement;
  };

  test('every interface endpoint has a policy, and each statement admits principals of this account only', () => {
    expect(endpoints).toHaveLength(2);
    for (const endpoint of endpoints) {
      const statements = (endpoint.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [];
      expect(statements.length).toBeGreaterThan(0);
      for (const st of statements) {
        expect(st.Effect).toBe('Allow');
        expect(st.Condition).toEqual({ StringEquals: { 'aws:PrincipalAccount': { Ref: 'AWS::AccountId' } } });
        for (const action of [st.Action].flat()) expect(action).not.toMatch(/\*/);
      }
    }
  });

  test('Secrets Manager: GetSecretValue on the cache auth secret only', () => {
    const secretId = logicalIdAt(s, `${s.stack.stackName}/Cache/AuthSecret`);
    expect(statementsOf('secretsmanager').map((st) => [st.Action, st.Resource])).toEqual([['secretsmanager:GetSecretValue', { Ref: secretId }]]);
  });

  test('ElastiCache: the exporter\'s DescribeSnapshots and CopySnapshot (snapshots of this account and region) only', () => {
    const statements = statementsOf('elasticache');
    expect(statements.map((st) => st.Action)).toEqual(['elasticache:DescribeSnapshots', 'elasticache:CopySnapshot']);
    expect(JSON.stringify(statements[1].Resource)).toMatch(/:elasticache:.*:snapshot:\*/);
  });
});

test('without the snapshot export there is no ElastiCache endpoint', () => {
  const s = synth('dev', { exportEnabled: false });
  const services = Object.values(resourcesOf(s.template, 'AWS::EC2::VPCEndpoint')).map((e) => JSON.stringify(e.Properties?.ServiceName));
  expect(services.some((n) => n.includes('.elasticache"'))).toBe(false);
  expect(services).toHaveLength(1);
});
