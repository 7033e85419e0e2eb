/**
 * Capacity plan for an envelope of users: `npx tsx bench/capacity.ts [options]` prints it as Markdown (the text of
 * docs/capacity.md with the defaults; `--write` writes that file).
 *
 *   --dau 50000000  --reads 100  --writes 10  --object-bytes 512  --key-bytes 40
 *   --hot-gb 500,2000 (one plan per value)  --peak 3  --replicas 1  --engine valkey|redis
 *   --read-ms 4  --write-ms 6  --lambda-mb 512  --ops-per-primary 80000  --fill 0.8  --max-nodes 500
 * The fronts (api against service): --server-cpu-us 48  --min-tasks 2  --task-vcpu 1  --task-gb 2  --target-cpu 0.5
 *   --log-sample 0.01  --api-log-bytes 850
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  ALB_LCU,
  apiFrontCost,
  capacity,
  crossoverRequestsPerSecond,
  DEFAULT_FRONT_INPUTS,
  DEFAULT_INPUTS,
  FRONT_PRICES,
  PRICES,
  serviceFrontCost,
  type CapacityInputs,
  type CapacityResult,
  type FrontInputs,
} from './capacity-model';

const OPTIONS: Record<string, keyof CapacityInputs> = {
  dau: 'dailyActiveUsers',
  reads: 'readsPerUserPerDay',
  writes: 'writesPerUserPerDay',
  'object-bytes': 'objectBytes',
  'key-bytes': 'keyBytes',
  peak: 'peakFactor',
  replicas: 'replicasPerShard',
  'read-ms': 'readMs',
  'write-ms': 'writeMs',
  'lambda-mb': 'lambdaMemoryMB',
  'ops-per-primary': 'opsPerPrimary',
  fill: 'targetMemoryFill',
  'max-nodes': 'maxNodes',
  'overhead-bytes': 'perKeyOverheadBytes',
  'reserved-percent': 'reservedMemoryPercent',
};

/** Options of the front comparison, with the divisor from the option's unit to the input's (µs → s). */
const FRONT_OPTIONS: Record<string, [keyof FrontInputs, number]> = {
  'server-cpu-us': ['serverCpuSecondsPerRequest', 1e6],
  'min-tasks': ['minTasks', 1],
  'task-vcpu': ['taskVcpu', 1],
  'task-gb': ['taskMemoryGB', 1],
  'target-cpu': ['targetCpuUtilization', 1],
  'log-sample': ['serviceLogSampleRate', 1],
  'api-log-bytes': ['apiLogBytesPerRequest', 1],
};

export function parseArgs(argv: string[]): { inputs: Partial<CapacityInputs>; front: Partial<FrontInputs>; hotGB: number[]; write: boolean } {
  const inputs: Partial<CapacityInputs> = {};
  const front: Partial<FrontInputs> = {};
  let hotGB = [500, 2000];
  let write = false;
  for (let a = 0; a < argv.length; a++) {
    const arg = argv[a];
    if (arg === '--write') {
      write = true;
      continue;
    }
    const [name, inline] = arg.replace(/^--/, '').split('=');
    const value = inline ?? argv[++a];
    if (value === undefined) throw new Error(`${arg} needs a value`);
    if (name === 'hot-gb') hotGB = value.split(',').map(Number);
    else if (name === 'engine') {
      if (value !== 'valkey' && value !== 'redis') throw new Error('--engine is valkey or redis');
      inputs.engine = value;
    } else if (OPTIONS[name]) {
      const n = Number(value);
      if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, not "${value}"`);
      (inputs as Record<string, number>)[OPTIONS[name]] = n;
    } else if (FRONT_OPTIONS[name]) {
      const n = Number(value);
      if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, not "${value}"`);
      const [key, divisor] = FRONT_OPTIONS[name];
      front[key] = n / divisor;
    } else throw new Error(`unknown option ${arg}`);
  }
  if (hotGB.some((g) => !(g > 0))) throw new Error('--hot-gb must be positive numbers, comma-separated');
  return { inputs, front, hotGB, write };
}

