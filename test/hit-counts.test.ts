import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataInput } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as stats } from '../lambdas/handlers/stats';
import { MAX_METRIC_QUERIES, MAX_REPORTED_NODES, SharedAnswer, fleetStatsQuery } from '../lambdas/metrics/fleet-stats';
import { EmfHitSink, HitCounter, RedisHitSink, type HitSink } from '../lambdas/metrics/hit-counts';
import { startRedisProcess } from '../lambdas/local/redis-process';
import Redis from 'ioredis';
import { withDeadline } from '../lambdas/core/deadline';
import { ROUTE_FAMILIES, type HitCounts } from '../lambdas/metrics/names';
import { closeServices } from '../lambdas/services';
import { lambdaContext, proxyEvent } from './support/events';
import { restoreServiceEnv, setServiceEnv } from './support/env';

class FakeSink implements HitSink {
  readonly name = 'redis';
  published: HitCounts[] = [];
  fail = false;
  constructor(readonly intervalMs: number) {}
  async publish(counts: HitCounts): Promise<void> {
    if (this.fail) throw new Error('unreachable');
    this.published.push(counts);
  }
}

const until = async (check: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('HitCounter: counts in memory, publishes in bulk', () => {
  test('many reads become one publication per interval, with every count in it', async () => {
    const sink = new FakeSink(200);
    const counter = new HitCounter([sink]);
    for (let i = 0; i < 1000; i++) counter.record('entries', i % 4 === 0 ? 0 : 1, i % 4 === 0 ? 1 : 0);
    counter.record('batch', 7, 3);
    expect(sink.published).toHaveLength(0); // recording never publishes on the caller's path
    await until(() => sink.published.length === 1);
    expect(sink.published[0].entries).toEqual({ hits: 750, misses: 250 });
    expect(sink.published[0].batch).toEqual({ hits: 7, misses: 3 });
    counter.record('lists', 1);
    const started = Date.now();
    await until(() => sink.published.length === 2);
    // The second publication waits for the interval since the first began.
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(sink.published[1].lists).toEqual({ hits: 1, misses: 0 });
    counter.stop();
  });

  test('a failed publication keeps its counts for the next one; unpublished counts are visible meanwhile', async () => {
    const sink = new FakeSink(50);
    sink.fail = true;
    const counter = new HitCounter([sink]);
    counter.record('counters', 2, 1);
    await new Promise((r) => setTimeout(r, 120));
    expect(counter.unpublished('redis').counters).toEqual({ hits: 2, misses: 1 });
    sink.fail = false;
    counter.record('counters', 1, 0);
    await until(() => sink.published.length > 0);
    expect(sink.published.reduce((a, c) => a + c.counters.hits, 0)).toBe(3);
    expect(counter.unpublished('redis').counters).toEqual({ hits: 0, misses: 0 });
    counter.stop();
  });
});

describe('RedisHitSink against a real redis-server', () => {
  test('a flush to a Redis that stops answering is not sent twice: its counts are applied once when Redis answers', async () => {
    const server = await startRedisProcess();
    const client = new Redis(server.url);
    const admin = new Redis(server.url);
    try {
      const sink = new RedisHitSink(() => client, 50);
      const counter = new HitCounter([sink]);
      // Redis accepts commands but answers nothing for 1.5 s; the counter flushes every 50 ms meanwhile.
      await admin.call('CLIENT', 'PAUSE', '1500', 'ALL');
      counter.record('entries', 5, 2);
      await new Promise((r) => setTimeout(r, 300));
      counter.record('entries', 1, 0);
      // A caller that cannot wait (closing) bounds flushAll; the flush under way holds it.
      await expect(withDeadline(counter.flushAll(), 200)).rejects.toThrow(/did not answer/);
      await until(() => counter.unpublished('redis').entries.hits === 0, 10_000);
      const stored = await admin.hgetall(sink.key);
      expect(Object.values(stored).map(Number).sort((a, b) => a - b)).toEqual([2, 6]);
      counter.stop();
    } finally {
      client.disconnect();
      admin.disconnect();
      await server.stop();
    }
  });
});

describe('EmfHitSink: Powertools Metrics, one EMF line per route family per flush', () => {
  test('Hits and Misses under [service, RouteFamily] and [service]', async () => {
    const lines: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const counts = Object.fromEntries(ROUTE_FAMILIES.map((f) => [f, { hits: 0, misses: 0 }])) as HitCounts;
      counts.entries = { hits: 900, misses: 100 };
      counts.zsets = { hits: 0, misses: 4 };
      await new EmfHitSink().publish(counts);
    } finally {
      spy.mockRestore();
    }
    const emf = lines.map((l) => JSON.parse(l));
    expect(emf).toHaveLength(2);
    expect(emf[0]).toMatchObject({ service: 'skycache', RouteFamily: 'entries', Hits: 900, Misses: 100 });
    expect(emf[0]._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'skycache',
      Dimensions: [['service', 'RouteFamily'], ['service']],
      Metrics: [
        { Name: 'Hits', Unit: 'Count' },
        { Name: 'Misses', Unit: 'Count' },
      ],
    });
    expect(emf[1]).toMatchObject({ RouteFamily: 'zsets', Hits: 0, Misses: 4 });
  });
});

