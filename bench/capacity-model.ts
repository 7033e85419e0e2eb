/**
 * The capacity model behind docs/capacity.md: from users and their habits to peak load, Lambda concurrency,
 * ElastiCache shards and replicas, and the monthly bill at list prices. Pure arithmetic, no I/O.
 *
 * Prices are AWS's public on-demand list prices for us-east-1 as we recorded them from the pricing pages (no
 * internet here to re-check): treat them as stated assumptions, dated in PRICES.asOf.
 */

export interface NodeType {
  name: string;
  /** Memory of the node type in GiB, as the ElastiCache pricing/node-type pages list it. */
  memoryGiB: number;
  /** On-demand $/hour for the Redis OSS engine in us-east-1. */
  hourlyUsd: number;
}

export const PRICES = {
  asOf: '2025-06 (AWS public price pages, us-east-1, on-demand; assumed, not re-checked)',
  /** API Gateway REST API, $ per million requests, by monthly tier (requests up to the tier's end). */
  restApiTiers: [
    { upTo: 333e6, usdPerMillion: 3.5 },
    { upTo: 1e9, usdPerMillion: 2.8 },
    { upTo: 20e9, usdPerMillion: 2.38 },
    { upTo: Infinity, usdPerMillion: 1.51 },
  ],
  /** API Gateway HTTP API (the cheaper alternative without request models), $ per million. */
  httpApiTiers: [
    { upTo: 300e6, usdPerMillion: 1.0 },
    { upTo: Infinity, usdPerMillion: 0.9 },
  ],
  /** Lambda: $ per million requests, and $ per GB-second on arm64 by monthly tier. */
  lambdaUsdPerMillionRequests: 0.2,
  lambdaArmGbSecondTiers: [
    { upTo: 7.5e9, usdPerUnit: 0.0000133334 },
    { upTo: 18.75e9, usdPerUnit: 0.0000120001 },
    { upTo: Infinity, usdPerUnit: 0.0000106667 },
  ],
  /** ElastiCache for Valkey node-based pricing is 20% below Redis OSS for the same node type. */
  valkeyDiscount: 0.2,
  hoursPerMonth: 730,
  nodeTypes: [
    { name: 'cache.r7g.large', memoryGiB: 13.07, hourlyUsd: 0.219 },
    { name: 'cache.r7g.xlarge', memoryGiB: 26.32, hourlyUsd: 0.437 },
    { name: 'cache.r7g.2xlarge', memoryGiB: 52.82, hourlyUsd: 0.873 },
    { name: 'cache.r7g.4xlarge', memoryGiB: 105.81, hourlyUsd: 1.745 },
    { name: 'cache.r7g.8xlarge', memoryGiB: 209.55, hourlyUsd: 3.49 },
    { name: 'cache.r7g.12xlarge', memoryGiB: 317.77, hourlyUsd: 5.235 },
    { name: 'cache.r7g.16xlarge', memoryGiB: 419.09, hourlyUsd: 6.981 },
  ] as NodeType[],
} as const;

export interface CapacityInputs {
  dailyActiveUsers: number;
  readsPerUserPerDay: number;
  writesPerUserPerDay: number;
  objectBytes: number;
  /** Bytes of key, including the `k:` namespace. */
  keyBytes: number;
  /** Hot data, in GB (10^9 bytes) of objects. */
  hotDataGB: number;
  /** Peak-hour rate over the daily average. */
  peakFactor: number;
  /** Redis bytes per key beyond key and value (dict entry, object header, expiry entry, allocator slack). */
  perKeyOverheadBytes: number;
  /** ElastiCache reserved-memory-percent (default 25): memory kept for replication buffers and forks. */
  reservedMemoryPercent: number;
  /** Fill of the remaining memory we plan for, leaving headroom for growth and fragmentation. */
  targetMemoryFill: number;
  /** Operations per second one primary serves at the CPU we plan for (a read is plain read commands, a write a small Lua script). */
  opsPerPrimary: number;
  replicasPerShard: number;
  engine: 'valkey' | 'redis';
  /** Billed Lambda milliseconds per request (arm64), and its memory. */
  readMs: number;
  writeMs: number;
  lambdaMemoryMB: number;
  /** Nodes per cluster we accept (ElastiCache allows up to 500 per cluster with a quota raise; 90 by default). */
  maxNodes: number;
}

