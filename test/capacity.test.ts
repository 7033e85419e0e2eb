import {
  apiFrontCost,
  capacity,
  crossoverRequestsPerSecond,
  DEFAULT_FRONT_INPUTS,
  DEFAULT_INPUTS,
  FRONT_PRICES,
  planCluster,
  PRICES,
  serviceFrontCost,
  tieredCost,
  withFrontPrices,
} from '../bench/capacity-model';
import { capacityMarkdown, parseArgs } from '../bench/capacity';

describe('capacity model', () => {
  it('turns the design envelope into the seed figures and a stated peak', () => {
    const r = capacity({ hotDataGB: 500 });
    expect(Math.round(r.averageReadsPerSecond)).toBe(57_870);
    expect(Math.round(r.averageWritesPerSecond)).toBe(5_787);
    expect(r.peakReadsPerSecond).toBeCloseTo(r.averageReadsPerSecond * DEFAULT_INPUTS.peakFactor, 6);
    expect(r.monthlyRequests).toBeCloseTo(50e6 * 110 * (730 / 24), -3);
  });

  it("sizes Lambda concurrency by Little's law", () => {
    const r = capacity({ peakFactor: 1, readMs: 10, writeMs: 10 });
    // 63,657 requests/s × 10 ms
    expect(r.lambdaConcurrency).toBe(Math.ceil(((50e6 * 110) / 86_400) * 0.01));
  });

  it('prices tiers by the units that fall in each', () => {
    const tiers = [
      { upTo: 100, usdPerUnit: 2 },
      { upTo: Infinity, usdPerUnit: 1 },
    ];
    expect(tieredCost(50, tiers)).toBe(100);
    expect(tieredCost(150, tiers)).toBe(250);
    expect(tieredCost(0, tiers)).toBe(0);
  });

  it('prices one billion REST API requests across the first two tiers', () => {
    const r = capacity({ dailyActiveUsers: 1e9 / (110 * (730 / 24)) });
    expect(r.monthlyRequests).toBeCloseTo(1e9, 0);
    expect(r.monthly.restApi).toBeCloseTo(333 * 3.5 + 667 * 2.8, 0);
    expect(r.monthly.lambdaRequests).toBeCloseTo(200, 6);
  });

  it('shards for memory with reserved memory and headroom, and for throughput', () => {
    const node = { name: 'test.node', memoryGiB: 100, hourlyUsd: 1 };
    const inputs = { ...DEFAULT_INPUTS, reservedMemoryPercent: 25, targetMemoryFill: 0.8, opsPerPrimary: 1000, replicasPerShard: 2, engine: 'redis' as const };
    // 60 GiB usable per node: 130 GiB needs 3 shards; 2,500 ops/s needs 3 too; 4,500 needs 5.
    expect(planCluster(inputs, 130, 2500, node)).toMatchObject({ usableGiBPerNode: 60, shardsForMemory: 3, shardsForThroughput: 3, shards: 3, nodes: 9 });
    const busy = planCluster(inputs, 130, 4500, node);
    expect(busy.shards).toBe(5);
    expect(busy.monthlyUsd).toBeCloseTo(15 * PRICES.hoursPerMonth, 6);
    expect(planCluster({ ...inputs, engine: 'valkey' }, 130, 2500, node).monthlyUsd).toBeCloseTo(9 * 0.8 * PRICES.hoursPerMonth, 6);
  });

  it('chooses the cheapest node type whose cluster fits the node limit', () => {
    const r = capacity({ hotDataGB: 2000 });
    const fitting = r.alternatives.filter((p) => p.nodes <= DEFAULT_INPUTS.maxNodes);
    expect(r.cluster.monthlyUsd).toBe(Math.min(...fitting.map((p) => p.monthlyUsd)));
    expect(r.cluster.fill).toBeLessThanOrEqual(DEFAULT_INPUTS.targetMemoryFill);
    expect(r.monthly.totalWithRestApi).toBeCloseTo(r.monthly.restApi + r.monthly.lambdaRequests + r.monthly.lambdaDuration + r.cluster.monthlyUsd, 6);
  });

  it('takes other inputs from the command line and refuses bad ones', () => {
    expect(parseArgs(['--dau', '1000', '--hot-gb=10,20', '--engine', 'redis'])).toEqual({
      inputs: { dailyActiveUsers: 1000, engine: 'redis' },
      front: {},
      hotGB: [10, 20],
      write: false,
    });
    expect(() => parseArgs(['--dau', 'many'])).toThrow(/--dau must be a non-negative number/);
    expect(() => parseArgs(['--colour', 'red'])).toThrow(/unknown option/);
    expect(capacityMarkdown({ dailyActiveUsers: 1000 }, [1])).toContain('--dau 1000');
  });
});

