import calculateSlot from 'cluster-key-slot';

/**
 * Where things live in Redis. User keys are namespaced under `k:` so that nothing a client names can collide with
 * the service's own bookkeeping under `_:` (hit/miss count hashes, tag indexes). The prefix keeps a user's `{hash tag}`
 * intact, so keys a client co-locates on one cluster shard stay co-located.
 */
export const ENTRY_PREFIX = 'k:';
export const INTERNAL_PREFIX = '_:';
export const HASH_SLOTS = 16384;

export function entryKey(userKey: string): string {
  return ENTRY_PREFIX + userKey;
}

export function userKeyOf(redisKey: string): string {
  return redisKey.startsWith(ENTRY_PREFIX) ? redisKey.slice(ENTRY_PREFIX.length) : redisKey;
}

/** Escapes Redis glob syntax so that a client's prefix matches only itself in SCAN MATCH. */
export function escapeGlob(literal: string): string {
  return literal.replace(/[*?[\]\\]/g, (c) => '\\' + c);
}

/** The SCAN MATCH pattern for every entry whose user key starts with `prefix`. */
export function entryPrefixPattern(prefix: string): string {
  return escapeGlob(ENTRY_PREFIX + prefix) + '*';
}

export function slotOf(redisKey: string): number {
  return calculateSlot(redisKey);
}

let slotTags: string[] | undefined;
/**
 * A short hash tag for every cluster slot: `{tag}` inside a key places that key in the given slot. Lets a Lua
 * script touch a bookkeeping key in the same slot as the entry it serves (one round trip, no CROSSSLOT).
 * Built once per process on first use (about 200k CRC16s, a few milliseconds).
 */
export function slotTag(slot: number): string {
  if (!slotTags) {
    const table: string[] = new Array(HASH_SLOTS);
    let found = 0;
    for (let i = 0; found < HASH_SLOTS; i++) {
      const tag = i.toString(36);
      const s = calculateSlot(tag);
      if (table[s] === undefined) {
        table[s] = tag;
        found++;
      }
    }
    slotTags = table;
  }
  return slotTags[slot];
}

/**
 * How many hashes hold the hit/miss counts flushed by the processes (see lambdas/metrics/hit-counts.ts). A handful,
 * not one per slot: each process writes one of them at most once a second, and a stats read fetches them all.
 */
export const HIT_COUNT_KEYS = 16;

/**
 * The hit/miss count hashes. Each names the slot tag of one of HIT_COUNT_KEYS evenly spaced slots, so on a cluster
 * whose slots are spread evenly over its shards the flushes (and the reads) spread over the shards too.
 */
export function hitCountKeys(): string[] {
  return Array.from({ length: HIT_COUNT_KEYS }, (_, i) => `${INTERNAL_PREFIX}hits:{${slotTag((i * HASH_SLOTS) / HIT_COUNT_KEYS)}}`);
}

/** Splits keys into groups that each sit in one slot, so multi-key commands never raise CROSSSLOT. */
export function groupBySlot<T extends string>(redisKeys: readonly T[], clustered: boolean): T[][] {
  if (!clustered) return redisKeys.length ? [redisKeys.slice()] : [];
  const groups = new Map<number, T[]>();
  for (const k of redisKeys) {
    const s = slotOf(k);
    const g = groups.get(s);
    if (g) g.push(k);
    else groups.set(s, [k]);
  }
  return [...groups.values()];
}

/** Prefix of topic streams: `_:topic:{<topic>}`, the braces keep a whole topic in one cluster slot. */
export const TOPIC_PREFIX = `${INTERNAL_PREFIX}topic:`;
/** Prefix of change-event streams: one per slot in a cluster (`_:changes:{<slot tag>}`), one in all else. */
export const CHANGE_STREAM_PREFIX = `${INTERNAL_PREFIX}changes`;

/**
 * The stream of a pub/sub topic. The topic name is the hash tag, so the one key a topic has lives in one slot; a
 * `}` in the name only shortens the tag (still one key, one slot).
 */
export function topicKey(topic: string): string {
  return `${TOPIC_PREFIX}{${topic}}`;
}

/** The change-event stream of one cluster slot, or (null) the single one of a standalone Redis. */
export function changeStreamKeyForSlot(slot: number | null): string {
  return slot === null ? CHANGE_STREAM_PREFIX : `${CHANGE_STREAM_PREFIX}:{${slotTag(slot)}}`;
}

/** The change-event stream that records changes of `redisKey` (in its slot, so a script writes both). */
export function changeStreamKeyFor(redisKey: string, clustered: boolean): string {
  return changeStreamKeyForSlot(clustered ? slotOf(redisKey) : null);
}

/** Prefix of the tag indexes (lambdas/domain/tags.ts); lease keys reuse its slot part. */
export const TAG_INDEX_PREFIX = `${INTERNAL_PREFIX}tag:`;

/**
 * Prefix of lease keys (issue 13, docs/client.md): `_:lease:{<slot tag>}:<entry key>` in a cluster, in the entry's
 * own slot (so the lease and the entry change in one script), `_:lease:<entry key>` on a single Redis. The part
 * after the prefix is the tag-index prefix's part after `_:tag:`, which lets a script derive the lease key from it.
 */
export const LEASE_PREFIX = `${INTERNAL_PREFIX}lease:`;

/** The lease key of an entry's Redis key. */
export function leaseKey(redisKey: string, clustered: boolean): string {
  return clustered ? `${LEASE_PREFIX}{${slotTag(slotOf(redisKey))}}:${redisKey}` : LEASE_PREFIX + redisKey;
}