export const DEFAULT_INPUTS: CapacityInputs = {
  dailyActiveUsers: 50_000_000,
  readsPerUserPerDay: 100,
  writesPerUserPerDay: 10,
  objectBytes: 512,
  keyBytes: 40,
  hotDataGB: 2000,
  peakFactor: 3,
  perKeyOverheadBytes: 100,
  reservedMemoryPercent: 25,
  targetMemoryFill: 0.8,
  opsPerPrimary: 80_000,
  replicasPerShard: 1,
  engine: 'valkey',
  readMs: 4,
  writeMs: 6,
  lambdaMemoryMB: 512,
  maxNodes: 500,
};

const SECONDS_PER_DAY = 86_400;
const DAYS_PER_MONTH = 730 / 24;
const GIB = 2 ** 30;

/** Cost of `units` under tiered unit prices (each unit priced at the tier it falls in). */
export function tieredCost(units: number, tiers: readonly { upTo: number; usdPerUnit: number }[]): number {
  let cost = 0;
  let below = 0;
  for (const tier of tiers) {
    if (units <= below) break;
    const inTier = Math.min(units, tier.upTo) - below;
    cost += inTier * tier.usdPerUnit;
    below = tier.upTo;
  }
  return cost;
}

const perMillion = (tiers: readonly { upTo: number; usdPerMillion: number }[]) => tiers.map((t) => ({ upTo: t.upTo, usdPerUnit: t.usdPerMillion / 1e6 }));

export interface ClusterPlan {
  nodeType: NodeType;
  usableGiBPerNode: number;
  shardsForMemory: number;
  shardsForThroughput: number;
  shards: number;
  nodes: number;
  hourlyUsdPerNode: number;
  monthlyUsd: number;
  /** Memory the data will take at the chosen size, over what the cluster can hold after reserved memory. */
  fill: number;
}

export interface CapacityResult {
  inputs: CapacityInputs;
  averageReadsPerSecond: number;
  averageWritesPerSecond: number;
  peakReadsPerSecond: number;
  peakWritesPerSecond: number;
  peakRequestsPerSecond: number;
  monthlyRequests: number;
  lambdaConcurrency: number;
  items: number;
  bytesPerItem: number;
  dataGiB: number;
  cluster: ClusterPlan;
  alternatives: ClusterPlan[];
  monthly: { restApi: number; httpApi: number; lambdaRequests: number; lambdaDuration: number; lambdaGbSeconds: number; elastiCache: number; totalWithRestApi: number };
}

export function planCluster(i: CapacityInputs, dataGiB: number, peakOps: number, node: NodeType): ClusterPlan {
  const usable = node.memoryGiB * (1 - i.reservedMemoryPercent / 100) * i.targetMemoryFill;
  const shardsForMemory = Math.max(1, Math.ceil(dataGiB / usable));
  const shardsForThroughput = Math.max(1, Math.ceil(peakOps / i.opsPerPrimary));
  const shards = Math.max(shardsForMemory, shardsForThroughput);
  const nodes = shards * (1 + i.replicasPerShard);
  const hourly = node.hourlyUsd * (i.engine === 'valkey' ? 1 - PRICES.valkeyDiscount : 1);
  return {
    nodeType: node,
    usableGiBPerNode: usable,
    shardsForMemory,
    shardsForThroughput,
    shards,
    nodes,
    hourlyUsdPerNode: hourly,
    monthlyUsd: nodes * hourly * PRICES.hoursPerMonth,
    fill: dataGiB / (shards * node.memoryGiB * (1 - i.reservedMemoryPercent / 100)),
  };
}

