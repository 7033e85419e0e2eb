import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import Redis, { Cluster, Pipeline, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis';
import { CacheError, UnavailableError } from './errors';
import { HASH_SLOTS } from './keyspace';
import { logger } from './logger';

/** Either a single Redis (or a replication group's primary endpoint) or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** Where GETs go by default: the primary (read-your-writes) or replicas (eventual, spreads the read load). */
export type ReadPreference = 'primary' | 'replica';

export interface RedisConnectionSettings {
  /** `redis://[user:pass@]host:port[/db]` or `rediss://…` for TLS. Used when `clusterNodes` is empty. */
  url?: string;
  /** Reader endpoint of a non-cluster replication group, for `readFrom: 'replica'`. */
  readerUrl?: string;
  /** Seed nodes of a Redis Cluster (`host:port`), e.g. an ElastiCache configuration endpoint. */
  clusterNodes?: ClusterNode[];
  /** Connect and per-command timeout; keep it well below the Lambda timeout. */
  timeoutMs: number;
  tls?: boolean;
  username?: string;
  password?: string;
  /** Secrets Manager secret (JSON with `password`, maybe `username`) holding the RBAC credentials. */
  authSecretArn?: string;
  readFrom?: ReadPreference;
  /** Coalesce the commands issued in one tick into one write (ioredis enableAutoPipelining). */
  autoPipelining?: boolean;
}

export function isCluster(client: RedisClient): client is Cluster {
  return (client as Cluster).isCluster === true;
}

/** A Lua script as ioredis's defineCommand takes it. */
export interface ScriptDefinition {
  numberOfKeys: number;
  lua: string;
  readOnly?: boolean;
}

/**
 * Registers a Lua script as a command of `client` (ioredis's defineCommand: EVALSHA, EVAL once per connection)
 * without the cost ioredis then puts on every pipeline. ioredis's Pipeline constructor copies each of its client's
 * script commands onto the new pipeline, two properties per script; with auto-pipelining a pipeline is built for
 * every batch of commands, and with skycache's 29 scripts that copy made a pipeline cost 24 µs of CPU instead of 4
 * (bench/sections/http.ts, pipelineCost). So the script is left out of the client's `scriptsSet`, the
 * only thing that copy reads, and the pipeline finds the command on Pipeline.prototype instead: a method that calls
 * the client's own with the pipeline as `this`, which is what the copied property did. test/redis-client.test.ts
 * checks a pipeline carries no script of its own and still runs them.
 */
export function defineScript(client: RedisClient, name: string, definition: ScriptDefinition): void {
  client.defineCommand(name, definition);
  delete (client.scriptsSet as Record<string, unknown>)[name];
  for (const method of [name, `${name}Buffer`]) {
    if (Object.prototype.hasOwnProperty.call(Pipeline.prototype, method)) continue;
    if (method in Pipeline.prototype) throw new Error(`script name ${name} shadows an ioredis command`);
    Object.defineProperty(Pipeline.prototype, method, {
      configurable: true,
      writable: true,
      value(this: Pipeline, ...args: unknown[]) {
        return (this.redis as unknown as Record<string, (...a: unknown[]) => unknown>)[method].apply(this, args);
      },
    });
  }
}

/** Reads a secret's string; an interface so tests (and other stores) can stand in for Secrets Manager. */
export interface SecretSource {
  secretString(secretId: string): Promise<string>;
}

/**
 * Secrets Manager, loaded on first use: only a deployment with REDIS_AUTH_SECRET_ARN pays for importing the SDK,
 * and it pays once, at its first connection.
 */
export class SecretsManagerSource implements SecretSource {
  constructor(private client?: SecretsManagerClient) {}
  async secretString(secretId: string): Promise<string> {
    const sdk = await import('@aws-sdk/client-secrets-manager');
    // Bounded, so a slow control plane costs a cold start seconds, not the Lambda timeout.
    this.client ??= new sdk.SecretsManagerClient({
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 1000, requestTimeout: 2000, throwOnRequestTimeout: true },
    });
    const out = await this.client.send(new sdk.GetSecretValueCommand({ SecretId: secretId }));
    if (out.SecretString === undefined) throw new Error(`secret ${secretId} has no SecretString`);
    return out.SecretString;
  }
}

