import { configureChangeEvents } from '../domain/change-events';
import { EntryStore } from '../domain/entries';
import { TopicStore } from '../domain/topics';
import { BlockingConnections } from './blocking-redis';
import { UnavailableError } from './errors';
import { runtimeConfig, type RuntimeConfig } from './config';
import {
  connectionSettingsFromEnv,
  createRedisClient,
  createReplicaReader,
  sharedRedis,
  setSharedRedis,
  withSecretCredentials,
  type RedisClient,
  type RedisConnectionSettings,
} from './redis';
import { DEFAULT_SCHEMA_LIMITS, type SchemaLimits } from './schemas';

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
  if (process.env.REDIS_AUTH_SECRET_ARN && !resolvedSettings) {
    // Never build a client without the credentials the secret holds: the caller must await readyServices().
    throw new UnavailableError('the cache credentials have not been read yet; retry shortly');
  }
  const config = runtimeConfig();
  const settings = resolvedSettings ?? connectionSettingsFromEnv(process.env, config.redisTimeoutMs);
  const redis = sharedRedis(() => createRedisClient(settings));
  const replicaReader = createReplicaReader(settings);
  const { topics } = config;
  configureChangeEvents(topics.changeEvents ? { retentionMessages: topics.retentionMessages, retentionMs: topics.retentionMs, idleMs: topics.idleMs } : undefined);
  const blocking = new BlockingConnections(redis, {
    maxConnections: MAX_BLOCKING_CONNECTIONS,
    commandTimeoutMs: topics.maxWaitMs + config.redisTimeoutMs,
  });
  current = {
    config,
    redis,
    replicaReader,
    entries: new EntryStore(redis, config, { replicaReader }),
    topics: new TopicStore(redis, topics, blocking),
    schemaLimits: { ...DEFAULT_SCHEMA_LIMITS, maxTtlSeconds: config.maxTtlSeconds },
  };
  return current;
}

/**
 * The services, after fetching the RBAC password from Secrets Manager when REDIS_AUTH_SECRET_ARN is set (once per
 * process; the control-plane call is never on the path of later requests).
 */
export async function readyServices(): Promise<Services> {
  if (current) return current;
  if (process.env.REDIS_AUTH_SECRET_ARN && !resolvedSettings) {
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
