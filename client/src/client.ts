import type { BatchGetItem, BatchSetItem } from '../../lambdas/domain/batch.js';
import type { CounterResult } from '../../lambdas/domain/counters.js';
import type { Entry, Lease, TtlInfo, WriteResult } from '../../lambdas/domain/entries.js';
import type { BodyOf, RouteId } from '../../lambdas/routes.js';
import { SkycacheError } from './errors.js';
import { NearCache } from './near-cache.js';
import { GetOrSet, WriteBehind, writeThrough, type GetOrSetOptions, type Loader, type WriteBehindOptions, type WriteThroughResult } from './patterns.js';
import { ROUTES, type PathParams } from './routes.js';
import { errorOf, Transport, type ApiAnswer, type CallOptions, type TransportOptions } from './transport.js';

export type { BatchGetItem, BatchSetItem, CounterResult, Entry, Lease, TtlInfo, WriteResult };

export interface ClientOptions extends TransportOptions {
  /** Keep up to maxEntries entries in process, revalidated with If-None-Match on every read (docs/client.md). */
  nearCache?: { maxEntries: number };
  /** Called with failures nobody awaits: a background refresh, a cache write after a load. Default: ignored. */
  onBackgroundError?: (error: unknown, key: string) => void;
}

/** The body of a route as the server's schema takes it. */
export type RouteBody<Id extends RouteId> = BodyOf<Id>;

export type RouteArgs<Id extends RouteId> = CallOptions & {
  /** Query parameters (undefined ones are left out). */
  query?: Record<string, string | number | boolean | undefined>;
  /** Statuses besides 2xx/304 to answer instead of throwing (e.g. 404). */
  accept?: readonly number[];
} & ([PathParams<(typeof ROUTES)[Id][1]>] extends [never] ? { params?: undefined } : { params: Record<PathParams<(typeof ROUTES)[Id][1]>, string> }) &
  (BodyOf<Id> extends undefined ? { body?: undefined } : { body: BodyOf<Id> });

export interface ReadOptions extends CallOptions {
  /** Also answer an entry past its TTL within its grace (then `stale: true`). */
  allowStale?: boolean;
  /** 'strong': read the primary even when replicas serve reads. */
  consistency?: 'strong' | 'eventual';
}

export interface WriteOptions extends CallOptions {
  /** Seconds until the entry expires (the deployment's default when absent). */
  ttl?: number;
  /** Seconds after the TTL during which the entry is still served, marked stale. */
  grace?: number;
  tags?: string[];
  ifAbsent?: true;
  ifPresent?: true;
  ifVersion?: number;
  /** The token of a lease a read granted: the write fills the entry only while the lease is current. */
  lease?: string;
  /** A version from the source of truth: written only above the stored one. */
  externalVersion?: number;
  durability?: 'primary' | 'replicated';
}

/** What a read that asks for a lease learned (docs/client.md). */
export interface LeaseAnswer {
  /** The entry (fresh or stale), or null on a miss. */
  entry: (Entry & { lease?: Lease }) | null;
  /** Granted to this caller: fill (or refresh) the entry with a write carrying `lease.token`. */
  lease?: Lease;
  /** Another caller holds the lease: it has this many ms left. */
  filledByOtherMs?: number;
}

const enc = encodeURIComponent;

/**
 * The skycache API as typed calls: every route (`route`), the entry operations, and, in patterns.ts, getOrSet,
 * writeThrough and writeBehind on top. Errors are SkycacheErrors carrying the server's code.
 */
export class SkycacheClient {
  readonly transport: Transport;
  readonly near?: NearCache<Entry & { etag: string }>;

  constructor(readonly options: ClientOptions) {
    this.transport = new Transport(options);
    if (options.nearCache) this.near = new NearCache(options.nearCache.maxEntries);
  }

  /** Any route of the table, typed by its id: path parameters, query and body as the server takes them. */
  route<Id extends RouteId>(id: Id, args: RouteArgs<Id>): Promise<ApiAnswer> {
    const [method, template] = ROUTES[id] as readonly [string, string];
    const params = (args.params ?? {}) as Record<string, string>;
    let path = template.replace(/\{(\w+)\}/g, (_, name: string) => enc(params[name]));
    const query = Object.entries(args.query ?? {}).filter((e): e is [string, string | number | boolean] => e[1] !== undefined);
    if (query.length) path += '?' + query.map(([k, v]) => `${enc(k)}=${enc(String(v))}`).join('&');
    return this.transport.request(method, path, { body: args.body, accept: args.accept, timeoutMs: args.timeoutMs, signal: args.signal, headers: args.headers });
  }

  // --- Entries ---

