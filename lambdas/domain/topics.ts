import { setTimeout as sleep } from 'node:timers/promises';
import type { BlockingConnections } from '../core/blocking-redis';
import type { TopicSettings } from '../core/config';
import { CacheError } from '../core/errors';
import { changeStreamKeyFor, changeStreamKeyForSlot, entryKey, topicKey } from '../core/keyspace';
import { isCluster, retryOnceOnMoved, translateRedisError, type RedisClient } from '../core/redis';
import { STREAM_LUA } from './change-events';
import { scriptRegistry } from './script-registry';

/**
 * Pub/sub topics and change streams over Redis Streams (docs/pubsub.md): one stream per topic, message id =
 * stream id (ordered per topic, usable to deduplicate), retention by length and age, and a `missed` flag when a
 * subscriber resumes from an id older than what is retained.
 */

export interface TopicMessage {
  id: string;
  data: unknown;
}

export interface TopicReadResult {
  messages: TopicMessage[];
  /** Resume from here next time (the last message's id, else the given id or the stream's last id); null: from the oldest. */
  next: string | null;
  /** True when messages after the given id were trimmed (retention) or the topic was removed: some are lost to this subscriber. */
  missed: boolean;
}

export interface TopicRead {
  /** Messages after this id; absent: from the oldest retained (never flagged as missed). */
  after?: string;
  limit: number;
  /** Wait up to this long when there is nothing to answer yet. */
  waitMs: number;
  /** Ends a wait early (the client went away). */
  signal?: AbortSignal;
}

/** Which change stream to read: the one holding `key`'s slot, or a slot's (a standalone Redis has just one). */
export type ChangeScope = { key: string } | { slot: number } | Record<string, never>;

/** Whether `id` is a message id as Redis Streams makes them: `<ms>-<sequence>`, each part below 2^64. */
export function isMessageId(id: string): boolean {
  const m = /^(\d{1,20})-(\d{1,20})$/.exec(id);
  return !!m && BigInt(m[1]) < 2n ** 64n && BigInt(m[2]) < 2n ** 64n;
}

/** How often a wait re-checks when no dedicated connection is free to block on (the cap is reached). */
const POLL_MS = 250;

const topicScripts = {
  /** KEYS: stream. ARGV: message JSON, most messages kept, most age ms, idle ms. Returns the id. */
  skycacheTopicPublish: {
    numberOfKeys: 1,
    lua: `${STREAM_LUA}
return appendToStream(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
`,
  },
  /**
   * KEYS: stream. ARGV: after id ('' for the oldest), most messages to answer, most messages kept, most age ms.
   * Trims first (a topic nobody publishes to still ages out). Returns [missed 0/1, last id ('' when no stream),
   * entries]; missed when an id after `after` was trimmed (max-deleted-entry-id, see STREAM_LUA) or the stream is gone.
   */
  skycacheTopicRead: {
    numberOfKeys: 1,
    lua: `${STREAM_LUA}
if redis.call('EXISTS', KEYS[1]) == 0 then return {ARGV[1] ~= '' and 1 or 0, '', {}} end
local function field(info, name)
  for i = 1, #info, 2 do if info[i] == name then return info[i + 1] end end
end
local last = field(redis.call('XINFO', 'STREAM', KEYS[1]), 'last-generated-id')
trimStream(KEYS[1], ARGV[3], ARGV[4], last)
local deleted = field(redis.call('XINFO', 'STREAM', KEYS[1]), 'max-deleted-entry-id') or '0-0'
local missed = 0
if ARGV[1] ~= '' and idBefore(ARGV[1], deleted) then missed = 1 end
local start = '-'
if ARGV[1] ~= '' then start = '(' .. ARGV[1] end
return {missed, last, redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', ARGV[2])}
`,
  },
} as const;
export const withTopicScripts = scriptRegistry(topicScripts);

type StreamEntry = [id: string, fields: string[]];

