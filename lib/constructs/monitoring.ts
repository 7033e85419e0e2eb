import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { SNAPSHOT_MISSING_METRIC } from '../../lambdas/domain/snapshot-export';
import type { CacheNode } from './cache-cluster';

/** Alarm thresholds; every one has a default. */
export interface MonitoringThresholds {
  /**
   * Host CPU of a node, percent. @default 90 ÷ vCPUs for nodes with 2 vCPUs or fewer (the engine's one thread can
   * use only one core), 90 for larger ones (whose engine thread the EngineCPUUtilization alarm watches)
   */
  readonly cpuPercent?: number;
  /** CPU of the engine thread of a node, percent. @default 80 */
  readonly engineCpuPercent?: number;
  /** DatabaseMemoryUsagePercentage of a node. @default 85 */
  readonly memoryPercent?: number;
  /** Evictions of a node in 5 minutes. @default 1000 */
  readonly evictionsPer5Min?: number;
  /** CurrConnections of a node. @default 10000 */
  readonly connections?: number;
  /** ReplicationLag of any replica of a shard, seconds. @default 5 */
  readonly replicationLagSeconds?: number;
  /** Share of API requests answered 5XX, percent. @default 1 */
  readonly api5xxPercent?: number;
  /** p99 of API latency, milliseconds. @default 1000 */
  readonly apiP99LatencyMs?: number;
  /** Errors of one function in 5 minutes. @default 5 */
  readonly lambdaErrorsPer5Min?: number;
  /** p99 duration of a function as a share of its timeout. @default 0.8 */
  readonly lambdaDurationShareOfTimeout?: number;
}

export interface MonitoredFunction {
  readonly name: string;
  readonly function: lambda.IFunction;
  readonly timeout: Duration;
  /** A function that waits on purpose (long-poll): its duration alarm counts the share of the time past the wait. */
  readonly waitsUpTo?: Duration;
}

export interface MonitoringProps {
  readonly replicationGroupId: string;
  readonly cacheNodes: readonly CacheNode[];
  /** vCPUs of the cache's node type (lib/config.ts nodeVcpus): sets the host CPU threshold. @default 2 */
  readonly nodeVcpus?: number;
  /** The API Gateway front; absent with `front=service` (ServiceMonitoring adds that front's alarms). */
  readonly apiName?: string;
  readonly stage?: apigateway.Stage;
  /** The API's functions. */
  readonly functions: readonly MonitoredFunction[];
  /**
   * The snapshot exporter: any error is an export failure, and its missing-snapshot metric (published with the
   * replication group as dimension) raises the missing-snapshot alarm.
   */
  readonly exporter?: lambda.IFunction;
  /** Subscribed to the alarm topic when given. @default no subscription */
  readonly alarmEmail?: string;
  readonly thresholds?: MonitoringThresholds;
  /** @default 'skycache' */
  readonly dashboardName?: string;
  /** @default RemovalPolicy.DESTROY */
  readonly keyRemovalPolicy?: RemovalPolicy;
}

const FIVE_MINUTES = Duration.minutes(5);

export type AlarmOptions = cloudwatch.CreateAlarmOptions & { metric: cloudwatch.IMetric };