  /** The entry, or null on a miss. With a near cache, a kept entry is revalidated (304: no value sent). */
  async get<T = unknown>(key: string, options: ReadOptions = {}): Promise<(Entry & { value: T }) | null> {
    const kept = this.near?.get(key);
    const headers = { ...options.headers, ...(kept ? { 'if-none-match': kept.etag } : {}) };
    const answer = await this.route('getEntryByQuery', {
      ...options,
      headers,
      query: { key, allowStale: options.allowStale || undefined, consistency: options.consistency },
      accept: [404],
    });
    if (answer.status === 404) {
      this.near?.delete(key);
      return null;
    }
    if (answer.status === 304 && kept) {
      const stale = answer.headers.get('x-skycache-stale') === 'true';
      return (stale === !!kept.stale ? kept : { ...kept, stale }) as Entry & { value: T };
    }
    const entry = answer.body as Entry & { value: T };
    const etag = answer.headers.get('etag');
    if (this.near && etag) this.near.set(key, { ...entry, etag });
    return entry;
  }

  /** Creates or replaces an entry (201/200); refused conditions throw with the server's code (409, 404, 412). */
  async set(key: string, value: unknown, options: WriteOptions = {}): Promise<WriteResult & { created: boolean }> {
    this.near?.delete(key);
    const { ttl, grace, tags, ifAbsent, ifPresent, ifVersion, lease, externalVersion, durability, ...call } = options;
    const body = { key, value, ttl, grace, tags, ifAbsent, ifPresent, ifVersion, lease, externalVersion, durability };
    const answer = await this.route('setEntry', { ...call, body });
    // A read racing this write may have put the older entry back: drop it again.
    this.near?.delete(key);
    return { ...(answer.body as WriteResult), created: answer.status === 201 };
  }

  /** Deletes an entry: true when one was there. `ifVersion` ('*' = any) makes it conditional (412 when refused). */
  async delete(key: string, options: CallOptions & { ifVersion?: number | '*' } = {}): Promise<boolean> {
    this.near?.delete(key);
    const { ifVersion, ...call } = options;
    const headers = { ...call.headers, ...(ifVersion === undefined ? {} : { 'if-match': ifVersion === '*' ? '*' : `"${ifVersion}"` }) };
    const answer = await this.route('deleteEntryByQuery', { ...call, headers, query: { key }, accept: [404] });
    return answer.status === 204;
  }

  /** Remaining TTL (with grace and stale for an entry written with grace), or null when the key does not exist. */
  async ttl(key: string, options: CallOptions = {}): Promise<TtlInfo | null> {
    const answer = await this.route('getEntryTtlByQuery', { ...options, query: { key }, accept: [404] });
    return answer.status === 404 ? null : (answer.body as TtlInfo);
  }

  async touch(key: string, ttl: number, options: CallOptions = {}): Promise<TtlInfo | null> {
    const answer = await this.route('touchEntryByQuery', { ...options, query: { key }, body: { ttl }, accept: [404] });
    return answer.status === 404 ? null : (answer.body as TtlInfo);
  }

  async persist(key: string, options: CallOptions = {}): Promise<TtlInfo | null> {
    const answer = await this.route('persistEntryByQuery', { ...options, query: { key }, accept: [404] });
    return answer.status === 404 ? null : (answer.body as TtlInfo);
  }

  /** Removes keys, a prefix and/or tags; answers how many entries went. Clears the near cache (it cannot tell which). */
  async invalidate(request: BodyOf<'invalidate'>, options: CallOptions = {}): Promise<number> {
    this.near?.clear();
    const answer = await this.route('invalidate', { ...options, body: request });
    return (answer.body as { invalidated: number }).invalidated;
  }

  async batchGet(keys: string[], options: CallOptions & { allowStale?: boolean } = {}): Promise<BatchGetItem[]> {
    const { allowStale, ...call } = options;
    const answer = await this.route('batchGet', { ...call, body: { keys, allowStale } });
    return (answer.body as { items: BatchGetItem[] }).items;
  }

  async batchSet(items: BodyOf<'batchSet'>['items'], options: CallOptions = {}): Promise<BatchSetItem[]> {
    for (const item of items) this.near?.delete(item.key);
    const answer = await this.route('batchSet', { ...options, body: { items } });
    return (answer.body as { items: BatchSetItem[] }).items;
  }

  async batchDelete(keys: string[], options: CallOptions = {}): Promise<{ key: string; deleted: boolean }[]> {
    for (const key of keys) this.near?.delete(key);
    const answer = await this.route('batchDelete', { ...options, body: { keys } });
    return (answer.body as { items: { key: string; deleted: boolean }[] }).items;
  }

  /** Adds `by` (default 1) to a counter entry, creating it at 0. */
  async increment(key: string, by = 1, options: CallOptions & { ttl?: number } = {}): Promise<CounterResult> {
    this.near?.delete(key);
    const { ttl, ...call } = options;
    const answer = await this.route('incrementCounter', { ...call, params: { key }, body: { by, ttl } as BodyOf<'incrementCounter'> });
    return answer.body as CounterResult;
  }

  // --- Leases (issue 13) ---

