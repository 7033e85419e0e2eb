import type { SkycacheClient } from './client.js';
import { SkycacheError, WriteBehindError, WriteBehindFullError } from './errors.js';
import type { CallOptions } from './transport.js';
import { retryDelayMs } from './transport.js';

/** What a loader gets: the call's signal, and the stale value when it refreshes one. */
export interface LoaderContext<T> {
  signal?: AbortSignal;
  stale?: T;
}

/** A loader answers the value, or undefined when the source has none ("not found": cached for negativeTtl). */
export type Loader<T> = (context: LoaderContext<T>) => Promise<T | undefined>;

export interface GetOrSetOptions extends CallOptions {
  /** TTL in seconds of a loaded value (the deployment's default when absent). */
  ttl?: number;
  /** Seconds after the TTL during which the value is served stale while one caller refreshes it. */
  grace?: number;
  /** Seconds a "not found" (loader answered undefined) is cached, as a stored null; 0 or absent: not cached. */
  negativeTtl?: number;
  /** Lease length in ms (default 10000): the longest a dead loader keeps other processes waiting. */
  lease?: number;
  tags?: string[];
  /** Longest wait in ms for another process's fill before giving up with TIMEOUT (default 30000). */
  maxWaitMs?: number;
}

/** Shortest and longest pause between two lease reads while another process fills the key. */
const POLL_MIN_MS = 10;
const POLL_MAX_MS = 250;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A stored null is the negative entry of getOrSet: the source has no value. */
const valueOf = <T>(value: unknown): T | undefined => (value === null ? undefined : (value as T));

/**
 * Cache-aside without stampedes (docs/client.md): single-flight in process, the server's lease across processes.
 * One caller in the whole fleet runs the loader for a missing key; the others wait for its fill (polling the lease
 * read). A stale value (within grace) is answered at once while the one caller granted the lease refreshes it in
 * the background.
 */
export class GetOrSet {
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly refreshing = new Map<string, Promise<unknown>>();

  constructor(private readonly client: SkycacheClient) {}

  run<T>(key: string, loader: Loader<T>, options: GetOrSetOptions): Promise<T | undefined> {
    const running = this.inflight.get(key);
    if (running) return running as Promise<T | undefined>;
    const call = this.load(key, loader, options).finally(() => this.inflight.delete(key));
    this.inflight.set(key, call);
    return call;
  }

  private async load<T>(key: string, loader: Loader<T>, options: GetOrSetOptions): Promise<T | undefined> {
    const leaseMs = options.lease ?? 10_000;
    const deadline = Date.now() + (options.maxWaitMs ?? 30_000);
    let pause = POLL_MIN_MS;
    for (;;) {
      const read = await this.client.readWithLease(key, leaseMs, options);
      if (read.entry) {
        if (read.lease) this.refresh(key, read.lease.token, loader, options, valueOf<T>(read.entry.value));
        return valueOf<T>(read.entry.value);
      }
      if (read.lease) return this.fill(key, read.lease.token, loader, options);
      if (Date.now() >= deadline) {
        throw new SkycacheError('TIMEOUT', `"${key}" was still being filled by another caller after ${options.maxWaitMs ?? 30_000} ms`, 0);
      }
      if (options.signal?.aborted) throw new SkycacheError('ABORTED', 'the call was aborted by its AbortSignal', 0);
      // Jittered, growing pauses, never past the holder's lease: it fills or its lease ends by then.
      await sleep(Math.min(read.filledByOtherMs ?? pause, pause * (0.5 + Math.random())));
      pause = Math.min(POLL_MAX_MS, pause * 2);
    }
  }

