import { randomUUID } from 'node:crypto';
import { CacheError } from '../core/errors';
import {
  entryKey,
  entryPrefixPattern,
  groupBySlot,
  leaseKey,
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
  /**
   * Written with a grace period (issue 13): whole seconds the entry is still served, marked stale, after `ttl`
   * (once stale: the seconds left until it is gone). Absent for an entry written without grace.
   */
  grace?: number;
  /** With grace: whether the entry is past its TTL (then `ttl` is 0). */
  stale?: boolean;
}

/** A lease granted on a miss or a stale entry (issue 13): a write carrying the token fills the entry. */
export interface Lease {
  token: string;
  /** Milliseconds until the lease expires unless filled. */
  ttlMs: number;
}

/** What a read that asks for a lease answers. */
export interface LeaseRead {
  /** The entry when there is one (fresh, or stale within its grace); null on a miss. */
  entry: Entry | null;
  /** Granted to this caller: fill the entry (or refresh the stale one) with it. */
  lease?: Lease;
  /** Another caller holds the lease: the milliseconds it has left (the longest to wait before asking again). */
  filledByOtherMs?: number;
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
  /** The grace the write gave (issue 13), when it gave one. */
  grace?: number;
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
  /** Issue 13: seconds after the TTL during which the entry is still served, marked stale. */
  graceSeconds?: number;
  /** Issue 13: the token of the lease this write fills; refused (LEASE_CONFLICT) unless the lease is still this one. */
  leaseToken?: string;
  /**
   * Issue 13: the version to store, given by the source of truth: written only when the stored version is lower
   * (or nothing is stored), else VERSION_CONFLICT with `details.currentVersion`.
   */
  externalVersion?: number;
}

export interface GetOptions {
  /** Set the expiry to this many seconds from now (when found). */
  touchTtlSeconds?: number;
  /** Push the expiry to now + the TTL of the entry's last write (when it currently expires). */
  sliding?: boolean;
  /** Answer an entry past its TTL within its grace (marked stale); without, such an entry reads as a miss. */
  allowStale?: boolean;
}

export interface TtlInfo {
  key: string;
  /** Whole seconds left (for an entry with grace: until it turns stale, 0 once stale), or null when the key never expires. */
  ttl: number | null;
  /** As Entry.grace and Entry.stale: present for an entry written with grace. */
  grace?: number;
  stale?: boolean;
}

/** Keys fetched per SCAN step during prefix invalidation: big enough to be quick, small enough not to stall Redis. */
const SCAN_COUNT = 1000;

/** The current form: `x<expiresAtMs, 15 digits>:<version>:<createdAtMs>:<updatedAtMs>:<ttlMs>:<tagsLength>:`. */
const HEADER = /^x(\d{15}):(\d+):(\d+):(\d+):(\d+):(\d+):/;
/** Still read: the tags form `<version>:<createdAtMs>:<updatedAtMs>:<ttlMs>:<tagsLength>:` and the first form. */
const TAGS_HEADER = /^(\d+):(\d+):(\d+):(\d+):(\d+):/;
const FIRST_HEADER = /^(\d+):(\d+):(\d+):/;
/**
 * The grace form (issue 13): `g<staleAtMs, 15 digits>:<graceMs>:` then the current form's fields after its expiry.
 * The key itself expires graceMs after staleAt.
 */
const GRACE_HEADER = /^g(\d{15}):(\d+):(\d+):(\d+):(\d+):(\d+):(\d+):/;

/**
 * Whether the stored string carries its own expiry (the current form): then a read needs no PTTL. Any other string
 * (an older form, or one another client wrote) needs the key's PTTL for its `ttl`.
 */
export function carriesExpiry(raw: string): boolean {
  const form = raw.charCodeAt(0);
  return (form === 120 /* x */ && HEADER.test(raw)) || (form === 103 /* g */ && GRACE_HEADER.test(raw));
}

/** The head of a stored value a TTL read fetches: enough for the grace form's two fields. */
const GRACE_HEAD_BYTES = 39;

/**
 * The grace form's times as reads answer them: `ttl` until stale (0 once stale, null when it never expires), `grace`
 * (the grace period; once stale, the seconds left of it) and `stale`.
 */
