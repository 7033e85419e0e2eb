import { entryKey } from '../core/keyspace';
import type { RedisClient } from '../core/redis';
import { CollectionStore, decodeElement, type CollectionLimits } from './collections';
import { ttlSecondsOf } from './store';

export interface SetAddResult {
  created: boolean;
  key: string;
  added: number;
  size: number;
  ttl: number | null;
}

export interface SetMembers {
  key: string;
  members: unknown[];
  size: number;
  ttl: number | null;
}

/** Sets of JSON values under `k:<key>` (a Redis set): add, remove, members, is-member, size, pop. */
export class SetStore extends CollectionStore {
  constructor(redis: RedisClient, limits: CollectionLimits) {
    super(redis, limits, 'set');
  }

  async add(key: string, members: unknown[], ttlSeconds?: number): Promise<SetAddResult> {
    const encoded = members.map((m, i) => this.encode(m, `members.${i}`));
    const rk = entryKey(key);
    const [added, size, created, pttl] = (await this.run(rk, () =>
      this.scripts.setAdd(rk, ...this.writeArgs(ttlSeconds), ...encoded),
    )) as [number, number, number, number];
    return { created: created === 1, key, added, size, ttl: ttlSecondsOf(pttl) };
  }

  async remove(key: string, members: unknown[]): Promise<{ key: string; removed: number; size: number }> {
    const encoded = members.map((m, i) => this.encode(m, `members.${i}`));
    const rk = entryKey(key);
    const [removed, size] = (await this.run(rk, () => this.scripts.setRemove(rk, ...encoded))) as [number, number];
    return { key, removed, size };
  }

  /** Every member (in no particular order); null when there is no set. */
  async members(key: string): Promise<SetMembers | null> {
    const rk = entryKey(key);
    const reply = (await this.run(rk, () => this.scripts.setMembers(rk))) as [string[], number] | null;
    if (!reply) return null;
    return { key, members: reply[0].map(decodeElement), size: reply[0].length, ttl: ttlSecondsOf(reply[1]) };
  }

  /** For each member asked about, in order, whether the set holds it. */
  async contains(key: string, members: unknown[]): Promise<boolean[]> {
    const encoded = members.map((m, i) => this.encode(m, `members.${i}`));
    const rk = entryKey(key);
    const flags = await this.run(rk, () => this.redis.smismember(rk, ...encoded));
    return flags.map((f) => Number(f) === 1);
  }

  async size(key: string): Promise<number> {
    const rk = entryKey(key);
    return this.run(rk, () => this.redis.scard(rk));
  }

  /** Removes and returns up to `count` random members. */
  async pop(key: string, count = 1): Promise<{ key: string; members: unknown[]; size: number }> {
    const rk = entryKey(key);
    const [members, size] = (await this.run(rk, () => this.scripts.setPop(rk, count, this.limits.maxPopBytes))) as [string[], number];
    return { key, members: members.map(decodeElement), size };
  }
}
