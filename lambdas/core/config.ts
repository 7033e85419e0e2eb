import type { ClusterNode } from 'ioredis';
import * as z from './zod';
import type { ReadPreference, RedisConnectionSettings } from './redis';

/**
 * The runtime contract: the one place that names and parses every environment variable the functions and the
 * local server read, and that writes the functions' environment for the CDK stack (lib/ imports this module, so
 * it has no side effects: nothing is read until a function below is called).
 */
export const ENV = {
  defaultTtlSeconds: 'DEFAULT_TTL_SECONDS',
  maxTtlSeconds: 'MAX_TTL_SECONDS',
  maxValueBytes: 'MAX_VALUE_BYTES',
  maxKeyBytes: 'MAX_KEY_BYTES',
  maxInvalidateKeys: 'MAX_INVALIDATE_KEYS',
  redisTimeoutMs: 'REDIS_TIMEOUT_MS',
  retryAfterSeconds: 'RETRY_AFTER_SECONDS',
  redisUrl: 'REDIS_URL',
  redisReaderUrl: 'REDIS_READER_URL',
  redisClusterNodes: 'REDIS_CLUSTER_NODES',
  redisTls: 'REDIS_TLS',
  redisUsername: 'REDIS_USERNAME',
  redisPassword: 'REDIS_PASSWORD',
  redisAuthSecretArn: 'REDIS_AUTH_SECRET_ARN',
  redisReadFrom: 'REDIS_READ_FROM',
  redisAutoPipelining: 'REDIS_AUTO_PIPELINING',
  /** Set by Lambda itself: tells a function from the local server. */
  lambdaFunctionName: 'AWS_LAMBDA_FUNCTION_NAME',
  replicationGroupId: 'CACHE_REPLICATION_GROUP_ID',
  hitCounts: 'HIT_COUNTS',
  cacheNodeIds: 'CACHE_NODE_IDS',
  exportBucket: 'EXPORT_BUCKET',
  exportPrefix: 'EXPORT_PREFIX',
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  logLevel: 'LOG_LEVEL',
  localPort: 'PORT',
  localHost: 'HOST',
  localMaxmemory: 'LOCAL_MAXMEMORY',
  localMaxmemoryPolicy: 'LOCAL_MAXMEMORY_POLICY',
  shutdownGraceMs: 'SHUTDOWN_GRACE_MS',
  // The production HTTP server's own (lambdas/server/settings.ts parses them; PORT, HOST, SHUTDOWN_GRACE_MS above).
  workers: 'WORKERS',
  maxInFlight: 'MAX_IN_FLIGHT',
  keepAliveTimeoutMs: 'KEEP_ALIVE_TIMEOUT_MS',
  headersTimeoutMs: 'HEADERS_TIMEOUT_MS',
  requestTimeoutMs: 'REQUEST_TIMEOUT_MS',
  accessLogSampleRate: 'ACCESS_LOG_SAMPLE_RATE',
  metricsIntervalMs: 'METRICS_INTERVAL_MS',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  /** The service front (lambdas/server/): a Secrets Manager secret holding the SHA-256 hashes of the API keys. */
  apiKeyHashesSecretArn: 'API_KEY_HASHES_SECRET_ARN',
  apiKeyHashesFile: 'API_KEY_HASHES_FILE',
  apiKeyHashes: 'API_KEY_HASHES',
  apiKeyRefreshMs: 'API_KEY_REFRESH_MS',
  topicMaxMessageBytes: 'TOPIC_MAX_MESSAGE_BYTES',
  topicRetentionMessages: 'TOPIC_RETENTION_MESSAGES',
  topicRetentionSeconds: 'TOPIC_RETENTION_SECONDS',
  topicIdleSeconds: 'TOPIC_IDLE_SECONDS',
  topicMaxWaitSeconds: 'TOPIC_MAX_WAIT_SECONDS',
  changeEvents: 'CHANGE_EVENTS',
} as const;

type Env = Record<string, string | undefined>;

/** Runtime settings of the handlers, as the stack's configuration names them: TTLs, sizes, limits, timeouts, topics. */
export interface RuntimeSettings {
  /** TTL applied when a write names none. */
  defaultTtlSeconds: number;
  /** Largest TTL a client may ask for. */
  maxTtlSeconds: number;
  /** Largest value, measured as the bytes of its JSON text. */
  maxValueBytes: number;
  /** Longest key in UTF-8 bytes (also the API Gateway models' limit). */
  maxKeyBytes: number;
  /** Most keys one invalidate request may name (also the API Gateway models' limit). */
  maxInvalidateKeys: number;
  /** How long a request may wait on Redis before it is answered 503. */
  redisTimeoutMs: number;
  /** Seconds a client is told to wait (Retry-After) after a 503. */
  retryAfterSeconds: number;
  /** Largest pub/sub message, as the bytes of its JSON text. */
  topicMaxMessageBytes: number;
  /** Messages a topic (and a change stream) keeps at most: older ones are trimmed at each append. */
  topicRetentionMessages: number;
  /** Seconds a message is kept at most. */
  topicRetentionSeconds: number;
  /** A topic with no message for this long is removed; a later resume is told it may have missed messages. */
  topicIdleSeconds: number;
  /** Longest long-poll wait: API Gateway answers 504 after 29 s. */
  topicMaxWaitSeconds: number;
  /** Entry writes, deletes, TTL changes and invalidations append a change event (docs/pubsub.md). */
  changeEvents: boolean;
}

