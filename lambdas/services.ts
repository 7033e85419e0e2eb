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
}

/** Dedicated blocking connections one process may hold (one per concurrent long-poll or SSE stream). */
const MAX_BLOCKING_CONNECTIONS = 200;

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
  current = {
    config,
    redis,
    replicaReader,
    entries: new EntryStore(redis, config, { replicaReader }),
    lists: new ListStore(redis, collections),
    sets: new SetStore(redis, collections),
    hashes: new HashStore(redis, collections),
    sortedSets: new SortedSetStore(redis, collections),
    counters: new CounterStore(redis, config),
    topics: new TopicStore(redis, topics, blocking),
    schemaLimits: schemaLimitsOf(config),
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

/** Forgets the process-wide services (and the client) so the next call builds them again; for tests. */
export function resetServices(client?: RedisClient): void {
  const reader = current?.replicaReader;
  current?.topics.close();
  current = undefined;
  resolvedSettings = undefined;
  setSharedRedis(client);
  reader?.disconnect();
}

/** Closes the process-wide clients, if any were made, and forgets the services (shutdown and tests). */
export async function closeServices(): Promise<void> {
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