  /** Runs the loader under the lease and writes what it answered (a negative entry for undefined). */
  private async fill<T>(key: string, token: string, loader: Loader<T>, options: GetOrSetOptions, stale?: T): Promise<T | undefined> {
    let value: T | undefined;
    try {
      value = await loader({ signal: options.signal, stale });
    } catch (e) {
      // Give the lease up at once: the next caller loads instead of waiting for it to expire.
      await this.client.releaseLease(key, token).catch(() => undefined);
      throw e;
    }
    try {
      if (value !== undefined) {
        await this.client.set(key, value, { ttl: options.ttl, grace: options.grace, tags: options.tags, lease: token, signal: options.signal });
      } else if (options.negativeTtl) {
        await this.client.set(key, null, { ttl: options.negativeTtl, tags: options.tags, lease: token, signal: options.signal });
      } else {
        await this.client.releaseLease(key, token);
      }
    } catch (e) {
      // LEASE_CONFLICT: a write or delete since the lease began knows better than this load; the value still answers
      // this call. Anything else: the cache write failed, the loaded value is still good.
      if (!(e instanceof SkycacheError && e.code === 'LEASE_CONFLICT')) this.client.options.onBackgroundError?.(e, key);
    }
    return value;
  }

  private refresh<T>(key: string, token: string, loader: Loader<T>, options: GetOrSetOptions, stale: T | undefined): void {
    if (this.refreshing.has(key)) {
      // Another refresh of this process runs: this lease is not needed.
      void this.client.releaseLease(key, token).catch(() => undefined);
      return;
    }
    // The caller's signal ends the caller's call, not the background refresh.
    const running = this.fill(key, token, loader, { ...options, signal: undefined }, stale)
      .catch((e) => this.client.options.onBackgroundError?.(e, key))
      .finally(() => this.refreshing.delete(key));
    this.refreshing.set(key, running);
  }

  /** Resolves once every background refresh started so far has ended (before a clean shutdown, say). */
  async idle(): Promise<void> {
    while (this.refreshing.size) await Promise.all([...this.refreshing.values()]);
  }
}

export interface WriteThroughResult {
  /** Whether the cache took this value (false: it already holds a version at least as new). */
  written: boolean;
  /** The version the cache holds for the key after the call. */
  version: number;
}

/**
 * Write-through: the source of truth first (`persist` answers the version it stored, a positive integer that grows
 * with every change of the key: a row version, or an update time in microseconds), then the cache, at that version,
 * only when the cache holds an older one. A slower writer with an older version is refused by the cache and told
 * so; it never overwrites a newer value.
 */
export async function writeThrough<T>(
  client: SkycacheClient,
  key: string,
  value: T,
  persist: (value: T) => Promise<number>,
  options: CallOptions & { ttl?: number; grace?: number; tags?: string[] } = {},
): Promise<WriteThroughResult> {
  const version = await persist(value);
  if (!Number.isSafeInteger(version) || version < 1) throw new RangeError(`persist must answer the stored version, a positive whole number, not ${version}`);
  try {
    const written = await client.set(key, value, { ...options, externalVersion: version });
    return { written: true, version: written.version };
  } catch (e) {
    if (e instanceof SkycacheError && e.code === 'VERSION_CONFLICT') return { written: false, version: Number(e.details?.currentVersion) };
    throw e;
  }
}

export interface WriteBehindOptions<T> {
  /** Persists a batch to the source of truth; throw to have the batch retried. */
  persist: (items: { key: string; value: T }[]) => Promise<void>;
  /** Most items acknowledged but not yet persisted (default 1000); past it, set throws WriteBehindFullError. */
  maxQueue?: number;
  /** Items per persist call; a flush starts as soon as this many wait (default 100). */
  flushSize?: number;
  /** A flush starts at least this often while items wait, in ms (default 1000). */
  flushIntervalMs?: number;
  /** Attempts per batch (default 5), with jittered exponential backoff between them. */
  attempts?: number;
  /** Called with the items given up after their attempts (they are also thrown from close/flush). */
  onError?: (error: WriteBehindError) => void;
  /** TTL of the cache writes, in seconds. */
  ttl?: number;
}

/**
 * Write-behind (the seed's write-back): each set writes the cache at once and acknowledges; the source of truth
 * gets the value later, in batches flushed by size and interval with retries. Durability: an acknowledged item
 * that is not yet persisted lives only in this process's memory — a crash, a kill or a close that is never awaited
 * loses it, and the cache (which may evict or expire it) is then the only copy. A clean `close()` persists
 * everything acknowledged or throws WriteBehindError naming what it could not.
 */