export interface RedisCredentials {
  username?: string;
  password: string;
}

/** Parses the secret as ElastiCache RBAC secrets are kept: JSON `{"password": …, "username"?: …}`. */
export function parseCredentialsSecret(secretId: string, text: string): RedisCredentials {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Never echo the secret itself into a message or a log.
    throw new Error(`secret ${secretId} is not JSON; expected {"password": "...", "username"?: "..."}`);
  }
  const o = parsed as { password?: unknown; username?: unknown };
  if (!o || typeof o.password !== 'string' || !o.password) {
    throw new Error(`secret ${secretId} has no "password" string`);
  }
  return { password: o.password, ...(typeof o.username === 'string' && o.username ? { username: o.username } : {}) };
}

const credentialCache = new Map<string, Promise<RedisCredentials>>();
/** The credentials in the secret, fetched once per process (a failed fetch is retried by the next caller). */
export function credentialsFromSecret(secretId: string, source: SecretSource = new SecretsManagerSource()): Promise<RedisCredentials> {
  let pending = credentialCache.get(secretId);
  if (!pending) {
    pending = source.secretString(secretId).then((text) => parseCredentialsSecret(secretId, text));
    pending.catch(() => credentialCache.delete(secretId));
    credentialCache.set(secretId, pending);
  }
  return pending;
}
export function forgetCachedCredentials(): void {
  credentialCache.clear();
}

/** Settings with the secret's credentials filled in, when REDIS_AUTH_SECRET_ARN names one. */
export async function withSecretCredentials(
  s: RedisConnectionSettings,
  source?: SecretSource,
): Promise<RedisConnectionSettings> {
  if (!s.authSecretArn) return s;
  const c = await credentialsFromSecret(s.authSecretArn, source);
  return { ...s, password: c.password, username: c.username ?? s.username };
}

/**
 * A READONLY reply means we talk to a node that is now a replica: reconnect, so DNS leads to the promoted primary.
 * Without an offline queue the command that met READONLY is not resent; its request is answered 503.
 */
export function reconnectOnReadOnly(err: Error): 2 | false {
  return /READONLY/.test(err.message) ? 2 : false;
}

export function redisOptions(s: RedisConnectionSettings): RedisOptions {
  return {
    connectTimeout: s.timeoutMs,
    // No commandTimeout: it arms a timer per command (about 1–2 µs each, bench section 1, "raw GET on the handler's
    // client"), while every request's wait is already bounded as a whole by its deadline (core/deadline.ts), as are
    // the readiness PING and closing. A timed-out command stays in ioredis's queue either way, until its reply or the
    // connection's end.
    // A request fails fast (and is answered 503) rather than waiting through many reconnects.
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
    reconnectOnError: reconnectOnReadOnly,
    // Off in Lambda (autoPipelining), where one request at a time only waits for the next tick.
    enableAutoPipelining: s.autoPipelining ?? true,
    // No offline queue: a queued command would run after its request was already answered 503 (see readiness.ts).
    enableOfflineQueue: false,
    // No CLIENT SETINFO in the handshake: the app user's ACL (redis-commands.ts) leaves it out, as Redis OSS 7.0/7.1
    // do not know it.
    disableClientInfo: true,
    ...(s.username ? { username: s.username } : {}),
    ...(s.password ? { password: s.password } : {}),
    ...(s.tls || s.url?.startsWith('rediss://') ? { tls: {} } : {}),
  };
}