  /** A read that asks for a lease of `leaseMs` on a miss or a stale entry (one caller at a time gets it). */
  async readWithLease(key: string, leaseMs: number, options: CallOptions = {}): Promise<LeaseAnswer> {
    const answer = await this.route('getEntryByQuery', { ...options, query: { key, lease: leaseMs }, accept: [404] });
    if (answer.status === 200) {
      const entry = answer.body as Entry & { lease?: Lease };
      return { entry, lease: entry.lease };
    }
    const error = (answer.body as { error?: { code: string; details?: { lease?: Lease; retryAfterMs?: number } } }).error;
    if (error?.code === 'NOT_FOUND' && error.details?.lease) return { entry: null, lease: error.details.lease };
    if (error?.code === 'FILLING') return { entry: null, filledByOtherMs: error.details?.retryAfterMs ?? 0 };
    throw errorOf(new Response(null, { status: answer.status, headers: answer.headers }), answer.body, 'GET', `/cache?key=${key}&lease=${leaseMs}`, 1);
  }

  /** Gives up a lease (a failed load): true when it was still this token's. */
  async releaseLease(key: string, token: string, options: CallOptions = {}): Promise<boolean> {
    const answer = await this.route('releaseLease', { ...options, body: { key, token }, accept: [409] });
    return answer.status === 204;
  }

  // --- Patterns (docs/client.md) ---

  private readonly getOrSetFlights = new GetOrSet(this);

  /**
   * Cache-aside without stampedes: the cached value, or the loader's, run once across every process asking for
   * the key at the same time (in-process single-flight + the server's lease). undefined: the source has no value
   * (cached for negativeTtl). Within grace the stale value is answered while one refresh runs in the background.
   */
  getOrSet<T>(key: string, loader: Loader<T>, options: GetOrSetOptions = {}): Promise<T | undefined> {
    return this.getOrSetFlights.run(key, loader, options);
  }

  /** Resolves once getOrSet's background refreshes have ended (call before a clean shutdown). */
  idle(): Promise<void> {
    return this.getOrSetFlights.idle();
  }

  /** Write-through: `persist` to the source of truth (answering its version), then the cache at that version. */
  writeThrough<T>(
    key: string,
    value: T,
    persist: (value: T) => Promise<number>,
    options: CallOptions & { ttl?: number; grace?: number; tags?: string[] } = {},
  ): Promise<WriteThroughResult> {
    this.near?.delete(key);
    return writeThrough(this, key, value, persist, options);
  }

  /** A write-behind queue: cache writes acknowledged at once, the source of truth persisted in batches. */
  writeBehind<T>(options: WriteBehindOptions<T>): WriteBehind<T> {
    return new WriteBehind(this, options);
  }

  // --- Data structures and topics: thin calls over `route` (the rest of each family: `route(id, …)`) ---

  readonly lists = {
    push: (key: string, values: BodyOf<'pushList'>['values'], options: CallOptions & { end?: 'left' | 'right'; ttl?: number } = {}) => {
      const { end, ttl, ...call } = options;
      return this.route('pushList', { ...call, params: { key }, body: { values, end, ttl } }).then((a) => a.body as { size: number });
    },
    range: (key: string, options: CallOptions & { start?: number; stop?: number } = {}) => {
      const { start, stop, ...call } = options;
      return this.route('getListRange', { ...call, params: { key }, query: { start, stop } }).then((a) => a.body as { values: unknown[]; size: number });
    },
  };

  readonly sets = {
    add: (key: string, members: BodyOf<'addSetMembers'>['members'], options: CallOptions & { ttl?: number } = {}) => {
      const { ttl, ...call } = options;
      return this.route('addSetMembers', { ...call, params: { key }, body: { members, ttl } }).then((a) => a.body as { added: number });
    },
    members: (key: string, options: CallOptions = {}) =>
      this.route('getSetMembers', { ...options, params: { key } }).then((a) => a.body as { members: unknown[]; size: number }),
  };

  readonly hashes = {
    set: (key: string, fields: Record<string, unknown>, options: CallOptions & { ttl?: number } = {}) => {
      const { ttl, ...call } = options;
      return this.route('setHashFields', { ...call, params: { key }, body: { fields, ttl } as BodyOf<'setHashFields'> }).then((a) => a.body);
    },
    getAll: (key: string, options: CallOptions = {}) =>
      this.route('getHash', { ...options, params: { key } }).then((a) => a.body as { fields: Record<string, unknown>; size: number }),
  };

  readonly topics = {
    publish: (topic: string, message: unknown, options: CallOptions = {}) =>
      this.route('publishMessage', { ...options, params: { topic }, body: { message } }).then((a) => a.body as { id: string }),
    read: (topic: string, options: CallOptions & { after?: string; limit?: number; wait?: number } = {}) => {
      const { after, limit, wait, ...call } = options;
      return this.route('subscribeTopic', { ...call, params: { topic }, query: { after, limit, wait } }).then(
        (a) => a.body as { messages: { id: string; message: unknown }[]; next: string; missed: boolean },
      );
    },
  };

  /** Throws unless the answer is the one expected; for callers of `route`. */
  static expect(answer: ApiAnswer, status: number): ApiAnswer {
    if (answer.status !== status) throw new SkycacheError('BAD_RESPONSE', `expected ${status}, got ${answer.status}`, answer.status);
    return answer;
  }
}
