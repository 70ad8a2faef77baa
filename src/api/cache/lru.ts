import { LRUCache } from 'lru-cache';

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
 * Each partition is an `lru-cache` (recency, its count and size bounds, eviction). What is written here is
 * what that library has no notion of: partitions under one shared bound, tags, staleness, and the age
 * rule — an entry's age counts from the `storedAt` its writer gives (the start of the computation that
 * produced it) and it is a miss from `ttlMs` on, checked on every read because the loader needs each hit's age.
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
  lru: LRUCache<string, Entry<V>>;
}

export class LruCache<V> {
  /** Every live entry by key, whichever partition holds it (tags and deletes find it here). */
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
    return { entries: p?.lru.size ?? 0, bytes: p?.bytes ?? 0 };
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
    entry.partition.lru.get(key); // the hit: most recently used of its partition
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
    const partition = this.partition(opts.partition ?? '');
    const entry: Entry<V> = { key, value, bytes: opts.bytes, storedAt, tags: opts.tags, stale: opts.stale ?? false, partition };
    this.entries.set(key, entry);
    partition.bytes += opts.bytes;
    this.totalBytes += opts.bytes;
    for (const tag of opts.tags) {
      let keys = this.byTag.get(tag);
      if (!keys) this.byTag.set(tag, (keys = new Set()));
      keys.add(key);
    }
    // The partition's own bounds first (lru-cache evicts its least recently used, through `forget`).
    partition.lru.set(key, entry);
    while (this.entries.size > this.options.maxEntries || this.totalBytes > this.options.maxBytes) {
      const heaviest = this.heaviest(this.totalBytes > this.options.maxBytes ? 'bytes' : 'entries');
      heaviest.lru.pop();
      this.dropIfEmpty(heaviest);
    }
    return true;
  }

  private partition(name: string): Partition<V> {
    const known = this.partitions.get(name);
    if (known) return known;
    const partition: Partition<V> = {
      name,
      bytes: 0,
      lru: new LRUCache<string, Entry<V>>({
        max: this.partitionMaxEntries,
        maxSize: Math.max(1, this.partitionMaxBytes),
        // lru-cache sizes are positive integers; a weightless entry weighs one there (and nothing in `bytes`).
        sizeCalculation: (entry) => Math.max(1, Math.ceil(entry.bytes)),
        // Called for whatever leaves the partition's cache: an eviction, `delete`, or `pop`.
        dispose: (entry) => this.forget(entry),
      }),
    };
    this.partitions.set(name, partition);
    return partition;
  }

  /** Removes a departing entry from the indexes outside its partition's cache. */
  private forget(entry: Entry<V>): void {
    if (this.entries.get(entry.key) !== entry) return;
    this.entries.delete(entry.key);
    entry.partition.bytes -= entry.bytes;
    this.totalBytes -= entry.bytes;
    for (const tag of entry.tags) {
      const keys = this.byTag.get(tag);
      keys?.delete(entry.key);
      if (keys && keys.size === 0) this.byTag.delete(tag);
    }
  }

  private dropIfEmpty(partition: Partition<V>): void {
    if (partition.lru.size === 0) this.partitions.delete(partition.name);
  }

  /** The partition holding the most (bytes or entries); linear in the partitions, and only run when the cache is full. */
  private heaviest(by: 'bytes' | 'entries'): Partition<V> {
    let best: Partition<V> | undefined;
    for (const p of this.partitions.values()) {
      if (!best || (by === 'bytes' ? p.bytes > best.bytes : p.lru.size > best.lru.size)) best = p;
    }
    return best!;
  }

  delete(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    entry.partition.lru.delete(key);
    this.dropIfEmpty(entry.partition);
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
    // Indexes first, so the partitions' dispose calls find nothing to forget.
    this.entries.clear();
    this.byTag.clear();
    this.totalBytes = 0;
    for (const p of this.partitions.values()) p.lru.clear();
    this.partitions.clear();
  }
}
