import { z } from 'zod';
import { parseExportFile } from '../lambdas/domain/export-name';
import { APP_ACCESS_STRING } from '../lambdas/core/redis-commands';

/**
 * The one configuration object of a skycache deployment.
 *
 * A preset (`dev` or `prod`, chosen with `-c preset=…`) gives every field a value; any field can then be overridden
 * by CDK context of the same name (`cdk synth -c preset=prod -c nodeType=cache.r7g.xlarge`). The result is
 * validated once, at synth, and every problem is reported in one message that names the offending fields.
 */

export const ENGINES = ['valkey', 'redis'] as const;
export type Engine = (typeof ENGINES)[number];

/** Every `maxmemory-policy` the engines accept. */
export const EVICTION_POLICIES = [
  'volatile-lru',
  'allkeys-lru',
  'volatile-lfu',
  'allkeys-lfu',
  'volatile-random',
  'allkeys-random',
  'volatile-ttl',
  'noeviction',
] as const;
export type EvictionPolicy = (typeof EVICTION_POLICIES)[number];

/** `apiKey`: API keys with a usage plan (throttling and quota). `iam`: SigV4-signed requests (AWS_IAM). */
export const AUTH_MODES = ['apiKey', 'iam'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/**
 * What serves the API: `api` — API Gateway in front of one Lambda function per handler module (pay per request);
 * `service` — the production HTTP server (lambdas/server/main.ts) on ECS Fargate behind an Application Load Balancer
 * (pay per hour; cheaper under sustained load, see docs/capacity.md).
 */
export const FRONTS = ['api', 'service'] as const;
export type Front = (typeof FRONTS)[number];

/** Who can reach the service front's load balancer: the VPC (and what is peered/routed to it), or the internet. */
export const LOAD_BALANCER_SCHEMES = ['internal', 'internet-facing'] as const;

export const PRESETS = ['dev', 'prod'] as const;
export type PresetName = (typeof PRESETS)[number];

/**
 * Engine versions this stack knows how to configure, with their parameter group family. Redis OSS 6.x is left out:
 * TransitEncryptionMode (TLS *required*) needs Redis OSS 7.0.5 or later.
 */
export const ENGINE_VERSIONS: Record<Engine, Record<string, string>> = {
  valkey: { '7.2': 'valkey7', '8.0': 'valkey8', '8.1': 'valkey8' },
  redis: { '7.0': 'redis7', '7.1': 'redis7' },
};

/** CPU units of a Fargate task (1024 = 1 vCPU). */
const FARGATE_CPU = [256, 512, 1024, 2048, 4096, 8192, 16384];

const QUOTA_PERIODS = ['DAY', 'WEEK', 'MONTH'] as const;
const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

/** hh24:mi-hh24:mi (UTC), as ElastiCache takes a snapshot window. */
const WINDOW = /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/;
/** ddd:hh24:mi-ddd:hh24:mi (UTC), as ElastiCache takes a maintenance window. */
const MAINTENANCE_WINDOW = /^(sun|mon|tue|wed|thu|fri|sat):([01]\d|2[0-3]):[0-5]\d-(sun|mon|tue|wed|thu|fri|sat):([01]\d|2[0-3]):[0-5]\d$/;
const NODE_TYPE = /^cache\.([a-z0-9]+)\.([a-z0-9]+)$/;

/** Node families without cluster mode (cluster mode enabled) support: the first-generation and T1 nodes. */
const NO_CLUSTER_MODE_FAMILIES = ['t1', 'm1', 'm2', 'c1'];
/** Node families without Multi-AZ / automatic failover support. */
const NO_MULTI_AZ_FAMILIES = ['t1'];
/** Data-tiering families: ElastiCache cannot export their backups to S3. */
const DATA_TIERING_FAMILIES = ['r6gd'];

/** Lambda's synchronous payload limit is 6 MB; the JSON envelope around a value needs some of it. */
export const MAX_VALUE_BYTES_LIMIT = 5 * 1024 * 1024;

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** The retention periods CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
const logRetention = z.coerce
  .number()
  .refine((d) => LOG_RETENTION_DAYS.includes(d), `must be one of the CloudWatch Logs retention periods: ${LOG_RETENTION_DAYS.join(', ')}`);
/** An S3 object ARN of an .rdb file, as CreateReplicationGroup's SnapshotArns takes it (the key may not hold commas). */
const RDB_ARN = /^arn:aws(-cn|-us-gov)?:s3:::(?<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(?<key>[^,]+\.rdb)$/;
/** A list from context: `-c restoreFromSnapshotArns=arn1,arn2` (a string) or a JSON array in cdk.json. */
const arnList = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((a) => a.trim()).filter(Boolean) : v),
  z.array(z.string().regex(RDB_ARN, 'each must be the S3 object ARN of an .rdb file, arn:aws:s3:::<bucket>/<key>.rdb (no commas in the key)')),
);
const bool = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());

