import { configureChangeEvents } from './domain/change-events';
import type { CounterStore } from './domain/counters';
import type { EntryStore } from './domain/entries';
import type { HashStore } from './domain/hashes';
import type { ListStore } from './domain/lists';
import type { SetStore } from './domain/sets';
import type { SortedSetStore } from './domain/sorted-sets';
import type { TopicStore } from './domain/topics';
import { readerOf, type ReadConsistency } from './domain/store';
import { UnavailableError } from './core/errors';
import { authSecretArnOf, connectionSettingsFromEnv, runtimeConfig, type RuntimeConfig } from './core/config';
import { CloudWatchMetricData, SharedAnswer, type MetricDataSource } from './metrics/fleet-stats';
import { withDeadline } from './core/deadline';
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
  /** Where a read goes: a ready replica when replicas serve reads and the read may be eventual, else the primary. */
  readerFor(consistency?: ReadConsistency): RedisClient;
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

/** The stores of the route families, by their name in Services. */
export type StoreName = 'entries' | 'lists' | 'sets' | 'hashes' | 'sortedSets' | 'counters' | 'topics';
const STORE_NAMES: readonly StoreName[] = ['entries', 'lists', 'sets', 'hashes', 'sortedSets', 'counters', 'topics'];

/** What the stores are built from: the services without the stores. */
export type BaseServices = Omit<Services, StoreName>;

/**
 * How one route family's store is made (lambdas/stores/ has one per family). A handler module provides the stores
 * its routes use (provideStores), so its bundle carries only their code and Lua scripts.
 */
export interface StoreProvider<K extends StoreName = StoreName> {
  name: K;
  build(base: BaseServices): Services[K];
  /** Registers the scripts the store sends as commands on a client (see attachStore). */
  scripts: readonly ((client: RedisClient) => unknown)[];
  /** Releases what the store holds beyond the shared clients (closeServices, resetServices). */
  close?(store: Services[K]): void;
}

const providers = new Map<StoreName, StoreProvider>();

/**
 * Makes stores part of the services, at a handler module's import: before the first request, so their scripts are
 * on the clients before the clients' first command. A provider added after the services were built (a test that
 * imports a handler late) builds its store and defines its scripts at once.
 */
export function provideStores(...list: StoreProvider[]): void {
  for (const provider of list) {
    if (providers.has(provider.name)) continue;
    providers.set(provider.name, provider);
    if (current) attachStore(current, provider);
  }
}

/**
 * Registers the store's scripts as commands on every client, then builds the store. The scripts go on before the
 * client carries its first command: ioredis copies a client's script commands into each auto-pipeline when it makes
 * one, so a script defined later (lazily, on first use) is missing from a pipeline another request opened in the
 * same tick, and that request fails ("pipeline[name] is not a function").
 */
function attachStore(svc: Services, provider: StoreProvider): void {
  for (const client of [svc.redis, svc.replicaReader]) if (client) for (const define of provider.scripts) define(client);
  Object.defineProperty(svc, provider.name, { value: provider.build(svc), enumerable: true, configurable: true });
}

/** A store no provider gave: a programming error (the handler module lacks a provideStores call), answered 500. */
function missingStore(name: StoreName): PropertyDescriptor {
  return {
    get() {
      throw new Error(`the ${name} store is not provided in this bundle: call provideStores in the handler module that uses it`);
    },
    enumerable: false,
    configurable: true,
  };
}

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
  // The counter outlives a rebuild of the services (tests): it always writes through the current primary client.
  const hits = (hitCounter ??= hitCounterFor(config.hitSinks, () => services().redis));
  const base: BaseServices = {
    config,
    redis,
    replicaReader,
    readerFor: (consistency) => readerOf(redis, replicaReader, consistency),
    schemaLimits: schemaLimitsOf(config),
    hits,
    countRead: (family, found) => hits.record(family, found ? 1 : 0, found ? 0 : 1),
    statsAnswers: new SharedAnswer(1000),
    metricData: new CloudWatchMetricData(),
  };
  const svc = base as Services;
  for (const name of STORE_NAMES) Object.defineProperty(svc, name, missingStore(name));
  for (const provider of providers.values()) attachStore(svc, provider);
  current = svc;
  return current;
}

/** Releases what the provided stores hold beyond the shared clients (topics' blocking connections). */
function closeStores(svc: Services | undefined): void {
  if (!svc) return;
  for (const provider of providers.values()) (provider as StoreProvider<StoreName>).close?.(svc[provider.name]);
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
  closeStores(current);
  hitCounter?.stop();
  hitCounter = undefined;
  current = undefined;
  resolvedSettings = undefined;
  setSharedRedis(client);
  reader?.disconnect();
}

/** How long closing waits for the last hit-count flush, and then for each client's QUIT. */
const CLOSE_TIMEOUT_MS = 1000;

/**
 * Publishes the counts not yet published, closes the process-wide clients, if any were made, and forgets the
 * services (shutdown and tests).
 */
export async function closeServices(): Promise<void> {
  // A flush that got no answer holds the last one (hit-counts.ts): bounded, so closing never hangs on a silent Redis.
  if (hitCounter) await withDeadline(hitCounter.flushAll(), CLOSE_TIMEOUT_MS).catch(() => undefined);
  hitCounter?.stop();
  hitCounter = undefined;
  const client = current?.redis;
  const reader = current?.replicaReader;
  closeStores(current);
  current = undefined;
  resolvedSettings = undefined;
  setSharedRedis(undefined);
  await Promise.all(
    // QUIT waits for its reply, and the client has no per-command timeout: a Redis that stops answering is dropped.
    [client, reader].filter((c): c is RedisClient => !!c).map((c) => withDeadline(c.quit(), CLOSE_TIMEOUT_MS).catch(() => c.disconnect())),
  );
}
