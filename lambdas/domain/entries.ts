import { CacheError } from '../shared/errors';
import {
  entryKey,
  entryPrefixPattern,
  groupBySlot,
  statsKeyFor,
} from '../shared/keyspace';
import { isCluster, primaries, translateRedisError, type RedisClient } from '../shared/redis';
import { withScripts } from './scripts';

export interface Entry {
  key: string;
  value: unknown;
  /** Whole seconds left before expiry, or null when the entry never expires. */
  ttl: number | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface WriteResult {
  created: boolean;
  key: string;
  version: number;
  ttl: number;
  createdAt: string;
  updatedAt: string;
}

export interface EntryLimits {
  defaultTtlSeconds: number;
  maxTtlSeconds: number;
  maxValueBytes: number;
}

export interface InvalidateRequest {
  keys?: string[];
  prefix?: string;
}

/** Keys fetched per SCAN step during prefix invalidation: big enough to be quick, small enough not to stall Redis. */
const SCAN_COUNT = 1000;

/** Decodes the stored form `<version>:<createdAtMs>:<updatedAtMs>:<json>`. */
export function decodeEntry(key: string, raw: string, pttl: number): Entry {
  const m = /^(\d+):(\d+):(\d+):/.exec(raw);
  if (!m) {
    // A plain string written by another Redis client: serve it as a string value with no history.
    return { key, value: raw, ttl: ttlSecondsOf(pttl), version: 0, createdAt: '', updatedAt: '' };
  }
  return {
    key,
    value: JSON.parse(raw.slice(m[0].length)),
    ttl: ttlSecondsOf(pttl),
    version: Number(m[1]),
    createdAt: new Date(Number(m[2])).toISOString(),
    updatedAt: new Date(Number(m[3])).toISOString(),
  };
}

function ttlSecondsOf(pttl: number): number | null {
  // PTTL is -1 when the key has no expiry; round up so a live entry never reports 0 seconds.
  return pttl < 0 ? null : Math.ceil(pttl / 1000);
}

/** The key-value entries of the cache: get, set, delete and invalidation. */
export class EntryStore {
  private readonly clustered: boolean;

  constructor(
    private readonly redis: RedisClient,
    private readonly limits: EntryLimits,
  ) {
    this.clustered = isCluster(redis);
  }

  async get(key: string, options: { touchTtlSeconds?: number } = {}): Promise<Entry | null> {
    const rk = entryKey(key);
    const touch = options.touchTtlSeconds ? String(this.ttlMs(options.touchTtlSeconds)) : '';
    const reply = (await this.run(rk, () =>
      withScripts(this.redis).skycacheGet(rk, statsKeyFor(rk, this.clustered), touch),
    )) as [string, number] | null;
    if (!reply) return null;
    return decodeEntry(key, reply[0], Number(reply[1]));
  }

  async set(key: string, value: unknown, ttlSeconds?: number): Promise<WriteResult> {
    const json = JSON.stringify(value);
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > this.limits.maxValueBytes) {
      throw new CacheError(
        'PAYLOAD_TOO_LARGE',
        `value is ${bytes} bytes of JSON; the limit is ${this.limits.maxValueBytes}`,
        { limit: this.limits.maxValueBytes, size: bytes },
      );
    }
    const ttl = ttlSeconds ?? this.limits.defaultTtlSeconds;
    const now = Date.now();
    const rk = entryKey(key);
    const [version, createdMs, existed] = (await this.run(rk, () =>
      withScripts(this.redis).skycacheSet(rk, json, this.ttlMs(ttl), now),
    )) as [number, string, number];
    return {
      created: Number(existed) === 0,
      key,
      version: Number(version),
      ttl,
      createdAt: new Date(Number(createdMs)).toISOString(),
      updatedAt: new Date(now).toISOString(),
    };
  }

  async delete(key: string): Promise<boolean> {
    const rk = entryKey(key);
    const removed = await this.run(rk, () => this.redis.unlink(rk));
    return removed > 0;
  }

  /** Removes the named keys and every key under the prefix; returns how many entries were removed. */
  async invalidate(request: InvalidateRequest): Promise<number> {
    let removed = 0;
    if (request.keys?.length) removed += await this.unlinkAll(request.keys.map(entryKey));
    if (request.prefix !== undefined) removed += await this.invalidatePrefix(request.prefix);
    return removed;
  }

  private async invalidatePrefix(prefix: string): Promise<number> {
    const pattern = entryPrefixPattern(prefix);
    const counts = await Promise.all(
      primaries(this.redis).map(async (node) => {
        let removed = 0;
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT).catch((e: unknown) => {
            throw translateRedisError(e);
          });
          cursor = next;
          if (keys.length) removed += await this.unlinkAll(keys, node);
        } while (cursor !== '0');
        return removed;
      }),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  private async unlinkAll(redisKeys: string[], via: RedisClient = this.redis): Promise<number> {
    const unique = [...new Set(redisKeys)];
    try {
      const counts = await Promise.all(groupBySlot(unique, this.clustered).map((group) => via.unlink(...group)));
      return counts.reduce((a, b) => a + b, 0);
    } catch (e) {
      throw translateRedisError(e);
    }
  }

  private ttlMs(seconds: number): number {
    return Math.min(seconds, this.limits.maxTtlSeconds) * 1000;
  }

  /** Runs one command against `redisKey`, naming the key's actual type when Redis answers WRONGTYPE. */
  private async run<T>(redisKey: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (e) {
      const error = translateRedisError(e);
      if (error.code === 'WRONG_TYPE') throw await wrongTypeError(this.redis, redisKey);
      throw error;
    }
  }
}

/** A 409 naming what the key holds: the one extra round trip is paid only on this error path. */
export async function wrongTypeError(redis: RedisClient, redisKey: string, expected?: string): Promise<CacheError> {
  const actual = await redis.type(redisKey).catch(() => 'another type');
  return wrongTypeOf(actual, expected);
}

/** The 409 for a key that holds `actual` (a Redis type name) where the operation needs `expected`. */
export function wrongTypeOf(actual: string, expected?: string): CacheError {
  const noun = (type: string) => (type === 'string' ? 'string (a cache entry or counter)' : type);
  return new CacheError('WRONG_TYPE', `key holds a ${noun(actual)}, not a ${expected ? noun(expected) : 'value this operation works on'}`, {
    actualType: actual,
    ...(expected ? { expectedType: expected } : {}),
  });
}