export const configSchema = z
  .object({
    preset: z.enum(PRESETS),
    /** Prefix of resource names that must be unique in the account (RBAC user and group ids). */
    namePrefix: z.string().regex(/^[a-z][a-z0-9-]{0,19}$/, 'must be 1-20 lowercase letters, digits or hyphens, starting with a letter'),

    // --- network
    /** Availability zones of the VPC (and of the cache nodes). */
    azCount: int(2, 3),
    vpcCidr: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/(1[6-9]|2[0-4])$/, 'must be an IPv4 CIDR between /16 and /24'),
    flowLogRetentionDays: logRetention,

    // --- cache
    engine: z.enum(ENGINES),
    engineVersion: z.string(),
    nodeType: z.string().regex(NODE_TYPE, 'must look like cache.<family>.<size>, e.g. cache.r7g.large'),
    clusterMode: bool,
    /** Node groups (shards); more than one needs cluster mode. */
    shards: int(1, 500),
    replicasPerShard: int(0, 5),
    multiAz: bool,
    /** A non-default port makes blind scans for 6379 miss. */
    port: int(1150, 65535),
    evictionPolicy: z.enum(EVICTION_POLICIES),
    /** Where reads go: `primary` (read-your-writes) or `replica` (eventual; clients can still ask for a strong read). */
    readFrom: z.enum(['primary', 'replica']),
    /** `reserved-memory-percent`: memory kept back from the dataset for replication buffers and snapshots. */
    reservedMemoryPercent: int(0, 100),
    /**
     * ACL rules of the application user (ElastiCache RBAC access string). ElastiCache sets passwords through its
     * API and refuses `reset` in an access string; a user without `on` cannot log in.
     */
    accessString: z
      .string()
      .refine((s) => s.split(/\s+/).includes('on'), 'must switch the user on ("on")')
      .refine((s) => !s.split(/\s+/).some((r) => r === 'reset' || r === 'nopass' || /^[<>#!]/.test(r)), 'must not contain reset, nopass or password rules (ElastiCache sets passwords itself)'),
    snapshotRetentionDays: int(1, 35),
    snapshotWindow: z.string().regex(WINDOW, 'must be hh24:mi-hh24:mi (UTC), e.g. 03:00-04:00'),
    maintenanceWindow: z.string().regex(MAINTENANCE_WINDOW, 'must be ddd:hh24:mi-ddd:hh24:mi (UTC), e.g. sun:05:00-sun:06:00'),
    cacheLogRetentionDays: logRetention,
    /**
     * Seed the replication group from exported .rdb files (CloudFormation `SnapshotArns`): the S3 ARNs of every file
     * of one export. Empty for an empty cache. Changing it replaces the replication group (docs/infrastructure.md).
     */
    restoreFromSnapshotArns: arnList,

    // --- entries (handlers and gateway validation)
    defaultTtlSeconds: int(1, 365 * 24 * 3600),
    maxTtlSeconds: int(1, 365 * 24 * 3600),
    maxValueBytes: int(1, MAX_VALUE_BYTES_LIMIT),
    maxKeyBytes: int(1, 65536),
    maxInvalidateKeys: int(1, 100000),

    // --- pub/sub topics and change events (docs/pubsub.md)
    /** Largest message, as the bytes of its JSON text. */
    topicMaxMessageBytes: int(1, 1024 * 1024),
    /** Messages a topic (and each change stream) keeps at most. */
    topicRetentionMessages: int(1, 10_000_000),
    /** Seconds a message is kept at most. */
    topicRetentionSeconds: int(1, 30 * 24 * 3600),
    /** A topic with no message for this long is removed; must be at least topicRetentionSeconds. */
    topicIdleSeconds: int(1, 365 * 24 * 3600),
    /** Longest long-poll wait: the topics function's timeout is this plus two Redis timeouts and a second, within API Gateway's 29 s. */
    topicMaxWaitSeconds: int(0, 25),
    /** Entry writes, deletes, TTL changes and invalidations append change events (readable at GET /changes). */
    changeEvents: bool,

    // --- backup export
    exportEnabled: bool,
    /** EventBridge schedule expression of the export, e.g. `cron(30 5 * * ? *)` (UTC) or `rate(1 day)`. */
    exportSchedule: z.string().regex(/^(cron|rate)\(.+\)$/, 'must be an EventBridge schedule expression: cron(…) or rate(…)'),
    /** Days after which exports move to S3 Glacier Instant Retrieval. */
    exportTransitionDays: int(1, 3650),
    /** Days after which exports (and noncurrent versions) are deleted. */
    exportExpirationDays: int(2, 3650),

    // --- monitoring
    /** Where alarms are mailed; empty for no subscription. */
    alarmEmail: z.union([z.literal(''), z.email('must be an e-mail address (or empty for no subscription)')]),

    // --- API
    authMode: z.enum(AUTH_MODES),
    /** A WAFv2 web ACL on the stage (AWS IP reputation list, optional per-IP rate limit). */
    wafEnabled: bool,
    /**
     * Requests per 5 minutes one IP may send before WAF blocks it (10 to 2e9, WAF's range); 0 for no rate rule.
     * prod: 100000, about a third of its stage throttle (1000 requests/s), so one source cannot take it all.
     */
    wafRateLimitPer5Min: z.union([z.literal(0), int(10, 2_000_000_000)]),
    stageName: z.string().regex(/^[a-zA-Z0-9_]+$/, 'must be letters, digits or underscores'),
    throttleRateLimit: z.coerce.number().min(1).max(10000),
    throttleBurstLimit: int(1, 5000),
    quotaLimit: int(1, 1_000_000_000),
    quotaPeriod: z.enum(QUOTA_PERIODS),
    apiLogRetentionDays: logRetention,

    // --- front
    front: z.enum(FRONTS),
    /** `front=service`: the load balancer's scheme; `internet-facing` needs certificateArn (HTTPS only). */
    loadBalancerScheme: z.enum(LOAD_BALANCER_SCHEMES),
    /** `front=service`: ACM certificate of the HTTPS listener; empty for plain HTTP on an internal load balancer. */
    certificateArn: z.union([
      z.literal(''),
      z.string().regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/, 'must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>) or empty'),
    ]),
    /** `front=service`: the fewest tasks (spread across the zones), and the most auto scaling may run. */
    serviceMinTasks: int(2, 1000),
    serviceMaxTasks: int(2, 1000),
    /** `front=service`: Fargate task size — CPU units (1024 = 1 vCPU) and memory in MiB. */
    serviceCpu: z.coerce.number().refine((v) => FARGATE_CPU.includes(v), `must be one of the Fargate CPU sizes: ${FARGATE_CPU.join(', ')}`),
    serviceMemoryMb: int(512, 122880),
    /** `front=service`: average CPU percent of the tasks auto scaling keeps them at. */
    serviceTargetCpuPercent: int(10, 90),
    /** `front=service`: requests per minute per task (ALB RequestCountPerTarget) auto scaling keeps them at. */
    serviceRequestsPerTargetPerMinute: int(100, 10_000_000),

    // --- functions
    lambdaMemoryMb: int(128, 10240),
    lambdaTimeoutSeconds: int(3, 29),
    redisTimeoutMs: int(50, 60000),
    retryAfterSeconds: int(1, 3600),
    logLevel: z.enum(LOG_LEVELS),
    functionLogRetentionDays: logRetention,

    // --- lifecycle
    /** Keep the cache (final snapshot), the key and the export bucket when the stack is deleted. */
    retainData: bool,
  })
  .strict();

export type SkycacheConfig = z.infer<typeof configSchema>;
export type ConfigInput = { [K in keyof SkycacheConfig]?: unknown };

const common = {
  namePrefix: 'skycache',
  vpcCidr: '10.40.0.0/16',
  engine: 'valkey',
  engineVersion: '8.0',
  port: 6380,
  evictionPolicy: 'allkeys-lru',
  readFrom: 'primary',
  reservedMemoryPercent: 25,
  accessString: APP_ACCESS_STRING,
  snapshotWindow: '03:00-04:00',
  restoreFromSnapshotArns: [] as string[],
  maintenanceWindow: 'sun:05:00-sun:06:00',
  defaultTtlSeconds: 3600,
  maxTtlSeconds: 30 * 24 * 3600,
  maxValueBytes: 1024 * 1024,
  maxKeyBytes: 1024,
  maxInvalidateKeys: 1000,
  topicMaxMessageBytes: 64 * 1024,
  topicRetentionMessages: 10_000,
  topicRetentionSeconds: 24 * 3600,
  topicIdleSeconds: 7 * 24 * 3600,
  topicMaxWaitSeconds: 20,
  changeEvents: false,
  exportEnabled: true,
  exportSchedule: 'cron(30 5 * * ? *)',
  alarmEmail: '',
  authMode: 'apiKey',
  wafRateLimitPer5Min: 0,
  quotaPeriod: 'DAY',
  redisTimeoutMs: 2000,
  retryAfterSeconds: 1,
  lambdaTimeoutSeconds: 10,
  front: 'api',
  loadBalancerScheme: 'internal',
  certificateArn: '',
  serviceTargetCpuPercent: 50,
} as const satisfies ConfigInput;

/** The presets; see docs/infrastructure.md for the table. */
export const PRESET_VALUES: Record<PresetName, SkycacheConfig> = {
  dev: {
    ...common,
    preset: 'dev',
    azCount: 2,
    flowLogRetentionDays: 14,
    nodeType: 'cache.t4g.small',
    clusterMode: false,
    shards: 1,
    replicasPerShard: 1,
    multiAz: true,
    snapshotRetentionDays: 1,
    cacheLogRetentionDays: 14,
    exportTransitionDays: 30,
    exportExpirationDays: 90,
    stageName: 'dev',
    wafEnabled: false,
    throttleRateLimit: 50,
    throttleBurstLimit: 100,
    quotaLimit: 100_000,
    apiLogRetentionDays: 14,
    serviceMinTasks: 2,
    serviceMaxTasks: 4,
    serviceCpu: 1024,
    serviceMemoryMb: 2048,
    serviceRequestsPerTargetPerMinute: 300_000,
    lambdaMemoryMb: 512,
    logLevel: 'DEBUG',
    functionLogRetentionDays: 14,
    retainData: false,
  },
  prod: {
    ...common,
    preset: 'prod',
    azCount: 3,
    flowLogRetentionDays: 90,
    nodeType: 'cache.r7g.large',
    clusterMode: true,
    shards: 2,
    replicasPerShard: 2,
    multiAz: true,
    snapshotRetentionDays: 7,
    cacheLogRetentionDays: 90,
    exportTransitionDays: 30,
    exportExpirationDays: 365,
    stageName: 'prod',
    wafEnabled: true,
    wafRateLimitPer5Min: 100_000,
    throttleRateLimit: 1000,
    throttleBurstLimit: 2000,
    quotaLimit: 50_000_000,
    apiLogRetentionDays: 90,
    serviceMinTasks: 3,
    serviceMaxTasks: 30,
    serviceCpu: 2048,
    serviceMemoryMb: 4096,
    serviceRequestsPerTargetPerMinute: 600_000,
    lambdaMemoryMb: 1024,
    logLevel: 'INFO',
    functionLogRetentionDays: 90,
    retainData: true,
  },
};

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`invalid skycache configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** The node family of a node type (`cache.r7g.large` → `r7g`). */
export function nodeFamily(nodeType: string): string {
  return NODE_TYPE.exec(nodeType)?.[1] ?? '';
}

/** Node types whose vCPU count the size does not tell (previous-generation nodes with one vCPU). */
const ONE_VCPU_NODE_TYPES = ['cache.t1.micro', 'cache.t2.micro', 'cache.t2.small', 'cache.m1.small', 'cache.m1.medium', 'cache.m3.medium'];

/**
 * vCPUs of a node type, from its size as ElastiCache's node types are built: micro to large have 2 (a few
 * previous-generation ones 1), xlarge 4, and an `<n>xlarge` 4 × n. The CPU alarm thresholds depend on it.
 */
export function nodeVcpus(nodeType: string): number {
  if (ONE_VCPU_NODE_TYPES.includes(nodeType)) return 1;
  const size = NODE_TYPE.exec(nodeType)?.[2] ?? '';
  const xlarge = /^(\d*)xlarge$/.exec(size);
  return xlarge ? 4 * Number(xlarge[1] || 1) : 2;
}

/** The parameter group family of an engine version, e.g. `valkey8`. */
export function parameterGroupFamily(config: Pick<SkycacheConfig, 'engine' | 'engineVersion'>): string {
  const family = ENGINE_VERSIONS[config.engine][config.engineVersion];
  if (!family) throw new ConfigError([`engineVersion: unknown version ${config.engineVersion} of ${config.engine}`]);
  return family;
}

/**
 * Memory a Fargate task may have for each CPU size: [min, max, step] in MiB (the Fargate task size table; 256 CPU
 * units take only 512, 1024 or 2048, checked separately).
 */
const FARGATE_MEMORY_MB: Record<number, [number, number, number]> = {
  256: [512, 2048, 512],
  512: [1024, 4096, 1024],
  1024: [2048, 8192, 1024],
  2048: [4096, 16384, 1024],
  4096: [8192, 30720, 1024],
  8192: [16384, 61440, 4096],
  16384: [32768, 122880, 8192],
};

/** Rules between fields: each returns the problems it finds. */
function crossFieldProblems(c: SkycacheConfig): string[] {
  const problems: string[] = [];
  const family = nodeFamily(c.nodeType);
  const versions = Object.keys(ENGINE_VERSIONS[c.engine]);
  if (!versions.includes(c.engineVersion)) {
    problems.push(`engineVersion: ${c.engine} ${c.engineVersion} is not supported; use one of ${versions.join(', ')} (TLS mode "required" needs Redis OSS 7.0.5+ or Valkey 7.2+)`);
  }
  if (c.readFrom === 'replica' && c.replicasPerShard < 1) {
    problems.push('readFrom: reading from replicas needs at least one replica per shard (set replicasPerShard >= 1, or readFrom=primary)');
  }
  if (c.multiAz && c.replicasPerShard < 1) {
    problems.push('multiAz: Multi-AZ needs at least one replica per shard (set replicasPerShard >= 1, or multiAz=false)');
  }
  if (c.multiAz && NO_MULTI_AZ_FAMILIES.includes(family)) {
    problems.push(`multiAz: node type ${c.nodeType} does not support Multi-AZ with automatic failover`);
  }
  if (c.clusterMode && NO_CLUSTER_MODE_FAMILIES.includes(family)) {
    problems.push(`clusterMode: node type ${c.nodeType} does not support cluster mode; use a current-generation node type (e.g. cache.t4g.small, cache.r7g.large)`);
  }
  if (!c.clusterMode && c.shards !== 1) {
    problems.push(`shards: ${c.shards} shards need cluster mode (set clusterMode=true, or shards=1)`);
  }
  if (c.exportEnabled && DATA_TIERING_FAMILIES.includes(family)) {
    problems.push(`exportEnabled: ElastiCache cannot export backups of data-tiering nodes (${c.nodeType}) to S3; set exportEnabled=false or pick another node type`);
  }
  if (!c.wafEnabled && c.wafRateLimitPer5Min > 0) {
    problems.push('wafRateLimitPer5Min: a WAF rate limit needs wafEnabled=true');
  }
  if (c.defaultTtlSeconds > c.maxTtlSeconds) {
    problems.push(`defaultTtlSeconds: ${c.defaultTtlSeconds} exceeds maxTtlSeconds (${c.maxTtlSeconds})`);
  }
  if (c.redisTimeoutMs * 2 > c.lambdaTimeoutSeconds * 1000) {
    problems.push(`redisTimeoutMs: ${c.redisTimeoutMs} ms must be at most half of lambdaTimeoutSeconds (${c.lambdaTimeoutSeconds} s) so a request can still be answered 503`);
  }
  if (c.loadBalancerScheme === 'internet-facing' && !c.certificateArn) {
    problems.push('loadBalancerScheme: an internet-facing load balancer serves HTTPS only; set certificateArn to an ACM certificate (or loadBalancerScheme=internal)');
  }
  if (c.serviceMaxTasks < c.serviceMinTasks) {
    problems.push(`serviceMaxTasks: ${c.serviceMaxTasks} is below serviceMinTasks (${c.serviceMinTasks})`);
  }
  const memoryRange = FARGATE_MEMORY_MB[c.serviceCpu];
  const fargateSize = (mb: number, [min, max, step]: [number, number, number]) =>
    mb >= min && mb <= max && mb % step === 0 && !(c.serviceCpu === 256 && mb === 1536);
  if (memoryRange && !fargateSize(c.serviceMemoryMb, memoryRange)) {
    problems.push(`serviceMemoryMb: ${c.serviceMemoryMb} MiB is not a Fargate size for serviceCpu ${c.serviceCpu}; use ${memoryRange[0]}-${memoryRange[1]} MiB in steps of ${memoryRange[2]}`);
  }
  if (c.topicIdleSeconds < c.topicRetentionSeconds) {
    problems.push(`topicIdleSeconds: ${c.topicIdleSeconds} is shorter than topicRetentionSeconds (${c.topicRetentionSeconds})`);
  }
  if (longPollTimeoutSeconds(c) > API_GATEWAY_TIMEOUT_SECONDS) {
    problems.push(
      `topicMaxWaitSeconds: ${c.topicMaxWaitSeconds} s plus two Redis timeouts (redisTimeoutMs ${c.redisTimeoutMs}) and a second exceeds API Gateway's ${API_GATEWAY_TIMEOUT_SECONDS} s; lower one of them`,
    );
  }
  if (c.exportExpirationDays <= c.exportTransitionDays) {
    problems.push(`exportExpirationDays: ${c.exportExpirationDays} must be greater than exportTransitionDays (${c.exportTransitionDays})`);
  }
  if (c.snapshotWindow && c.maintenanceWindow && windowsOverlap(c.snapshotWindow, c.maintenanceWindow)) {
    problems.push(`snapshotWindow: ${c.snapshotWindow} overlaps maintenanceWindow ${c.maintenanceWindow}`);
  }
  problems.push(...restoreProblems(c));
  return problems;
}