function decodeData(fields: string[]): unknown {
  const i = fields.indexOf('m');
  const text = i >= 0 ? fields[i + 1] : '';
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export class TopicStore {
  readonly clustered: boolean;
  private closed = false;

  constructor(
    readonly redis: RedisClient,
    readonly settings: TopicSettings,
    private readonly blocking: BlockingConnections,
  ) {
    this.clustered = isCluster(redis);
  }

  /** Appends a message to a topic (trimming it to its retention); answers the message's id. */
  async publish(topic: string, message: unknown): Promise<{ id: string }> {
    const json = JSON.stringify(message);
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > this.settings.maxMessageBytes) {
      throw new CacheError('PAYLOAD_TOO_LARGE', `message is ${bytes} bytes of JSON; the limit is ${this.settings.maxMessageBytes}`, {
        limit: this.settings.maxMessageBytes,
        size: bytes,
      });
    }
    const { retentionMessages, retentionMs, idleMs } = this.settings;
    const key = topicKey(topic);
    const id = await this.run(() => withTopicScripts(this.redis).skycacheTopicPublish(key, json, retentionMessages, retentionMs, idleMs));
    return { id: String(id) };
  }

  /** A topic's messages after `read.after`, waiting up to `read.waitMs` when there are none yet. */
  readTopic(topic: string, read: TopicRead): Promise<TopicReadResult> {
    return this.read(topicKey(topic), read);
  }

  /** The change stream of the given scope (docs/pubsub.md, "Change events"). */
  changeStream(scope: ChangeScope): string {
    if (!this.clustered) return changeStreamKeyForSlot(null);
    if ('key' in scope) return changeStreamKeyFor(entryKey(scope.key), true);
    if ('slot' in scope) return changeStreamKeyForSlot(scope.slot);
    throw new CacheError('VALIDATION_FAILED', 'in cluster mode change events are kept per hash slot: give ?key= (its slot) or ?slot=');
  }

  /**
   * The messages of `stream` after `read.after`. Answers at once when there are some; otherwise blocks (XREAD
   * BLOCK on a dedicated connection) until one arrives or the wait ends, then reads again, so the `missed` flag
   * is always computed by the read script.
   */
  async read(stream: string, read: TopicRead): Promise<TopicReadResult> {
    const first = await this.readNow(stream, read);
    if (first.result.messages.length || read.waitMs <= 0 || read.signal?.aborted) return first.result;
    await this.waitForMessage(stream, read.after ?? (first.last || '0-0'), Date.now() + read.waitMs, read.signal);
    // Closed while waiting (shutdown): answer what was read rather than touch a closed client.
    if (read.signal?.aborted || this.closed) return first.result;
    return (await this.readNow(stream, read)).result;
  }

  /**
   * Follows a stream for a long-lived connection (SSE): yields each batch as it arrives, and an empty batch each
   * `heartbeatMs` without messages, until `signal` aborts.
   */
  async *follow(stream: string, options: { after?: string; limit: number; heartbeatMs: number; signal: AbortSignal }): AsyncGenerator<TopicReadResult> {
    let after = options.after;
    while (!options.signal.aborted) {
      const batch = await this.read(stream, { after, limit: options.limit, waitMs: options.heartbeatMs, signal: options.signal });
      if (options.signal.aborted) return;
      after = batch.next ?? after;
      yield batch;
    }
  }

  private async readNow(stream: string, read: TopicRead): Promise<{ result: TopicReadResult; last: string }> {
    const [missed, last, entries] = (await this.run(() =>
      withTopicScripts(this.redis).skycacheTopicRead(stream, read.after ?? '', read.limit, this.settings.retentionMessages, this.settings.retentionMs),
    )) as [number, string, StreamEntry[]];
    const messages = entries.map(([id, fields]) => ({ id, data: decodeData(fields) }));
    const next = messages.length ? messages[messages.length - 1].id : (read.after ?? (last || null));
    return { result: { messages, next, missed: Number(missed) === 1 }, last };
  }

  /** Returns when an entry after `cursor` may exist, at `deadline`, or when aborted. */
  private async waitForMessage(stream: string, cursor: string, deadline: number, signal?: AbortSignal): Promise<void> {
    const blocked = await this.blocking
      .borrow(
        stream,
        async (connection) => {
          const ms = Math.max(1, deadline - Date.now());
          await connection.xread('COUNT', 1, 'BLOCK', ms, 'STREAMS', stream, cursor);
          return true;
        },
        signal,
      )
      // A failed block (moved slot, lost connection) just ends the wait: the read that follows tells the truth.
      .catch(() => true);
    if (blocked) return;
    while (Date.now() < deadline && !signal?.aborted && !this.closed) {
      await sleep(Math.min(POLL_MS, Math.max(1, deadline - Date.now())));
      const found = await this.run(() => this.redis.xrange(stream, `(${cursor}`, '+', 'COUNT', 1));
      if (found.length) return;
    }
  }

  /** Waits blocked on a dedicated connection now. */
  get blockedWaits(): number {
    return this.blocking.borrowedCount;
  }

  /** Closes the dedicated blocking connections (shutdown and tests). */
  close(): void {
    this.closed = true;
    this.blocking.close();
  }

  private async run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await retryOnceOnMoved([this.redis], command);
    } catch (e) {
      throw translateRedisError(e);
    }
  }
}
