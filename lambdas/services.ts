import { configureChangeEvents } from './domain/change-events';
import { withCollectionScripts } from './domain/collection-scripts';
import { collectionLimits } from './domain/collections';
import { CounterStore } from './domain/counters';
import { EntryStore } from './domain/entries';
import { withScripts } from './domain/scripts';
import { HashStore } from './domain/hashes';
import { ListStore } from './domain/lists';
import { SetStore } from './domain/sets';
import { SortedSetStore } from './domain/sorted-sets';
import { UnavailableError } from './core/errors';
import { authSecretArnOf, connectionSettingsFromEnv, runtimeConfig, type RuntimeConfig } from './core/config';
import { TopicStore, withTopicScripts } from './domain/topics';
import { BlockingConnections } from './core/blocking-redis';
import { CloudWatchMetricData, SharedAnswer, type MetricDataSource } from './metrics/fleet-stats';
import { hitCounterFor, type HitCounter } from './metrics/hit-counts';
import type { RouteFamily } from './metrics/names';
import {
  createRedisClient,
  createReplicaReader,
  sharedRedis,
  setSharedRedis,
  withSecretCredentials,
  type RedisClient,
  type RedisConnectionSettings,
} from './core/redis';
import { schemaLimitsOf, type SchemaLimits } from './http/schemas';

/**
 * What a handler needs, built once per process (a Lambda container or the local server) and reused by every
 * invocation, so connections survive between requests.
 */
export interface Services {
  config: RuntimeConfig;
  /** Writes, strong reads and keyspace-wide work: always the primaries. */
  redis: RedisClient;
  /** Replica reads when REDIS_READ_FROM=replica (eventually consistent), otherwise absent. */
  replicaReader?: RedisClient;
  entries: EntryStore;
  lists: ListStore;
  sets: SetStore;
  hashes: HashStore;
  sortedSets: SortedSetStore;
  counters: CounterStore;
  /** Pub/sub topics and change streams; its long-polls block on dedicated connections (blocking-redis.ts). */
  topics: TopicStore;
  schemaLimits: SchemaLimits;
  /** Hits and misses counted in this process and published in bulk (HIT_COUNTS: CloudWatch metrics and/or Redis). */
  hits: HitCounter;
  /** Counts one read of a route family: found or not. */
  countRead(family: RouteFamily, found: boolean): void;
  /** Stats answers shared by the calls within a second of each other. */
  statsAnswers: SharedAnswer<unknown>;
  /** Where deployed stats read the fleet's figures (CloudWatch): used when CACHE_NODE_IDS names the cache's nodes. */
  metricData: MetricDataSource;
}

/** Dedicated blocking connections one process may hold (one per concurrent long-poll or SSE stream). */
const MAX_BLOCKING_CONNECTIONS = 200;
let hitCounter: HitCounter | undefined;

let current: Services | undefined;
/** Connection settings with secret credentials resolved (set by readyServices before the first build). */
let resolvedSettings: RedisConnectionSettings | undefined;

export function services(): Services {
  if (current) return current;
  if (authSecretArnOf() && !resolvedSettings) {
    // Never build a client without the credentials the secret holds: the caller must await readyServices().
    throw new UnavailableError('the cache credentials have not been read yet; retry shortly');
  }
  const config = runtimeConfig();
  const settings = resolvedSettings ?? connectionSettingsFromEnv(process.env, config.redisTimeoutMs);
  const redis = sharedRedis(() => createRedisClient(settings));
  const replicaReader = createReplicaReader(settings);
  const { topics } = config;
  // Before the scripts are defined: with change events on, each write script carries its event append.
  configureChangeEvents(topics.changeEvents ? { retentionMessages: topics.retentionMessages, retentionMs: topics.retentionMs, idleMs: topics.idleMs } : undefined);
  for (const client of [redis, replicaReader]) if (client) defineScripts(client);
  const collections = collectionLimits(config);
  const blocking = new BlockingConnections(redis, {
    maxConnections: MAX_BLOCKING_CONNECTIONS,
    commandTimeoutMs: topics.maxWaitMs + config.redisTimeoutMs,
  });
  // The counter outlives a rebuild of the services (tests): it always writes through the current primary client.
  const hits = (hitCounter ??= hitCounterFor(config.hitSinks, () => services().redis));
  current = {
    config,
    redis,
    replicaReader,
    entries: new EntryStore(redis, config, { replicaReader }),
    // Collection reads go to a replica when replicas serve reads (each store's readerFor).
    lists: new ListStore(redis, collections, replicaReader),
    sets: new SetStore(redis, collections, replicaReader),
    hashes: new HashStore(redis, collections, replicaReader),
    sortedSets: new SortedSetStore(redis, collections, replicaReader),
    counters: new CounterStore(redis, config),
    topics: new TopicStore(redis, topics, blocking),
    schemaLimits: schemaLimitsOf(config),
    hits,
    countRead: (family, found) => hits.record(family, found ? 1 : 0, found ? 0 : 1),
    statsAnswers: new SharedAnswer(1000),
    metricData: new CloudWatchMetricData(),
  };
  return current;
}

/**
 * Registers every script as a command before the client carries its first command. ioredis copies a client's
 * script commands into each auto-pipeline when it makes one: a script defined later (lazily, on first use) is
 * missing from a pipeline another request opened in the same tick, and that request fails
 * ("pipeline[name] is not a function").
 */
function defineScripts(client: RedisClient): void {
  withScripts(client);
  withCollectionScripts(client);
  withTopicScripts(client);
}

/** The services if this process has built them already, else undefined (then await readyServices()). */
export function builtServices(): Services | undefined {
  return current;
}

/**
 * The services, after fetching the RBAC password from Secrets Manager when REDIS_AUTH_SECRET_ARN is set (once per
 * process; the control-plane call is never on the path of later requests).
 */
export async function readyServices(): Promise<Services> {
  if (current) return current;
  if (authSecretArnOf() && !resolvedSettings) {
    const config = runtimeConfig();
    const settings = connectionSettingsFromEnv(process.env, config.redisTimeoutMs);
    resolvedSettings = await withSecretCredentials(settings).catch(() => {
      throw new UnavailableError('the cache credentials could not be read from Secrets Manager; retry shortly');
    });
  }
  return services();
}

/**
 * Forgets the process-wide services (and the client) so the next call builds them again; for tests. Counts not yet
 * published are dropped and HIT_COUNTS is read again.
 */
export function resetServices(client?: RedisClient): void {
  const reader = current?.replicaReader;
  current?.topics.close();
  hitCounter?.stop();
  hitCounter = undefined;
  current = undefined;
  resolvedSettings = undefined;
  setSharedRedis(client);
  reader?.disconnect();
}

/**
 * Publishes the counts not yet published, closes the process-wide clients, if any were made, and forgets the
 * services (shutdown and tests).
 */
export async function closeServices(): Promise<void> {
  await hitCounter?.flushAll().catch(() => undefined);
  hitCounter?.stop();
  hitCounter = undefined;
  const client = current?.redis;
  const reader = current?.replicaReader;
  current?.topics.close();
  current = undefined;
  resolvedSettings = undefined;
  setSharedRedis(undefined);
  await Promise.all(
    [client, reader].filter((c): c is RedisClient => !!c).map((c) => c.quit().catch(() => c.disconnect())),
  );
}