export function clusterOptions(s: RedisConnectionSettings, scaleReads: 'master' | 'slave' = 'master'): ClusterOptions {
  return {
    redisOptions: redisOptions(s),
    scaleReads,
    // Batches rely on it (one round trip per shard). Its one cost: after a failover an auto-pipeline that mixes
    // slots of one node gets a different MOVED per slot, which ioredis cannot redirect as one: single-key
    // operations retry once after a slot refresh (retryOnceOnMoved); anything else is answered 503.
    enableAutoPipelining: true,
    // As for a single node: a command never waits in a queue past the request that issued it (see readiness.ts).
    enableOfflineQueue: false,
    maxRedirections: 16,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: s.timeoutMs,
    // Picks up a promoted replica even when no MOVED arrives to tell us (e.g. only reads to other shards).
    slotsRefreshInterval: 2000,
    // ElastiCache with TLS: certificates name the configuration endpoint, so connect by the name, not its IP.
    ...(s.tls ? { dnsLookup: (address: string, callback: (err: Error | null, address: string) => void) => callback(null, address) } : {}),
  };
}

/** The client every handler writes (and by default reads) through: the primaries. */
export function createRedisClient(s: RedisConnectionSettings): RedisClient {
  const client =
    s.clusterNodes && s.clusterNodes.length > 0
      ? new Cluster(s.clusterNodes, clusterOptions(s))
      : new Redis(s.url ?? 'redis://127.0.0.1:6379', redisOptions(s));
  // Every request waiting for a (re)connection listens for 'ready' (readiness.ts); many may wait at once.
  client.setMaxListeners(0);
  client.on('error', reportConnectionError);
  return client;
}

const CONNECTION_ERROR_LOG_INTERVAL_MS = 10_000;
let lastConnectionErrorLogged = 0;

/**
 * ioredis emits 'error' for every failed connection attempt while Redis is away; with no listener it prints an
 * unstructured "[ioredis] Unhandled error event" line per attempt. The requests that meet the outage answer 503 and
 * are logged as such; the connection's own errors go to the structured log, at most one line per 10 s.
 */
function reportConnectionError(err: Error): void {
  const now = Date.now();
  if (now - lastConnectionErrorLogged < CONNECTION_ERROR_LOG_INTERVAL_MS) return;
  lastConnectionErrorLogged = now;
  logger.warn('redis connection error', { error: err.message });
}

/**
 * A second client whose reads go to replicas, when REDIS_READ_FROM=replica: a cluster client with
 * `scaleReads: 'slave'`, or a client of the replication group's reader endpoint. Kept apart from the primary
 * client so a read-modify-write elsewhere in the domain never reads stale data by accident.
 */