export function capacity(inputs: Partial<CapacityInputs> = {}): CapacityResult {
  const i = { ...DEFAULT_INPUTS, ...inputs };
  const readsPerDay = i.dailyActiveUsers * i.readsPerUserPerDay;
  const writesPerDay = i.dailyActiveUsers * i.writesPerUserPerDay;
  const averageReadsPerSecond = readsPerDay / SECONDS_PER_DAY;
  const averageWritesPerSecond = writesPerDay / SECONDS_PER_DAY;
  const peakReadsPerSecond = averageReadsPerSecond * i.peakFactor;
  const peakWritesPerSecond = averageWritesPerSecond * i.peakFactor;
  const monthlyReads = readsPerDay * DAYS_PER_MONTH;
  const monthlyWrites = writesPerDay * DAYS_PER_MONTH;
  const monthlyRequests = monthlyReads + monthlyWrites;
  // Little's law: requests in flight = arrival rate × time each one holds a Lambda instance.
  const lambdaConcurrency = Math.ceil(peakReadsPerSecond * (i.readMs / 1000) + peakWritesPerSecond * (i.writeMs / 1000));

  const bytesPerItem = i.objectBytes + i.keyBytes + i.perKeyOverheadBytes;
  const items = (i.hotDataGB * 1e9) / i.objectBytes;
  const dataGiB = (items * bytesPerItem) / GIB;
  const peakOps = peakReadsPerSecond + peakWritesPerSecond;
  const plans = PRICES.nodeTypes.map((n) => planCluster(i, dataGiB, peakOps, n));
  const fitting = plans.filter((p) => p.nodes <= i.maxNodes);
  const pool = fitting.length ? fitting : plans;
  const cluster = [...pool].sort((a, b) => a.monthlyUsd - b.monthlyUsd || a.nodes - b.nodes)[0];

  const gbSeconds = monthlyReads * (i.readMs / 1000) * (i.lambdaMemoryMB / 1024) + monthlyWrites * (i.writeMs / 1000) * (i.lambdaMemoryMB / 1024);
  const restApi = tieredCost(monthlyRequests, perMillion(PRICES.restApiTiers));
  const httpApi = tieredCost(monthlyRequests, perMillion(PRICES.httpApiTiers));
  const lambdaRequests = (monthlyRequests / 1e6) * PRICES.lambdaUsdPerMillionRequests;
  const lambdaDuration = tieredCost(gbSeconds, PRICES.lambdaArmGbSecondTiers);
  return {
    inputs: i,
    averageReadsPerSecond,
    averageWritesPerSecond,
    peakReadsPerSecond,
    peakWritesPerSecond,
    peakRequestsPerSecond: peakOps,
    monthlyRequests,
    lambdaConcurrency,
    items,
    bytesPerItem,
    dataGiB,
    cluster,
    alternatives: plans,
    monthly: {
      restApi,
      httpApi,
      lambdaRequests,
      lambdaDuration,
      lambdaGbSeconds: gbSeconds,
      elastiCache: cluster.monthlyUsd,
      totalWithRestApi: restApi + lambdaRequests + lambdaDuration + cluster.monthlyUsd,
    },
  };
}

// ------------------------------------------------------------------------------------------------------------------
// The two fronts (configuration field `front`): API Gateway + Lambda (`api`) against the server on Fargate behind an
// ALB (`service`). ElastiCache is the same under both, so it is left out of the comparison.

/** A unit price with where it was read. */
export interface Price {
  usd: number;
  per: string;
  source: string;
}

/** Prices of the fronts beyond PRICES (us-east-1, on-demand; as gathered in 2026 from the write-ups named in `source`). Each can be overridden: `frontCosts(…, withFrontPrices({…}))`. */
export const FRONT_PRICES = {
  fargateArmVcpuHour: { usd: 0.03238, per: 'vCPU-hour (Fargate Linux/ARM)', source: `vantage.sh/blog/fargate-pricing` },
  fargateArmGbHour: { usd: 0.00356, per: 'GB-hour (Fargate Linux/ARM)', source: `vantage.sh/blog/fargate-pricing` },
  albHour: { usd: 0.0225, per: 'ALB-hour', source: `cloud-horizons.com/blog/alb-the-line-item-nobody-watches` },
  albLcuHour: { usd: 0.008, per: 'LCU-hour', source: `cloud-horizons.com/blog/alb-the-line-item-nobody-watches` },
  logsIngestionGb: { usd: 0.5, per: 'GB ingested (CloudWatch Logs Standard)', source: `c3x.dev/blog/cloudwatch-logs-cost-optimization` },
  interfaceEndpointAzHour: { usd: 0.01, per: 'interface endpoint per AZ-hour', source: 'AWS PrivateLink pricing page (assumed, not in the reference sheet)' },
} satisfies Record<string, Price>;
export type FrontPriceName = keyof typeof FRONT_PRICES;
export type FrontPrices = Record<FrontPriceName, Price>;

