import { HASH_SLOTS, INTERNAL_PREFIX, slotTag, statsKeyFor } from '../shared/keyspace';
import { isCluster, primaries, translateRedisError, type RedisClient } from '../shared/redis';

export interface CacheStats {
  /** GETs served by the API that found an entry, across every Lambda instance. */
  hits: number;
  misses: number;
  /** hits / (hits + misses), or null before the first GET. */
  hitRatio: number | null;
  redis: {
    /** Primaries the figures are summed over (1 unless cluster mode). */
    nodes: number;
    /** Keys in Redis, less the service's hit/miss counters. */
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

/**
 * Reads the hit/miss counters. Their key names are known in advance (one hash, or one per cluster slot), so they
 * are fetched directly: no SCAN over the keyspace, whatever its size.
 */
async function readCounters(redis: RedisClient): Promise<{ hits: number; misses: number; counterKeys: number }> {
  const clustered = isCluster(redis);
  const keys = clustered
    ? Array.from({ length: HASH_SLOTS }, (_, slot) => `${INTERNAL_PREFIX}stats:{${slotTag(slot)}}`)
    : [statsKeyFor('', false)];
  const values = await Promise.all(keys.map((k) => redis.hmget(k, 'hits', 'misses')));
  let hits = 0;
  let misses = 0;
  let counterKeys = 0;
  for (const [h, m] of values) {
    if (h === null && m === null) continue;
    counterKeys++;
    hits += Number(h ?? 0);
    misses += Number(m ?? 0);
  }
  return { hits, misses, counterKeys };
}

/** Hit/miss figures kept by the service plus Redis's own, summed over every primary. */
export async function readStats(redis: RedisClient): Promise<CacheStats> {
  try {
    const nodes = primaries(redis);
    const countersRead = readCounters(redis);
    const perNode = await Promise.all(
      nodes.map(async (node) => {
        const [info, dbsize] = await Promise.all([node.info(), node.dbsize()]);
        return { info: parseInfo(info), dbsize };
      }),
    );
    const sum = (f: (n: (typeof perNode)[number]) => number) => perNode.reduce((a, n) => a + f(n), 0);
    const num = (n: (typeof perNode)[number], field: string) => Number(n.info[field] ?? 0);
    const { hits, misses, counterKeys } = await countersRead;
    return {
      hits,
      misses,
      hitRatio: hits + misses === 0 ? null : hits / (hits + misses),
      redis: {
        nodes: nodes.length,
        keys: sum((n) => n.dbsize) - counterKeys,
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
