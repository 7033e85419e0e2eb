import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import type { AlarmOptions, Monitoring } from './monitoring';

/** Alarm thresholds of the service front; every one has a default. */
export interface ServiceThresholds {
  /** Share of requests answered 5XX by the load balancer or the tasks, percent. @default 1 */
  readonly http5xxPercent?: number;
  /** p99 of the tasks' response time as the load balancer sees it, milliseconds. @default 250 */
  readonly targetP99LatencyMs?: number;
  /** Average CPU of the service's tasks, percent (auto scaling aims lower). @default 85 */
  readonly cpuPercent?: number;
  /** Average memory of the service's tasks, percent. @default 85 */
  readonly memoryPercent?: number;
}

export interface ServiceMonitoringProps {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly service: ecs.FargateService;
  /** The stack's monitoring: the alarms go to its topic, the graphs on its dashboard. */
  readonly monitoring: Monitoring;
  readonly thresholds?: ServiceThresholds;
}

const ONE_MINUTE = Duration.minutes(1);

/**
 * Alarms of the service front on the stack's topic — 5XX rate (load balancer and targets), target p99 latency, any
 * unhealthy target, task CPU and memory — and their graphs on the stack's dashboard.
 */
export class ServiceMonitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ServiceMonitoringProps) {
    super(scope, id);
    const t = props.thresholds ?? {};
    const alarms: cloudwatch.Alarm[] = [];
    const alarm = (alarmId: string, description: string, options: AlarmOptions) => {
      const a = props.monitoring.addAlarm(this, alarmId, description, options);
      alarms.push(a);
      return a;
    };

    const lb = props.loadBalancer.metrics;
    const tg = props.targetGroup.metrics;
    const requests = lb.requestCount({ period: ONE_MINUTE, statistic: 'Sum' });
    const http5xxRate = new cloudwatch.MathExpression({
      expression: 'IF(requests > 0, 100 * (FILL(elb5xx, 0) + FILL(target5xx, 0)) / requests, 0)',
      usingMetrics: {
        requests,
        elb5xx: lb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: ONE_MINUTE, statistic: 'Sum' }),
        target5xx: tg.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: ONE_MINUTE, statistic: 'Sum' }),
      },
      label: 'Service 5XX rate (%)',
      period: ONE_MINUTE,
    });
    alarm('Http5xxRate', 'The service answers too many requests with 5XX (load balancer or server)', {
      metric: http5xxRate,
      threshold: t.http5xxPercent ?? 1,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
    });
    const targetP99 = tg.targetResponseTime({ period: ONE_MINUTE, statistic: 'p99' });
    alarm('TargetLatencyP99', 'p99 response time of the server tasks is high', {
      metric: targetP99,
      // TargetResponseTime is in seconds.
      threshold: (t.targetP99LatencyMs ?? 250) / 1000,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
    });
    const unhealthy = tg.unhealthyHostCount({ period: ONE_MINUTE, statistic: 'Maximum' });
    alarm('UnhealthyTargets', 'A server task fails its readiness check (/readyz: it cannot reach the cache)', {
      metric: unhealthy,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
    });
    const cpu = props.service.metricCpuUtilization({ period: ONE_MINUTE });
    alarm('TaskCpu', 'CPU of the server tasks is high: auto scaling is at its maximum or too slow', {
      metric: cpu,
      threshold: t.cpuPercent ?? 85,
      evaluationPeriods: 10,
      datapointsToAlarm: 8,
    });
    const memory = props.service.metricMemoryUtilization({ period: ONE_MINUTE });
    alarm('TaskMemory', 'Memory of the server tasks is high', {
      metric: memory,
      threshold: t.memoryPercent ?? 85,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
    });

    this.alarms = alarms;
    props.monitoring.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Service requests and 5XX rate', left: [requests.with({ label: 'requests / min' })], right: [http5xxRate], width: 8 }),
      new cloudwatch.GraphWidget({
        title: 'Service target response time (s)',
        left: [tg.targetResponseTime({ period: ONE_MINUTE, statistic: 'p50' }).with({ label: 'p50' }), targetP99.with({ label: 'p99' })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Service tasks',
        left: [cpu.with({ label: 'CPU %' }), memory.with({ label: 'memory %' })],
        right: [tg.healthyHostCount({ period: ONE_MINUTE, statistic: 'Minimum' }).with({ label: 'healthy' }), unhealthy.with({ label: 'unhealthy' })],
        width: 8,
      }),
    );
    this.alarms = alarms;
    props.monitoring.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Service alarms', alarms: this.alarms, width: 24, height: 3 }));
  }
}
