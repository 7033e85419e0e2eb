import { CacheError } from '../core/errors';
import {
  entryKey,
  entryPrefixPattern,
  groupBySlot,
  slotOf,
} from '../core/keyspace';
import { forEachPrimary, translateRedisError, type RedisClient } from '../core/redis';
import { evalMultiKey, withScripts } from './scripts';
import { jsonWithinLimit, RedisStore, ttlSecondsOf, type ReadConsistency, type TtlLimits } from './store';
import { encodeTags, invalidateTags, registerTagSlots, tagIndexPrefix } from './tags';

export interface Entry {
  key: string;
  value: unknown;
  /** Whole seconds left before expiry, or null when the entry never expires. */
  ttl: number | null;
  version: number;
  /** Null for a plain string another Redis client wrote: it has no history. */
  createdAt: string | null;
  updatedAt: string | null;
  /** Tags given at the last write (empty when none). */
  tags: string[];
}

export interface WriteResult {
  created: boolean;
  key: string;
  version: number;
  /** Whole seconds left after this write; null when it never expires (a keepTtl write of a persisted entry). */
  ttl: number | null;
  createdAt: string;
  updatedAt: string;
  /** The entry's tags after this write. */
  tags: string[];
}

export interface EntryLimits extends TtlLimits {
  maxValueBytes: number;
}

export type { ReadConsistency } from './store';

export interface ReplicationAck {
  /** Replicas that had the write when WAIT returned (0 without waiting when none is connected). */
  acknowledged: number;
  requested: number;
  /** Replicas connected to the key's primary, as INFO replication said at most a second ago. */
  connectedReplicas: number;
}

/** How long a primary's replica count is trusted: a replica that just (re)connected is waited for within this. */
const REPLICA_COUNT_TTL_MS = 1000;

export interface InvalidateRequest {
  keys?: string[];
  prefix?: string;
  tags?: string[];
}

/** A write that applies only in a given state: key absent, key present, or at exactly this version. */
export type WriteCondition = { ifAbsent: true } | { ifPresent: true } | { ifVersion: number };

export interface SetOptions {
  tags?: readonly string[];
  /** Keep the expiry (and stored TTL) of the entry being replaced, as Redis's KEEPTTL; a new entry gets the ttl given. */
  keepTtl?: boolean;
  condition?: WriteCondition;
  /** The tags' cluster directories already list this entry's slot (a batch registers all its items at once). */
  tagsRegistered?: boolean;
}

export interface GetOptions {
  /** Set the expiry to this many seconds from now (when found). */
  touchTtlSeconds?: number;
  /** Push the expiry to now + the TTL of the entry's last write (when it currently expires). */
  sliding?: boolean;
}

export interface TtlInfo {
  key: string;
  /** Whole seconds left, or null when the key never expires. */
  ttl: number | null;
}

/** Keys fetched per SCAN step during prefix invalidation: big enough to be quick, small enough not to stall Redis. */
const SCAN_COUNT = 1000;

/** The current form: `x<expiresAtMs, 15 digits>:<version>:<createdAtMs>:<updatedAtMs>:<ttlMs>:<tagsLength>:`. */
const HEADER = /^x(\d{15}):(\d+):(\d+):(\d+):(\d+):(\d+):/;
/** Still read: the tags form `<version>:<createdAtMs>:<updatedAtMs>:<ttlMs>:<tagsLength>:` and the first form. */
const TAGS_HEADER = /^(\d+):(\d+):(\d+):(\d+):(\d+):/;
const FIRST_HEADER = /^(\d+):(\d+):(\d+):/;

/**
 * Whether the stored string carries its own expiry (the current form): then a read needs no PTTL. Any other string
 * (an older form, or one another client wrote) needs the key's PTTL for its `ttl`.
 */
export function carriesExpiry(raw: string): boolean {
  return raw.charCodeAt(0) === 120 /* x */ && HEADER.test(raw);
}

/**
 * Decodes the stored forms (docs/storage.md): the current one, whose absolute expiry gives the remaining TTL against
 * this machine's clock, and the older ones (tags form, first form), whose `pttl` the caller read. Tags JSON is
 * ASCII (encodeTags), so its byte length is its length in characters.
 */
