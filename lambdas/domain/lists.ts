import { entryKey } from '../core/keyspace';
import type { RedisClient } from '../core/redis';
import { CollectionStore, decodeElement, type CollectionLimits } from './collections';
import { ttlSecondsOf } from './store';

export type ListEnd = 'left' | 'right';

export interface ListPushResult {
  created: boolean;
  key: string;
  size: number;
  ttl: number | null;
}

export interface ListRange {
  key: string;
  values: unknown[];
  size: number;
  ttl: number | null;
}

/** Lists of JSON values under `k:<key>` (a Redis list): push, pop, range, size, trim. */
export class ListStore extends CollectionStore {
  constructor(redis: RedisClient, limits: CollectionLimits) {
    super(redis, limits, 'list');
  }

  /** Pushes the values one after another (so a left push of [1, 2] puts 2 first, as LPUSH does). */
  async push(key: string, values: unknown[], end: ListEnd = 'right', ttlSeconds?: number): Promise<ListPushResult> {
    const encoded = values.map((v, i) => this.encode(v, `values.${i}`));
    const rk = entryKey(key);
    const [size, created, pttl] = (await this.run(rk, () =>
      this.scripts.listPush(rk, ...this.writeArgs(ttlSeconds), end, ...encoded),
    )) as [number, number, number];
    return { created: created === 1, key, size, ttl: ttlSecondsOf(pttl) };
  }

  async pop(key: string, end: ListEnd = 'left', count = 1): Promise<{ key: string; values: unknown[]; size: number }> {
    const rk = entryKey(key);
    const [values, size] = (await this.run(rk, () => this.scripts.listPop(rk, end, count, this.limits.maxPopBytes))) as [string[], number];
    return { key, values: values.map(decodeElement), size };
  }

  /** Values from `start` to `stop` inclusive (negative counts from the end, as LRANGE); null when there is no list. */
  async range(key: string, start = 0, stop = -1): Promise<ListRange | null> {
    const rk = entryKey(key);
    const reply = (await this.run(rk, () => this.scripts.listRange(rk, start, stop))) as [string[], number, number] | null;
    if (!reply) return null;
    return { key, values: reply[0].map(decodeElement), size: reply[1], ttl: ttlSecondsOf(reply[2]) };
  }

  async size(key: string): Promise<number> {
    const rk = entryKey(key);
    return this.run(rk, () => this.redis.llen(rk));
  }

  /** Keeps only the values from `start` to `stop` inclusive (as LTRIM); returns the size left. */
  async trim(key: string, start: number, stop: number): Promise<number> {
    const rk = entryKey(key);
    return Number(await this.run(rk, () => this.scripts.listTrim(rk, start, stop)));
  }
}
