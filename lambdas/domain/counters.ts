import { CacheError } from '../core/errors';
import { entryKey, userKeyOf } from '../core/keyspace';
import type { RedisClient } from '../core/redis';
import { parseTags } from './entries';
import { withScripts } from './scripts';
import { MAX_SAFE_COUNTER, RedisStore, ttlSecondsOf, type TtlLimits } from './store';
import { tagIndexPrefix } from './tags';

export interface CounterResult {
  created: boolean;
  key: string;
  value: number;
  version: number;
  ttl: number | null;
  createdAt: string;
  updatedAt: string;
  /** The entry's tags (an increment keeps them). */
  tags: string[];
}

/**
 * Counters are ordinary entries whose value is a JSON integer, so GET /cache/{key} reads them and POST /cache
 * overwrites them. Incrementing bumps the version like any write and keeps the TTL unless one is given.
 */
export class CounterStore extends RedisStore {
  constructor(redis: RedisClient, limits: TtlLimits) {
    super(redis, limits, { expectedType: 'string' });
  }

  /** Adds `by` (a safe integer, negative to decrement) to the counter, creating it at 0 with the default TTL. */
  async increment(key: string, by: number, ttlSeconds?: number): Promise<CounterResult> {
    if (!Number.isSafeInteger(by)) throw new CacheError('VALIDATION_FAILED', 'by: must be a whole number within ±(2^53-1)');
    const now = Date.now();
    const rk = entryKey(key);
    const [value, version, createdMs, existed, pttl, tagsJson] = (await this.run(rk, () =>
      withScripts(this.redis).skycacheIncrement(rk, by, this.ttlArg(ttlSeconds), this.defaultTtlMs(), now, tagIndexPrefix(rk, this.clustered)),
    )) as [string, number, string, number, number, string];
    return {
      created: Number(existed) === 0,
      key,
      value: Number(value),
      version: Number(version),
      ttl: ttlSecondsOf(pttl),
      createdAt: new Date(Number(createdMs)).toISOString(),
      updatedAt: new Date(now).toISOString(),
      tags: tagsJson ? parseTags(tagsJson) : [],
    };
  }

  /**
   * Deletes the counter at `key` in one round trip: true when it was there, false when nothing was. An entry that
   * does not hold an integer is refused (CONFLICT) and another Redis type (WRONG_TYPE), both left as they are.
   */
  async delete(key: string): Promise<boolean> {
    const rk = entryKey(key);
    const removed = await this.run(rk, () => withScripts(this.redis).skycacheDeleteCounter(rk, tagIndexPrefix(rk, this.clustered)));
    return Number(removed) === 1;
  }

  protected override refusal(message: string, redisKey: string): CacheError | undefined {
    if (message.includes('SKYCACHE_NOT_INTEGER')) {
      return new CacheError('CONFLICT', `the entry "${userKeyOf(redisKey)}" does not hold an integer, so it is not a counter`);
    }
    if (message.includes('SKYCACHE_OVERFLOW')) {
      return new CacheError('CONFLICT', `the counter would leave the exact integer range ±${MAX_SAFE_COUNTER}`, {
        limit: MAX_SAFE_COUNTER,
      });
    }
    return undefined;
  }
}
