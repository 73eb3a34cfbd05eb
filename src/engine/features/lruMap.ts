// The engine's one least-recently-used map: the feature cache, the labeling service's memos, the
// training and evaluation image/mask caches and the thumbnails all keep a bounded set of entries and
// drop the one used longest ago. A Map iterates in insertion order, so re-inserting an entry on use
// makes the first key the least recently used one.
//
// Bounds: a number of entries (maxEntries), a number of bytes (maxBytes, each entry's size given with
// set() or later with resize(): a promise's size is known when it settles), or both. The entry just
// written is never evicted by its own write: an entry larger than the whole byte budget evicts every
// other entry and stays (a cache that must not keep it says so before calling set()).

export interface LruLimits {
  maxEntries?: number;
  maxBytes?: number;
}

export class LruMap<K, V> {
  private readonly map = new Map<K, { value: V; bytes: number }>();
  private total = 0;
  /** Entries dropped to stay within the limits (not counting delete() and clear()). */
  evictions = 0;

  constructor(private readonly limits: LruLimits) {}

  get size(): number {
    return this.map.size;
  }

  /** The sum of the entries' sizes. */
  get bytes(): number {
    return this.total;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** The value, now the most recently used. */
  get(key: K): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  /** The value, leaving its recency as it is. */
  peek(key: K): V | undefined {
    return this.map.get(key)?.value;
  }

  /** Writes the entry as the most recently used, then evicts the least recently used others while a
   *  limit is exceeded. */
  set(key: K, value: V, bytes = 0): this {
    this.delete(key);
    this.map.set(key, { value, bytes });
    this.total += bytes;
    this.trim(key);
    return this;
  }

  /** Sets the size of an entry already present (known only later, e.g. when its promise settles),
   *  then evicts the least recently used others while over the budget. No-op for an absent key. */
  resize(key: K, bytes: number): void {
    const e = this.map.get(key);
    if (!e) return;
    this.total += bytes - e.bytes;
    e.bytes = bytes;
    this.trim(key);
  }

  delete(key: K): boolean {
    const e = this.map.get(key);
    if (!e) return false;
    this.map.delete(key);
    this.total -= e.bytes;
    return true;
  }

  clear(): void {
    this.map.clear();
    this.total = 0;
  }

  /** Keys, least recently used first. */
  keys(): IterableIterator<K> {
    return this.map.keys();
  }

  private over(): boolean {
    const { maxEntries, maxBytes } = this.limits;
    return (maxEntries !== undefined && this.map.size > maxEntries) || (maxBytes !== undefined && this.total > maxBytes);
  }

  /** Evicts from the least recently used end while over a limit, stopping at `keep`: an entry is never
   *  evicted by its own write, nor are the entries used after it. */
  private trim(keep: K): void {
    while (this.over()) {
      const oldest = this.map.keys().next();
      if (oldest.done || oldest.value === keep) return;
      this.delete(oldest.value);
      this.evictions++;
    }
  }
}