/** Pub/sub topics and change streams (docs/pubsub.md), in the units the domain works in. */
export interface TopicSettings {
  maxMessageBytes: number;
  retentionMessages: number;
  retentionMs: number;
  idleMs: number;
  maxWaitMs: number;
  changeEvents: boolean;
}

/** What the process runs with: the settings, and the topic settings derived from them. */
export interface RuntimeConfig extends RuntimeSettings {
  topics: TopicSettings;
  /**
   * Where each process publishes the hits and misses it counts (lambdas/metrics/hit-counts.ts): `metrics`
   * (CloudWatch, EMF) and/or `redis` (exact counts), none for `off`. Default: `metrics` in Lambda, else `redis`.
   */
  hitSinks: HitSinkName[];
  /** The deployed cache's ElastiCache node ids: set on the stats function, which then reads CloudWatch. Else empty. */
  cacheNodeIds: string[];
}

export type HitSinkName = 'metrics' | 'redis';

const setting = (min: number, fallback: number) => z._default(z.coerce.number().check(z.int(), z.minimum(min)), fallback);
/** A setting with an upper bound too. */
const boundedSetting = (min: number, fallback: number, max: number) => z.pipe(setting(min, fallback), z.number().check(z.maximum(max)));

const runtimeConfigSchema = z.object({
  [ENV.defaultTtlSeconds]: setting(1, 3600),
  [ENV.maxTtlSeconds]: setting(1, 30 * 24 * 3600),
  [ENV.maxValueBytes]: setting(1, 1024 * 1024),
  [ENV.maxKeyBytes]: setting(1, 1024),
  [ENV.maxInvalidateKeys]: setting(1, 1000),
  [ENV.redisTimeoutMs]: setting(50, 2000),
  [ENV.retryAfterSeconds]: setting(1, 1),
  [ENV.topicMaxMessageBytes]: boundedSetting(1, 64 * 1024, 1024 * 1024),
  [ENV.topicRetentionMessages]: boundedSetting(1, 10_000, 10_000_000),
  [ENV.topicRetentionSeconds]: boundedSetting(1, 24 * 3600, 30 * 24 * 3600),
  [ENV.topicIdleSeconds]: boundedSetting(1, 7 * 24 * 3600, 365 * 24 * 3600),
  [ENV.topicMaxWaitSeconds]: boundedSetting(0, 20, 25),
  [ENV.changeEvents]: z._default(z.enum(['true', 'false'], { error: 'must be true or false' }), 'false'),
  [ENV.hitCounts]: z.optional(
    z.string().check(z.regex(/^\s*(off|(metrics|redis)(\s*,\s*(metrics|redis))*)?\s*$/, 'a comma list of metrics and redis, or off')),
  ),
  [ENV.cacheNodeIds]: z.optional(z.string()),
});

function hitSinksOf(raw: string | undefined, inLambda: boolean): HitSinkName[] {
  const list = raw?.trim();
  if (!list) return inLambda ? ['metrics'] : ['redis'];
  if (list === 'off') return [];
  return [...new Set(list.split(',').map((s) => s.trim() as HitSinkName))];
}