const usd = (n: number) => `$${Math.round(n).toLocaleString('en-US')}`;
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const dec = (n: number, d = 1) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/** Bytes of replication stream per entry write: the SET the script replicates (RESP framing, key, header, value, PX). */
function replicatedWriteBytes(i: CapacityInputs): number {
  return i.keyBytes + i.objectBytes + 60 + 40;
}

function plan(r: CapacityResult): string {
  const i = r.inputs;
  const c = r.cluster;
  const m = r.monthly;
  const engineNote = i.engine === 'valkey' ? ` × ${1 - PRICES.valkeyDiscount} (Valkey)` : '';
  return [
    `### Hot data ${int(i.hotDataGB)} GB`,
    '',
    '**Memory.** ' +
      `${int(i.hotDataGB)} GB ÷ ${i.objectBytes} B = ${int(r.items)} objects; each takes ${i.objectBytes} + ${i.keyBytes} (key) + ${i.perKeyOverheadBytes} (Redis overhead) = ${r.bytesPerItem} B, ` +
      `so ${dec(r.dataGiB)} GiB in Redis. A ${c.nodeType.name} has ${c.nodeType.memoryGiB} GiB; less ${i.reservedMemoryPercent}% reserved memory and filled to ${i.targetMemoryFill * 100}% ` +
      `it holds ${dec(c.usableGiBPerNode)} GiB → ${int(c.shardsForMemory)} shard(s) for memory; ${int(r.peakRequestsPerSecond)} ops/s at peak ÷ ${int(i.opsPerPrimary)} per primary → ${int(c.shardsForThroughput)} for throughput.`,
    '',
    `**Cluster.** ${c.shards} shard(s) × (1 primary + ${i.replicasPerShard} replica(s)) = ${c.nodes} × ${c.nodeType.name} (${i.engine}), cluster mode on, Multi-AZ with automatic failover; ` +
      `data fills ${dec(c.fill * 100)}% of the memory left after reserved memory. ${c.nodes} nodes × $${c.nodeType.hourlyUsd}/h${engineNote} × ${PRICES.hoursPerMonth} h = **${usd(m.elastiCache)}/month**.`,
    '',
    '| node type | GiB | shards (memory / throughput) | nodes | $/month |',
    '| --- | --- | --- | --- | --- |',
    ...r.alternatives.map(
      (p) => `| ${p.nodeType.name}${p === c ? ' (chosen)' : ''} | ${p.nodeType.memoryGiB} | ${p.shards} (${p.shardsForMemory} / ${p.shardsForThroughput}) | ${p.nodes}${p.nodes > i.maxNodes ? ' (over the node limit)' : ''} | ${usd(p.monthlyUsd)} |`,
    ),
    '',
    '| monthly cost | arithmetic | $/month |',
    '| --- | --- | --- |',
    `| API Gateway REST API | ${int(r.monthlyRequests / 1e6)} M requests, tiered ${PRICES.restApiTiers.map((t) => `$${t.usdPerMillion}`).join(' / ')} per M | ${usd(m.restApi)} |`,
    `| Lambda requests | ${int(r.monthlyRequests / 1e6)} M × $${PRICES.lambdaUsdPerMillionRequests} per M | ${usd(m.lambdaRequests)} |`,
    `| Lambda duration (arm64) | ${int(m.lambdaGbSeconds / 1e6)} M GB-s (reads ${i.readMs} ms, writes ${i.writeMs} ms, ${i.lambdaMemoryMB} MB), tiered from $${PRICES.lambdaArmGbSecondTiers[0].usdPerUnit}/GB-s | ${usd(m.lambdaDuration)} |`,
    `| ElastiCache | as above | ${usd(m.elastiCache)} |`,
    `| **total** | | **${usd(m.totalWithRestApi)}** |`,
    `| (HTTP API instead of REST) | ${int(r.monthlyRequests / 1e6)} M × $${PRICES.httpApiTiers[0].usdPerMillion} / $${PRICES.httpApiTiers[1].usdPerMillion} per M | ${usd(m.httpApi)} |`,
    '',
    '**Configuration that realizes it**',
    '',
    '```json',
    JSON.stringify(
      {
        elastiCache: { engine: i.engine, nodeType: c.nodeType.name, clusterMode: true, numShards: c.shards, replicasPerShard: i.replicasPerShard, multiAz: true, automaticFailover: true, reservedMemoryPercent: i.reservedMemoryPercent, maxmemoryPolicy: 'allkeys-lru' },
        lambda: { architecture: 'arm64', memoryMB: i.lambdaMemoryMB, reservedConcurrencyTotal: r.lambdaConcurrency, accountConcurrencyQuota: Math.ceil((r.lambdaConcurrency * 1.5) / 100) * 100 },
        apiGateway: { type: 'REST', throttlingRateLimit: Math.ceil(r.peakRequestsPerSecond * 1.2), throttlingBurstLimit: Math.ceil(r.peakRequestsPerSecond * 0.5) },
      },
      null,
      2,
    ),
    '```',
    '',
  ].join('\n');
}

