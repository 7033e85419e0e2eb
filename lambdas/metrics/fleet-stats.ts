import type { GetMetricDataInput, GetMetricDataOutput, MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { CacheError } from '../core/errors';
import {
  emptyCounts,
  FAMILY_DIMENSION,
  hitRatio,
  HITS_METRIC,
  METRICS_NAMESPACE,
  MISSES_METRIC,
  ROUTE_FAMILIES,
  SERVICE_DIMENSION,
  SERVICE_NAME,
  type HitCounts,
} from './names';

/** The windows `GET /cache/stats?window=` accepts, in seconds. */
export const STATS_WINDOWS = { '5m': 300, '1h': 3600, '24h': 86_400 } as const;
export type StatsWindow = keyof typeof STATS_WINDOWS;
export const DEFAULT_STATS_WINDOW: StatsWindow = '1h';

/** `?window=`: one of STATS_WINDOWS (default 1h); anything else is a 400 naming the choices. */
export function parseStatsWindow(raw: string | undefined): StatsWindow {
  if (raw === undefined || raw === '') return DEFAULT_STATS_WINDOW;
  if (Object.hasOwn(STATS_WINDOWS, raw)) return raw as StatsWindow;
  throw new CacheError('VALIDATION_FAILED', `window: must be one of ${Object.keys(STATS_WINDOWS).join(', ')}, not "${raw}"`);
}

/** The one CloudWatch call stats make; an interface so tests (aws-sdk-client-mock) and other sources can stand in. */
export interface MetricDataSource {
  getMetricData(input: GetMetricDataInput): Promise<GetMetricDataOutput>;
}

/** CloudWatch, with the SDK loaded on first use (the Lambda runtime ships it; only the stats function pays). */
export class CloudWatchMetricData implements MetricDataSource {
  private client?: import('@aws-sdk/client-cloudwatch').CloudWatchClient;
  async getMetricData(input: GetMetricDataInput): Promise<GetMetricDataOutput> {
    const sdk = await import('@aws-sdk/client-cloudwatch');
    // Bounded like every other control-plane call: a slow CloudWatch costs this request seconds, not the timeout.
    this.client ??= new sdk.CloudWatchClient({
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true },
    });
    return this.client.send(new sdk.GetMetricDataCommand(input));
  }
}

/** GetMetricData takes at most 500 queries per call (its documented limit). */
export const MAX_METRIC_QUERIES = 500;

/** ElastiCache's per-node metrics stats report, with the statistic taken over the window. */
const NODE_METRICS = [
  { id: 'cpu', metric: 'CPUUtilization', stat: 'Average' },
  { id: 'engine', metric: 'EngineCPUUtilization', stat: 'Average' },
  { id: 'memory', metric: 'DatabaseMemoryUsagePercentage', stat: 'Maximum' },
  { id: 'evictions', metric: 'Evictions', stat: 'Sum' },
  { id: 'connections', metric: 'CurrConnections', stat: 'Maximum' },
  // Only replicas publish it; a primary's query simply returns no value.
  { id: 'lag', metric: 'ReplicationLag', stat: 'Maximum' },
] as const;

const HIT_QUERIES = 2 * (ROUTE_FAMILIES.length + 1);
/** The most nodes one call can cover next to the hit/miss queries. */
export const MAX_REPORTED_NODES = Math.floor((MAX_METRIC_QUERIES - HIT_QUERIES) / NODE_METRICS.length);

export interface FleetStatsRequest {
  window: StatsWindow;
  /** ElastiCache node ids (CacheClusterId) of the replication group. */
  nodeIds: readonly string[];
  now: number;
}

/**
 * The one GetMetricData request: one period covering the whole window (so one value per query), ending at the
 * last whole minute (CloudWatch rounds the start down to a minute anyway, and the minute in progress is not
 * complete). Hits/misses come from the service's own metrics (lambdas/metrics/hit-counts.ts), ElastiCache's per node.
 */
export function fleetStatsQuery(r: FleetStatsRequest): GetMetricDataInput {
  const period = STATS_WINDOWS[r.window];
  const end = Math.floor(r.now / 60_000) * 60_000;
  const service = { Name: SERVICE_DIMENSION, Value: SERVICE_NAME };
  const hitQuery = (id: string, metric: string, family?: string): MetricDataQuery => ({
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: METRICS_NAMESPACE,
        MetricName: metric,
        Dimensions: family ? [service, { Name: FAMILY_DIMENSION, Value: family }] : [service],
      },
      Period: period,
      Stat: 'Sum',
    },
    ReturnData: true,
  });
  const queries: MetricDataQuery[] = [hitQuery('hits', HITS_METRIC), hitQuery('misses', MISSES_METRIC)];
  for (const f of ROUTE_FAMILIES) queries.push(hitQuery(`hits_${f}`, HITS_METRIC, f), hitQuery(`misses_${f}`, MISSES_METRIC, f));
  r.nodeIds.slice(0, MAX_REPORTED_NODES).forEach((node, i) => {
    for (const m of NODE_METRICS) {
      queries.push({
        Id: `${m.id}_${i}`,
        MetricStat: {
          Metric: { Namespace: 'AWS/ElastiCache', MetricName: m.metric, Dimensions: [{ Name: 'CacheClusterId', Value: node }] },
          Period: period,
          Stat: m.stat,
        },
        ReturnData: true,
      });
    }
  });
  return {
    MetricDataQueries: queries,
    StartTime: new Date(end - period * 1000),
    EndTime: new Date(end),
    ScanBy: 'TimestampDescending',
  };
}