/** What GetMetricData documents (client-cloudwatch's model): checked on every request the stats make. */
function expectDocumentedShape(input: GetMetricDataInput): void {
  const queries = input.MetricDataQueries!;
  expect(queries.length).toBeGreaterThan(0);
  expect(queries.length).toBeLessThanOrEqual(MAX_METRIC_QUERIES); // "as many as 500 MetricDataQuery structures"
  expect(new Set(queries.map((q) => q.Id)).size).toBe(queries.length);
  for (const q of queries) {
    // "must start with a lowercase letter and contain only letters, numbers, and the underscore"
    expect(q.Id).toMatch(/^[a-z][a-zA-Z0-9_]{0,254}$/);
    // exactly one of MetricStat and Expression
    expect(!!q.MetricStat !== !!q.Expression).toBe(true);
    const stat = q.MetricStat!;
    expect(['Sum', 'Average', 'Maximum', 'Minimum', 'SampleCount']).toContain(stat.Stat);
    // standard resolution: a multiple of 60 seconds
    expect(stat.Period! % 60).toBe(0);
    expect(stat.Metric!.Namespace).toBeTruthy();
    expect(stat.Metric!.MetricName).toBeTruthy();
    expect(stat.Metric!.Dimensions!.length).toBeLessThanOrEqual(30);
  }
  expect(input.StartTime!.getTime()).toBeLessThan(input.EndTime!.getTime());
  expect(input.EndTime!.getTime() % 60_000).toBe(0);
  expect(['TimestampDescending', 'TimestampAscending', undefined]).toContain(input.ScanBy);
}

