import { Match } from 'aws-cdk-lib/assertions';
import { APP_ACCESS_STRING } from '../../lambdas/core/redis-commands';
import { EVICTION_POLICIES } from '../../lib/config';
import { logicalIdAt, resourcesOf, synth } from './helpers';

const dev = synth('dev');
const prod = synth('prod');

describe.each([
  ['dev', dev],
  ['prod', prod],
])('cache (%s preset)', (_name, s) => {
  const t = s.template;

  test('exactly one replication group', () => {
    t.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 1);
  });

  test('Multi-AZ is enabled', () => {
    t.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { MultiAZEnabled: true });
  });

  test('automatic failover is enabled', () => {
    t.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { AutomaticFailoverEnabled: true });
  });

  test('at least one replica per shard', () => {
    const [rg] = Object.values(resourcesOf(t, 'AWS::ElastiCache::ReplicationGroup'));
    const p = rg.Properties as { NumCacheClusters?: number; ReplicasPerNodeGroup?: number };
    expect(p.ReplicasPerNodeGroup ?? (p.NumCacheClusters ?? 1) - 1).toBeGreaterThanOrEqual(1);
  });

  test('TLS in transit is enabled and required', () => {
    t.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'required',
    });
  });

  test('encryption at rest uses the customer-managed key, whose rotation is on', () => {
    const keyId = logicalIdAt(s, `${s.stack.stackName}/DataKey`);
    t.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      AtRestEncryptionEnabled: true,
      KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    t.hasResource('AWS::KMS::Key', { Properties: Match.objectLike({ EnableKeyRotation: true }) });
    expect(t.toJSON().Resources[keyId].Properties.EnableKeyRotation).toBe(true);
  });

  test('RBAC: the replication group uses a user group with a disabled default user and the app user', () => {
    const groupId = logicalIdAt(s, `${s.stack.stackName}/Cache/UserGroup`);
    t.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { UserGroupIds: [{ Ref: groupId }] });
    t.hasResourceProperties('AWS::ElastiCache::UserGroup', { UserIds: Match.arrayWith([Match.stringLikeRegexp('-app-'), Match.stringLikeRegexp('-default-')]) });
    t.hasResourceProperties('AWS::ElastiCache::User', { UserName: 'default', AccessString: Match.stringLikeRegexp('^off ') });
    t.hasResourceProperties('AWS::ElastiCache::User', { UserName: 'skycache-app', AccessString: Match.stringLikeRegexp('^on ') });
  });

  test('RBAC: the app user may run exactly the commands the service sends (the rules test/redis-acl.test.ts runs)', () => {
    t.hasResourceProperties('AWS::ElastiCache::User', { UserName: 'skycache-app', AccessString: APP_ACCESS_STRING });
    const rules = APP_ACCESS_STRING.split(' ');
    expect(rules.slice(0, 3)).toEqual(['on', '~*', '-@all']);
    // Only single commands are added: no category (such as @all or @dangerous), no password, no reset.
    expect(rules.slice(3).every((r) => /^\+[a-z_]+(\|[a-z]+)?$/.test(r))).toBe(true);
    for (const dangerous of ['migrate', 'restore', 'flushall', 'flushdb', 'keys', 'config', 'debug', 'shutdown', 'acl', 'monitor']) {
      expect(rules).not.toContain(`+${dangerous}`);
    }
  });

  test('RBAC: the app password comes from a generated Secrets Manager secret, as a dynamic reference', () => {
    const secretId = logicalIdAt(s, `${s.stack.stackName}/Cache/AuthSecret`);
    t.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ GenerateStringKey: 'password', PasswordLength: Match.anyValue() }),
      KmsKeyId: Match.anyValue(),
    });
    t.hasResourceProperties('AWS::ElastiCache::User', {
      UserName: 'skycache-app',
      AuthenticationMode: {
        Type: 'password',
        Passwords: [{ 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: secretId }, ':SecretString:password::}}']] }],
      },
    });
  });

  test('no plaintext password anywhere in the template', () => {
    for (const user of Object.values(resourcesOf(t, 'AWS::ElastiCache::User'))) {
      const mode = user.Properties?.AuthenticationMode as { Passwords: unknown[] };
      for (const p of mode.Passwords) expect(JSON.stringify(p)).toContain('{{resolve:secretsmanager:');
      expect(user.Properties).not.toHaveProperty('Passwords');
    }
    t.resourcePropertiesCountIs('AWS::ElastiCache::ReplicationGroup', { AuthToken: Match.anyValue() }, 0);
  });

  test('a non-default port', () => {
    const [rg] = Object.values(resourcesOf(t, 'AWS::ElastiCache::ReplicationGroup'));
    expect(rg.Properties?.Port).toBe(s.config.port);
    expect(rg.Properties?.Port).not.toBe(6379);
  });

  test('the parameter group carries the configured maxmemory-policy and is attached', () => {
    const pgId = logicalIdAt(s, `${s.stack.stackName}/Cache/Parameters`);
    t.hasResourceProperties('AWS::ElastiCache::ParameterGroup', {
      CacheParameterGroupFamily: 'valkey8',
      Properties: Match.objectLike({ 'maxmemory-policy': s.config.evictionPolicy, 'reserved-memory-percent': '25' }),
    });
    t.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { CacheParameterGroupName: { Ref: pgId } });
  });

  test('slow log and engine log are delivered to CloudWatch Logs', () => {
    const delivery = (type: string) =>
      Match.objectLike({ DestinationType: 'cloudwatch-logs', LogType: type, DestinationDetails: { CloudWatchLogsDetails: { LogGroup: Match.anyValue() } } });
    t.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      LogDeliveryConfigurations: Match.arrayWith([delivery('slow-log'), delivery('engine-log')]),
    });
  });

  test('automatic snapshots with retention and a window', () => {
    t.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      SnapshotRetentionLimit: s.config.snapshotRetentionDays,
      SnapshotWindow: s.config.snapshotWindow,
    });
    expect(s.config.snapshotRetentionDays).toBeGreaterThanOrEqual(1);
  });

  test('the cache lives in the isolated subnets behind its own security group', () => {
    const sgId = logicalIdAt(s, `${s.stack.stackName}/Network/CacheSecurityGroup`);
    t.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      SecurityGroupIds: [{ 'Fn::GetAtt': [sgId, 'GroupId'] }],
    });
    const [group] = Object.values(resourcesOf(t, 'AWS::ElastiCache::SubnetGroup'));
    expect((group.Properties?.SubnetIds as unknown[]).length).toBe(s.config.azCount);
  });
});

