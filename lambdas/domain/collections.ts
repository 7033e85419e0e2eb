import { CacheError } from '../core/errors';
import { entryKey } from '../core/keyspace';
import type { RedisClient } from '../core/redis';
import { withCollectionScripts } from './collection-scripts';
import { jsonWithinLimit, MAX_SAFE_COUNTER, RedisStore, type TtlLimits } from './store';

/** What a write that adds or updates members or fields answers (hash set, sorted-set add). */
export interface CollectionUpsertResult {
  created: boolean;
  key: string;
  added: number;
  updated: number;
  size: number;
  ttl: number | null;
}

/** Redis type names of the collections, as TYPE reports them and as `details.actualType` names them. */
export type CollectionType = 'list' | 'set' | 'hash' | 'zset';

export interface CollectionLimits extends TtlLimits {
  /** Largest element (list value, set/sorted-set member, hash field value), in bytes of its JSON text. */
  maxElementBytes: number;
  /** Most elements (list values, members, fields) one collection may hold. */
  maxCollectionSize: number;
  /** Most bytes of elements one pop answers: it stops early rather than build a reply too large to send. */
  maxPopBytes: number;
}

export const DEFAULT_COLLECTION_LIMITS = {
  maxElementBytes: 64 * 1024,
  maxCollectionSize: 100_000,
  maxPopBytes: 4 * 1024 * 1024,
} as const;

/** The limits in force: TTLs from the runtime configuration, element and size caps as documented. */
export function collectionLimits(config: { defaultTtlSeconds: number; maxTtlSeconds: number }): CollectionLimits {
  return { defaultTtlSeconds: config.defaultTtlSeconds, maxTtlSeconds: config.maxTtlSeconds, ...DEFAULT_COLLECTION_LIMITS };
}

/**
 * Collection elements are JSON values stored as their JSON text, so they round-trip exactly and two elements are the
 * same member when their JSON texts are equal (`1` and `"1"` differ; so do `{"a":1,"b":2}` and `{"b":2,"a":1}`).
 */
function encodeElement(value: unknown, field: string, maxBytes: number): string {
  return jsonWithinLimit(value, field, maxBytes, { details: { field } });
}

/** The element's JSON value; text another Redis client stored that is not JSON comes back as a string. */
export function decodeElement(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** What every collection store shares: the key mapping, element encoding, the scripts' write arguments, typed delete. */
export abstract class CollectionStore extends RedisStore {
  constructor(
    redis: RedisClient,
    protected readonly limits: CollectionLimits,
    protected readonly type: CollectionType,
    replicaReader?: RedisClient,
  ) {
    super(redis, limits, { expectedType: type, replicaReader });
  }

  protected get scripts() {
    return withCollectionScripts(this.redis);
  }

  /** Where reads go: the primaries, or a replica when replicas serve reads (readerFor). */
  protected get reader(): RedisClient {
    return this.readerFor();
  }

  /** The read-only scripts, on the reading client. */
  protected get readScripts() {
    return withCollectionScripts(this.reader);
  }

  protected encode(value: unknown, field: string): string {
    return encodeElement(value, field, this.limits.maxElementBytes);
  }

  /** ARGV[1..3] of the writing scripts: TTL to set ('' keeps the current one), default TTL, size cap. */
  protected writeArgs(ttlSeconds: number | undefined): [string, number, number] {
    return [this.ttlArg(ttlSeconds), this.defaultTtlMs(), this.limits.maxCollectionSize];
  }

  /** Removes the collection; false when nothing was there. A key of another type is refused, not removed. */
  async delete(key: string): Promise<boolean> {
    const rk = entryKey(key);
    return Number(await this.run(rk, () => this.scripts.collectionDelete(rk, this.type))) === 1;
  }

  protected override refusal(message: string): CacheError | undefined {
    const full = /SKYCACHE_FULL (\d+)/.exec(message);
    if (full) {
      const limit = this.limits.maxCollectionSize;
      return new CacheError('CONFLICT', `the ${this.type} would hold ${full[1]} elements; the limit is ${limit}`, {
        limit,
        size: Number(full[1]),
      });
    }
    if (message.includes('SKYCACHE_NOT_INTEGER')) {
      return new CacheError('CONFLICT', 'the field does not hold an integer, so it cannot be incremented');
    }
    if (message.includes('SKYCACHE_OVERFLOW')) {
      return new CacheError('CONFLICT', `the result would leave the exact integer range ±${MAX_SAFE_COUNTER}`, {
        limit: MAX_SAFE_COUNTER,
      });
    }
    if (message.includes('SKYCACHE_NOT_FINITE')) {
      return new CacheError('CONFLICT', 'the resulting score would not be a finite number');
    }
    return undefined;
  }
}