export function decodeEntry(key: string, raw: string, pttl = -1, now = Date.now(), options: { lazyValue?: boolean } = {}): Entry {
  let version: string | undefined;
  let created = '';
  let updated = '';
  let tags: string[] = [];
  let valueAt = 0;
  let ttl = ttlSecondsOf(pttl);
  const current = HEADER.exec(raw);
  const older = current ? null : (TAGS_HEADER.exec(raw) ?? FIRST_HEADER.exec(raw));
  if (current) {
    [, , version, created, updated] = current;
    const tagsLength = Number(current[6]);
    if (tagsLength > 0) tags = parseTags(raw.slice(current[0].length, current[0].length + tagsLength));
    valueAt = current[0].length + tagsLength;
    const expiresAt = Number(current[1]);
    // The key exists, so it has at least a moment left, even if this clock runs a little ahead of Redis's.
    ttl = expiresAt === 0 ? null : Math.max(1, Math.ceil((expiresAt - now) / 1000));
  } else if (older) {
    [, version, created, updated] = older;
    const tagsLength = older.length > 5 ? Number(older[5]) : 0;
    if (tagsLength > 0) tags = parseTags(raw.slice(older[0].length, older[0].length + tagsLength));
    valueAt = older[0].length + tagsLength;
  }
  const valueJson = version === undefined ? '' : raw.slice(valueAt);
  // The current form's value is JSON.stringify's text, stored by the write script: an entry read answers with that
  // text (entryJson), so parsing it can wait until someone reads `value` — for a large value, most of a read's CPU.
  if (current && options.lazyValue) {
    return new LazyEntry(key, ttl, Number(version), isoOf(created), isoOf(updated), tags, valueJson);
  }
  const value = version === undefined ? NOT_JSON : parseJson(valueJson);
  if (value === NOT_JSON) {
    // A plain string written by another Redis client: serve it as a string value with no history.
    return { key, value: raw, ttl: ttlSecondsOf(pttl), version: 0, createdAt: null, updatedAt: null, tags: [] };
  }
  return new StoredEntry(key, value, ttl, Number(version), isoOf(created), isoOf(updated), tags, valueJson);
}

/**
 * The length of the value's JSON text in a stored entry (the whole string for one another client wrote): what a
 * batch read counts against BATCH_MAX_BYTES, as a batch write counts the values it writes.
 */
export function storedValueLength(raw: string): number {
  const header = HEADER.exec(raw) ?? TAGS_HEADER.exec(raw);
  if (header) return raw.length - header[0].length - Number(header[header.length - 1]);
  const first = FIRST_HEADER.exec(raw);
  return raw.length - (first ? first[0].length : 0);
}

/** An entry decoded from Redis that keeps its value's JSON text as stored, for entryJson. */
class StoredEntry implements Entry {
  readonly #valueJson: string;

  constructor(
    public key: string,
    public value: unknown,
    public ttl: number | null,
    public version: number,
    public createdAt: string,
    public updatedAt: string,
    public tags: string[],
    valueJson: string,
  ) {
    this.#valueJson = valueJson;
  }

  /** JSON.stringify(this), with the value's stored text (valid JSON: it was just parsed) instead of serializing it again. */
  json(): string {
    return entryText(this, this.#valueJson);
  }
}

/** An entry's JSON with its value's JSON text spliced in (the key order of JSON.stringify on an Entry). */
function entryText(entry: Entry, valueJson: string): string {
  const tags = entry.tags.length ? JSON.stringify(entry.tags) : '[]';
  const ttl = entry.ttl === null ? 'null' : String(entry.ttl);
  return `{"key":${JSON.stringify(entry.key)},"value":${valueJson},"ttl":${ttl},"version":${entry.version},"createdAt":"${entry.createdAt}","updatedAt":"${entry.updatedAt}","tags":${tags}}`;
}

const UNPARSED = Symbol('unparsed');

/**
 * An entry read in the current form, whose value is parsed from its stored text only when `value` is read. JSON
 * (toJSON) and entryJson see the same entry as a StoredEntry; spreading it does not copy `value` (an accessor).
 */
class LazyEntry implements Entry {
  readonly #valueJson: string;
  #value: unknown = UNPARSED;

  constructor(
    public key: string,
    public ttl: number | null,
    public version: number,
    public createdAt: string,
    public updatedAt: string,
    public tags: string[],
    valueJson: string,
  ) {
    this.#valueJson = valueJson;
  }

