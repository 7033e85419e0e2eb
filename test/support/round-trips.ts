import type Redis from 'ioredis';
import { primaries, type RedisClient } from '../../lambdas/core/redis';

/**
 * Counts the writes `work` makes to each primary's socket: ioredis writes one pipeline (or one lone command) per
 * socket write, so this is the number of round trips per shard. Keyed by `host:port`.
 */
export async function countRoundTrips(client: RedisClient, work: () => Promise<unknown>): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const restore: (() => void)[] = [];
  for (const node of primaries(client) as Redis[]) {
    const id = `${node.options.host}:${node.options.port}`;
    counts[id] = 0;
    const stream = (node as unknown as { stream: { write: (...args: unknown[]) => boolean } }).stream;
    const original = stream.write;
    stream.write = function (this: unknown, ...args: unknown[]) {
      counts[id]++;
      return original.apply(this, args);
    };
    restore.push(() => {
      stream.write = original;
    });
  }
  try {
    await work();
  } finally {
    for (const r of restore) r();
  }
  return counts;
}