/** FRONT_PRICES with some unit prices replaced (source noted as overridden). */
export function withFrontPrices(overrides: Partial<Record<FrontPriceName, number>>): FrontPrices {
  const prices = { ...FRONT_PRICES } as FrontPrices;
  for (const [name, usd] of Object.entries(overrides) as [FrontPriceName, number][]) prices[name] = { ...prices[name], usd, source: 'overridden' };
  return prices;
}

/** What one ALB LCU buys per hour (the billed LCUs are the largest of the dimensions). */
export const ALB_LCU = {
  newConnectionsPerSecond: 25,
  activeConnectionsPerMinute: 3000,
  processedGbPerHour: 1,
  source: `handbook.vantage.sh/aws/services/elb-pricing`,
} as const;

/** Inputs of the front comparison; each a named assumption with its reason. */
export interface FrontInputs {
  /**
   * CPU seconds the server spends per request: 60 µs, the production server's GET of a 512-byte value with its API
   * key checked, 2 workers and primary together (docs/benchmarks.md, section 2: 59.5 µs on the 2-core bench machine,
   * whose cores it shares with wrk and Redis; a Fargate vCPU is not the same core, so this is an estimate).
   */
  serverCpuSecondsPerRequest: number;
  /** Average task CPU auto scaling keeps (config serviceTargetCpuPercent). */
  targetCpuUtilization: number;
  /** vCPU and memory of one task (config serviceCpu / serviceMemoryMb: the dev preset's 1 vCPU, 2 GB). */
  taskVcpu: number;
  taskMemoryGB: number;
  /** Tasks always running (config serviceMinTasks). */
  minTasks: number;
  /** Zones of the VPC (the service front adds three interface endpoints in each: ECR API, ECR registry, Logs). */
  azCount: number;
  addedInterfaceEndpoints: number;
  /** Request + response bytes through the ALB per request (headers, a 512-byte value, JSON framing). Assumed. */
  albBytesPerRequest: number;
  /** Share of requests that open a new connection (clients keep connections alive). Assumed. */
  newConnectionShare: number;
  /** Connections clients hold open to the ALB. Assumed. */
  activeConnections: number;
  /** Bytes CloudWatch Logs ingests per request on the `api` front: Lambda's platform.start and platform.report JSON records (~550 B) and the stage's access-log line (~300 B). Assumed. */
  apiLogBytesPerRequest: number;
  /** Share of requests the server's access log writes (sampling), and bytes per line. Assumed. */
  serviceLogSampleRate: number;
  serviceLogBytesPerLine: number;
}

export const DEFAULT_FRONT_INPUTS: FrontInputs = {
  serverCpuSecondsPerRequest: 60e-6,
  targetCpuUtilization: 0.5,
  taskVcpu: 1,
  taskMemoryGB: 2,
  minTasks: 2,
  azCount: 3,
  addedInterfaceEndpoints: 3,
  albBytesPerRequest: 1000,
  newConnectionShare: 0.001,
  activeConnections: 2000,
  apiLogBytesPerRequest: 850,
  serviceLogSampleRate: 0.01,
  serviceLogBytesPerLine: 300,
};

export interface ApiFrontCost {
  restApi: number;
  httpApi: number;
  lambdaRequests: number;
  lambdaDuration: number;
  logs: number;
  totalWithRestApi: number;
  totalWithHttpApi: number;
}

export interface ServiceFrontCost {
  /** Tasks for the average load (what auto scaling runs on average, at least minTasks), and for the peak. */
  averageTasks: number;
  peakTasks: number;
  fargate: number;
  albHours: number;
  lcus: number;
  albLcus: number;
  endpoints: number;
  logs: number;
  total: number;
}

const HOURS_PER_MONTH = 730;
const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;

/**
 * Monthly cost of the `api` front at an average of `requestsPerSecond` (reads and writes in the envelope's mix).
 * Duration and request charges are per request, so the peak does not change them.
 */
