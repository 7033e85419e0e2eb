import { CacheError } from '../core/errors';
import { entryKey } from '../core/keyspace';
import type { RedisClient } from '../core/redis';
import { CollectionStore, decodeElement, type CollectionLimits, type CollectionUpsertResult } from './collections';
import { ttlSecondsOf } from './store';

export interface ScoredMember {
  member: unknown;
  score: number;
}

/** How ZADD treats members: `nx` only adds new ones, `xx` only updates existing ones, `gt`/`lt` only raise/lower. */
export interface ZAddConditions {
  nx?: boolean;
  xx?: boolean;
  gt?: boolean;
  lt?: boolean;
}

export type ZAddResult = CollectionUpsertResult;

export interface ZRangeOptions {
  reverse?: boolean;
  withScores?: boolean;
}

export interface ZRange {
  key: string;
  /** Members, or `{member, score}` pairs when scores were asked for. */
  members: unknown[];
  size: number;
  ttl: number | null;
}

/**
 * A bound of a score range as the API takes it: a finite number, `-inf`/`+inf`, and `(` before a number for an
 * exclusive bound (as in Redis). Returns Redis's form, or null when the text is none of these.
 */
export function parseScoreBound(text: string): string | null {
  const t = text.trim();
  if (t === '-inf' || t === '+inf') return t;
  if (t === 'inf') return '+inf';
  const exclusive = t.startsWith('(');
  const number = exclusive ? t.slice(1) : t;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(number) || !Number.isFinite(Number(number))) return null;
  return (exclusive ? '(' : '') + String(Number(number));
}

/** The ZADD flags a conflict-free set of conditions stands for; throws on combinations Redis refuses. */
export function zaddFlags(c: ZAddConditions): string {
  if (c.nx && c.xx) throw new CacheError('VALIDATION_FAILED', '"nx" and "xx" cannot both be true');
  if (c.gt && c.lt) throw new CacheError('VALIDATION_FAILED', '"gt" and "lt" cannot both be true');
  if (c.nx && (c.gt || c.lt)) throw new CacheError('VALIDATION_FAILED', '"nx" cannot be combined with "gt" or "lt"');
  return [c.nx && 'NX', c.xx && 'XX', c.gt && 'GT', c.lt && 'LT'].filter(Boolean).join(' ');
}

/** Sorted sets of JSON values with finite scores under `k:<key>` (a Redis zset). */
export class SortedSetStore extends CollectionStore {
  constructor(redis: RedisClient, limits: CollectionLimits) {
    super(redis, limits, 'zset');
  }

  async add(key: string, members: ScoredMember[], conditions: ZAddConditions = {}, ttlSeconds?: number): Promise<ZAddResult> {
    const flags = zaddFlags(conditions);
    const args = members.flatMap((m, i) => {
      if (!Number.isFinite(m.score)) throw new CacheError('VALIDATION_FAILED', `members.${i}.score: must be a finite number`);
      return [String(m.score), this.encode(m.member, `members.${i}.member`)];
    });
    const rk = entryKey(key);
    const [added, updated, size, created, pttl] = (await this.run(rk, () =>
      this.scripts.zsetAdd(rk, ...this.writeArgs(ttlSeconds), flags, ...args),
    )) as [number, number, number, number, number];
    return { created: created === 1, key, added, updated, size, ttl: ttlSecondsOf(pttl) };
  }

  async remove(key: string, members: unknown[]): Promise<{ key: string; removed: number; size: number }> {
    const encoded = members.map((m, i) => this.encode(m, `members.${i}`));
    const rk = entryKey(key);
    const [removed, size] = (await this.run(rk, () => this.scripts.zsetRemove(rk, ...encoded))) as [number, number];
    return { key, removed, size };
  }

  /** Members from rank `start` to `stop` inclusive (negative counts from the end); null when there is no sorted set. */
  async rangeByRank(key: string, start = 0, stop = -1, options: ZRangeOptions = {}): Promise<ZRange | null> {
    return this.range(key, [String(start), String(stop), '', options, '', '']);
  }

