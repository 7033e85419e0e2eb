import { CacheError } from '../core/errors';
import { isCluster, retryOnceOnMoved, translateRedisError, type RedisClient } from '../core/redis';

/** `strong` reads the primary (sees every acknowledged write); `eventual` may read a replica that lags. */
export type ReadConsistency = 'strong' | 'eventual';

/** Largest and smallest integers a counter may reach: beyond them JSON numbers are no longer exact. */
export const MAX_SAFE_COUNTER = Number.MAX_SAFE_INTEGER;

/**
 * The client a read goes to: a connected replica reader unless the caller asked for a strong read, else the
 * primaries. The reader runs without an offline queue: until it is connected, the primary answers (a stronger
 * read), and the first such read starts its connection.
 */
export function readerOf(redis: RedisClient, replicaReader: RedisClient | undefined, consistency: ReadConsistency = 'eventual'): RedisClient {
  if (!replicaReader || consistency === 'strong') return redis;
  if (replicaReader.status === 'ready') return replicaReader;
  if (replicaReader.status === 'wait') replicaReader.connect().catch(() => undefined);
  return redis;
}

/** The TTL settings every store applies: a write that names no TTL gets the default; none may exceed the maximum. */
export interface TtlLimits {
  defaultTtlSeconds: number;
  maxTtlSeconds: number;
}

/** Whole seconds left (rounded up, so a live key never reports 0), or null when the key never expires or is gone. */
export function ttlSecondsOf(pttl: number | string): number | null {
  const ms = Number(pttl);
  return ms < 0 ? null : Math.ceil(ms / 1000);
}

/**
 * The JSON text of a value, refused (413) when it is over `limit` bytes: one measure for entries, batch items and
 * collection elements. `suffix` ends the message; `details` adds to {limit, size}.
 */
export function jsonWithinLimit(
  value: unknown,
  field: string,
  limit: number,
  options: { suffix?: string; details?: Record<string, unknown> } = {},
): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new CacheError('VALIDATION_FAILED', `${field}: must be a JSON value`);
  const size = Buffer.byteLength(json, 'utf8');
  if (size > limit) {
    throw new CacheError('PAYLOAD_TOO_LARGE', `${field} is ${size} bytes of JSON; the limit is ${limit}${options.suffix ?? ''}`, {
      ...options.details,
      limit,
      size,
    });
  }
  return json;
}

/** A 409 naming what the key holds: the one extra round trip is paid only on this error path. */
async function wrongTypeError(redis: RedisClient, redisKey: string, expected?: string): Promise<CacheError> {
  const actual = await redis.type(redisKey).catch(() => 'another type');
  return wrongTypeOf(actual, expected);
}

/** The 409 for a key that holds `actual` (a Redis type name) where the operation needs `expected`. */
function wrongTypeOf(actual: string, expected?: string): CacheError {
  const noun = (type: string) => (type === 'string' ? 'string (a cache entry or counter)' : type);
  return new CacheError('WRONG_TYPE', `key holds a ${noun(actual)}, not a ${expected ? noun(expected) : 'value this operation works on'}`, {
    actualType: actual,
    ...(expected ? { expectedType: expected } : {}),
  });
}

/**
 * What every store (entries, batches, collections, counters) builds on: one way to run a Redis command — retried
 * once after a MOVED that follows a failover, its failure translated into the domain's errors — and one TTL
 * arithmetic.
 */
export abstract class RedisStore {
  readonly clustered: boolean;
  /** A second client whose slot table a MOVED must refresh too (the replica reader). */
  protected readonly replicaReader?: RedisClient;
  /** The Redis type this store's keys hold, named in a WRONG_TYPE error (none: any type the operation takes). */
  private readonly expectedType?: string;

  constructor(
    readonly redis: RedisClient,
    private readonly ttlLimits: TtlLimits,
    options: { replicaReader?: RedisClient; expectedType?: string } = {},
  ) {
    this.clustered = isCluster(redis);
    this.replicaReader = options.replicaReader;
    this.expectedType = options.expectedType;
  }

  /** The client a read goes to (readerOf). */
  readerFor(consistency: ReadConsistency = 'eventual'): RedisClient {
    return readerOf(this.redis, this.replicaReader, consistency);
  }

  /** The TTL in ms a write or touch of `seconds` applies (capped at the configured maximum). */
  ttlMs(seconds: number): number {
    return Math.min(seconds, this.ttlLimits.maxTtlSeconds) * 1000;
  }

  /** ms of the TTL a write names, or '' (keep the current one) when it names none: the scripts' TTL argument. */
  protected ttlArg(ttlSeconds: number | undefined): string {
    return ttlSeconds === undefined ? '' : String(this.ttlMs(ttlSeconds));
  }

  /** ms of the default TTL, given to a key a write creates without naming a TTL. */
  protected defaultTtlMs(): number {
    return this.ttlMs(this.ttlLimits.defaultTtlSeconds);
  }

  /**
   * Runs one command (a script call, a plain command or one slot group's pipeline) against `redisKey`. MOVED means
   * the command was not executed, so in cluster mode it is sent once more after the slot table is refreshed (see
   * retryOnceOnMoved). One promise on the way, not a chain of async functions: every read pays for each layer.
   */
  run<T>(redisKey: string, command: () => Promise<T>): Promise<T> {
    let attempt: Promise<T>;
    try {
      attempt = this.clustered ? retryOnceOnMoved([this.redis, this.replicaReader], command) : command();
    } catch (e) {
      attempt = Promise.reject(e);
    }
    return attempt.catch(async (e: unknown) => {
      throw await this.translate(redisKey, e);
    });
  }

  /** A refusal a store's scripts spell in their error reply (e.g. SKYCACHE_FULL), as the domain's error. */
  protected refusal(_message: string, _redisKey: string): CacheError | undefined {
    return undefined;
  }

  private async translate(redisKey: string, e: unknown): Promise<CacheError> {
    const message = e instanceof Error ? e.message : '';
    const named = /WRONGTYPE skycache actual=(\w+)/.exec(message);
    if (named) return wrongTypeOf(named[1], this.expectedType);
    const refused = this.refusal(message, redisKey);
    if (refused) return refused;
    const error = translateRedisError(e);
    return error.code === 'WRONG_TYPE' ? wrongTypeError(this.redis, redisKey, this.expectedType) : error;
  }
}
