import { INTERNAL_PREFIX, slotOf, slotTag, TAG_INDEX_PREFIX } from '../core/keyspace';
import { translateRedisError, type RedisClient } from '../core/redis';
import { evalMultiKey, withScripts } from './scripts';

/**
 * Tag indexes (see docs/entries-advanced.md, "Tags").
 *
 * Single Redis: one sorted set per tag, `_:tag:<tag>`, members = entry Redis keys, score = expiry time in ms.
 * Cluster: one such set per tag per slot, `_:tag:{<slot tag>}:<tag>`, in the slot of the entries it lists, so the
 * entry write and its index update are one atomic script; plus a directory per tag, `_:tagslots:<tag>`, listing
 * the slots that may hold an index for it (score = the latest expiry registered there, plus a grace period). The
 * directory is written BEFORE the entry, so it is always a superset: a listed slot whose index is empty costs one
 * cheap script call at invalidation, never a missed entry.
 */
export { TAG_INDEX_PREFIX };
export const TAG_DIRECTORY_PREFIX = `${INTERNAL_PREFIX}tagslots:`;
/** Covers clock skew between the API and the Redis nodes and in-flight writes when pruning a directory. */
export const DIRECTORY_GRACE_MS = 60_000;
/** Index members one invalidation script call takes: bounds the time Redis spends in one script. */
export const INVALIDATE_CHUNK = 500;

export function tagIndexPrefixForSlot(slot: number | null): string {
  return slot === null ? TAG_INDEX_PREFIX : `${TAG_INDEX_PREFIX}{${slotTag(slot)}}:`;
}

/** The prefix of the tag indexes an entry's scripts maintain (in the entry's own slot in a cluster). */
export function tagIndexPrefix(redisKey: string, clustered: boolean): string {
  return tagIndexPrefixForSlot(clustered ? slotOf(redisKey) : null);
}

export function tagDirectoryKey(tag: string): string {
  return TAG_DIRECTORY_PREFIX + tag;
}

/**
 * Tags as stored in the entry header: a JSON array with every non-ASCII character escaped, so its length in
 * characters equals its length in bytes (the Lua scripts slice by bytes) and Lua's cjson reads it back exactly.
 */
export function encodeTags(tags: readonly string[]): string {
  if (tags.length === 0) return '';
  return JSON.stringify(tags).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

export interface TagRegistration {
  redisKey: string;
  tags: readonly string[];
  /** Milliseconds until the entry expires, or null when it never does. */
  ttlMs: number | null;
}

/**
 * Cluster only: records, for each tag, the slots of these entries in the tag's directory. Must complete before
 * the entries are written (or their expiry extended); one script call per tag, all sent concurrently.
 */
export async function registerTagSlots(redis: RedisClient, registrations: readonly TagRegistration[]): Promise<void> {
  const now = Date.now();
  const byTag = new Map<string, Map<number, number>>();
  for (const r of registrations) {
    if (r.tags.length === 0) continue;
    const slot = slotOf(r.redisKey);
    const score = r.ttlMs === null ? Infinity : now + r.ttlMs + DIRECTORY_GRACE_MS;
    for (const tag of r.tags) {
      let slots = byTag.get(tag);
      if (!slots) byTag.set(tag, (slots = new Map()));
      slots.set(slot, Math.max(slots.get(slot) ?? 0, score));
    }
  }
  if (byTag.size === 0) return;
  const scripted = withScripts(redis);
  try {
    await Promise.all(
      [...byTag].map(([tag, slots]) =>
        scripted.skycacheTagSlots(
          tagDirectoryKey(tag),
          now,
          ...[...slots].flatMap(([slot, score]) => [slot, score === Infinity ? 'inf' : score]),
        ),
      ),
    );
  } catch (e) {
    throw translateRedisError(e);
  }
}

/** Deletes every entry that carries any of `tags`; returns how many entries were deleted. */
export async function invalidateTags(redis: RedisClient, tags: readonly string[], clustered: boolean): Promise<number> {
  const unique = [...new Set(tags)];
  if (unique.length === 0) return 0;
  try {
    if (!clustered) return await drainSlot(redis, null, unique);
    const now = Date.now();
    const slotsPerTag = await Promise.all(
      unique.map((tag) => redis.zrangebyscore(tagDirectoryKey(tag), now, '+inf')),
    );
    const tagsPerSlot = new Map<number, string[]>();
    unique.forEach((tag, i) => {
      for (const s of slotsPerTag[i]) {
        const slot = Number(s);
        const list = tagsPerSlot.get(slot);
        if (list) list.push(tag);
        else tagsPerSlot.set(slot, [tag]);
      }
    });
    const counts = await Promise.all([...tagsPerSlot].map(([slot, slotTags]) => drainSlot(redis, slot, slotTags)));
    return counts.reduce((a, b) => a + b, 0);
  } catch (e) {
    throw translateRedisError(e);
  }
}

/** Empties the indexes of `tags` in one slot (or the single Redis), chunk by chunk, deleting their entries. */
async function drainSlot(redis: RedisClient, slot: number | null, tags: readonly string[]): Promise<number> {
  const prefix = tagIndexPrefixForSlot(slot);
  const indexes = tags.map((t) => prefix + t);
  let deleted = 0;
  for (;;) {
    const [count, remaining] = (await evalMultiKey(redis, 'skycacheInvalidateTags', indexes, [prefix, INVALIDATE_CHUNK])) as [
      number,
      number,
    ];
    deleted += Number(count);
    if (Number(remaining) === 0) return deleted;
  }
}