describe('the two fronts', () => {
  const month = 730 * 3600;

  it('prices the api front per request: gateway, Lambda and the per-request log bytes', () => {
    const rps = 100;
    const c = apiFrontCost(rps);
    const requests = rps * month;
    expect(c.restApi).toBeCloseTo((requests / 1e6) * 3.5, 6); // within the first REST tier
    expect(c.httpApi).toBeCloseTo((requests / 1e6) * 1.0, 6);
    expect(c.lambdaRequests).toBeCloseTo((requests / 1e6) * 0.2, 6);
    // 10 reads to 1 write: (10 × 4 ms + 6 ms) / 11 at 0.5 GB, first arm64 tier.
    expect(c.lambdaDuration).toBeCloseTo(requests * ((10 * 4 + 6) / 11 / 1000) * 0.5 * 0.0000133334, 6);
    expect(c.logs).toBeCloseTo(((requests * DEFAULT_FRONT_INPUTS.apiLogBytesPerRequest) / 1e9) * FRONT_PRICES.logsIngestionGb.usd, 6);
    expect(c.totalWithRestApi).toBeCloseTo(c.restApi + c.lambdaRequests + c.lambdaDuration + c.logs, 6);
    expect(apiFrontCost(0).totalWithRestApi).toBe(0);
  });

  it('prices the service front per hour: tasks for the load at the target CPU (at least the minimum), ALB hours and LCUs, endpoints, sampled logs', () => {
    const idle = serviceFrontCost(0);
    const taskHour = 1 * 0.03238 + 2 * 0.00356;
    expect(idle.averageTasks).toBe(2);
    expect(idle.fargate).toBeCloseTo(2 * taskHour * 730, 6);
    expect(idle.albHours).toBeCloseTo(0.0225 * 730, 6);
    // Idle, the 2,000 open connections are the largest LCU dimension: 2,000 / 3,000.
    expect(idle.lcus).toBeCloseTo(2000 / 3000, 6);
    expect(idle.endpoints).toBeCloseTo(3 * 3 * 0.01 * 730, 6);
    expect(idle.total).toBeCloseTo(idle.fargate + idle.albHours + idle.albLcus + idle.endpoints + idle.logs, 6);

    // 50,000 requests/s × 60 µs = 3.0 CPU-seconds per second; at 50% of 1 vCPU per task → 6 tasks; peak ×3 → 18.
    const busy = serviceFrontCost(50_000);
    expect(busy.averageTasks).toBe(6);
    expect(busy.peakTasks).toBe(18);
    // 50,000 × 3,600 × 1,000 B = 180 GB/h → 180 LCU (bytes dominate new connections: 50/s ÷ 25 = 2).
    expect(busy.lcus).toBeCloseTo(180, 6);
    expect(busy.logs).toBeCloseTo(((50_000 * month * 0.01 * 300) / 1e9) * 0.5, 6);
  });

  it('the server CPU per request is a named input that moves the task count', () => {
    expect(DEFAULT_FRONT_INPUTS.serverCpuSecondsPerRequest).toBe(60e-6);
    const heavier = serviceFrontCost(50_000, DEFAULT_INPUTS, { ...DEFAULT_FRONT_INPUTS, serverCpuSecondsPerRequest: 96e-6 });
    expect(heavier.averageTasks).toBe(10);
  });

  it('finds the rate where the fronts cost the same: api cheaper just below, service just above', () => {
    for (const gateway of ['rest', 'http'] as const) {
      const x = crossoverRequestsPerSecond(gateway);
      const apiTotal = (rps: number) => (gateway === 'rest' ? apiFrontCost(rps).totalWithRestApi : apiFrontCost(rps).totalWithHttpApi);
      expect(x).toBeGreaterThan(0);
      expect(apiTotal(x * 0.99)).toBeLessThan(serviceFrontCost(x * 0.99).total);
      expect(apiTotal(x * 1.01)).toBeGreaterThan(serviceFrontCost(x * 1.01).total);
    }
    // The HTTP API costs less per request, so it stays cheaper to a higher rate.
    expect(crossoverRequestsPerSecond('http')).toBeGreaterThan(crossoverRequestsPerSecond('rest'));
  });

  it('prices can be overridden one by one, and say so', () => {
    const prices = withFrontPrices({ albHour: 0.03 });
    expect(prices.albHour).toMatchObject({ usd: 0.03, source: 'overridden' });
    expect(prices.fargateArmVcpuHour).toBe(FRONT_PRICES.fargateArmVcpuHour);
    expect(serviceFrontCost(0, DEFAULT_INPUTS, DEFAULT_FRONT_INPUTS, prices).albHours).toBeCloseTo(0.03 * 730, 6);
    for (const p of Object.values(FRONT_PRICES)) expect(p.source.length).toBeGreaterThan(10);
  });

  it('at the seed envelope service costs far less than api; the docs section shows both and the crossover', () => {
    const r = capacity();
    const rps = r.averageReadsPerSecond + r.averageWritesPerSecond;
    expect(serviceFrontCost(rps).total * 10).toBeLessThan(apiFrontCost(rps).totalWithHttpApi);
    const md = capacityMarkdown({}, [500], { serverCpuSecondsPerRequest: 75e-6 });
    expect(md).toContain('## The two fronts: `api` or `service`');
    expect(md).toContain('--server-cpu-us 75');
    expect(md).toMatch(/Below [\d.]+ requests\/s on average/);
    expect(parseArgs(['--server-cpu-us', '30', '--min-tasks', '3']).front).toEqual({ serverCpuSecondsPerRequest: 30e-6, minTasks: 3 });
  });
});