  /**
   * Members whose score lies within [min, max] (bounds as parseScoreBound returns them), lowest first or, reversed,
   * highest first; `offset`/`limit` page through them. Null when there is no sorted set.
   */
  async rangeByScore(
    key: string,
    min: string,
    max: string,
    options: ZRangeOptions & { offset?: number; limit?: number } = {},
  ): Promise<ZRange | null> {
    const paged = options.offset !== undefined || options.limit !== undefined;
    const [from, to] = options.reverse ? [max, min] : [min, max];
    return this.range(key, [from, to, 'BYSCORE', options, paged ? String(options.offset ?? 0) : '', paged ? String(options.limit ?? -1) : '']);
  }

  private async range(key: string, [from, to, by, options, offset, count]: [string, string, string, ZRangeOptions, string, string]): Promise<ZRange | null> {
    const rk = entryKey(key);
    const reply = (await this.run(rk, () =>
      this.scripts.zsetRange(rk, from, to, by, options.reverse ? '1' : '0', options.withScores ? '1' : '0', offset, count),
    )) as [string[], number, number] | null;
    if (!reply) return null;
    const flat = reply[0];
    const members: unknown[] = [];
    if (options.withScores) {
      for (let i = 0; i < flat.length; i += 2) members.push({ member: decodeElement(flat[i]), score: Number(flat[i + 1]) });
    } else {
      for (const m of flat) members.push(decodeElement(m));
    }
    return { key, members, size: reply[1], ttl: ttlSecondsOf(reply[2]) };
  }

  /** The member's 0-based rank (from the lowest score, or the highest when reversed) and score; nulls when absent. */
  async rank(key: string, member: unknown, reverse = false): Promise<{ key: string; member: unknown; rank: number | null; score: number | null }> {
    const encoded = this.encode(member, 'member');
    const rk = entryKey(key);
    const [rank, score] = (await this.run(rk, () => this.scripts.zsetRank(rk, encoded, reverse ? '1' : '0'))) as [
      number | null,
      string | null,
    ];
    return { key, member, rank: rank ?? null, score: score === null || score === undefined ? null : Number(score) };
  }

  /** Each member's score, in the order asked, null for members not in the set. */
  async scores(key: string, members: unknown[]): Promise<(number | null)[]> {
    const encoded = members.map((m, i) => this.encode(m, `members.${i}`));
    const rk = entryKey(key);
    const scores = await this.run(rk, () => this.redis.zmscore(rk, ...encoded));
    return scores.map((s) => (s === null || s === undefined ? null : Number(s)));
  }

  /** Adds `by` (finite) to the member's score, adding the member at 0 first when absent. */
  async increment(
    key: string,
    member: unknown,
    by: number,
    ttlSeconds?: number,
  ): Promise<{ created: boolean; key: string; member: unknown; score: number; ttl: number | null }> {
    if (!Number.isFinite(by)) throw new CacheError('VALIDATION_FAILED', 'by: must be a finite number');
    const encoded = this.encode(member, 'member');
    const rk = entryKey(key);
    const [score, created, pttl] = (await this.run(rk, () =>
      this.scripts.zsetIncrement(rk, ...this.writeArgs(ttlSeconds), encoded, String(by)),
    )) as [string, number, number];
    return { created: created === 1, key, member, score: Number(score), ttl: ttlSecondsOf(pttl) };
  }

  /** How many members have a score within [min, max] (bounds as parseScoreBound returns them). */
  async count(key: string, min = '-inf', max = '+inf'): Promise<number> {
    const rk = entryKey(key);
    return this.run(rk, () => this.redis.zcount(rk, min, max));
  }

  async size(key: string): Promise<number> {
    const rk = entryKey(key);
    return this.run(rk, () => this.redis.zcard(rk));
  }
}
