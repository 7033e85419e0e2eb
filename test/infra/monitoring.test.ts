import { Match } from 'aws-cdk-lib/assertions';
import { handlerModules } from '../../lambdas/routes';
import { resourcesOf, synth, type Synthesized } from './helpers';

const dev = synth('dev');
const prod = synth('prod', { alarmEmail: 'oncall@example.com' });

function alarms(s: Synthesized) {
  return Object.values(resourcesOf(s.template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties as Record<string, unknown>);
}
function alarmsOn(s: Synthesized, metricName: string) {
  return alarms(s).filter((a) => a.MetricName === metricName);
}
const nodes = (s: Synthesized) => (s.config.clusterMode ? s.config.shards : 1) * (1 + s.config.replicasPerShard);
const replicas = (s: Synthesized) => (s.config.clusterMode ? s.config.shards : 1) * s.config.replicasPerShard;

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

  test('ElastiCache ReplicationLag: one alarm per replica', () => {
    expect(alarmsOn(s, 'ReplicationLag')).toHaveLength(replicas(s));
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

  test('export failure', () => {
    const found = alarms(s).filter((a) => String(a.AlarmDescription).includes('export'));
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
    // The hit ratio is that of the service's own metrics (what GET /cache/stats reads), not ElastiCache's keyspace hits.
    expect(body).toContain('[\\"skycache\\",\\"Hits\\",\\"service\\",\\"skycache\\"');
    expect(body).toContain('[\\"skycache\\",\\"Misses\\",\\"service\\",\\"skycache\\"');
    expect(body).not.toContain('CacheHits');
    for (const fragment of ['Hit ratio', 'SuccessfulReadRequestLatency', 'DatabaseMemoryUsagePercentage', 'Evictions', 'CurrConnections', 'ReplicationLag', '5XXError', 'Throttles', 'Duration']) {
      expect(body).toContain(fragment);
    }
  });
});

test('e-mail subscription only when an address is configured', () => {
  prod.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
  dev.template.resourceCountIs('AWS::SNS::Subscription', 0);
});