export function loadRuntimeConfig(env: Env = process.env): RuntimeConfig {
  const parsed = runtimeConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid skycache runtime configuration: ${problems}`);
  }
  const c = parsed.data;
  if (c.DEFAULT_TTL_SECONDS > c.MAX_TTL_SECONDS) {
    throw new Error('invalid skycache runtime configuration: DEFAULT_TTL_SECONDS exceeds MAX_TTL_SECONDS');
  }
  if (c.TOPIC_IDLE_SECONDS < c.TOPIC_RETENTION_SECONDS) {
    throw new Error('invalid skycache runtime configuration: TOPIC_IDLE_SECONDS is shorter than TOPIC_RETENTION_SECONDS');
  }
  const changeEvents = c.CHANGE_EVENTS === 'true';
  return {
    defaultTtlSeconds: c.DEFAULT_TTL_SECONDS,
    maxTtlSeconds: c.MAX_TTL_SECONDS,
    maxValueBytes: c.MAX_VALUE_BYTES,
    maxKeyBytes: c.MAX_KEY_BYTES,
    maxInvalidateKeys: c.MAX_INVALIDATE_KEYS,
    redisTimeoutMs: c.REDIS_TIMEOUT_MS,
    retryAfterSeconds: c.RETRY_AFTER_SECONDS,
    topicMaxMessageBytes: c.TOPIC_MAX_MESSAGE_BYTES,
    topicRetentionMessages: c.TOPIC_RETENTION_MESSAGES,
    topicRetentionSeconds: c.TOPIC_RETENTION_SECONDS,
    topicIdleSeconds: c.TOPIC_IDLE_SECONDS,
    topicMaxWaitSeconds: c.TOPIC_MAX_WAIT_SECONDS,
    changeEvents,
    topics: {
      maxMessageBytes: c.TOPIC_MAX_MESSAGE_BYTES,
      retentionMessages: c.TOPIC_RETENTION_MESSAGES,
      retentionMs: c.TOPIC_RETENTION_SECONDS * 1000,
      idleMs: c.TOPIC_IDLE_SECONDS * 1000,
      maxWaitMs: c.TOPIC_MAX_WAIT_SECONDS * 1000,
      changeEvents,
    },
    hitSinks: hitSinksOf(c.HIT_COUNTS, !!env[ENV.lambdaFunctionName]),
    cacheNodeIds: (c.CACHE_NODE_IDS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
  };
}

/**
 * The environment that makes loadRuntimeConfig answer `config` in a function (the CDK stack writes every function's
 * with it): functions always publish their hit/miss counts as metrics, and to Redis too with `exactHitCounts`.
 */
export function runtimeEnvironment(config: RuntimeSettings & { exactHitCounts?: boolean }): Record<string, string> {
  return {
    [ENV.defaultTtlSeconds]: String(config.defaultTtlSeconds),
    [ENV.maxTtlSeconds]: String(config.maxTtlSeconds),
    [ENV.maxValueBytes]: String(config.maxValueBytes),
    [ENV.maxKeyBytes]: String(config.maxKeyBytes),
    [ENV.maxInvalidateKeys]: String(config.maxInvalidateKeys),
    [ENV.redisTimeoutMs]: String(config.redisTimeoutMs),
    [ENV.retryAfterSeconds]: String(config.retryAfterSeconds),
    [ENV.topicMaxMessageBytes]: String(config.topicMaxMessageBytes),
    [ENV.topicRetentionMessages]: String(config.topicRetentionMessages),
    [ENV.topicRetentionSeconds]: String(config.topicRetentionSeconds),
    [ENV.topicIdleSeconds]: String(config.topicIdleSeconds),
    [ENV.topicMaxWaitSeconds]: String(config.topicMaxWaitSeconds),
    [ENV.changeEvents]: String(config.changeEvents),
    [ENV.hitCounts]: config.exactHitCounts ? 'metrics,redis' : 'metrics',
  };
}

/** The stats function's extra setting: the cache's node ids, for its CloudWatch query (values may be CDK tokens). */
export function statsEnvironment(cacheNodeIds: readonly string[]): Record<string, string> {
  return { [ENV.cacheNodeIds]: cacheNodeIds.join(',') };
}

let cached: RuntimeConfig | undefined;
/** The process-wide configuration; tests that change the environment call resetRuntimeConfig(). */
export function runtimeConfig(): RuntimeConfig {
  return (cached ??= loadRuntimeConfig());
}
export function resetRuntimeConfig(): void {
  cached = undefined;
}

// --- Where the cache is and how to reach it ---

/** How a deployment's functions reach the cache; the values may be CDK tokens (resolved at deploy time). */
export interface ConnectionEnvironment {
  /** `host:port` of a Redis Cluster's configuration endpoint (cluster mode), or… */
  clusterNodes?: string;
  /** …`rediss://host:port` of a replication group's primary endpoint. */
  url?: string;
  /** `rediss://host:port` of the reader endpoint, for replica reads without cluster mode. */
  readerUrl?: string;
  tls: boolean;
  username: string;
  /** The secret holding the RBAC password (never the password itself). */
  authSecretArn: string;
  readFrom: ReadPreference;
}

export function connectionEnvironment(c: ConnectionEnvironment): Record<string, string> {
  return {
    ...(c.clusterNodes ? { [ENV.redisClusterNodes]: c.clusterNodes } : {}),
    ...(c.url ? { [ENV.redisUrl]: c.url } : {}),
    [ENV.redisTls]: String(c.tls),
    [ENV.redisUsername]: c.username,
    [ENV.redisAuthSecretArn]: c.authSecretArn,
    [ENV.redisReadFrom]: c.readFrom,
    ...(c.readerUrl ? { [ENV.redisReaderUrl]: c.readerUrl } : {}),
  };
}

