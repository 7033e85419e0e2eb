import type Redis from 'ioredis';
import { countField, emptyCounts, hitRatio, ROUTE_FAMILIES, type HitCounts, type RouteFamily } from '../metrics/names';
import { ENTRY_PREFIX, hitCountKeys } from '../core/keyspace';
import { forEachPrimary, isCluster, replicaOf, translateRedisError, type RedisClient } from '../core/redis';

export interface CacheStats {
  source: 'redis';
  /** Reads served by the API that found what they asked for, across every process that flushes its counts here. */
  hits: number;
  misses: number;
  /** hits / (hits + misses), or null before the first counted read. */
  hitRatio: number | null;
  /** The same per route family (entries, batch, counters, lists, sets, hashes, zsets). */
  families: Record<RouteFamily, { hits: number; misses: number; hitRatio: number | null }>;
  /** How fresh the counts are, in words. */
  freshness: string;
  redis: {
    /** Primaries the figures are summed over (1 unless cluster mode). */
    nodes: number;
    /**
     * The entries and collections stored (keys under `k:`), not the service's own keys under `_:` (count hashes, tag
     * indexes, topic and change streams). Exact up to STATS_SCAN_KEYS keys per primary, estimated above that.
     */
    keys: number;
    usedMemoryBytes: number;
    maxMemoryBytes: number;
    evictionPolicy: string;
    evictedKeys: number;
    expiredKeys: number;
    connectedClients: number;
    opsPerSecond: number;
    uptimeSeconds: number;
  };
}

/** Parses INFO's `field:value` lines. */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** Keys per primary a stats read walks (SCAN, in steps of 1000) to count the entries exactly. */
export const STATS_SCAN_KEYS = 20_000;
const SCAN_STEP = 1000;

/**
 * The entries and collections on one node: DBSIZE counts the service's own keys too. A SCAN counts the user keys of a
 * small keyspace exactly; past STATS_SCAN_KEYS it stops, and the share of user keys among those it walked is applied
 * to DBSIZE (SCAN's order is the hash table's, so the sample is spread over the keyspace).
 */
async function countUserKeys(node: Redis, dbsize: number): Promise<number> {
  let cursor = '0';
  let walked = 0;
  let users = 0;
  do {
    const [next, keys] = await node.scan(cursor, 'COUNT', SCAN_STEP);
    cursor = next;
    walked += keys.length;
    for (const k of keys) if (k.startsWith(ENTRY_PREFIX)) users++;
  } while (cursor !== '0' && walked < STATS_SCAN_KEYS);
  if (cursor === '0') return users;
  return Math.round((dbsize * users) / Math.max(1, walked));
}

/**
 * Sums the hit-count hashes (a handful, named in advance: no SCAN), fetched with one HGETALL each through `reader`
 * (the primaries, or replicas when reads go there); in a cluster ioredis sends each to the shard that holds it, so
 * the cost is the handful in all, not per slot. Returns the counts and how many of the hashes exist.
 */
export async function readHitCounts(reader: RedisClient): Promise<{ counts: HitCounts; hashes: number }> {
  const hashes = await Promise.all(hitCountKeys().map((k) => reader.hgetall(k)));
  const counts = emptyCounts();
  let existing = 0;
  for (const h of hashes) {
    if (Object.keys(h).length) existing++;
    for (const f of ROUTE_FAMILIES) {
      counts[f].hits += Number(h[countField(f, 'hits')] ?? 0);
      counts[f].misses += Number(h[countField(f, 'misses')] ?? 0);
    }
  }
  return { counts, hashes: existing };
}

/**
 * The counts flushed to Redis (plus `unflushed`, this process's own counts not yet written there) and Redis's own
 * figures from INFO and DBSIZE on every primary (or its replicas, through `reader`): three commands per shard and
 * the handful of count hashes.
 */
export async function readStats(redis: RedisClient, options: { reader?: RedisClient; unflushed?: HitCounts } = {}): Promise<CacheStats> {
  const reader = options.reader ?? redis;
  try {
    // Every primary (or, reading from replicas, every shard's replica), or a 503 when a shard has none reachable:
    // never a silently partial sum.
    const [perNode, flushed] = await Promise.all([
      forEachPrimary(redis, async (node) => {
        const via = nodeToRead(reader, node);
        const [info, dbsize] = await Promise.all([via.info(), via.dbsize()]);
        return { info: parseInfo(info), dbsize, userKeys: await countUserKeys(via, dbsize) };
      }),
      readHitCounts(reader),
    ]);
    const sum = (f: (n: (typeof perNode)[number]) => number) => perNode.reduce((a, n) => a + f(n), 0);
    const num = (n: (typeof perNode)[number], field: string) => Number(n.info[field] ?? 0);
    const counts = flushed.counts;
    for (const f of ROUTE_FAMILIES) {
      counts[f].hits += options.unflushed?.[f].hits ?? 0;
      counts[f].misses += options.unflushed?.[f].misses ?? 0;
    }
    const hits = ROUTE_FAMILIES.reduce((a, f) => a + counts[f].hits, 0);
    const misses = ROUTE_FAMILIES.reduce((a, f) => a + counts[f].misses, 0);
    return {
      source: 'redis',
      hits,
      misses,
      hitRatio: hitRatio({ hits, misses }),
      families: Object.fromEntries(ROUTE_FAMILIES.map((f) => [f, { ...counts[f], hitRatio: hitRatio(counts[f]) }])) as CacheStats['families'],
      freshness:
        'counts since the count hashes were created: every process adds its own at most once a second (this one\'s are included ' +
        'up to now); Redis figures as of this request',
      redis: {
        nodes: perNode.length,
        keys: sum((n) => n.userKeys),
        usedMemoryBytes: sum((n) => num(n, 'used_memory')),
        maxMemoryBytes: sum((n) => num(n, 'maxmemory')),
        evictionPolicy: perNode[0]?.info['maxmemory_policy'] ?? 'unknown',
        evictedKeys: sum((n) => num(n, 'evicted_keys')),
        expiredKeys: sum((n) => num(n, 'expired_keys')),
        connectedClients: sum((n) => num(n, 'connected_clients')),
        opsPerSecond: sum((n) => num(n, 'instantaneous_ops_per_sec')),
        uptimeSeconds: Math.min(...perNode.map((n) => num(n, 'uptime_in_seconds'))),
      },
    };
  } catch (e) {
    throw translateRedisError(e);
  }
}

/** The node that answers for `primary`'s shard through `reader`: the primary itself, or one of its replicas. */
function nodeToRead(reader: RedisClient, primary: Redis): Redis {
  if (!isCluster(reader)) return reader;
  return replicaOf(reader, primary) ?? primary;
}
