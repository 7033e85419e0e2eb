import { capacity, DEFAULT_INPUTS, planCluster, PRICES, tieredCost } from '../bench/capacity-model';
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
      hotGB: [10, 20],
      write: false,
    });
    expect(() => parseArgs(['--dau', 'many'])).toThrow(/--dau must be a non-negative number/);
    expect(() => parseArgs(['--colour', 'red'])).toThrow(/unknown option/);
    expect(capacityMarkdown({ dailyActiveUsers: 1000 }, [1])).toContain('--dau 1000');
  });
});
