import { Match } from 'aws-cdk-lib/assertions';
import { handlerModules } from '../../lambdas/routes';
import { longPollTimeoutSeconds } from '../../lib/config';
import { resourcesOf, synth, type Synthesized } from './helpers';

const dev = synth('dev');
const prod = synth('prod', { alarmEmail: 'oncall@example.com' });

function alarms(s: Synthesized) {
  return Object.values(resourcesOf(s.template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties as Record<string, unknown>);
}
function alarmsOn(s: Synthesized, metricName: string) {
  return alarms(s).filter((a) => a.MetricName === metricName);
}
const shards = (s: Synthesized) => (s.config.clusterMode ? s.config.shards : 1);
const nodes = (s: Synthesized) => shards(s) * (1 + s.config.replicasPerShard);
/** Every metric a math alarm reads, as `{ metric name, dimension value }`. */
function mathMetrics(a: Record<string, unknown>) {
  return ((a.Metrics ?? []) as { MetricStat?: { Metric: { MetricName: string; Dimensions: { Value: unknown }[] } } }[])
    .filter((m) => m.MetricStat)
    .map((m) => ({ name: m.MetricStat!.Metric.MetricName, node: JSON.stringify(m.MetricStat!.Metric.Dimensions[0].Value) }));
}

describe.each([
  ['dev', dev],
  ['prod', prod],
])('alarms (%s preset)', (_name, s) => {
  test.each(['CPUUtilization', 'EngineCPUUtilization', 'DatabaseMemoryUsagePercentage', 'Evictions', 'CurrConnections'])(
    'ElastiCache %s: one alarm per node',
    (metric) => {
      const found = alarmsOn(s, metric);
      expect(found).toHaveLength(nodes(s));
      for (const a of found) expect(a.Namespace).toBe('AWS/ElastiCache');
      const ids = new Set(found.map((a) => JSON.stringify((a.Dimensions as { Name: string; Value: unknown }[])[0])));
      expect(ids.size).toBe(nodes(s));
    },
  );

  test('ElastiCache ReplicationLag: per shard, the maximum over every node (whichever is a replica after a failover)', () => {
    expect(alarmsOn(s, 'ReplicationLag')).toHaveLength(0);
    const lag = alarms(s).filter((a) => mathMetrics(a).some((m) => m.name === 'ReplicationLag'));
    expect(lag).toHaveLength(shards(s));
    const covered = new Set(lag.flatMap((a) => mathMetrics(a).map((m) => m.node)));
    const perNode = new Set(alarmsOn(s, 'CPUUtilization').map((a) => JSON.stringify((a.Dimensions as { Value: unknown }[])[0].Value)));
    expect(covered).toEqual(perNode);
    for (const a of lag) {
      const expression = (a.Metrics as { Expression?: string }[]).find((m) => m.Expression)!.Expression!;
      expect(expression).toMatch(/^MAX\(\[lag0(, lag\d)+\]\)$/);
      expect(mathMetrics(a)).toHaveLength(1 + s.config.replicasPerShard);
      expect(a).toMatchObject({ Threshold: 5, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
    }
  });

  test('CPU thresholds follow AWS guidance for the node size: 90 ÷ vCPUs (2 vCPUs here), engine thread at 80', () => {
    for (const a of alarmsOn(s, 'CPUUtilization')) expect(a.Threshold).toBe(45);
    for (const a of alarmsOn(s, 'EngineCPUUtilization')) expect(a.Threshold).toBe(80);
  });

  test('missing automatic snapshot of the day: the exporter\'s metric, for this replication group', () => {
    const [missing, ...more] = alarmsOn(s, 'AutomaticSnapshotMissing');
    expect(more).toHaveLength(0);
    expect(missing).toMatchObject({
      Namespace: 'skycache',
      Statistic: 'Maximum',
      Period: 86400,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Dimensions: expect.arrayContaining([
        { Name: 'service', Value: 'skycache-export' },
        { Name: 'ReplicationGroupId', Value: { Ref: expect.stringMatching(/^CacheReplicationGroup/) } },
      ]),
    });
  });

  test('API 5XX rate (math over 5XXError and Count)', () => {
    const found = alarms(s).filter((a) => JSON.stringify(a.Metrics ?? []).includes('5XXError'));
    expect(found).toHaveLength(1);
    expect(JSON.stringify(found[0].Metrics)).toContain('"MetricName":"Count"');
    expect(JSON.stringify(found[0].Metrics)).toContain('100 * errors / requests');
  });

  test('API p99 latency', () => {
    const found = alarmsOn(s, 'Latency');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ Namespace: 'AWS/ApiGateway', ExtendedStatistic: 'p99' });
  });

  test.each(['Errors', 'Throttles', 'Duration'])('Lambda %s: one alarm per API function', (metric) => {
    const found = alarmsOn(s, metric).filter((a) => a.Namespace === 'AWS/Lambda' && !String(a.AlarmDescription).includes('export'));
    expect(found).toHaveLength(handlerModules().length);
  });

  test('the long-polling topics function alarms on the time past its wait, not on waiting', () => {
    const topics = alarmsOn(s, 'Duration').filter((a) => String(a.AlarmDescription).includes('function topics'));
    expect(topics).toHaveLength(1);
    const wait = s.config.topicMaxWaitSeconds * 1000;
    expect(topics[0].Threshold).toBeGreaterThan(wait);
    expect(topics[0].Threshold).toBeLessThan(longPollTimeoutSeconds(s.config) * 1000);
  });

  test('export failure', () => {
    const found = alarms(s).filter((a) => String(a.AlarmDescription).includes('export') && a.Namespace === 'AWS/Lambda');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ MetricName: 'Errors', Namespace: 'AWS/Lambda', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
  });

  test('every alarm notifies the topic on alarm and on recovery', () => {
    for (const a of alarms(s)) {
      expect(a.AlarmActions).toHaveLength(1);
      expect(a.OKActions).toHaveLength(1);
    }
  });

  test('the alarm topic is encrypted with a rotating customer-managed key and TLS-only', () => {
    s.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    s.template.allResourcesProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('dashboard: hit ratio, latency, memory, evictions, connections, replication lag, API and Lambda health', () => {
    const [dashboard] = Object.values(resourcesOf(s.template, 'AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(s.stack.resolve(dashboard.Properties?.DashboardBody));
    for (const fragment of ['CacheHits', 'CacheMisses', 'Hit ratio', 'SuccessfulReadRequestLatency', 'DatabaseMemoryUsagePercentage', 'Evictions', 'CurrConnections', 'ReplicationLag', '5XXError', 'Throttles', 'Duration']) {
      expect(body).toContain(fragment);
    }
  });
});

test('larger nodes: host CPU at 90 % (the engine thread has its own alarm), small nodes at 90 ÷ vCPUs', () => {
  const cpu = (nodeType: string) => alarmsOn(synth('dev', { nodeType }), 'CPUUtilization')[0].Threshold;
  expect(cpu('cache.r7g.2xlarge')).toBe(90);
  expect(cpu('cache.t2.micro')).toBe(90);
});

test('no replicas: no replication-lag alarm; no export: no missing-snapshot alarm', () => {
  const s = synth('dev', { replicasPerShard: 0, multiAz: false, exportEnabled: false });
  expect(alarms(s).filter((a) => JSON.stringify(a.Metrics ?? []).includes('ReplicationLag'))).toHaveLength(0);
  expect(alarmsOn(s, 'AutomaticSnapshotMissing')).toHaveLength(0);
});

test('e-mail subscription only when an address is configured', () => {
  prod.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
  dev.template.resourceCountIs('AWS::SNS::Subscription', 0);
});