test('dev: cluster mode off, one primary and one replica in different zones', () => {
  dev.template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
    ClusterMode: 'disabled',
    NumCacheClusters: 2,
  });
  const [rg] = Object.values(resourcesOf(dev.template, 'AWS::ElastiCache::ReplicationGroup'));
  const azs = rg.Properties?.PreferredCacheClusterAZs as unknown[];
  expect(azs).toHaveLength(2);
  expect(JSON.stringify(azs[0])).not.toEqual(JSON.stringify(azs[1]));
});

test('prod: cluster mode on, two shards of three nodes', () => {
  prod.template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
    ClusterMode: 'enabled',
    NumNodeGroups: 2,
    ReplicasPerNodeGroup: 2,
  });
  prod.template.hasResourceProperties('AWS::ElastiCache::ParameterGroup', { Properties: Match.objectLike({ 'cluster-enabled': 'yes' }) });
});

test('prod keeps a final snapshot when the stack is deleted; dev does not', () => {
  prod.template.hasResource('AWS::ElastiCache::ReplicationGroup', { DeletionPolicy: 'Snapshot' });
  dev.template.hasResource('AWS::ElastiCache::ReplicationGroup', { DeletionPolicy: 'Delete' });
});

test.each(EVICTION_POLICIES)('eviction policy %s reaches the parameter group', (policy) => {
  const s = synth('dev', { evictionPolicy: policy });
  s.template.hasResourceProperties('AWS::ElastiCache::ParameterGroup', { Properties: Match.objectLike({ 'maxmemory-policy': policy }) });
});

test('engine redis 7.1 uses the redis7 family and redis users', () => {
  const s = synth('dev', { engine: 'redis', engineVersion: '7.1' });
  s.template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { Engine: 'redis', EngineVersion: '7.1' });
  s.template.hasResourceProperties('AWS::ElastiCache::ParameterGroup', { CacheParameterGroupFamily: 'redis7' });
  s.template.hasResourceProperties('AWS::ElastiCache::UserGroup', { Engine: 'redis' });
});

describe('restore from exported .rdb files', () => {
  const base = 'arn:aws:s3:::old-exports/skycache-valkey-8-0-shards-2-automatic-rg-2026-11-26-03-00';
  const arns = [`${base}-0001.rdb`, `${base}-0002.rdb`];

  test('the replication group is seeded from the configured files (SnapshotArns)', () => {
    const s = synth('prod', { restoreFromSnapshotArns: arns });
    s.template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { SnapshotArns: arns, NumNodeGroups: 2, Engine: 'valkey' });
  });

  test('without the field, an empty cache: no SnapshotArns', () => {
    for (const s of [dev, prod]) {
      const [rg] = Object.values(resourcesOf(s.template, 'AWS::ElastiCache::ReplicationGroup'));
      expect(rg.Properties).not.toHaveProperty('SnapshotArns');
    }
  });
});