describe('GET /cache/stats deployed: one GetMetricData call', () => {
  const cw = mockClient(CloudWatchClient);
  const nodes = ['skycache-rg-0001-001', 'skycache-rg-0001-002', 'skycache-rg-0002-001', 'skycache-rg-0002-002'];
  const get = (query?: Record<string, string>) =>
    stats(proxyEvent({ resource: '/cache/stats', queryStringParameters: query ?? null }), lambdaContext);

  beforeAll(() =>
    // No Redis is reachable here: deployed stats must not need it.
    setServiceEnv({ CACHE_NODE_IDS: nodes.join(','), REDIS_URL: 'redis://127.0.0.1:1', HIT_COUNTS: 'off' }),
  );
  afterAll(async () => {
    cw.restore();
    await restoreServiceEnv();
  });
  beforeEach(async () => {
    cw.reset();
    await closeServices();
  });

  test('window 5m: hits and misses of the fleet, ElastiCache figures per node, and the query asked', async () => {
    cw.on(GetMetricDataCommand).callsFake((input: GetMetricDataInput) => ({
      MetricDataResults: input.MetricDataQueries!.map((q) => {
        const values: Record<string, number[]> = { hits: [90], misses: [10], hits_entries: [80], misses_entries: [5], hits_batch: [10], misses_batch: [5] };
        if (q.Id!.startsWith('engine_')) return { Id: q.Id, StatusCode: 'Complete', Values: [Number(q.Id!.slice(7)) * 10] };
        if (q.Id === 'lag_1') return { Id: q.Id, StatusCode: 'Complete', Values: [0.5] };
        return { Id: q.Id, StatusCode: 'Complete', Values: values[q.Id!] ?? [] };
      }),
    }));
    const res = await get({ window: '5m' });
    expect(res.statusCode).toBe(200);
    const body = JSON.parse(res.body);
    expect(cw.commandCalls(GetMetricDataCommand)).toHaveLength(1);
    const input = cw.commandCalls(GetMetricDataCommand)[0].args[0].input;
    expectDocumentedShape(input);
    expect(input.EndTime!.getTime() - input.StartTime!.getTime()).toBe(300_000);
    for (const q of input.MetricDataQueries!) expect(q.MetricStat!.Period).toBe(300);
    const hits = input.MetricDataQueries!.find((q) => q.Id === 'hits')!;
    expect(hits.MetricStat).toEqual({
      Metric: { Namespace: 'skycache', MetricName: 'Hits', Dimensions: [{ Name: 'service', Value: 'skycache' }] },
      Period: 300,
      Stat: 'Sum',
    });
    const engine = input.MetricDataQueries!.filter((q) => q.MetricStat!.Metric!.MetricName === 'EngineCPUUtilization');
    expect(engine.map((q) => q.MetricStat!.Metric!.Dimensions)).toEqual(nodes.map((n) => [{ Name: 'CacheClusterId', Value: n }]));
    expect(body).toMatchObject({
      source: 'cloudwatch',
      window: '5m',
      from: input.StartTime!.toISOString(),
      to: input.EndTime!.toISOString(),
      hits: 90,
      misses: 10,
      hitRatio: 0.9,
      families: { entries: { hits: 80, misses: 5 }, batch: { hits: 10, misses: 5 }, lists: { hits: 0, misses: 0, hitRatio: null } },
      cache: { nodes: 4, nodesReported: 4, maxEngineCpuPercent: 30, maxReplicationLagSeconds: 0.5 },
    });
    expect(body.freshness).toMatch(/minute/);
  });

  test('calls within a second share one answer; each window is its own query', async () => {
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const answers = await Promise.all([get(), get(), get({ window: '1h' })]);
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200]);
    expect(cw.commandCalls(GetMetricDataCommand)).toHaveLength(1);
    await get({ window: '24h' });
    expect(cw.commandCalls(GetMetricDataCommand)).toHaveLength(2);
    const day = cw.commandCalls(GetMetricDataCommand)[1].args[0].input;
    expectDocumentedShape(day);
    expect(day.MetricDataQueries![0].MetricStat!.Period).toBe(86_400);
  });

  test.each(['10m', '1d', 'week', '5M'])('window=%s is a 400 naming the choices', async (window) => {
    const res = await get({ window });
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body).error.message).toBe(`window: must be one of 5m, 1h, 24h, not "${window}"`);
    expect(cw.commandCalls(GetMetricDataCommand)).toHaveLength(0);
  });

  test('CloudWatch failing is a 503, not a 500', async () => {
    cw.on(GetMetricDataCommand).rejects(new Error('ThrottlingException'));
    const res = await get({ window: '1h' });
    expect(res.statusCode).toBe(503);
  });

  test('a cache larger than one call can cover reports the nodes that fit, within the query limit', () => {
    const many = Array.from({ length: 150 }, (_, i) => `rg-${String(i).padStart(4, '0')}-001`);
    const input = fleetStatsQuery({ window: '1h', nodeIds: many, now: Date.now() });
    expectDocumentedShape(input);
    expect(input.MetricDataQueries!.filter((q) => q.Id!.startsWith('cpu_'))).toHaveLength(MAX_REPORTED_NODES);
  });
});

describe('SharedAnswer', () => {
  test('one read per key within the time; a failed read is not kept', async () => {
    let now = 0;
    const shared = new SharedAnswer<number>(1000, () => now);
    let reads = 0;
    const read = async () => ++reads;
    expect(await Promise.all([shared.get('a', read), shared.get('a', read)])).toEqual([1, 1]);
    now = 999;
    expect(await shared.get('a', read)).toBe(1);
    now = 1000;
    expect(await shared.get('a', read)).toBe(2);
    await expect(shared.get('b', () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(await shared.get('b', read)).toBe(3);
  });
});
