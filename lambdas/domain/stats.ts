import { STATS_KEY_PATTERN } from '../shared/keyspace';
import { forEachPrimary, type RedisClient } from '../shared/redis';

export interface CacheStats {
  /** GETs served by the API that found an entry, across every Lambda instance. */
  hits: number;
  misses: number;
  /** hits / (hits + misses), or null before the first GET. */
  hitRatio: number | null;
  redis: {
    /** Primaries the figures are summed over (1 unless cluster mode). */
    nodes: number;
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

async function countersOn(node: RedisClient): Promise<{ hits: number; misses: number }> {
  let hits = 0;
  let misses = 0;
  let cursor = '0';
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', STATS_KEY_PATTERN, 'COUNT', 1000);
    cursor = next;
    const values = await Promise.all(keys.map((k) => node.hmget(k, 'hits', 'misses')));
    for (const [h, m] of values) {
      hits += Number(h ?? 0);
      misses += Number(m ?? 0);
    }
  } while (cursor !== '0');
  return { hits, misses };
}

/** Hit/miss figures kept by the service plus Redis's own, summed over every primary. */
export async function readStats(redis: RedisClient): Promise<CacheStats> {
  const perNode = await forEachPrimary(redis, async (node) => {
    const [counters, info, dbsize] = await Promise.all([countersOn(node), node.info(), node.dbsize()]);
    return { counters, info: parseInfo(info), dbsize };
  });
  const sum = (f: (n: (typeof perNode)[number]) => number) => perNode.reduce((a, n) => a + f(n), 0);
  const num = (n: (typeof perNode)[number], field: string) => Number(n.info[field] ?? 0);
  const hits = sum((n) => n.counters.hits);
  const misses = sum((n) => n.counters.misses);
  return {
    hits,
    misses,
    hitRatio: hits + misses === 0 ? null : hits / (hits + misses),
    redis: {
      nodes: perNode.length,
      keys: sum((n) => n.dbsize),
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
}