export class WriteBehind<T> {
  /** Acknowledged, not yet persisted; a later set of the same key replaces its value (its place is kept). */
  private readonly queue = new Map<string, T>();
  private readonly failed: { key: string; value: T }[] = [];
  /** Per key, the set in progress (the cache write before its acknowledgement). */
  private readonly writing = new Map<string, Promise<void>>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private closed = false;

  constructor(
    private readonly client: SkycacheClient,
    private readonly options: WriteBehindOptions<T>,
  ) {
    this.timer = setInterval(() => void this.persistWaiting(), options.flushIntervalMs ?? 1000);
    this.timer.unref();
  }

  /** Items acknowledged and not yet persisted. */
  get pending(): number {
    return this.queue.size;
  }

  /**
   * Writes the cache, then queues the value for the source of truth; resolves once acknowledged. Sets of one key
   * run one after another, in call order, so the cache and the source end with the same (last) value.
   */
  set(key: string, value: T, options: CallOptions = {}): Promise<void> {
    if (this.closed) return Promise.reject(new Error('this write-behind queue is closed'));
    const limit = this.options.maxQueue ?? 1000;
    if (!this.queue.has(key) && !this.writing.has(key) && this.queue.size + this.writing.size >= limit) {
      return Promise.reject(new WriteBehindFullError(limit));
    }
    const previous = this.writing.get(key) ?? Promise.resolve();
    const write = previous
      .catch(() => undefined)
      .then(async () => {
        await this.client.set(key, value, { ...options, ttl: this.options.ttl });
        this.queue.set(key, value);
        if (this.queue.size >= (this.options.flushSize ?? 100)) void this.persistWaiting();
      });
    const settled = write.finally(() => {
      if (this.writing.get(key) === settled) this.writing.delete(key);
    });
    // Its failure is the caller's (returned below); this copy only orders the next set of the key.
    settled.catch(() => undefined);
    this.writing.set(key, settled);
    return write;
  }

  /** Persists what waits now (one batch after another); throws WriteBehindError for items given up. */
  async flush(): Promise<void> {
    await this.persistWaiting();
    if (this.failed.length) {
      const items = this.failed.splice(0);
      throw new WriteBehindError(`${items.length} acknowledged item(s) could not be persisted after their attempts: ${items.map((i) => i.key).slice(0, 10).join(', ')}`, items);
    }
  }

  /** Stops the timer and persists everything acknowledged (a clean close); throws WriteBehindError for what failed. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    // Sets still writing the cache are acknowledged by the time they resolve: wait for them, then persist.
    await Promise.allSettled([...this.writing.values()]);
    await this.flush();
  }

  /** Persists what waits, one drain at a time (the timer, a full batch and flush() may all ask at once). */
  private async persistWaiting(): Promise<void> {
    while (this.flushing) await this.flushing;
    this.flushing = this.drain().finally(() => (this.flushing = undefined));
    await this.flushing;
  }

  private async drain(): Promise<void> {
    const size = this.options.flushSize ?? 100;
    while (this.queue.size) {
      const batch = [...this.queue].slice(0, size).map(([key, value]) => ({ key, value }));
      for (const item of batch) this.queue.delete(item.key);
      const error = await this.persistWithRetries(batch);
      if (error) {
        this.failed.push(...batch);
        try {
          this.options.onError?.(new WriteBehindError(`persisting ${batch.length} item(s) failed: ${(error as Error)?.message}`, batch, { cause: error }));
        } catch {
          // A throwing onError must not stop the queue: the items are reported by flush()/close() all the same.
        }
      }
    }
  }

  private async persistWithRetries(batch: { key: string; value: T }[]): Promise<unknown> {
    const attempts = Math.max(1, this.options.attempts ?? 5);
    let last: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        await this.options.persist(batch);
        return undefined;
      } catch (e) {
        last = e;
        if (attempt < attempts) await sleep(retryDelayMs(attempt, null, { baseDelayMs: 50, maxDelayMs: 2000 }));
      }
    }
    return last;
  }
}