/**
 * Alarms (to an encrypted SNS topic, optionally mailed) and a dashboard for the whole service:
 * per cache node CPU, engine CPU, memory, evictions, connections; per shard the replication lag of whichever nodes
 * are replicas now; API 5XX rate and p99 latency; per function errors, throttles and duration; snapshot export
 * failures and days without an automatic snapshot.
 *
 * Roles change on failover, so no alarm depends on which node started as primary: the per-node metrics are
 * published by every node in either role, and ReplicationLag (published only by the nodes that are replicas at the
 * time) is alarmed as the maximum over every node of a shard.
 */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];

  private alarmAction?: actions.SnsAction;

  /**
   * An alarm in `scope` that notifies the topic when it fires and when it clears (missing data is not breaching);
   * `alarms` lists it. Constructs of other parts (the service front) add theirs here too.
   */
  addAlarm(scope: Construct, alarmId: string, description: string, options: AlarmOptions): cloudwatch.Alarm {
    this.alarmAction ??= new actions.SnsAction(this.topic);
    const a = new cloudwatch.Alarm(scope, alarmId, {
      alarmDescription: description,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...options,
    });
    a.addAlarmAction(this.alarmAction);
    a.addOkAction(this.alarmAction);
    this.alarms.push(a);
    return a;
  }

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const t = props.thresholds ?? {};

    this.key = new kms.Key(this, 'TopicKey', {
      description: 'skycache: alarm topic',
      enableKeyRotation: true,
      removalPolicy: props.keyRemovalPolicy ?? RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // CloudWatch alarms publish to the encrypted topic: they need the key.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'AlarmTopic', { displayName: 'skycache alarms', masterKey: this.key, enforceSSL: true });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    const alarm = (alarmId: string, description: string, options: AlarmOptions) => this.addAlarm(this, alarmId, description, options);

    // --- cache nodes
    const nodeMetric = (node: CacheNode, metricName: string, statistic = 'Average') =>
      new cloudwatch.Metric({
        namespace: 'AWS/ElastiCache',
        metricName,
        dimensionsMap: { CacheClusterId: node.cacheClusterId },
        statistic,
        period: FIVE_MINUTES,
      });
    // https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheMetrics.WhichShouldIMonitor.html: 90 % of what the
    // single engine thread can use on small nodes; larger nodes are watched through EngineCPUUtilization.
    const vcpus = props.nodeVcpus ?? 2;
    const cpuThreshold = t.cpuPercent ?? (vcpus <= 2 ? 90 / vcpus : 90);
    props.cacheNodes.forEach((node, i) => {
      const n = `Node${i + 1}`;
      const where = `cache node ${i + 1} (shard ${node.shard})`;
      alarm(`${n}Cpu`, `Host CPU of ${where} is high (${vcpus} vCPUs)`, {
        metric: nodeMetric(node, 'CPUUtilization'),
        threshold: cpuThreshold,
        evaluationPeriods: 3,
      });
      alarm(`${n}EngineCpu`, `Engine CPU of ${where} is high: the single engine thread is saturated`, {
        metric: nodeMetric(node, 'EngineCPUUtilization'),
        threshold: t.engineCpuPercent ?? 80,
        evaluationPeriods: 3,
      });
      alarm(`${n}Memory`, `Memory of ${where} is nearly full`, {
        metric: nodeMetric(node, 'DatabaseMemoryUsagePercentage'),
        threshold: t.memoryPercent ?? 85,
        evaluationPeriods: 3,
      });
      alarm(`${n}Evictions`, `${where} evicts many keys: the cache is too small for its working set`, {
        metric: nodeMetric(node, 'Evictions', 'Sum'),
        threshold: t.evictionsPer5Min ?? 1000,
        evaluationPeriods: 3,
      });
      alarm(`${n}Connections`, `${where} has very many client connections`, {
        metric: nodeMetric(node, 'CurrConnections', 'Maximum'),
        threshold: t.connections ?? 10000,
        evaluationPeriods: 2,
      });
    });
    // One alarm per shard on the maximum lag over all its nodes (at most 6: within CloudWatch's 10 metrics per alarm).
    for (const [shard, nodes] of nodesByShard(props.cacheNodes)) {
      if (nodes.length < 2) continue;
      alarm(`Shard${shard}ReplicationLag`, `A replica of shard ${shard} lags behind its primary`, {
        metric: new cloudwatch.MathExpression({
          expression: `MAX([${nodes.map((_, i) => `lag${i}`).join(', ')}])`,
          usingMetrics: Object.fromEntries(nodes.map((node, i) => [`lag${i}`, nodeMetric(node, 'ReplicationLag', 'Maximum')])),
          label: `Replication lag of shard ${shard} (s, max over its nodes)`,
          period: FIVE_MINUTES,
        }),
        threshold: t.replicationLagSeconds ?? 5,
        evaluationPeriods: 3,
      });
    }

    // --- API (front=api)
    const api = props.apiName !== undefined && props.stage !== undefined ? { name: props.apiName, stageName: props.stage.stageName } : undefined;
    const apiMetric = (a: { name: string; stageName: string }, metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiName: a.name, Stage: a.stageName },
        statistic,
        period: FIVE_MINUTES,
      });
    const apiMetrics = api && {
      metric: (metricName: string, statistic: string) => apiMetric(api, metricName, statistic),
      p99: apiMetric(api, 'Latency', 'p99'),
      rate5xx: new cloudwatch.MathExpression({
        expression: 'IF(requests > 0, 100 * errors / requests, 0)',
        usingMetrics: { errors: apiMetric(api, '5XXError', 'Sum'), requests: apiMetric(api, 'Count', 'Sum') },
        label: 'API 5XX rate (%)',
        period: FIVE_MINUTES,
      }),
    };
    if (apiMetrics) {
      alarm('Api5xxRate', 'The API answers too many requests with 5XX', {
        metric: apiMetrics.rate5xx,
        threshold: t.api5xxPercent ?? 1,
        evaluationPeriods: 3,
      });
      alarm('ApiLatencyP99', 'p99 latency of the API is high', {
        metric: apiMetrics.p99,
        threshold: t.apiP99LatencyMs ?? 1000,
        evaluationPeriods: 3,
      });
    }

    // --- functions
    for (const f of props.functions) {
      const name = pascal(f.name);
      alarm(`${name}Errors`, `Function ${f.name} fails`, {
        metric: f.function.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: t.lambdaErrorsPer5Min ?? 5,
        evaluationPeriods: 1,
      });
      alarm(`${name}Throttles`, `Function ${f.name} is throttled: raise its concurrency`, {
        metric: f.function.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
      });
      alarm(`${name}Duration`, `p99 duration of function ${f.name} nears its timeout`, {
        metric: f.function.metricDuration({ period: FIVE_MINUTES, statistic: 'p99' }),
        threshold: durationThresholdMs(f, t.lambdaDurationShareOfTimeout ?? 0.8),
        evaluationPeriods: 3,
      });
    }

    if (props.exporter) {
      alarm('ExportFailed', 'The scheduled export of the newest cache snapshot to S3 failed', {
        metric: props.exporter.metricErrors({ period: Duration.hours(1), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
      });
      // Published once per run (daily): the alarm holds for the day it reports.
      alarm('AutomaticSnapshotMissing', 'The snapshot export found no automatic snapshot of the day: check the cache\'s snapshot settings and events', {
        metric: new cloudwatch.Metric({
          namespace: SNAPSHOT_MISSING_METRIC.namespace,
          metricName: SNAPSHOT_MISSING_METRIC.name,
          dimensionsMap: { service: SNAPSHOT_MISSING_METRIC.service, ReplicationGroupId: props.replicationGroupId },
          statistic: 'Maximum',
          period: Duration.days(1),
        }),
        threshold: 1,
        evaluationPeriods: 1,
      });
    }

    // --- dashboard
    const sumOver = (metricName: string, statistic = 'Sum') =>
      Object.fromEntries(props.cacheNodes.map((node, i) => [`${metricName.toLowerCase()}${i}`, nodeMetric(node, metricName, statistic)]));
    const hits = sumOver('CacheHits');
    const misses = sumOver('CacheMisses');
    const hitSum = Object.keys(hits).join('+');
    const missSum = Object.keys(misses).join('+');
    const hitRatio = new cloudwatch.MathExpression({
      expression: `IF((${hitSum})+(${missSum}) > 0, 100 * (${hitSum}) / ((${hitSum})+(${missSum})), 0)`,
      usingMetrics: { ...hits, ...misses },
      label: 'Hit ratio (%)',
      period: FIVE_MINUTES,
    });
    const perNode = (metricName: string, statistic = 'Average') =>
      props.cacheNodes.map((node, i) => nodeMetric(node, metricName, statistic).with({ label: `node ${i + 1}` }));

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Hit ratio (CacheHits / (CacheHits + CacheMisses))', left: [hitRatio], width: 8, leftYAxis: { min: 0, max: 100 } }),
      new cloudwatch.GraphWidget({
        title: 'Latency',
        left: apiMetrics
          ? [apiMetrics.metric('Latency', 'p50').with({ label: 'API p50 (ms)' }), apiMetrics.p99.with({ label: 'API p99 (ms)' }), apiMetrics.metric('IntegrationLatency', 'p99').with({ label: 'integration p99 (ms)' })]
          : [],
        right: [
          ...perNode('SuccessfulReadRequestLatency').map((m, i) => m.with({ label: `read node ${i + 1} (µs)` })),
          ...perNode('SuccessfulWriteRequestLatency').map((m, i) => m.with({ label: `write node ${i + 1} (µs)` })),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({ title: 'Memory (DatabaseMemoryUsagePercentage)', left: perNode('DatabaseMemoryUsagePercentage'), width: 8 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Evictions', left: perNode('Evictions', 'Sum'), width: 6 }),
      new cloudwatch.GraphWidget({ title: 'Connections (CurrConnections)', left: perNode('CurrConnections', 'Maximum'), width: 6 }),
      new cloudwatch.GraphWidget({
        title: 'Replication lag (s; reported by the nodes that are replicas)',
        left: perNode('ReplicationLag', 'Maximum'),
        width: 6,
      }),
      new cloudwatch.GraphWidget({ title: 'CPU (engine)', left: perNode('EngineCPUUtilization'), width: 6 }),
    );
    if (apiMetrics) this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API requests and errors',
        left: [apiMetrics.metric('Count', 'Sum').with({ label: 'requests' }), apiMetrics.metric('4XXError', 'Sum').with({ label: '4XX' }), apiMetrics.metric('5XXError', 'Sum').with({ label: '5XX' })],
        right: [apiMetrics.rate5xx],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda errors and throttles',
        left: props.functions.flatMap((f) => [
          f.function.metricErrors({ period: FIVE_MINUTES }).with({ label: `${f.name} errors` }),
          f.function.metricThrottles({ period: FIVE_MINUTES }).with({ label: `${f.name} throttles` }),
        ]),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda duration p99 (ms)',
        left: props.functions.map((f) => f.function.metricDuration({ period: FIVE_MINUTES, statistic: 'p99' }).with({ label: f.name })),
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 6 }),
    );
  }
}

function nodesByShard(nodes: readonly CacheNode[]): Map<number, CacheNode[]> {
  const shards = new Map<number, CacheNode[]>();
  for (const node of nodes) shards.set(node.shard, [...(shards.get(node.shard) ?? []), node]);
  return shards;
}

function pascal(id: string): string {
  return id.replace(/(^|[^a-zA-Z0-9]+)([a-zA-Z0-9])/g, (_, __, c: string) => c.toUpperCase());
}

/** The p99 duration that alarms: `share` of the timeout, or of the time left after a long-poll's wait. */
export function durationThresholdMs(f: MonitoredFunction, share: number): number {
  const wait = f.waitsUpTo?.toMilliseconds() ?? 0;
  return wait + (f.timeout.toMilliseconds() - wait) * share;
}
