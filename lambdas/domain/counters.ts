import { CacheError } from '../core/errors';
import { entryKey } from '../core/keyspace';
import { isCluster, translateRedisError, type RedisClient } from '../core/redis';
import { MAX_SAFE_COUNTER, ttlSecondsOf } from './collections';
import { wrongTypeError } from './entries';
import { withScripts } from './scripts';
import { tagIndexPrefix } from './tags';

export interface CounterLimits {
  defaultTtlSeconds: number;
  maxTtlSeconds: number;
}

export interface CounterResult {
  created: boolean;
  key: string;
  value: number;
  version: number;
  ttl: number | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * Counters are ordinary entries whose value is a JSON integer, so GET /cache/{key} reads them and POST /cache
 * overwrites them. Incrementing bumps the version like any write and keeps the TTL unless one is given.
 */
export class CounterStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly limits: CounterLimits,
  ) {}

  /** Adds `by` (a safe integer, negative to decrement) to the counter, creating it at 0 with the default TTL. */
  async increment(key: string, by: number, ttlSeconds?: number): Promise<CounterResult> {
    if (!Number.isSafeInteger(by)) throw new CacheError('VALIDATION_FAILED', 'by: must be a whole number within ±(2^53-1)');
    const ms = (s: number) => Math.min(s, this.limits.maxTtlSeconds) * 1000;
    const now = Date.now();
    const rk = entryKey(key);
    let reply: [string, number, string, number, number];
    try {
      reply = (await withScripts(this.redis).skycacheIncrement(
        rk,
        by,
        ttlSeconds === undefined ? '' : ms(ttlSeconds),
        ms(this.limits.defaultTtlSeconds),
        now,
        tagIndexPrefix(rk, isCluster(this.redis)),
      )) as typeof reply;
    } catch (e) {
      const message = e instanceof Error ? e.message : '';
      if (message.includes('SKYCACHE_NOT_INTEGER')) {
        throw new CacheError('CONFLICT', `the entry "${key}" does not hold an integer, so it cannot be used as a counter`);
      }
      if (message.includes('SKYCACHE_OVERFLOW')) {
        throw new CacheError('CONFLICT', `the counter would leave the exact integer range ±${MAX_SAFE_COUNTER}`, {
          limit: MAX_SAFE_COUNTER,
        });
      }
      const error = translateRedisError(e);
      throw error.code === 'WRONG_TYPE' ? await wrongTypeError(this.redis, rk, 'string') : error;
    }
    const [value, version, createdMs, existed, pttl] = reply;
    return {
      created: Number(existed) === 0,
      key,
      value: Number(value),
      version: Number(version),
      ttl: ttlSecondsOf(pttl),
      createdAt: new Date(Number(createdMs)).toISOString(),
      updatedAt: new Date(now).toISOString(),
    };
  }
}
