/**
 * A bounded in-process LRU of entries the client read, kept with their version. A read of a kept key still asks
 * the server, with If-None-Match: a 304 answers from here without the value crossing the network, so a near cache
 * never serves a value the server no longer has. The client drops a key on its own writes to it.
 */
export class NearCache<E extends { version: number }> {
  private readonly entries = new Map<string, E>();

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('nearCache.maxEntries must be a whole number of at least 1');
  }

  get size(): number {
    return this.entries.size;
  }

  /** The kept entry (now the most recently used), if any. */
  get(key: string): E | undefined {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  set(key: string, entry: E): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    // A Map iterates in insertion order: the first key is the least recently used.
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
