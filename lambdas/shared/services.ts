import { EntryStore } from '../domain/entries';
import { runtimeConfig, type RuntimeConfig } from './config';
import { connectionSettingsFromEnv, createRedisClient, sharedRedis, setSharedRedis, type RedisClient } from './redis';
import { DEFAULT_SCHEMA_LIMITS, type SchemaLimits } from './schemas';

/**
 * What a handler needs, built once per process (a Lambda container or the local server) and reused by every
 * invocation, so connections survive between requests.
 */
export interface Services {
  config: RuntimeConfig;
  redis: RedisClient;
  entries: EntryStore;
  schemaLimits: SchemaLimits;
}

let current: Services | undefined;

export function services(): Services {
  if (current) return current;
  const config = runtimeConfig();
  const redis = sharedRedis(() => createRedisClient(connectionSettingsFromEnv(process.env, config.redisTimeoutMs)));
  current = {
    config,
    redis,
    entries: new EntryStore(redis, config),
    schemaLimits: { ...DEFAULT_SCHEMA_LIMITS, maxTtlSeconds: config.maxTtlSeconds },
  };
  return current;
}

/** Forgets the process-wide services (and the client) so the next call builds them again; for tests. */
export function resetServices(client?: RedisClient): void {
  current = undefined;
  setSharedRedis(client);
}

/** Closes the process-wide client, if one was made, and forgets the services (shutdown and tests). */
export async function closeServices(): Promise<void> {
  const client = current?.redis;
  resetServices();
  if (client) await client.quit().catch(() => client.disconnect());
}