/** The `api` and `service` fronts priced at the envelope, and the rates at which they cost the same. */
function frontsSection(r: CapacityResult, frontInputs: Partial<FrontInputs>): string {
  const e = r.inputs;
  const f = { ...DEFAULT_FRONT_INPUTS, ...frontInputs };
  const rps = r.averageReadsPerSecond + r.averageWritesPerSecond;
  const api = apiFrontCost(rps, e, f);
  const svc = serviceFrontCost(rps, e, f);
  const rest = crossoverRequestsPerSecond('rest', e, f);
  const http = crossoverRequestsPerSecond('http', e, f);
  const floor = serviceFrontCost(0, e, f);
  const p = FRONT_PRICES;
  const taskHour = f.taskVcpu * p.fargateArmVcpuHour.usd + f.taskMemoryGB * p.fargateArmGbHour.usd;
  const perMonth = (rate: number) => `${dec((rate * 730 * 3600) / 1e6, 0)} M requests/month`;
  return [
    '## The two fronts: `api` or `service`',
    '',
    'The configuration field `front` chooses what serves the API (docs/infrastructure.md): `api` is API Gateway in front of one Lambda function per handler module, paid per request; ' +
      '`service` is the production server on ECS Fargate (arm64) behind an Application Load Balancer, paid per hour. ElastiCache is the same under both and is left out here.',
    '',
    `**Inputs** (each a named input of bench/capacity-model.ts, \`DEFAULT_FRONT_INPUTS\`). Server CPU per request **${dec(f.serverCpuSecondsPerRequest * 1e6)} µs**: the production server's GET of a 512-byte value with its API key checked, as measured on the bench machine (docs/benchmarks.md, section 2, 2 workers and primary together), an estimate for a Fargate vCPU; rerun with \`--server-cpu-us\` after remeasuring. ` +
      `Tasks of ${f.taskVcpu} vCPU and ${f.taskMemoryGB} GB, auto scaled to ${f.targetCpuUtilization * 100}% CPU, at least ${f.minTasks}; auto scaling follows the day's curve, so the month's task-hours are those of the average load. ` +
      `ALB traffic ${f.albBytesPerRequest} B per request (request + response, assumed), ${f.newConnectionShare * 100}% of requests on a new connection and ${int(f.activeConnections)} open connections (keep-alive clients, assumed). ` +
      `Per-request logs: on \`api\` ${f.apiLogBytesPerRequest} B (Lambda's platform start and report records and the stage's access-log line, assumed sizes); on \`service\` a ${f.serviceLogSampleRate * 100}% sample of ${f.serviceLogBytesPerLine}-byte access-log lines. ` +
      `The service front adds ${f.addedInterfaceEndpoints} interface endpoints (ECR API, ECR registry, Logs) in each of ${f.azCount} zones.`,
    '',
    `**Prices** (us-east-1, on-demand; \`FRONT_PRICES\`, each overridable): ${Object.values(p).map((x) => `$${x.usd} per ${x.per} (${x.source})`).join('; ')}. ` +
      `One LCU is ${ALB_LCU.newConnectionsPerSecond} new connections/s, ${int(ALB_LCU.activeConnectionsPerMinute)} active connections/min or ${ALB_LCU.processedGbPerHour} GB processed per hour, whichever is largest (${ALB_LCU.source}); rule evaluations stay in the free ten (one default action).`,
    '',
    `### At the envelope: ${int(rps)} requests/s on average, ${int(r.peakRequestsPerSecond)} at peak`,
    '',
    '| front | line | arithmetic | $/month |',
    '| --- | --- | --- | --- |',
    `| api | API Gateway REST API | ${int(r.monthlyRequests / 1e6)} M requests, tiered | ${usd(api.restApi)} |`,
    `| api | Lambda requests and duration | as in the plans above | ${usd(api.lambdaRequests + api.lambdaDuration)} |`,
    `| api | CloudWatch Logs ingestion | ${int(r.monthlyRequests / 1e6)} M × ${f.apiLogBytesPerRequest} B × $${p.logsIngestionGb.usd}/GB | ${usd(api.logs)} |`,
    `| **api, REST API** | | | **${usd(api.totalWithRestApi)}** |`,
    `| **api, HTTP API** | | HTTP API ${usd(api.httpApi)} instead of REST | **${usd(api.totalWithHttpApi)}** |`,
    `| service | Fargate | ${svc.averageTasks} tasks on average (${svc.peakTasks} at peak) × $${dec(taskHour, 4)}/h × 730 h | ${usd(svc.fargate)} |`,
    `| service | ALB | $${p.albHour.usd}/h × 730 h + ${dec(svc.lcus)} LCU × $${p.albLcuHour.usd} × 730 h | ${usd(svc.albHours + svc.albLcus)} |`,
    `| service | interface endpoints | ${f.addedInterfaceEndpoints} × ${f.azCount} zones × $${p.interfaceEndpointAzHour.usd}/h × 730 h | ${usd(svc.endpoints)} |`,
    `| service | CloudWatch Logs ingestion | ${f.serviceLogSampleRate * 100}% sample × ${f.serviceLogBytesPerLine} B | ${usd(svc.logs)} |`,
    `| **service** | | | **${usd(svc.total)}** |`,
    '',
    `### Crossover`,
    '',
    `The service front costs at least ${usd(floor.total)} a month however idle (${f.minTasks} tasks, the ALB's hours, the endpoints); the api front costs nothing idle and grows with every request. ` +
      `**Below ${dec(rest)} requests/s on average (${perMonth(rest)}) \`api\` with a REST API is cheaper; below ${dec(http)} requests/s (${perMonth(http)}) with an HTTP API.** ` +
      `Above that \`service\` is cheaper, and the gap widens with load: at the envelope it costs ${dec(api.totalWithRestApi / svc.total, 0)}× less than REST and ${dec(api.totalWithHttpApi / svc.total, 0)}× less than HTTP API.`,
    '',
    'Choose `api` for low or spiky traffic, for scale-to-zero environments (dev, per-branch stacks), and when API Gateway\'s usage plans, per-key quotas or AWS_IAM (SigV4) authorization are wanted. ' +
      'Choose `service` for sustained load above the crossover, and when the milliseconds API Gateway and a Lambda invocation add to a cache read matter. ' +
      'Both serve the same routes with the same handlers and the same `x-api-key` header, so a client moves between them unchanged.',
    '',
    'Not in the comparison: data transfer (the same for both inside a zone; cross-zone traffic ALB → task is free, task → cache is not), savings plans (Fargate takes Compute Savings Plans, Lambda too), and the server\'s CPU beyond a GET over plain TCP (TLS to the cache, writes) — remeasure and rerun with `--server-cpu-us`.',
    '',
  ].join('\n');
}