  get value(): unknown {
    if (this.#value === UNPARSED) this.#value = JSON.parse(this.#valueJson);
    return this.#value;
  }

  set value(value: unknown) {
    this.#value = value;
  }

  toJSON(): Entry {
    return { key: this.key, value: this.value, ttl: this.ttl, version: this.version, createdAt: this.createdAt, updatedAt: this.updatedAt, tags: this.tags };
  }

  json(): string {
    return this.#value === UNPARSED ? entryText(this, this.#valueJson) : JSON.stringify(this);
  }
}

/**
 * An entry as JSON text. For an entry just read from Redis the value's stored JSON is spliced in as is: serializing
 * a value again costs more than the rest of answering a read.
 */
export function entryJson(entry: Entry): string {
  return entry instanceof StoredEntry || entry instanceof LazyEntry ? entry.json() : JSON.stringify(entry);
}

/**
 * ISO-8601 text of a stored millisecond timestamp. Formatting a Date costs about as much as decoding the rest of
 * an entry, and a hot key's reads format the same two instants again and again: the last ones are remembered.
 */
const isoTexts = new Map<string, string>();
const ISO_TEXTS_KEPT = 4096;
function isoOf(ms: string): string {
  let text = isoTexts.get(ms);
  if (text === undefined) {
    if (isoTexts.size >= ISO_TEXTS_KEPT) isoTexts.clear();
    isoTexts.set(ms, (text = new Date(Number(ms)).toISOString()));
  }
  return text;
}

const NOT_JSON = Symbol('not JSON');
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
}

/** Reads a tags JSON array; anything else (not written by skycache) counts as no tags. */
export function parseTags(text: string): string[] {
  const parsed = parseJson(text);
  return Array.isArray(parsed) ? parsed.filter((t): t is string => typeof t === 'string') : [];
}

/** The key-value entries of the cache: get, set, delete and invalidation. */
export class EntryStore extends RedisStore {
  /** Connected replicas per primary (cluster: per node address), with when the count goes stale. */
  private readonly replicaCounts = new Map<string, { count: number; until: number }>();

  constructor(
    redis: RedisClient,
    readonly limits: EntryLimits,
    options: { replicaReader?: RedisClient } = {},
  ) {
    super(redis, limits, options);
  }

  /**
   * Reads an entry. A plain read is one GET — the entry carries its absolute expiry, so the remaining TTL costs
   * nothing more (an entry stored in an older form, until its next write, also asks PTTL) — sent to a replica when
   * replicas serve reads and the caller did not ask for a strong read. It counts nothing in Redis (the process
   * counts hits and misses in memory, lambdas/metrics/hit-counts.ts). Touch and sliding reads change the expiry,
   * so they are one script on the primary.
   */
  async get(key: string, options: GetOptions & { consistency?: ReadConsistency } = {}): Promise<Entry | null> {
    const rk = entryKey(key);
    if (!options.touchTtlSeconds && !options.sliding) {
      const reader = this.readerFor(options.consistency);
      const raw = await this.run(rk, () => reader.get(rk));
      if (raw === null) return null;
      if (carriesExpiry(raw)) return decodeEntry(key, raw, undefined, undefined, { lazyValue: true });
      const pttl = await this.run(rk, () => reader.pttl(rk));
      // Gone between the two reads (expired or deleted): a miss, as a later read would be.
      return pttl === -2 ? null : decodeEntry(key, raw, pttl);
    }
    const touch = options.touchTtlSeconds ? String(this.ttlMs(options.touchTtlSeconds)) : '';
    const reply = (await this.run(rk, () =>
      withScripts(this.redis).skycacheGet(rk, touch, options.sliding ? '1' : '', tagIndexPrefix(rk, this.clustered)),
    )) as [string, number] | null;
    if (!reply) return null;
    const entry = decodeEntry(key, reply[0], Number(reply[1]));
    // Extending a tagged entry's life must extend its slot's life in the tags' directories too.
    if (entry.tags.length) await this.registerTags(rk, entry.tags, Number(reply[1]));
    return entry;
  }



  /**
   * Waits (WAIT, at most `timeoutMs`) until `replicas` replicas hold every write this process made on the key's
   * primary, the key's last write included. Replication stays asynchronous: this narrows, not closes, the window
   * a failover can lose. WAIT holds the connection it runs on, so it is only paid when a client asks for it, and
   * never when the primary has no replica connected: then nothing could acknowledge, and the answer is immediate.
   */
  async waitForReplicas(key: string, replicas: number, timeoutMs: number): Promise<ReplicationAck> {
    const rk = entryKey(key);
    const connectedReplicas = await this.connectedReplicas(rk);
    if (connectedReplicas === 0) return { acknowledged: 0, requested: replicas, connectedReplicas };
    // The EXISTS routes the pipeline to the key's primary in cluster mode; WAIT itself names no key.
    const replies = await this.run(rk, () => this.redis.pipeline().exists(rk).wait(replicas, timeoutMs).exec());
    const [, ack] = replies ?? [];
    if (!ack || ack[0]) throw translateRedisError(ack?.[0] ?? new Error('WAIT gave no reply'));
    return { acknowledged: Number(ack[1]), requested: replicas, connectedReplicas };
  }

