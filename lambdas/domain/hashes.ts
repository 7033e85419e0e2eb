import { entryKey } from '../core/keyspace';
import type { RedisClient } from '../core/redis';
import { CollectionStore, decodeElement, type CollectionLimits, type CollectionUpsertResult } from './collections';
import { ttlSecondsOf } from './store';

export type HashSetResult = CollectionUpsertResult;

export interface HashFields {
  key: string;
  fields: Record<string, unknown>;
  size: number;
  ttl: number | null;
}

/** An object for field names from Redis: without a prototype, a field named "__proto__" is just a field. */
function replyObject(): Record<string, unknown> {
  return Object.create(null) as Record<string, unknown>;
}

/** Hashes of named JSON values under `k:<key>` (a Redis hash): set, get, get all, remove, increment. */
export class HashStore extends CollectionStore {
  constructor(redis: RedisClient, limits: CollectionLimits) {
    super(redis, limits, 'hash');
  }

  async set(key: string, fields: Record<string, unknown>, ttlSeconds?: number): Promise<HashSetResult> {
    const names = Object.keys(fields);
    const args = names.flatMap((name) => [name, this.encode(fields[name], `fields.${name}`)]);
    const rk = entryKey(key);
    const [added, size, created, pttl] = (await this.run(rk, () =>
      this.scripts.hashSet(rk, ...this.writeArgs(ttlSeconds), ...args),
    )) as [number, number, number, number];
    return { created: created === 1, key, added, updated: names.length - added, size, ttl: ttlSecondsOf(pttl) };
  }

  /** The named fields that exist, and the names of those that do not. */
  async get(key: string, names: string[]): Promise<{ key: string; fields: Record<string, unknown>; missing: string[] }> {
    const rk = entryKey(key);
    const values = await this.run(rk, () => this.redis.hmget(rk, ...names));
    const fields = replyObject();
    const missing: string[] = [];
    names.forEach((name, i) => {
      const raw = values[i];
      if (raw === null || raw === undefined) missing.push(name);
      else fields[name] = decodeElement(raw);
    });
    return { key, fields, missing: [...new Set(missing)] };
  }

  /** Every field; null when there is no hash. */
  async getAll(key: string): Promise<HashFields | null> {
    const rk = entryKey(key);
    const reply = (await this.run(rk, () => this.scripts.hashGetAll(rk))) as [string[], number] | null;
    if (!reply) return null;
    const fields = replyObject();
    const flat = reply[0];
    for (let i = 0; i < flat.length; i += 2) fields[flat[i]] = decodeElement(flat[i + 1]);
    return { key, fields, size: flat.length / 2, ttl: ttlSecondsOf(reply[1]) };
  }

  async remove(key: string, names: string[]): Promise<{ key: string; removed: number; size: number }> {
    const rk = entryKey(key);
    const [removed, size] = (await this.run(rk, () => this.scripts.hashRemove(rk, ...names))) as [number, number];
    return { key, removed, size };
  }

  /** Adds `by` to an integer field, creating it at 0; the result stays within ±(2^53-1). */
  async increment(
    key: string,
    field: string,
    by: number,
    ttlSeconds?: number,
  ): Promise<{ created: boolean; key: string; field: string; value: number; ttl: number | null }> {
    const rk = entryKey(key);
    const [value, created, pttl] = (await this.run(rk, () =>
      this.scripts.hashIncrement(rk, ...this.writeArgs(ttlSeconds), field, by),
    )) as [string, number, number];
    return { created: created === 1, key, field, value: Number(value), ttl: ttlSecondsOf(pttl) };
  }

  async size(key: string): Promise<number> {
    const rk = entryKey(key);
    return this.run(rk, () => this.redis.hlen(rk));
  }
}
