import { CacheError } from '../core/errors';
import { entryKey, groupBySlot, userKeyOf } from '../core/keyspace';
import { translateRedisError } from '../core/redis';
import { decodeEntry, storedValueLength, type Entry, type EntryStore, type ReadConsistency } from './entries';
import { evalMultiKey } from './scripts';
import { jsonWithinLimit } from './store';
import { registerTagSlots, tagIndexPrefix } from './tags';

/**
 * Batches: many keys in one request, one script call per cluster slot, all sent at once. ioredis auto-pipelining
 * gathers the calls bound for one node into one pipeline, so a batch costs one round trip per shard (two for a
 * batch set with tags on a cluster: the tags' slot directories first). See docs/entries-advanced.md.
 */
export const BATCH_MAX_BYTES = 5 * 1024 * 1024;

export interface ItemError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export type BatchGetItem =
  | ({ key: string; found: true } & Entry)
  | { key: string; found: false; error?: ItemError };

export type BatchSetItem =
  | { key: string; created: boolean; version: number; ttl: number | null; createdAt: string; updatedAt: string; tags: string[] }
  | { key: string; error: ItemError };

export interface BatchSetInput {
  key: string;
  value: unknown;
  ttl?: number;
  /** Keep the replaced entry's expiry (keepTtl). */
  keepTtl?: boolean;
  tags?: string[];
}

function wrongType(actualType: string): ItemError {
  return {
    code: 'WRONG_TYPE',
    message: `key holds a ${actualType}, not a value this operation works on`,
    details: { actualType },
  };
}

/**
 * Reads every key with one read-only script per slot (a replica may serve it when replicas serve reads). Refuses
 * (413) an answer whose values add up to more than BATCH_MAX_BYTES of JSON (the metadata is not counted, so what
 * one batch set wrote, one batch get reads back).
 */
export async function getMany(store: EntryStore, keys: readonly string[], consistency?: ReadConsistency): Promise<BatchGetItem[]> {
  const reader = store.readerFor(consistency);
  const unique = [...new Set(keys)];
  const found = new Map<string, BatchGetItem>();
  let bytes = 0;
  await Promise.all(
    groupBySlot(unique.map(entryKey), store.clustered).map(async (group) => {
      const replies = (await store.run(group[0], () =>
        evalMultiKey(reader, 'skycacheGetMany', group, []),
      )) as ([string, number] | null)[];
      group.forEach((rk, i) => {
        const key = userKeyOf(rk);
        const reply = replies[i];
        if (!reply) found.set(key, { key, found: false });
        else if (reply[0] === '!TYPE') found.set(key, { key, found: false, error: wrongType(String(reply[1])) });
        else {
          bytes += storedValueLength(reply[0]);
          // pttl -3: the entry carries its expiry (decodeEntry reads it from there).
          const { key: _key, ...entry } = decodeEntry(key, reply[0], Number(reply[1]));
          found.set(key, { key, found: true, ...entry });
        }
      });
    }),
  );
  if (bytes > BATCH_MAX_BYTES) {
    throw new CacheError('PAYLOAD_TOO_LARGE', `the values read add up to about ${bytes} bytes of JSON; a batch answer is limited to ${BATCH_MAX_BYTES}: ask for fewer keys`, {
      limit: BATCH_MAX_BYTES,
      size: bytes,
    });
  }
  return keys.map((k) => found.get(k)!);
}

/**
 * Writes every item (each with its own ttl and tags), in order. Checks every size limit first: over a limit,
 * nothing is written. An item that cannot be written (a key of another type) gets its own error; the others
 * are still written.
 */
export async function setMany(store: EntryStore, items: readonly BatchSetInput[]): Promise<BatchSetItem[]> {
  let total = 0;
  items.forEach((item, i) => {
    const json = jsonWithinLimit(item.value, `items[${i}].value`, store.limits.maxValueBytes, {
      suffix: '; nothing was written',
      details: { index: i },
    });
    total += Buffer.byteLength(json, 'utf8');
  });
  if (total > BATCH_MAX_BYTES) {
    throw new CacheError('PAYLOAD_TOO_LARGE', `the values add up to ${total} bytes of JSON; a batch is limited to ${BATCH_MAX_BYTES}; nothing was written`, {
      limit: BATCH_MAX_BYTES,
      size: total,
    });
  }
  if (store.clustered) {
    await registerTagSlots(
      store.redis,
      items.map((item) => ({
        redisKey: entryKey(item.key),
        tags: item.tags ?? [],
        ttlMs: item.keepTtl ? null : store.ttlMs(item.ttl ?? store.limits.defaultTtlSeconds),
      })),
    );
  }
  const settled = await Promise.allSettled(
    items.map((item) => store.set(item.key, item.value, item.ttl, { tags: item.tags, keepTtl: item.keepTtl, tagsRegistered: true })),
  );
  return settled.map((result, i): BatchSetItem => {
    if (result.status === 'fulfilled') {
      const { created, key, version, ttl, createdAt, updatedAt, tags } = result.value;
      return { key, created, version, ttl, createdAt, updatedAt, tags };
    }
    const error = translateRedisError(result.reason);
    if (error.code !== 'WRONG_TYPE') throw error;
    return { key: items[i].key, error: { code: error.code, message: error.message, details: error.details } };
  });
}

/** Deletes every key (of any type, leaving their tag indexes); per key, whether something was there. */
export async function deleteMany(store: EntryStore, keys: readonly string[]): Promise<{ key: string; deleted: boolean }[]> {
  const unique = [...new Set(keys)];
  const deleted = new Map<string, boolean>();
  await Promise.all(
    groupBySlot(unique.map(entryKey), store.clustered).map(async (group) => {
      const flags = (await store.run(group[0], () =>
        evalMultiKey(store.redis, 'skycacheDeleteMany', group, [tagIndexPrefix(group[0], store.clustered)]),
      )) as number[];
      group.forEach((rk, i) => deleted.set(userKeyOf(rk), Number(flags[i]) === 1));
    }),
  );
  // A key named twice was deleted once: the first mention reports it.
  const reported = new Set<string>();
  return keys.map((key) => {
    const first = !reported.has(key);
    reported.add(key);
    return { key, deleted: first && deleted.get(key)! };
  });
}