  /** The replicas connected to the primary of `rk` (INFO replication, remembered for REPLICA_COUNT_TTL_MS). */
  private async connectedReplicas(rk: string): Promise<number> {
    const node = this.clustered ? String((this.redis as { slots: string[][] }).slots[slotOf(rk)]?.[0]) : 'primary';
    const known = this.replicaCounts.get(node);
    if (known && known.until > Date.now()) return known.count;
    // As for WAIT, the EXISTS routes the pipeline (and so the INFO) to the key's primary.
    const replies = await this.run(rk, () => this.redis.pipeline().exists(rk).info('replication').exec());
    const [, info] = replies ?? [];
    if (!info || info[0]) throw translateRedisError(info?.[0] ?? new Error('INFO gave no reply'));
    const count = Number(/^connected_slaves:(\d+)/m.exec(String(info[1]))?.[1] ?? 0);
    this.replicaCounts.set(node, { count, until: Date.now() + REPLICA_COUNT_TTL_MS });
    return count;
  }

  /**
   * Creates or replaces an entry, atomically with its condition and its tag-index membership. A refused
   * condition throws CONFLICT (ifAbsent), NOT_FOUND (ifPresent) or VERSION_CONFLICT (ifVersion), each with
   * `details.currentVersion` (null when absent), and changes nothing.
   */
  async set(key: string, value: unknown, ttlSeconds?: number, options: SetOptions = {}): Promise<WriteResult> {
    const json = jsonWithinLimit(value, 'value', this.limits.maxValueBytes);
    const ttl = ttlSeconds ?? this.limits.defaultTtlSeconds;
    const tags = [...new Set(options.tags ?? [])];
    const now = Date.now();
    const rk = entryKey(key);
    const ttlMs = this.ttlMs(ttl);
    // Directory before entry: an invalidation may then visit an empty slot, but never miss this entry. With
    // keepTtl the expiry kept is unknown here: the directory entry is registered without one (harmless, see tags.ts).
    if (tags.length && !options.tagsRegistered) await this.registerTags(rk, tags, options.keepTtl ? -1 : ttlMs);
    const reply = (await this.run(rk, () =>
      withScripts(this.redis).skycacheSet(
        rk,
        json,
        options.keepTtl ? `keep:${ttlMs}` : ttlMs,
        now,
        conditionArg(options.condition),
        encodeTags(tags),
        tagIndexPrefix(rk, this.clustered),
      ),
    )) as [string, number, string, number, number];
    if (reply[0] !== 'OK') throw conditionError(key, options.condition!, Number(reply[1]));
    const [, version, createdMs, existed, pttl] = reply;
    return {
      created: Number(existed) === 0,
      key,
      version: Number(version),
      ttl: options.keepTtl ? ttlSecondsOf(Number(pttl)) : ttl,
      createdAt: new Date(Number(createdMs)).toISOString(),
      updatedAt: new Date(now).toISOString(),
      tags,
    };
  }

  /**
   * Deletes an entry (of any Redis type) and its tag-index membership. With `ifVersion` ('*' = any existing), a
   * mismatch throws VERSION_CONFLICT with `details.currentVersion` (null when absent) and deletes nothing.
   */
  async delete(key: string, options: { ifVersion?: number | '*' } = {}): Promise<boolean> {
    const rk = entryKey(key);
    const expected = options.ifVersion === undefined ? '' : String(options.ifVersion);
    const [status, result] = (await this.run(rk, () =>
      withScripts(this.redis).skycacheDelete(rk, expected, tagIndexPrefix(rk, this.clustered)),
    )) as [string, number];
    if (status !== 'OK') {
      const current = Number(result) < 0 ? null : Number(result);
      const ifVersion = options.ifVersion!;
      if (ifVersion === '*') throw new CacheError('NOT_FOUND', `no entry for key "${key}"`, { currentVersion: null });
      throw versionConflict(key, current, ifVersion);
    }
    return Number(result) > 0;
  }

  /** The remaining TTL of a key of any Redis type, or null when the key does not exist: one PTTL, a read. */
  async ttl(key: string, consistency?: ReadConsistency): Promise<TtlInfo | null> {
    const rk = entryKey(key);
    const reader = this.readerFor(consistency);
    const pttl = await this.run(rk, () => reader.pttl(rk));
    return pttl === -2 ? null : { key, ttl: ttlSecondsOf(pttl) };
  }