export interface NodeFigures {
  id: string;
  cpuPercent: number | null;
  engineCpuPercent: number | null;
  memoryPercent: number | null;
  evictions: number | null;
  connections: number | null;
  replicationLagSeconds: number | null;
}

export interface FleetStats {
  source: 'cloudwatch';
  window: StatsWindow;
  from: string;
  to: string;
  /** How fresh the figures are, in words. */
  freshness: string;
  hits: number;
  misses: number;
  hitRatio: number | null;
  families: Record<string, { hits: number; misses: number; hitRatio: number | null }>;
  cache: {
    nodes: number;
    /** Nodes whose figures are below (all of them unless the group has more than MAX_REPORTED_NODES). */
    nodesReported: number;
    maxCpuPercent: number | null;
    maxEngineCpuPercent: number | null;
    maxMemoryPercent: number | null;
    evictions: number;
    connections: number;
    maxReplicationLagSeconds: number | null;
    perNode: NodeFigures[];
  };
}

/** Reads the figures out of the answer: one value per query (a sum if CloudWatch split the window). */
export function fleetStatsFrom(request: FleetStatsRequest, input: GetMetricDataInput, output: GetMetricDataOutput): FleetStats {
  const values = new Map<string, number>();
  for (const r of output.MetricDataResults ?? []) {
    if (r.Id && r.Values?.length) values.set(r.Id, r.Values.reduce((a, b) => a + b, 0));
  }
  const count = (id: string) => values.get(id) ?? 0;
  const figure = (id: string) => values.get(id) ?? null;
  const counts: HitCounts = emptyCounts();
  for (const f of ROUTE_FAMILIES) counts[f] = { hits: count(`hits_${f}`), misses: count(`misses_${f}`) };
  const perNode: NodeFigures[] = request.nodeIds.slice(0, MAX_REPORTED_NODES).map((id, i) => ({
    id,
    cpuPercent: figure(`cpu_${i}`),
    engineCpuPercent: figure(`engine_${i}`),
    memoryPercent: figure(`memory_${i}`),
    evictions: figure(`evictions_${i}`),
    connections: figure(`connections_${i}`),
    replicationLagSeconds: figure(`lag_${i}`),
  }));
  const max = (pick: (n: NodeFigures) => number | null) => {
    const xs = perNode.map(pick).filter((x): x is number => x !== null);
    return xs.length ? Math.max(...xs) : null;
  };
  const sum = (pick: (n: NodeFigures) => number | null) => perNode.reduce((a, n) => a + (pick(n) ?? 0), 0);
  const total = { hits: count('hits'), misses: count('misses') };
  return {
    source: 'cloudwatch',
    window: request.window,
    from: input.StartTime!.toISOString(),
    to: input.EndTime!.toISOString(),
    freshness:
      'CloudWatch figures up to the last whole minute; each function instance publishes its hit/miss counts once a minute, ' +
      'and ElastiCache its metrics every 60 s, so the last one or two minutes may still be arriving',
    ...total,
    hitRatio: hitRatio(total),
    families: Object.fromEntries(ROUTE_FAMILIES.map((f) => [f, { ...counts[f], hitRatio: hitRatio(counts[f]) }])),
    cache: {
      nodes: request.nodeIds.length,
      nodesReported: perNode.length,
      maxCpuPercent: max((n) => n.cpuPercent),
      maxEngineCpuPercent: max((n) => n.engineCpuPercent),
      maxMemoryPercent: max((n) => n.memoryPercent),
      evictions: sum((n) => n.evictions),
      connections: sum((n) => n.connections),
      maxReplicationLagSeconds: max((n) => n.replicationLagSeconds),
      perNode,
    },
  };
}

/** The fleet's stats over `window`, in one GetMetricData call. */
export async function readFleetStats(source: MetricDataSource, request: FleetStatsRequest): Promise<FleetStats> {
  const input = fleetStatsQuery(request);
  let output: GetMetricDataOutput;
  try {
    output = await source.getMetricData(input);
  } catch (e) {
    throw Object.assign(new CacheError('UNAVAILABLE', 'CloudWatch did not answer; retry shortly'), { cause: e });
  }
  return fleetStatsFrom(request, input, output);
}

/**
 * Shares one answer between the calls made within `ttlMs` of it (per key, e.g. the window): a burst of stats calls
 * costs one read of CloudWatch or Redis, not one each. A failed read is not kept.
 */
export class SharedAnswer<T> {
  private readonly answers = new Map<string, { at: number; value: Promise<T> }>();
  constructor(
    private readonly ttlMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string, read: () => Promise<T>): Promise<T> {
    const t = this.now();
    const kept = this.answers.get(key);
    if (kept && t - kept.at < this.ttlMs) return kept.value;
    const value = read();
    this.answers.set(key, { at: t, value });
    value.catch(() => {
      if (this.answers.get(key)?.value === value) this.answers.delete(key);
    });
    return value;
  }
}