/**
 * Whether the files in `restoreFromSnapshotArns` can seed this replication group. ElastiCache distributes the keys
 * over however many shards the new group has, so the shard count may differ from the source's; but every file of
 * the export must be there (one per source shard), a cluster-mode-disabled group takes exactly one file, and the
 * engine can only move forward (Redis OSS → Valkey or a later Redis OSS; Valkey → a later Valkey). Files not named
 * by skycache's exporter (lambdas/domain/export-name.ts) are checked for what their names tell.
 */
function restoreProblems(c: SkycacheConfig): string[] {
  const arns = c.restoreFromSnapshotArns;
  if (arns.length === 0) return [];
  const field = 'restoreFromSnapshotArns';
  const problems: string[] = [];
  if (!c.clusterMode && arns.length !== 1) {
    problems.push(`${field}: a cluster-mode-disabled replication group is seeded from exactly one .rdb file, ${arns.length} given (an export of a sharded group has one file per shard: set clusterMode=true)`);
  }
  if (new Set(arns).size !== arns.length) problems.push(`${field}: the same file is listed twice`);
  const files = arns.map((arn) => {
    const { bucket, key } = RDB_ARN.exec(arn)?.groups ?? {};
    return { arn, ...parseExportFile(`${bucket}/${key}`) };
  });
  const exports = new Set(files.map((f) => f.exportName));
  if (exports.size > 1 || files.some((f) => f.exportName === undefined)) {
    if (arns.length > 1) problems.push(`${field}: the files must be the <name>-0001.rdb … <name>-000n.rdb of one export`);
    return problems;
  }
  const [first] = files;
  if (first.shards !== undefined) {
    const expected = Array.from({ length: first.shards }, (_, i) => i + 1);
    const missing = expected.filter((n) => !files.some((f) => f.shard === n));
    if (!c.clusterMode && first.shards > 1) {
      problems.push(`${field}: the export holds ${first.shards} shards; a cluster-mode-disabled group cannot be seeded from a sharded export (set clusterMode=true)`);
    } else if (missing.length > 0) {
      problems.push(`${field}: the export has ${first.shards} shard files but ${missing.map((n) => `-${String(n).padStart(4, '0')}.rdb`).join(', ')} ${missing.length === 1 ? 'is' : 'are'} not listed; seeding from part of them loses those shards' keys`);
    }
  }
  if (first.engine !== undefined && first.major !== undefined && first.minor !== undefined) {
    const source = `${first.engine} ${first.major}.${first.minor}`;
    const [major, minor] = c.engineVersion.split('.').map(Number);
    const older = major < first.major || (major === first.major && minor < first.minor);
    if (first.engine === 'valkey' && c.engine !== 'valkey') {
      problems.push(`${field}: the export is of ${source}; it can only seed a valkey group (engine=${c.engine})`);
    } else if (first.engine === c.engine && older) {
      problems.push(`${field}: the export is of ${source}; it cannot seed the older ${c.engine} ${c.engineVersion} (set engineVersion to ${first.major}.${first.minor} or later)`);
    }
  }
  return problems;
}

