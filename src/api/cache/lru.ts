/**
 * A least-recently-used map bounded by entry count and by bytes (the caller says what an entry weighs),
 * with a maximum age and invalidation tags (an entry carries tags such as `integration:<id>`; dropping a
 * tag drops every entry carrying it, in time proportional to those entries).
 *
 * Recency is the insertion order of a `Map`: a hit re-inserts the entry, eviction takes the first one.
 */
export interface LruOptions {
  maxEntries: number;
  /** Total weight allowed; an entry heavier than this is not stored at all. */
  maxBytes: number;
  /** Entries older than this (from `storedAt`) are misses. */
  ttlMs: number;
  now?: () => number;
}

interface Entry<V> {
  value: V;
  bytes: number;
  storedAt: number;
  tags: readonly string[];
  /** Still served, but known to be behind the data (`markStaleTag`): its reader should recompute it. */
  stale: boolean;
}

export class LruCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly byTag = new Map<string, Set<string>>();
  private totalBytes = 0;
  private readonly now: () => number;

  constructor(private readonly options: LruOptions) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  get(key: string): V | undefined {
    return this.getWithAge(key)?.value;
  }

  /** A live entry's value, age (ms since its `storedAt`) and staleness, as a hit: it becomes the most recently used. */
  getWithAge(key: string): { value: V; ageMs: number; stale: boolean } | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const ageMs = this.now() - entry.storedAt;
    if (ageMs >= this.options.ttlMs) {
      this.delete(key);
      return undefined;
    }
    // Most recently used goes last.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return { value: entry.value, ageMs, stale: entry.stale };
  }

  /**
   * Stores a value. `storedAt` defaults to now; pass the instant the value was computed from (the start
   * of its computation) so that its age is never understated. Returns false when it was not stored.
   */
  set(key: string, value: V, opts: { bytes: number; tags: readonly string[]; storedAt?: number; stale?: boolean }): boolean {
    this.delete(key);
    const storedAt = opts.storedAt ?? this.now();
    if (opts.bytes > this.options.maxBytes || this.options.maxEntries <= 0 || this.now() - storedAt >= this.options.ttlMs) return false;
    this.entries.set(key, { value, bytes: opts.bytes, storedAt, tags: opts.tags, stale: opts.stale ?? false });
    this.totalBytes += opts.bytes;
    for (const tag of opts.tags) {
      let keys = this.byTag.get(tag);
      if (!keys) this.byTag.set(tag, (keys = new Set()));
      keys.add(key);
    }
    while (this.entries.size > this.options.maxEntries || this.totalBytes > this.options.maxBytes) {
      const oldest = this.entries.keys().next().value as string;
      this.delete(oldest);
    }
    return true;
  }

  delete(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    this.totalBytes -= entry.bytes;
    for (const tag of entry.tags) {
      const keys = this.byTag.get(tag);
      keys?.delete(key);
      if (keys && keys.size === 0) this.byTag.delete(tag);
    }
    return true;
  }

  /** Drops every entry carrying `tag`; returns how many. */
  deleteTag(tag: string): number {
    const keys = this.byTag.get(tag);
    if (!keys) return 0;
    let n = 0;
    for (const key of [...keys]) if (this.delete(key)) n++;
    return n;
  }

  /** Marks every entry carrying `tag` stale (kept and served, flagged for recomputation); returns how many. */
  markStaleTag(tag: string): number {
    const keys = this.byTag.get(tag);
    if (!keys) return 0;
    for (const key of keys) this.entries.get(key)!.stale = true;
    return keys.size;
  }

  clear(): void {
    this.entries.clear();
    this.byTag.clear();
    this.totalBytes = 0;
  }
}