/** Parses `host:port,host:port` (as REDIS_CLUSTER_NODES carries it). */
export function parseClusterNodes(list: string | undefined): ClusterNode[] {
  if (!list) return [];
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((hp) => {
      const i = hp.lastIndexOf(':');
      if (i < 0) return { host: hp, port: 6379 };
      const port = Number(hp.slice(i + 1));
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new Error(`invalid ${ENV.redisClusterNodes} entry "${hp}": expected host:port`);
      }
      return { host: hp.slice(0, i), port };
    });
}

function readPreferenceOf(value: string | undefined): ReadPreference {
  if (value === undefined || value === '' || value === 'primary') return 'primary';
  if (value === 'replica') return 'replica';
  throw new Error(`invalid ${ENV.redisReadFrom} "${value}": use primary or replica`);
}

/** The Redis connection the environment describes (the secret's credentials are fetched later, by the services). */
export function connectionSettingsFromEnv(env: Env, timeoutMs: number): RedisConnectionSettings {
  const settings: RedisConnectionSettings = {
    url: env[ENV.redisUrl] || undefined,
    readerUrl: env[ENV.redisReaderUrl] || undefined,
    clusterNodes: parseClusterNodes(env[ENV.redisClusterNodes]),
    timeoutMs,
    tls: env[ENV.redisTls] === 'true' || undefined,
    username: env[ENV.redisUsername] || undefined,
    password: env[ENV.redisPassword] || undefined,
    authSecretArn: env[ENV.redisAuthSecretArn] || undefined,
    readFrom: readPreferenceOf(env[ENV.redisReadFrom]),
    // A Lambda instance serves one request at a time: coalescing commands per tick would only delay each one.
    // Servers with many requests in flight (the local server) gain from it. REDIS_AUTO_PIPELINING overrides.
    autoPipelining: env[ENV.redisAutoPipelining]
      ? env[ENV.redisAutoPipelining] === 'true'
      : !env[ENV.lambdaFunctionName],
  };
  if (settings.readFrom === 'replica' && !settings.clusterNodes?.length && !settings.readerUrl) {
    throw new Error(
      `${ENV.redisReadFrom}=replica needs ${ENV.redisClusterNodes} or ${ENV.redisReaderUrl} (the reader endpoint)`,
    );
  }
  return settings;
}

/** Whether the cache's credentials come from Secrets Manager (then they must be fetched before connecting). */
export function authSecretArnOf(env: Env = process.env): string | undefined {
  return env[ENV.redisAuthSecretArn] || undefined;
}

// --- The snapshot exporter (scheduled, not an API route) ---

export interface SnapshotExportEnvironment {
  replicationGroupId: string;
  bucket: string;
  prefix: string;
}

export function snapshotExportEnvironment(s: SnapshotExportEnvironment): Record<string, string> {
  return { [ENV.replicationGroupId]: s.replicationGroupId, [ENV.exportBucket]: s.bucket, [ENV.exportPrefix]: s.prefix };
}

export function snapshotExportSettingsFromEnv(env: Env = process.env): SnapshotExportEnvironment {
  const required = (name: string) => {
    const value = env[name];
    if (!value) throw new Error(`export-snapshot: environment variable ${name} is not set`);
    return value;
  };
  return {
    replicationGroupId: required(ENV.replicationGroupId),
    bucket: required(ENV.exportBucket),
    prefix: env[ENV.exportPrefix] || 'skycache',
  };
}

// --- Logging and the local server ---

/** The logger's service name and level, as every function is given them. */
const SERVICE_NAME = 'skycache';
export function loggingEnvironment(level: string): Record<string, string> {
  return { [ENV.serviceName]: SERVICE_NAME, [ENV.logLevel]: level };
}
export function serviceNameOf(env: Env = process.env): string {
  return env[ENV.serviceName] ?? SERVICE_NAME;
}

export interface LocalServerSettings {
  port: number;
  host: string;
  maxmemory: string;
  maxmemoryPolicy: string;
  /** Whether the environment names a Redis to use; if not, `npm start` starts its own. */
  redisGiven: boolean;
  /** How long requests in flight may run on after SIGTERM/SIGINT. */
  shutdownGraceMs: number;
}

export function localServerSettingsFromEnv(env: Env = process.env): LocalServerSettings {
  return {
    port: Number(env[ENV.localPort] ?? 3000),
    host: env[ENV.localHost] ?? '127.0.0.1',
    maxmemory: env[ENV.localMaxmemory] ?? '256mb',
    maxmemoryPolicy: env[ENV.localMaxmemoryPolicy] ?? 'allkeys-lru',
    redisGiven: Boolean(env[ENV.redisUrl] || env[ENV.redisClusterNodes]),
    shutdownGraceMs: Number(env[ENV.shutdownGraceMs] ?? 10_000),
  };
}