/** API Gateway REST answers 504 when an integration takes longer than this. */
export const API_GATEWAY_TIMEOUT_SECONDS = 29;

/**
 * Timeout of the topics function: a long-poll reads (one Redis timeout), waits up to topicMaxWaitSeconds, reads
 * again (another), and keeps a second to answer. Fits API Gateway's 29 s by validation.
 */
export function longPollTimeoutSeconds(c: Pick<SkycacheConfig, 'topicMaxWaitSeconds' | 'redisTimeoutMs'>): number {
  return c.topicMaxWaitSeconds + Math.ceil((2 * c.redisTimeoutMs) / 1000) + 1;
}

/** Whether the daily snapshot window overlaps the weekly maintenance window on its day (both UTC). */
function windowsOverlap(snapshot: string, maintenance: string): boolean {
  const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  const [s1, s2] = snapshot.split('-').map(minutes);
  const [m1, m2] = maintenance.split('-').map((p) => minutes(p.slice(4)));
  if (s2 <= s1 || m2 <= m1) return false; // windows across midnight: ElastiCache checks them itself
  return s1 < m2 && m1 < s2;
}

/**
 * Builds the configuration: the preset's values, then `overrides` (typically CDK context), validated.
 * Throws ConfigError listing every problem.
 */
export function buildConfig(preset: string | undefined, overrides: ConfigInput = {}): SkycacheConfig {
  const name = preset ?? 'dev';
  if (!(PRESETS as readonly string[]).includes(name)) {
    throw new ConfigError([`preset: unknown preset "${name}"; use one of ${PRESETS.join(', ')}`]);
  }
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const parsed = configSchema.safeParse({ ...PRESET_VALUES[name as PresetName], ...defined, preset: name });
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`));
  }
  const problems = crossFieldProblems(parsed.data);
  if (problems.length > 0) throw new ConfigError(problems);
  return parsed.data;
}

/** Reads every configuration field from context (`tryGetContext(field)`), then builds the configuration. */
export function configFromContext(tryGetContext: (key: string) => unknown): SkycacheConfig {
  const overrides: ConfigInput = {};
  for (const key of Object.keys(configSchema.shape) as (keyof SkycacheConfig)[]) {
    if (key === 'preset') continue;
    const value = tryGetContext(key);
    if (value !== undefined) overrides[key] = value;
  }
  return buildConfig(tryGetContext('preset') as string | undefined, overrides);
}