export function apiFrontCost(requestsPerSecond: number, envelope: CapacityInputs = DEFAULT_INPUTS, front: FrontInputs = DEFAULT_FRONT_INPUTS, prices: FrontPrices = FRONT_PRICES): ApiFrontCost {
  const requests = requestsPerSecond * SECONDS_PER_MONTH;
  const readShare = envelope.readsPerUserPerDay / (envelope.readsPerUserPerDay + envelope.writesPerUserPerDay);
  const msPerRequest = readShare * envelope.readMs + (1 - readShare) * envelope.writeMs;
  const gbSeconds = requests * (msPerRequest / 1000) * (envelope.lambdaMemoryMB / 1024);
  const restApi = tieredCost(requests, perMillion(PRICES.restApiTiers));
  const httpApi = tieredCost(requests, perMillion(PRICES.httpApiTiers));
  const lambdaRequests = (requests / 1e6) * PRICES.lambdaUsdPerMillionRequests;
  const lambdaDuration = tieredCost(gbSeconds, PRICES.lambdaArmGbSecondTiers);
  const logs = ((requests * front.apiLogBytesPerRequest) / 1e9) * prices.logsIngestionGb.usd;
  const common = lambdaRequests + lambdaDuration + logs;
  return { restApi, httpApi, lambdaRequests, lambdaDuration, logs, totalWithRestApi: restApi + common, totalWithHttpApi: httpApi + common };
}

/**
 * Monthly cost of the `service` front at an average of `requestsPerSecond`: tasks enough for the average load at the
 * target CPU (auto scaling follows the day's curve, so the month's task-hours track the average; never below
 * minTasks), the ALB's hours and LCUs, the interface endpoints the tasks add, and the sampled access log.
 */
export function serviceFrontCost(requestsPerSecond: number, envelope: CapacityInputs = DEFAULT_INPUTS, front: FrontInputs = DEFAULT_FRONT_INPUTS, prices: FrontPrices = FRONT_PRICES): ServiceFrontCost {
  const tasksFor = (rps: number) => Math.max(front.minTasks, Math.ceil((rps * front.serverCpuSecondsPerRequest) / (front.taskVcpu * front.targetCpuUtilization)));
  const averageTasks = tasksFor(requestsPerSecond);
  const peakTasks = tasksFor(requestsPerSecond * envelope.peakFactor);
  const taskHour = front.taskVcpu * prices.fargateArmVcpuHour.usd + front.taskMemoryGB * prices.fargateArmGbHour.usd;
  const fargate = averageTasks * taskHour * HOURS_PER_MONTH;
  const lcus = Math.max(
    (requestsPerSecond * front.newConnectionShare) / ALB_LCU.newConnectionsPerSecond,
    front.activeConnections / ALB_LCU.activeConnectionsPerMinute,
    (requestsPerSecond * 3600 * front.albBytesPerRequest) / 1e9 / ALB_LCU.processedGbPerHour,
  );
  const albHours = HOURS_PER_MONTH * prices.albHour.usd;
  const albLcus = lcus * HOURS_PER_MONTH * prices.albLcuHour.usd;
  const endpoints = front.addedInterfaceEndpoints * front.azCount * HOURS_PER_MONTH * prices.interfaceEndpointAzHour.usd;
  const logs = ((requestsPerSecond * SECONDS_PER_MONTH * front.serviceLogSampleRate * front.serviceLogBytesPerLine) / 1e9) * prices.logsIngestionGb.usd;
  return { averageTasks, peakTasks, fargate, albHours, lcus, albLcus, endpoints, logs, total: fargate + albHours + albLcus + endpoints + logs };
}

/**
 * The average request rate below which the `api` front (with a REST or an HTTP API) costs less than `service`:
 * found by bisection, since both costs grow with the rate (the service's in task-sized steps).
 */
export function crossoverRequestsPerSecond(gateway: 'rest' | 'http', envelope: CapacityInputs = DEFAULT_INPUTS, front: FrontInputs = DEFAULT_FRONT_INPUTS, prices: FrontPrices = FRONT_PRICES): number {
  const apiCheaper = (rps: number) => {
    const api = apiFrontCost(rps, envelope, front, prices);
    return (gateway === 'rest' ? api.totalWithRestApi : api.totalWithHttpApi) < serviceFrontCost(rps, envelope, front, prices).total;
  };
  let low = 0;
  let high = 1;
  while (apiCheaper(high)) {
    low = high;
    high *= 2;
    if (high > 1e9) return Infinity;
  }
  while (high - low > 0.01) {
    const mid = (low + high) / 2;
    if (apiCheaper(mid)) low = mid;
    else high = mid;
  }
  return low;
}
