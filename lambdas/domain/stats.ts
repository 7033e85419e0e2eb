import type Redis from 'ioredis';
import { statsKeyForSlot } from '../core/keyspace';
import { forEachPrimary, isCluster, slotsOwnedBy, translateRedisError, type RedisClient } from '../core/redis';

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
 * Reads the hit/miss counters kept on one primary. Their key names are known in advance (one hash, or one per
 * cluster slot), so they are fetched directly, no SCAN: in cluster mode one pipeline of HMGETs for the slots this
 * primary owns, sent to that node alone (one round trip per shard, whatever the keyspace's size).
 */
async function countersOn(
  redis: RedisClient,
  node: Redis,
): Promise<{ hits: number; misses: number; counterKeys: number }> {
  const keys = isCluster(redis)
    ? slotsOwnedBy(redis, node).map(statsKeyForSlot)
    : [statsKeyForSlot(null)];
  const pipeline = node.pipeline();
  for (const k of keys) pipeline.hmget(k, 'hits', 'misses');
  const replies = (await pipeline.exec()) ?? [];
  let hits = 0;
  let misses = 0;
  let counterKeys = 0;
  for (const [error, value] of replies) {
    if (error) throw error;
    const [h, m] = value as (string | null)[];
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
    // Every primary, or a 503 when a shard has none reachable: never a silently partial sum.
    const perNode = await forEachPrimary(redis, async (node) => {
      const [info, dbsize, counters] = await Promise.all([node.info(), node.dbsize(), countersOn(redis, node)]);
      return { info: parseInfo(info), dbsize, counters };
    });
    const sum = (f: (n: (typeof perNode)[number]) => number) => perNode.reduce((a, n) => a + f(n), 0);
    const num = (n: (typeof perNode)[number], field: string) => Number(n.info[field] ?? 0);
    const hits = sum((n) => n.counters.hits);
    const misses = sum((n) => n.counters.misses);
    const counterKeys = sum((n) => n.counters.counterKeys);
    return {
      hits,
      misses,
      hitRatio: hits + misses === 0 ? null : hits / (hits + misses),
      redis: {
        nodes: perNode.length,
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
