import type Redis from 'ioredis';
import { slotOf } from './keyspace';
import { isCluster, type RedisClient } from './redis';

/**
 * Dedicated connections for blocking commands (XREAD BLOCK of a long-poll or an SSE stream). A blocking command
 * holds its connection until it returns, so it must never run on the shared client, whose connection every other
 * request of the process pipelines through. Each waiting request borrows one connection to the primary of the
 * key's slot (a standalone Redis: the one server) and gives it back; idle ones are kept for the next wait.
 *
 * Connections: in Lambda one request runs at a time per instance, so an instance holds at most one per primary it
 * has waited on. A long-lived server holds one per concurrent waiter, capped by `maxConnections`; past the cap,
 * `borrow` answers undefined and the caller polls instead of blocking.
 */
export class BlockingConnections {
  private readonly idle = new Map<string, Redis[]>();
  private readonly borrowed = new Set<Redis>();
  private open = 0;
  private closed = false;

  constructor(
    private readonly client: RedisClient,
    private readonly options: { maxConnections: number; commandTimeoutMs: number },
  ) {}

  /**
   * Runs `work` on a connection to the primary of `redisKey`'s slot. Answers undefined (without running it) when
   * the cap is reached or the slot's primary is not known. `signal` aborts a blocked command by closing its
   * connection. A connection whose work failed is closed rather than reused.
   */
  async borrow<T>(redisKey: string, work: (connection: Redis) => Promise<T>, signal?: AbortSignal): Promise<T | undefined> {
    const node = this.nodeFor(redisKey);
    if (!node || this.closed) return undefined;
    const name = `${node.options.host}:${node.options.port}`;
    let connection = this.idle.get(name)?.pop();
    if (!connection) {
      if (this.open >= this.options.maxConnections) return undefined;
      connection = node.duplicate({
        // The block itself is bounded by its BLOCK argument; this only catches a connection that went silent.
        commandTimeout: this.options.commandTimeoutMs,
        enableAutoPipelining: false,
        // The first command waits for this new connection to be ready (it is this request's own).
        enableOfflineQueue: true,
        lazyConnect: false,
      });
      connection.on('error', () => undefined);
      this.open++;
    }
    const conn = connection;
    this.borrowed.add(conn);
    const abort = () => conn.disconnect();
    signal?.addEventListener('abort', abort, { once: true });
    let healthy = false;
    try {
      const result = await work(conn);
      healthy = !signal?.aborted;
      return result;
    } finally {
      signal?.removeEventListener('abort', abort);
      this.borrowed.delete(conn);
      if (healthy && !this.closed) {
        const list = this.idle.get(name) ?? [];
        list.push(conn);
        this.idle.set(name, list);
      } else {
        this.open--;
        conn.disconnect();
      }
    }
  }

  /** Connections open now (idle and borrowed). */
  get size(): number {
    return this.open;
  }

  /** Connections borrowed now (a command blocked on each). */
  get borrowedCount(): number {
    return this.borrowed.size;
  }

  /** Closes every connection: a borrowed one's blocked command fails, which ends its wait. */
  close(): void {
    this.closed = true;
    for (const list of this.idle.values()) for (const c of list) c.disconnect();
    this.open -= [...this.idle.values()].reduce((n, l) => n + l.length, 0);
    this.idle.clear();
    for (const c of this.borrowed) c.disconnect();
  }

  private nodeFor(redisKey: string): Redis | undefined {
    if (!isCluster(this.client)) return this.client;
    const owner = this.client.slots[slotOf(redisKey)]?.[0];
    return owner ? this.client.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner) : undefined;
  }
}