export function createReplicaReader(s: RedisConnectionSettings): RedisClient | undefined {
  if (s.readFrom !== 'replica') return undefined;
  const reader =
    s.clusterNodes && s.clusterNodes.length > 0
      ? new Cluster(s.clusterNodes, clusterOptions(s, 'slave'))
      : s.readerUrl
        ? new Redis(s.readerUrl, redisOptions(s))
        : undefined;
  reader?.on('error', reportConnectionError);
  return reader;
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

function nodeKey(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
}

/** A replica of `primary`'s shard among the nodes `cluster` knows (matched by host:port), if any. */
export function replicaOf(cluster: Cluster, primary: Redis): Redis | undefined {
  const key = nodeKey(primary);
  const owned = cluster.slots.find((owners) => owners?.[0] === key);
  const replicas = new Set(owned?.slice(1));
  return cluster.nodes('slave').find((n) => replicas.has(nodeKey(n)));
}

/** The slots whose primary, as the client last learnt the topology, is not among `visited`. */
function uncoveredSlots(cluster: Cluster, visited: Set<string>): number {
  let missing = 0;
  for (let slot = 0; slot < HASH_SLOTS; slot++) {
    const owner = cluster.slots[slot]?.[0];
    if (!owner || !visited.has(owner)) missing++;
  }
  return missing;
}

/**
 * Runs keyspace-wide work on every primary. In cluster mode it checks, before and after, that the primaries
 * visited own every slot: a shard whose primary died (and whose replica is not yet promoted, or was promoted while
 * the work ran) is answered 503 rather than silently left out of a count or an invalidation.
 */
export async function forEachPrimary<T>(client: RedisClient, work: (node: Redis) => Promise<T>): Promise<T[]> {
  if (!isCluster(client)) {
    try {
      return [await work(client)];
    } catch (e) {
      throw translateRedisError(e);
    }
  }
  if (client.status !== 'ready') {
    // A cold client has no topology yet: one round trip to learn it.
    await client.ping().catch((e: unknown) => {
      throw translateRedisError(e);
    });
  }
  const nodes = client.nodes('master');
  const visited = new Set(nodes.map(nodeKey));
  const check = () => {
    const missing = uncoveredSlots(client, visited);
    if (missing > 0) {
      throw new UnavailableError(
        `${missing} hash slots have no reachable primary (a failover is in progress); retry shortly`,
      );
    }
  };
  check();
  let results: T[];
  try {
    results = await Promise.all(nodes.map(work));
  } catch (e) {
    throw translateRedisError(e);
  }
  check();
  return results;
}

function refreshSlots(cluster: Cluster): Promise<void> {
  return new Promise<void>((resolve) => cluster.refreshSlotsCache(() => resolve()));
}

/**
 * Replies meaning the command was never executed, after which a client with a stale slot table may send it again:
 * - `MOVED`: an auto-pipeline that mixes several slots of one node gets a different MOVED per slot after a failover,
 *   which ioredis hands to the caller instead of redirecting;
 * - ioredis's own refusal of an auto-pipeline whose keys no longer share one node: a MOVED that arrived while the
 *   pipeline waited behind another one re-pointed some of its slots (ioredis updates the slot a MOVED names, not
 *   the whole shard), so ioredis rejects the pipeline before sending it.
 * ASK is left alone: it needs ASKING on another node, and resolves itself when the migration ends.
 */
const NOT_SENT_STALE_SLOTS = /^MOVED |All keys in the pipeline should belong to the same slots allocation group/;

/**
 * Runs a single-command operation, and once more after refreshing the slot table if the cluster said the command
 * was not executed because the client's slot table is stale (NOT_SENT_STALE_SLOTS), so the retry is safe.
 */
export async function retryOnceOnMoved<T>(clients: (RedisClient | undefined)[], work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    const clusters = clients.filter((c): c is Cluster => !!c && isCluster(c));
    if (!clusters.length || !NOT_SENT_STALE_SLOTS.test((e as Error)?.message ?? '')) throw e;
    await Promise.all(clusters.map(refreshSlots));
    return work();
  }
}

const UNAVAILABLE_PATTERNS =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|Connection is closed|Command timed out|MaxRetriesPerRequest|Stream isn't writeable|enableOfflineQueue|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|LOADING|READONLY|Failed to refresh slots|None of startup nodes|Too many Cluster redirections|connect ETIMEDOUT|BUSY |Cluster isn't ready|NOAUTH|WRONGPASS|^MOVED |^ASK |same slots allocation group|Node is disconnected|Cluster is disconnect/;

/** Maps what ioredis throws to the domain's error vocabulary; unknown failures stay INTERNAL. */
export function translateRedisError(err: unknown): CacheError {
  if (err instanceof CacheError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (/^OOM /.test(message) || message.includes('OOM command not allowed')) {
    return new CacheError(
      'OUT_OF_MEMORY',
      'the cache is out of memory and its eviction policy refuses new writes (noeviction, or no key the policy ' +
        'may evict); delete or invalidate entries, wait for TTLs to expire, or raise the memory limit',
    );
  }
  if (message.includes('WRONGTYPE')) {
    return new CacheError('WRONG_TYPE', 'the key holds a different kind of value');
  }
  if (UNAVAILABLE_PATTERNS.test(message) || (err as { name?: string })?.name === 'MaxRetriesPerRequestError') {
    return new UnavailableError();
  }
  // Keep what Redis said for the log line (the client only ever sees the generic message).
  return Object.assign(new CacheError('INTERNAL', 'the cache failed to process the request'), { cause: err });
}
