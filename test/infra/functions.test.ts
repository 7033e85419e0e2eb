import { Match } from 'aws-cdk-lib/assertions';
import { loadRuntimeConfig } from '../../lambdas/core/config';
import { handlerModules } from '../../lambdas/routes';
import { API_GATEWAY_TIMEOUT_SECONDS, longPollTimeoutSeconds } from '../../lib/config';
import { actionsOf, logicalIdAt, resourcesOf, synth, type Synthesized } from './helpers';

const dev = synth('dev');
const prod = synth('prod');

const pascal = (m: string) => m.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase());
const apiRole = (s: Synthesized, module: string) => logicalIdAt(s, `${s.stack.stackName}/${pascal(module)}Handler/Role`);
const exporterRole = (s: Synthesized) => logicalIdAt(s, `${s.stack.stackName}/Backup/Exporter/Role`);

/** Role logical id → every action its policies (inline default policies) allow. */
function actionsByRole(s: Synthesized): Map<string, string[]> {
  const byRole = new Map<string, string[]>();
  for (const policy of Object.values(resourcesOf(s.template, 'AWS::IAM::Policy'))) {
    const doc = policy.Properties?.PolicyDocument as { Statement: unknown };
    for (const role of (policy.Properties?.Roles as { Ref: string }[]) ?? []) {
      byRole.set(role.Ref, [...(byRole.get(role.Ref) ?? []), ...actionsOf(doc.Statement)]);
    }
  }
  return byRole;
}

describe.each([
  ['dev', dev],
  ['prod', prod],
])('functions (%s preset)', (_name, s) => {
  const t = s.template;

  test.each(handlerModules())('%s: Node.js 22 on arm64, in the VPC, traced, with its own log group', (module) => {
    const fnId = logicalIdAt(s, `${s.stack.stackName}/${pascal(module)}Handler/Function`);
    const fn = t.toJSON().Resources[fnId].Properties;
    expect(fn.Runtime).toBe('nodejs22.x');
    expect(fn.Architectures).toEqual(['arm64']);
    expect(fn.Handler).toBe('index.handler');
    expect(fn.TracingConfig).toEqual({ Mode: 'Active' });
    expect(fn.VpcConfig.SubnetIds).toHaveLength(s.config.azCount);
    expect(fn.VpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [logicalIdAt(s, `${s.stack.stackName}/Network/FunctionSecurityGroup`), 'GroupId'] }]);
    expect(fn.LoggingConfig.LogGroup).toBeDefined();
    // The topics function long-polls: its timeout covers the wait, within API Gateway's 29 s.
    expect(fn.Timeout).toBe(module === 'topics' ? longPollTimeoutSeconds(s.config) : s.config.lambdaTimeoutSeconds);
    expect(fn.Timeout).toBeLessThanOrEqual(API_GATEWAY_TIMEOUT_SECONDS);
  });

  test.each(handlerModules())('%s: environment points at the cache and the secret, never at a password', (module) => {
    const fnId = logicalIdAt(s, `${s.stack.stackName}/${pascal(module)}Handler/Function`);
    const env = t.toJSON().Resources[fnId].Properties.Environment.Variables;
    expect(env).toMatchObject({
      DEFAULT_TTL_SECONDS: String(s.config.defaultTtlSeconds),
      MAX_TTL_SECONDS: String(s.config.maxTtlSeconds),
      MAX_VALUE_BYTES: String(s.config.maxValueBytes),
      REDIS_TIMEOUT_MS: String(s.config.redisTimeoutMs),
      RETRY_AFTER_SECONDS: String(s.config.retryAfterSeconds),
      TOPIC_MAX_MESSAGE_BYTES: String(s.config.topicMaxMessageBytes),
      TOPIC_RETENTION_MESSAGES: String(s.config.topicRetentionMessages),
      TOPIC_RETENTION_SECONDS: String(s.config.topicRetentionSeconds),
      TOPIC_IDLE_SECONDS: String(s.config.topicIdleSeconds),
      TOPIC_MAX_WAIT_SECONDS: String(s.config.topicMaxWaitSeconds),
      CHANGE_EVENTS: String(s.config.changeEvents),
      REDIS_TLS: 'true',
      REDIS_USERNAME: 'skycache-app',
      REDIS_READ_FROM: 'primary',
      POWERTOOLS_SERVICE_NAME: 'skycache',
      LOG_LEVEL: s.config.logLevel,
    });
    expect(env.REDIS_AUTH_SECRET_ARN).toEqual({ Ref: logicalIdAt(s, `${s.stack.stackName}/Cache/AuthSecret`) });
    expect(env).not.toHaveProperty('REDIS_PASSWORD');
    expect(JSON.stringify(env)).not.toContain('resolve:secretsmanager');
    expect(Number(env.REDIS_TIMEOUT_MS)).toBeLessThanOrEqual((s.config.lambdaTimeoutSeconds * 1000) / 2);
    if (s.config.clusterMode) {
      expect(JSON.stringify(env.REDIS_CLUSTER_NODES)).toContain('ConfigurationEndPoint.Address');
      expect(env).not.toHaveProperty('REDIS_URL');
    } else {
      expect(JSON.stringify(env.REDIS_URL)).toContain('rediss://');
      expect(JSON.stringify(env.REDIS_URL)).toContain('PrimaryEndPoint.Address');
      expect(env).not.toHaveProperty('REDIS_CLUSTER_NODES');
    }
  });

  test('the runtime accepts the environment the stack gives every function (pub/sub settings included)', () => {
    const fnId = logicalIdAt(s, `${s.stack.stackName}/TopicsHandler/Function`);
    const env = t.toJSON().Resources[fnId].Properties.Environment.Variables as Record<string, unknown>;
    const plain = Object.fromEntries(Object.entries(env).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
    expect(loadRuntimeConfig(plain).topics).toEqual({
      maxMessageBytes: s.config.topicMaxMessageBytes,
      retentionMessages: s.config.topicRetentionMessages,
      retentionMs: s.config.topicRetentionSeconds * 1000,
      idleMs: s.config.topicIdleSeconds * 1000,
      maxWaitMs: s.config.topicMaxWaitSeconds * 1000,
      changeEvents: s.config.changeEvents,
    });
  });

  test('no API function is told the replication group id (only the exporter uses it)', () => {
    for (const module of handlerModules()) {
      const fnId = logicalIdAt(s, `${s.stack.stackName}/${pascal(module)}Handler/Function`);
      const env = t.toJSON().Resources[fnId].Properties.Environment.Variables;
      expect(env.CACHE_REPLICATION_GROUP_ID).toBeUndefined();
    }
  });
});

