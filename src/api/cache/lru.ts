/**
 * A least-recently-used map bounded by entry count and by bytes (the caller says what an entry weighs),
 * with a maximum age and invalidation tags (an entry carries tags such as `integration:<id>`; dropping a
 * tag drops every entry carrying it, in time proportional to those entries).
 *
 * Partitions (the report cache's are tenants): each entry belongs to one (`set(…, { partition })`, default
 * one for all). A partition holds at most `partitionMaxEntries` / `partitionMaxBytes`, beyond which its own
 * least recently used entry goes; and when the whole cache is over its bounds, the entry evicted is the
 * least recently used one of the *heaviest* partition. So one tenant computing reports in a loop evicts
 * its own, never everyone else's (before, one LRU over all tenants let it push every other report out).
 * With a single partition this is the plain LRU it always was.
 *
 * Recency is the insertion order of each partition's `Map`: a hit re-inserts the entry, eviction takes the first one.
 */
export interface LruOptions {
  maxEntries: number;
  /** Total weight allowed; an entry heavier than this is not stored at all. */
  maxBytes: number;
  /** Entries older than this (from `storedAt`) are misses. */
  ttlMs: number;
  /** Bounds of one partition (default: the cache's). */
  partitionMaxEntries?: number;
  partitionMaxBytes?: number;
  now?: () => number;
}

interface Entry<V> {
  key: string;
  value: V;
  bytes: number;
  storedAt: number;
  tags: readonly string[];
  /** Still served, but known to be behind the data (`markStaleTag`): its reader should recompute it. */
  stale: boolean;
  partition: Partition<V>;
}

interface Partition<V> {
  name: string;
  bytes: number;
  /** Its entries, least recently used first. */
  entries: Map<string, Entry<V>>;
}

export class LruCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly partitions = new Map<string, Partition<V>>();
  private readonly byTag = new Map<string, Set<string>>();
  private totalBytes = 0;
  private readonly now: () => number;
  private readonly partitionMaxEntries: number;
  private readonly partitionMaxBytes: number;

  constructor(private readonly options: LruOptions) {
    this.now = options.now ?? Date.now;
    this.partitionMaxEntries = Math.min(options.partitionMaxEntries ?? options.maxEntries, options.maxEntries);
    this.partitionMaxBytes = Math.min(options.partitionMaxBytes ?? options.maxBytes, options.maxBytes);
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Entries and bytes of one partition. */
  usage(partition: string): { entries: number; bytes: number } {
    const p = this.partitions.get(partition);
    return { entries: p?.entries.size ?? 0, bytes: p?.bytes ?? 0 };
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
    const recency = entry.partition.entries;
    recency.delete(key);
    recency.set(key, entry);
    return { value: entry.value, ageMs, stale: entry.stale };
  }

  /**
   * Stores a value. `storedAt` defaults to now; pass the instant the value was computed from (the start
   * of its computation) so that its age is never understated. Returns false when it was not stored.
   */
  set(key: string, value: V, opts: { bytes: number; tags: readonly string[]; storedAt?: number; stale?: boolean; partition?: string }): boolean {
    this.delete(key);
    const storedAt = opts.storedAt ?? this.now();
    if (opts.bytes > this.partitionMaxBytes || this.partitionMaxEntries <= 0 || this.now() - storedAt >= this.options.ttlMs) return false;
    const name = opts.partition ?? '';
    let partition = this.partitions.get(name);
    if (!partition) this.partitions.set(name, (partition = { name, bytes: 0, entries: new Map() }));
    const entry: Entry<V> = { key, value, bytes: opts.bytes, storedAt, tags: opts.tags, stale: opts.stale ?? false, partition };
    this.entries.set(key, entry);
    partition.entries.set(key, entry);
    partition.bytes += opts.bytes;
    this.totalBytes += opts.bytes;
    for (const tag of opts.tags) {
      let keys = this.byTag.get(tag);
      if (!keys) this.byTag.set(tag, (keys = new Set()));
      keys.add(key);
    }
    // The partition's own bound first: what it evicts is its own.
    while (partition.entries.size > this.partitionMaxEntries || partition.bytes > this.partitionMaxBytes) this.evictFrom(partition);
    while (this.entries.size > this.options.maxEntries || this.totalBytes > this.options.maxBytes) {
      this.evictFrom(this.heaviest(this.totalBytes > this.options.maxBytes ? 'bytes' : 'entries'));
    }
    return true;
  }

  private evictFrom(partition: Partition<V>): void {
    const oldest = partition.entries.keys().next().value as string;
    this.delete(oldest);
  }

  /** The partition holding the most (bytes or entries); linear in the partitions, and only run when the cache is full. */
  private heaviest(by: 'bytes' | 'entries'): Partition<V> {
    let best: Partition<V> | undefined;
    for (const p of this.partitions.values()) {
      if (!best || (by === 'bytes' ? p.bytes > best.bytes : p.entries.size > best.entries.size)) best = p;
    }
    return best!;
  }

  delete(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    const { partition } = entry;
    partition.entries.delete(key);
    partition.bytes -= entry.bytes;
    if (partition.entries.size === 0) this.partitions.delete(partition.name);
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
    this.partitions.clear();
    this.byTag.clear();
    this.totalBytes = 0;
  }
}