function decodeGraceTimes(staleAt: number, graceMs: number, now = Date.now()): { ttl: number | null; grace: number; stale: boolean } {
  const stale = staleAt !== 0 && staleAt <= now;
  return {
    ttl: staleAt === 0 ? null : stale ? 0 : Math.max(1, Math.ceil((staleAt - now) / 1000)),
    grace: stale ? Math.max(1, Math.ceil((staleAt + graceMs - now) / 1000)) : Math.ceil(graceMs / 1000),
    stale,
  };
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
  let grace: number | undefined;
  let stale: boolean | undefined;
  const graceForm = raw.charCodeAt(0) === 103 /* g */ ? GRACE_HEADER.exec(raw) : null;
  // The grace form without its grace field reads as the current form (same fields, same places).
  const current = graceForm ? [graceForm[0], graceForm[1], ...graceForm.slice(3)] : HEADER.exec(raw);
  const older = current ? null : (TAGS_HEADER.exec(raw) ?? FIRST_HEADER.exec(raw));
  if (current) {
    [, , version, created, updated] = current;
    const tagsLength = Number(current[6]);
    if (tagsLength > 0) tags = parseTags(raw.slice(current[0].length, current[0].length + tagsLength));
    valueAt = current[0].length + tagsLength;
    const expiresAt = Number(current[1]);
    // The key exists, so it has at least a moment left, even if this clock runs a little ahead of Redis's.
    ttl = expiresAt === 0 ? null : Math.max(1, Math.ceil((expiresAt - now) / 1000));
    if (graceForm) ({ ttl, grace, stale } = decodeGraceTimes(expiresAt, Number(graceForm[2]), now));
  } else if (older) {
    [, version, created, updated] = older;
    const tagsLength = older.length > 5 ? Number(older[5]) : 0;
    if (tagsLength > 0) tags = parseTags(raw.slice(older[0].length, older[0].length + tagsLength));
    valueAt = older[0].length + tagsLength;
  }
  const valueJson = version === undefined ? '' : raw.slice(valueAt);
  // The current form's value is JSON.stringify's text, stored by the write script: an entry read answers with that
  // text (entryJson), so parsing it can wait until someone reads `value` — for a large value, most of a read's CPU.
  let entry: StoredEntry | LazyEntry;
  if (current && options.lazyValue) {
    entry = new LazyEntry(key, ttl, Number(version), isoOf(created), isoOf(updated), tags, valueJson);
  } else {
    const value = version === undefined ? NOT_JSON : parseJson(valueJson);
    if (value === NOT_JSON) {
      // A plain string written by another Redis client: serve it as a string value with no history.
      return { key, value: raw, ttl: ttlSecondsOf(pttl), version: 0, createdAt: null, updatedAt: null, tags: [] };
    }
    entry = new StoredEntry(key, value, ttl, Number(version), isoOf(created), isoOf(updated), tags, valueJson);
  }
  if (grace !== undefined) {
    entry.grace = grace;
    entry.stale = stale;
  }
  return entry;
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

  grace?: number;
  stale?: boolean;

  /** JSON.stringify(this), with the value's stored text (valid JSON: it was just parsed) instead of serializing it again. */
  json(): string {
    return entryText(this, this.#valueJson);
  }
}

/** An entry's JSON with its value's JSON text spliced in (the key order of JSON.stringify on an Entry). */
function entryText(entry: Entry, valueJson: string): string {
  const tags = entry.tags.length ? JSON.stringify(entry.tags) : '[]';
  const ttl = entry.ttl === null ? 'null' : String(entry.ttl);
  const grace = entry.grace === undefined ? '' : `,"grace":${entry.grace},"stale":${entry.stale}`;
  return `{"key":${JSON.stringify(entry.key)},"value":${valueJson},"ttl":${ttl},"version":${entry.version},"createdAt":"${entry.createdAt}","updatedAt":"${entry.updatedAt}","tags":${tags}${grace}}`;
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

  grace?: number;
  stale?: boolean;

  toJSON(): Entry {
    const json: Entry = { key: this.key, value: this.value, ttl: this.ttl, version: this.version, createdAt: this.createdAt, updatedAt: this.updatedAt, tags: this.tags };
    if (this.grace !== undefined) Object.assign(json, { grace: this.grace, stale: this.stale });
    return json;
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
      if (carriesExpiry(raw)) {
        const entry = decodeEntry(key, raw, undefined, undefined, { lazyValue: true });
        // Past its TTL, within its grace: served only to a caller that accepts stale data.
        return entry.stale && !options.allowStale ? null : entry;
      }
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
    return entry.stale && !options.allowStale ? null : entry;
  }

  /**
   * A read that asks for a lease (issue 13): one script on the primary, so it writes at most the lease key. A
   * fresh entry is answered as by get. On a miss, or a stale entry within its grace, exactly one caller at a time
   * is granted a lease of `leaseMs`; the others learn how long the lease has left (and get the stale entry).
   */
  async getWithLease(key: string, leaseMs: number): Promise<LeaseRead> {
    const rk = entryKey(key);
    const token = randomUUID();
    const [state, raw, pttl, granted, leasePttl, now] = (await this.run(rk, () =>
      withScripts(this.redis).skycacheLease(rk, leaseKey(rk, this.clustered), leaseMs, token),
    )) as [string, string, number, string, number, number];
    const entry = state === 'MISS' ? null : decodeEntry(key, raw, Number(pttl), Number(now));
    if (state === 'HIT') return { entry };
    if (granted) return { entry, lease: { token: granted, ttlMs: Number(leasePttl) } };
    return { entry, filledByOtherMs: Math.max(0, Number(leasePttl)) };
  }



  /** Gives up a lease (issue 13): true when it was this token's and is now gone, false when it was not current. */
  async releaseLease(key: string, token: string): Promise<boolean> {
    const rk = entryKey(key);
    const lk = leaseKey(rk, this.clustered);
    return Number(await this.run(rk, () => withScripts(this.redis).skycacheReleaseLease(lk, token))) === 1;
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
    const graceMs = options.graceSeconds ? this.ttlMs(options.graceSeconds) : 0;
    const ttlMs = this.ttlMs(ttl);
    // Directory before entry: an invalidation may then visit an empty slot, but never miss this entry. With
    // keepTtl the expiry kept is unknown here: the directory entry is registered without one (harmless, see tags.ts).
    if (tags.length && !options.tagsRegistered) await this.registerTags(rk, tags, options.keepTtl ? -1 : ttlMs);
    const reply = (await this.run(rk, () =>
      withScripts(this.redis).skycacheSet(
        rk,
        leaseKey(rk, this.clustered),
        json,
        options.keepTtl ? `keep:${ttlMs}` : ttlMs,
        now,
        conditionArg(options.condition),
        encodeTags(tags),
        tagIndexPrefix(rk, this.clustered),
        // Issue 13: the script takes these three off the end (keep them last).
        graceMs,
        options.leaseToken ?? '',
        options.externalVersion === undefined ? '' : options.externalVersion,
      ),
    )) as [string, number, string, number, number];
    if (reply[0] === 'LEASE') {
      throw new CacheError('LEASE_CONFLICT', `the lease on "${key}" is not this token's (it expired, was ended by another write, or is another caller's); nothing was written`, {
        leaseTtlMs: Number(reply[1]) < 0 ? null : Number(reply[1]),
      });
    }
    if (reply[0] !== 'OK' && options.externalVersion !== undefined) {
      const current = Number(reply[1]);
      throw new CacheError('VERSION_CONFLICT', `entry "${key}" is already at version ${current}, not below ${options.externalVersion}`, {
        currentVersion: current,
        externalVersion: options.externalVersion,
      });
    }
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
      ...(graceMs ? { grace: options.graceSeconds } : {}),
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

  /**
   * The remaining TTL of a key of any Redis type, or null when the key does not exist: one round trip of reads
   * (PTTL, and the head of the value, where an entry with grace keeps when it turns stale: issue 13).
   */
  async ttl(key: string, consistency?: ReadConsistency): Promise<TtlInfo | null> {
    const rk = entryKey(key);
    const reader = this.readerFor(consistency);
    const replies = await this.run(rk, () => reader.pipeline().pttl(rk).getrange(rk, 0, GRACE_HEAD_BYTES).exec());
    const [ttlReply, headReply] = replies ?? [];
    if (!ttlReply || ttlReply[0]) throw translateRedisError(ttlReply?.[0] ?? new Error('PTTL gave no reply'));
    const pttl = Number(ttlReply[1]);
    if (pttl === -2) return null;
    // Another Redis type answers GETRANGE with WRONGTYPE: it has no grace.
    const head = headReply && !headReply[0] ? String(headReply[1]) : '';
    const grace = /^g(\d{15}):(\d+):/.exec(head);
    if (!grace) return { key, ttl: ttlSecondsOf(pttl) };
    const { ttl, grace: graceSeconds, stale } = decodeGraceTimes(Number(grace[1]), Number(grace[2]));
    return { key, ttl, grace: graceSeconds, stale };
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