describe.each([
  ['dev', dev],
  ['prod', prod],
])('least privilege (%s preset)', (_name, s) => {
  const byRole = actionsByRole(s);
  const roles = (pred: (a: string) => boolean) => [...byRole].filter(([, actions]) => actions.some(pred)).map(([role]) => role);

  test('no function role uses AWS managed policies', () => {
    for (const module of handlerModules()) {
      const role = s.template.toJSON().Resources[apiRole(s, module)].Properties;
      expect(role.ManagedPolicyArns).toBeUndefined();
    }
    expect(s.template.toJSON().Resources[exporterRole(s)].Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('no function reads CloudWatch (no code calls it)', () => {
    expect(roles((a) => a.startsWith('cloudwatch:'))).toEqual([]);
  });

  test('only the exporter calls ElastiCache', () => {
    expect(roles((a) => a.startsWith('elasticache:'))).toEqual([exporterRole(s)]);
    expect(byRole.get(exporterRole(s))).toEqual(expect.arrayContaining(['elasticache:CopySnapshot', 'elasticache:DescribeSnapshots']));
  });

  test('only the exporter touches S3, and only the export bucket (but the account-level ListAllMyBuckets)', () => {
    expect(roles((a) => a.startsWith('s3:'))).toEqual([exporterRole(s)]);
    const bucketId = logicalIdAt(s, `${s.stack.stackName}/Backup/Bucket`);
    for (const policy of Object.values(resourcesOf(s.template, 'AWS::IAM::Policy'))) {
      const statements = (policy.Properties?.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement;
      for (const st of statements) {
        const s3 = actionsOf([st]).filter((a) => a.startsWith('s3:'));
        // ElastiCache's export guide requires s3:ListAllMyBuckets of the CopySnapshot caller; it takes no bucket ARN.
        if (s3.length === 1 && s3[0] === 's3:ListAllMyBuckets') expect(st.Resource).toBe('*');
        else if (s3.length > 0) expect(JSON.stringify(st.Resource)).toContain(bucketId);
      }
    }
  });

  test('no role has a wildcard action', () => {
    for (const actions of byRole.values()) for (const a of actions) expect(a).not.toMatch(/^\*$|:\*$/);
  });

  test('the API functions may read the auth secret; the exporter may not', () => {
    const secretId = logicalIdAt(s, `${s.stack.stackName}/Cache/AuthSecret`);
    for (const module of handlerModules()) expect(byRole.get(apiRole(s, module))).toContain('secretsmanager:GetSecretValue');
    expect(byRole.get(exporterRole(s))).not.toContain('secretsmanager:GetSecretValue');
    s.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['secretsmanager:GetSecretValue']), Resource: { Ref: secretId } })]) },
    });
  });

  test('function logs go to their own log group only', () => {
    for (const module of handlerModules()) {
      const logGroupId = logicalIdAt(s, `${s.stack.stackName}/${pascal(module)}Handler/Logs`);
      const role = apiRole(s, module);
      const policy = Object.values(resourcesOf(s.template, 'AWS::IAM::Policy')).find((p) =>
        JSON.stringify(p.Properties?.Roles).includes(role),
      );
      const st = (policy?.Properties?.PolicyDocument as { Statement: { Sid?: string; Resource: unknown }[] }).Statement.find((x) => x.Sid === 'WriteOwnLogGroup');
      expect(st?.Resource).toEqual({ 'Fn::GetAtt': [logGroupId, 'Arn'] });
    }
  });
});

describe('read preference', () => {
  const envOf = (s: Synthesized) => {
    const fnId = logicalIdAt(s, `${s.stack.stackName}/GetEntryHandler/Function`);
    return s.template.toJSON().Resources[fnId].Properties.Environment.Variables;
  };

  test('readFrom=replica without cluster mode points the handlers at the reader endpoint', () => {
    const env = envOf(synth('dev', { readFrom: 'replica' }));
    expect(env.REDIS_READ_FROM).toBe('replica');
    expect(JSON.stringify(env.REDIS_READER_URL)).toContain('ReaderEndPoint.Address');
    expect(JSON.stringify(env.REDIS_READER_URL)).toContain('rediss://');
  });

  test('readFrom=replica in cluster mode reads from the cluster replicas (no reader endpoint)', () => {
    const env = envOf(synth('prod', { readFrom: 'replica' }));
    expect(env.REDIS_READ_FROM).toBe('replica');
    expect(env).not.toHaveProperty('REDIS_READER_URL');
  });
});