  /** Sets the key's expiry to `seconds` from now (without changing its value or version). */
  async touch(key: string, seconds: number): Promise<TtlInfo | null> {
    return this.ttlCommand(key, 'touch', this.ttlMs(seconds));
  }

  /** Removes the key's expiry: it stays until deleted, invalidated or evicted. */
  async persist(key: string): Promise<TtlInfo | null> {
    return this.ttlCommand(key, 'persist');
  }

  private async ttlCommand(key: string, op: 'touch' | 'persist', ms = 0): Promise<TtlInfo | null> {
    const rk = entryKey(key);
    const prefix = tagIndexPrefix(rk, this.clustered);
    if (this.clustered) {
      // The new expiry must be in the tags' directories before the entry outlives their current scores.
      const current = (await this.run(rk, () => withScripts(this.redis).skycacheTtl(rk, 'get', 0, prefix))) as
        | [number, string]
        | null;
      if (!current) return null;
      await this.registerTags(rk, parseTags(current[1]), op === 'persist' ? -1 : ms);
    }
    const reply = (await this.run(rk, () => withScripts(this.redis).skycacheTtl(rk, op, ms, prefix))) as
      | [number, string]
      | null;
    if (!reply) return null;
    return { key, ttl: ttlSecondsOf(Number(reply[0])) };
  }

  /** Cluster only: lists the entry's slot in its tags' directories, for an expiry `pttl` ms away (-1: none). */
  private async registerTags(redisKey: string, tags: readonly string[], pttl: number): Promise<void> {
    if (!this.clustered || tags.length === 0) return;
    await registerTagSlots(this.redis, [{ redisKey, tags, ttlMs: pttl < 0 ? null : pttl }]);
  }

  /** Removes the named keys and every key under the prefix; returns how many entries were removed. */
  async invalidate(request: InvalidateRequest): Promise<number> {
    let removed = 0;
    if (request.keys?.length) removed += await this.unlinkAll(request.keys.map(entryKey));
    if (request.prefix !== undefined) removed += await this.invalidatePrefix(request.prefix);
    if (request.tags?.length) removed += await invalidateTags(this.redis, request.tags, this.clustered);
    return removed;
  }

  private async invalidatePrefix(prefix: string): Promise<number> {
    const pattern = entryPrefixPattern(prefix);
    const counts = await forEachPrimary(this.redis, async (node) => {
      let removed = 0;
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
        cursor = next;
        if (keys.length) removed += await this.unlinkAll(keys, node);
      } while (cursor !== '0');
      return removed;
    });
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Deletes keys of any type, slot group by slot group, each entry leaving its tag indexes. */
  private async unlinkAll(redisKeys: string[], via: RedisClient = this.redis): Promise<number> {
    const unique = [...new Set(redisKeys)];
    const counts = await Promise.all(
      groupBySlot(unique, this.clustered).map(async (group) => {
        const flags = (await this.run(group[0], () =>
          evalMultiKey(via, 'skycacheInvalidateMany', group, [tagIndexPrefix(group[0], this.clustered)]),
        )) as number[];
        return flags.reduce((a, b) => a + Number(b), 0);
      }),
    );
    return counts.reduce((a, b) => a + b, 0);
  }
}

function conditionArg(condition: WriteCondition | undefined): string {
  if (!condition) return '';
  if ('ifAbsent' in condition) return 'absent';
  if ('ifPresent' in condition) return 'present';
  return String(condition.ifVersion);
}

/** The error a refused conditional write answers; `current` is the stored version, or -1 when absent. */
export function conditionError(key: string, condition: WriteCondition, current: number): CacheError {
  const currentVersion = current < 0 ? null : current;
  if ('ifAbsent' in condition) {
    return new CacheError('CONFLICT', `entry "${key}" already exists (version ${currentVersion})`, { currentVersion });
  }
  if ('ifPresent' in condition) {
    return new CacheError('NOT_FOUND', `no entry for key "${key}" to replace`, { currentVersion });
  }
  return versionConflict(key, currentVersion, condition.ifVersion);
}

/** A write or delete that named a version the entry is not at (`current` null: there is no entry). */
function versionConflict(key: string, current: number | null, expected: number): CacheError {
  const state = current === null ? `there is no entry for key "${key}"` : `entry "${key}" is at version ${current}`;
  return new CacheError('VERSION_CONFLICT', `${state}, not at version ${expected}`, { currentVersion: current, expectedVersion: expected });
}
