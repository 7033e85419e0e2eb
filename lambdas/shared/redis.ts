import Redis, { Cluster, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis';
import { CacheError, UnavailableError } from './errors';

/** Either a single Redis (or a replication group's primary endpoint) or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

export interface RedisConnectionSettings {
  /** `redis://[user:pass@]host:port[/db]` or `rediss://…` for TLS. Used when `clusterNodes` is empty. */
  url?: string;
  /** Seed nodes of a Redis Cluster (`host:port`), e.g. an ElastiCache configuration endpoint. */
  clusterNodes?: ClusterNode[];
  /** Connect and per-command timeout; keep it well below the Lambda timeout. */
  timeoutMs: number;
  tls?: boolean;
  username?: string;
  password?: string;
  /** Coalesce the commands issued in one tick into one write (ioredis enableAutoPipelining). */
  autoPipelining?: boolean;
}

export function isCluster(client: RedisClient): client is Cluster {
  return (client as Cluster).isCluster === true;
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
      return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
    });
}

export function connectionSettingsFromEnv(env: NodeJS.ProcessEnv, timeoutMs: number): RedisConnectionSettings {
  return {
    url: env.REDIS_URL,
    clusterNodes: parseClusterNodes(env.REDIS_CLUSTER_NODES),
    timeoutMs,
    tls: env.REDIS_TLS === 'true' || undefined,
    username: env.REDIS_USERNAME || undefined,
    password: env.REDIS_PASSWORD || undefined,
    // A Lambda instance serves one request at a time: coalescing commands per tick would only delay each one.
    // Servers with many requests in flight (the local server) gain from it. REDIS_AUTO_PIPELINING overrides.
    autoPipelining: env.REDIS_AUTO_PIPELINING ? env.REDIS_AUTO_PIPELINING === 'true' : !env.AWS_LAMBDA_FUNCTION_NAME,
  };
}

function commonOptions(s: RedisConnectionSettings): RedisOptions {
  return {
    connectTimeout: s.timeoutMs,
    commandTimeout: s.timeoutMs,
    // A request fails fast (and is answered 503) rather than waiting through many reconnects.
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
    // After a failover the old primary answers READONLY: reconnect so DNS leads to the new primary.
    reconnectOnError: (err) => (/READONLY/.test(err.message) ? 2 : false),
    enableAutoPipelining: s.autoPipelining ?? true,
    // No offline queue: a queued command would run after its request was already answered 503 (see readiness.ts).
    enableOfflineQueue: false,
    ...(s.username ? { username: s.username } : {}),
    ...(s.password ? { password: s.password } : {}),
    ...(s.tls ? { tls: {} } : {}),
  };
}

export function createRedisClient(s: RedisConnectionSettings): RedisClient {
  const options = commonOptions(s);
  if (s.clusterNodes && s.clusterNodes.length > 0) {
    const clusterOptions: ClusterOptions = {
      redisOptions: options,
      enableAutoPipelining: s.autoPipelining ?? true,
      enableOfflineQueue: false,
      maxRedirections: 16,
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      slotsRefreshTimeout: s.timeoutMs,
      // ElastiCache with TLS: certificates name the configuration endpoint, not the node IPs.
      ...(s.tls ? { dnsLookup: (address: string, callback: (err: Error | null, address: string) => void) => callback(null, address) } : {}),
    };
    return new Cluster(s.clusterNodes, clusterOptions);
  }
  const url = s.url ?? 'redis://127.0.0.1:6379';
  return new Redis(url, options);
}

let shared: RedisClient | undefined;
/** The process-wide client, created on first use and reused across Lambda invocations. */
export function sharedRedis(factory: () => RedisClient): RedisClient {
  return (shared ??= factory());
}
/** Replaces the process-wide client (tests and the local server inject their own). */
export function setSharedRedis(client: RedisClient | undefined): void {
  shared = client;
}

/** The primaries that hold the keyspace: keyspace-wide work (SCAN, INFO, DBSIZE) must visit each. */
export function primaries(client: RedisClient): Redis[] {
  return isCluster(client) ? client.nodes('master') : [client];
}

const UNAVAILABLE_PATTERNS =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|Connection is closed|Command timed out|MaxRetriesPerRequest|Stream isn't writeable|enableOfflineQueue|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|LOADING|READONLY|Failed to refresh slots|None of startup nodes|Too many Cluster redirections|connect ETIMEDOUT|BUSY /;

/** Maps what ioredis throws to the domain's error vocabulary; unknown failures stay INTERNAL. */
export function translateRedisError(err: unknown): CacheError {
  if (err instanceof CacheError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (/^OOM /.test(message) || message.includes('OOM command not allowed')) {
    return new CacheError('OUT_OF_MEMORY', 'the cache is full and its eviction policy refuses new writes');
  }
  if (message.includes('WRONGTYPE')) {
    return new CacheError('WRONG_TYPE', 'the key holds a different kind of value');
  }
  if (UNAVAILABLE_PATTERNS.test(message) || (err as { name?: string })?.name === 'MaxRetriesPerRequestError') {
    return new UnavailableError();
  }
  return new CacheError('INTERNAL', 'the cache failed to process the request');
}