export function capacityMarkdown(inputs: Partial<CapacityInputs>, hotGB: number[], front: Partial<FrontInputs> = {}): string {
  const results = hotGB.map((g) => capacity({ ...inputs, hotDataGB: g }));
  const r = results[0];
  const i = r.inputs;
  const args = [
    ...Object.entries(OPTIONS)
      .filter(([, key]) => i[key] !== DEFAULT_INPUTS[key])
      .map(([flag, key]) => `--${flag} ${i[key]}`),
    ...Object.entries(FRONT_OPTIONS)
      .filter(([, [key]]) => front[key] !== undefined && front[key] !== DEFAULT_FRONT_INPUTS[key])
      .map(([flag, [key, divisor]]) => `--${flag} ${(front[key] as number) * divisor}`),
  ];
  return [
    '# Capacity model',
    '',
    `_Written by \`npx tsx bench/capacity.ts --hot-gb ${hotGB.join(',')}${args.length ? ' ' + args.join(' ') : ''}${i.engine !== 'valkey' ? ` --engine ${i.engine}` : ''} --write\` (arithmetic in bench/capacity-model.ts, tested by test/capacity.test.ts). Every input is an option; run it with yours._`,
    '',
    '## Envelope and load',
    '',
    `- ${int(i.dailyActiveUsers)} daily users × ${i.readsPerUserPerDay} reads = ${int(i.dailyActiveUsers * i.readsPerUserPerDay)} reads/day ÷ 86,400 s = **${int(r.averageReadsPerSecond)} reads/s** on average; ` +
      `× ${i.writesPerUserPerDay} writes = **${int(r.averageWritesPerSecond)} writes/s** (the seed's 57,870 and 5,787 are these daily averages).`,
    `- Peak factor ${i.peakFactor} (assumed: busiest hour over the daily average, typical of a consumer day curve) → **${int(r.peakReadsPerSecond)} reads/s and ${int(r.peakWritesPerSecond)} writes/s at peak**, ${int(r.peakRequestsPerSecond)} requests/s in all.`,
    `- Per month (${dec(730 / 24, 2)} days): ${int(r.monthlyRequests / 1e9)} billion requests.`,
    `- **Lambda concurrency** (Little's law, arrivals × time held): ${int(r.peakReadsPerSecond)} × ${i.readMs} ms + ${int(r.peakWritesPerSecond)} × ${i.writeMs} ms = **${int(r.lambdaConcurrency)}** instances at peak. ` +
      `The ${i.readMs} ms / ${i.writeMs} ms billed durations are assumptions: in-process the handler costs about 0.05 ms (docs/benchmarks.md, section 1), the rest is the network hop to ElastiCache, a TLS connection's framing and Lambda's per-invocation overhead. ` +
      'The default account quota is 1,000 concurrent executions per region, shared with every other function: ask for the quota in the configuration below.',
    `- **API Gateway throttling**: the default account limit is 10,000 requests/s (burst 5,000) per region; ${int(r.peakRequestsPerSecond)} requests/s at peak needs a quota increase to the stage throttling below, and clients must retry 429s with backoff.`,
    '',
    '## Prices assumed',
    '',
    `us-east-1, on-demand, ${PRICES.asOf}. API Gateway REST API per million requests: ${PRICES.restApiTiers.map((t) => `$${t.usdPerMillion}${Number.isFinite(t.upTo) ? ` up to ${int(t.upTo / 1e6)} M` : ' beyond'}`).join(', ')}; ` +
      `HTTP API $${PRICES.httpApiTiers[0].usdPerMillion} (first 300 M) then $${PRICES.httpApiTiers[1].usdPerMillion}. Lambda $${PRICES.lambdaUsdPerMillionRequests} per million requests, arm64 ` +
      `${PRICES.lambdaArmGbSecondTiers.map((t) => `$${t.usdPerUnit}/GB-s${Number.isFinite(t.upTo) ? ` up to ${t.upTo / 1e9} B GB-s` : ' beyond'}`).join(', ')}. ` +
      `ElastiCache on-demand node-hours (Redis OSS): ${PRICES.nodeTypes.map((n) => `${n.name} $${n.hourlyUsd}`).join(', ')}; Valkey ${PRICES.valkeyDiscount * 100}% less. ` +
      'Not included in the plans: data transfer (Lambda ↔ ElastiCache across AZs, API Gateway egress), CloudWatch logs (priced per front below) and metrics, NAT, Secrets Manager, free tiers, savings plans and reserved nodes (which cut ElastiCache by 30–55%).',
    '',
    '## Plans',
    '',
    `Memory headroom: ElastiCache's reserved-memory-percent (${i.reservedMemoryPercent}%) is kept free for replication and snapshots, and the rest is planned ${i.targetMemoryFill * 100}% full so that growth, fragmentation and a burst of writes fit before eviction (policy allkeys-lru: a full cache evicts, it does not fail writes). ` +
      `One replica per shard in another AZ gives failover; by default reads go to primaries (readFrom=primary, read-your-writes), so replicas are for availability; with readFrom=replica every read route is served by replicas ` +
      `(a read sends only read commands, docs/consistency.md), so each replica adds a primary's worth of read throughput and the primaries keep the writes. ` +
      `Throughput per primary (${int(i.opsPerPrimary)} ops/s) is conservative for r7g with enhanced I/O: a read is plain read commands (GET, with PTTL for entries written before the expiry was stored in them) and counts nothing in Redis, ` +
      'so its Redis CPU is that of a plain GET (docs/benchmarks.md, section 2, "Redis CPU per handler GET"); writes are one small Lua script each. ' +
      'The chosen node type is the cheapest whose cluster fits the memory and throughput within the node limit; the table shows the others.',
    '',
    `Replication traffic: only writes replicate. At peak, ${int(r.peakWritesPerSecond)} writes/s × about ${int(replicatedWriteBytes(i))} bytes (the SET a write script replicates: key, header, ${i.objectBytes}-byte value, PX) ≈ ` +
      `**${dec((r.peakWritesPerSecond * replicatedWriteBytes(i)) / 1e6, 1)} MB/s** from the primaries to each replica, spread over the shards. Reads add nothing: hits and misses are counted in the Lambda instances and published in bulk ` +
      `(CloudWatch metrics; with exactHitCounts, one MULTI a second per instance: at ${int(r.lambdaConcurrency)} instances about ${int(r.lambdaConcurrency)} small transactions/s in all, not one write per read). ` +
      `Before, every read ran an HINCRBY on the primary that every replica replayed: ${int(r.peakReadsPerSecond)} extra writes/s at peak, about ${dec((r.peakReadsPerSecond * 60) / 1e6, 1)} MB/s of replication stream (about 60 bytes each).`,
    '',
    ...results.map(plan),
    '## What dominates',
    '',
    `At this envelope API Gateway is most of the bill (${usd(r.monthly.restApi)} of ${usd(r.monthly.totalWithRestApi)} a month for ${int(r.inputs.hotDataGB)} GB): ${int(r.monthlyRequests / 1e9)} billion requests a month. ` +
      'The levers, biggest first: an HTTP API instead of a REST API (about half the request price, but no request models or usage plans); clients that batch reads; caching in the client or at CloudFront for hot keys. ' +
      'ElastiCache grows with hot data; Lambda is small because each request holds an instance for a few milliseconds. ' +
      'At this load the biggest lever of all is the other front, below.',
    '',
    frontsSection(r, front),
  ].join('\n');
}

if (require.main === module) {
  try {
    const { inputs, front, hotGB, write } = parseArgs(process.argv.slice(2));
    const text = capacityMarkdown(inputs, hotGB, front);
    if (write) {
      const file = resolve(__dirname, '../docs/capacity.md');
      writeFileSync(file, text);
      console.log(`wrote ${file}`);
    } else console.log(text);
  } catch (e) {
    console.error(`capacity: ${(e as Error).message}`);
    process.exit(2);
  }
}
