import { LruCache, type LruOptions } from './lru';
import { RefreshQueue, type RefreshTicket } from './refreshQueue';

/** How a lookup was answered: from the cache, by a computation, by joining one in flight, or uncached. */
export type LookupOutcome = 'hit' | 'miss' | 'coalesced' | 'bypass';

export interface Loaded<V> {
  value: V;
  /** The entry's weight against the cache's byte bound. */
  bytes: number;
}

interface Flight<V> {
  promise: Promise<V>;
  tags: readonly string[];
  /** Set when the data it reads changed while it ran: its result is returned but never stored. */
  stale: boolean;
  /** Set when the data moved on softly while it ran (`markStale`): its result is stored as stale. */
  behind: boolean;
  /** A background refresh's place in the refresh queue (absent for a miss's computation). */
  ticket?: RefreshTicket;
}

/** Why a queued refresh never ran: what it would refresh was invalidated while it waited. */
class RefreshDropped extends Error {}

export interface CachedLoaderOptions extends LruOptions {
  /** Age at which a hit also recomputes the entry in the background; default ¾ of `ttlMs`. */
  refreshAfterMs?: number;
  /** Background recomputations running at once, at most; the others wait their turn. Default: no limit. */
  refreshConcurrency?: number;
  onLookup?: (outcome: LookupOutcome) => void;
  /** After an entry was stored (e.g. to refresh size gauges). */
  onStore?: () => void;
  /** The LRU partition an entry goes to, from its tags (the report cache: its tenant; see LruCache). */
  partitionOf?: (tags: readonly string[]) => string | undefined;
}

/**
 * A read-through cache with single flight: concurrent misses of one key wait for one computation.
 *
 * - Disabled (`enabled = false`, the state until the change feed is up): every lookup computes, nothing
 *   is stored or shared.
 * - Errors are never stored: the computation's waiters get the error, the next lookup computes again.
 * - Invalidation (`invalidate(tag)`, `reset()`) drops the stored entries and marks the computations in
 *   flight stale: they finish for the requests already waiting, but their result — possibly read before
 *   the change committed — is not stored, and new lookups start a new computation.
 * - An entry's age counts from the start of the computation that produced it, so nothing served is
 *   older than `ttlMs`.
 * - Soft invalidation (`markStale(tag)`, a running sync's progress): entries stay and are served, but
 *   each is recomputed in the background on its next hit; a computation running meanwhile stores its
 *   result as stale too. Readers of a report that a sync keeps changing thus never wait for it.
 * - Refresh ahead: a hit on an entry older than `refreshAfterMs` (or stale) is answered from the cache and
 *   starts the entry's recomputation in the background (one at a time per key). An entry in use is thus replaced
 *   before its TTL ends, and its readers never all wait for it at once (under load, a TTL expiry used to
 *   stall every connection reading that report; docs/benchmarks.md, scenario 6). `refreshConcurrency`
 *   bounds how many run at once (`RefreshQueue`); a lookup that comes to wait for a queued one (its entry
 *   expired meanwhile) starts it at once.
 *
 * Why not lru-cache's `fetchMethod` (whose single flight and stale-while-revalidate are close): it refreshes
 * only once an entry has expired and then serves it stale without bound, while here nothing older than
 * `ttlMs` is ever served and refreshes start *before* expiry, at most `refreshConcurrency` at a time, and a
 * soft invalidation (`markStale`) must keep serving. Storage, recency and bounds are lru-cache's (`LruCache`).
 */
export class CachedLoader<V> {
  private readonly lru: LruCache<V>;
  private readonly inflight = new Map<string, Flight<V>>();
  private readonly now: () => number;
  private readonly refreshAfterMs: number;
  private readonly refreshes: RefreshQueue;
  private on = false;

  constructor(private readonly options: CachedLoaderOptions) {
    this.lru = new LruCache<V>(options);
    this.now = options.now ?? Date.now;
    this.refreshAfterMs = options.refreshAfterMs ?? Math.floor(options.ttlMs * 0.75);
    this.refreshes = new RefreshQueue(options.refreshConcurrency ?? Number.POSITIVE_INFINITY);
  }

  get enabled(): boolean {
    return this.on;
  }

  get size(): number {
    return this.lru.size;
  }

  get bytes(): number {
    return this.lru.bytes;
  }

  /** Turning it on or off starts from an empty cache either way. */
  setEnabled(enabled: boolean): void {
    this.reset();
    this.on = enabled;
  }

  async get(key: string, tags: readonly string[], load: () => Promise<Loaded<V>>): Promise<{ value: V; outcome: LookupOutcome }> {
    if (!this.on) {
      this.options.onLookup?.('bypass');
      return { value: (await load()).value, outcome: 'bypass' };
    }
    const cached = this.lru.getWithAge(key);
    if (cached !== undefined) {
      this.options.onLookup?.('hit');
      // A failed refresh changes nothing: the entry stays until its TTL, a later hit tries again.
      if ((cached.stale || cached.ageMs >= this.refreshAfterMs) && !this.inflight.has(key)) {
        this.start(key, tags, load, this.refreshes.enter()).catch(() => undefined);
      }
      return { value: cached.value, outcome: 'hit' };
    }
    const running = this.inflight.get(key);
    if (running) {
      running.ticket?.promote();
      this.options.onLookup?.('coalesced');
      return { value: await running.promise, outcome: 'coalesced' };
    }
    this.options.onLookup?.('miss');
    return { value: await this.start(key, tags, load), outcome: 'miss' };
  }

  /**
   * Runs `load` as the key's one computation in flight, storing its result unless it went stale. With a
   * ticket (a background refresh), it first waits for its turn, and is dropped if invalidated meanwhile.
   */
  private start(key: string, tags: readonly string[], load: () => Promise<Loaded<V>>, ticket?: RefreshTicket): Promise<V> {
    const flight: Flight<V> = { tags, stale: false, behind: false, ticket, promise: undefined as unknown as Promise<V> };
    flight.promise = (async () => {
      try {
        if (ticket) {
          await ticket.turn;
          // Nobody waits for a dropped refresh: lookups after the invalidation start their own.
          if (flight.stale && !ticket.promoted) throw new RefreshDropped();
        }
        // The age counts from here: what `load` reads is at least this recent.
        const startedAt = this.now();
        const loaded = await load();
        if (
          !flight.stale &&
          this.on &&
          this.lru.set(key, loaded.value, { bytes: loaded.bytes, tags, storedAt: startedAt, stale: flight.behind, partition: this.options.partitionOf?.(tags) })
        ) {
          this.options.onStore?.();
        }
        return loaded.value;
      } finally {
        ticket?.leave();
        if (this.inflight.get(key) === flight) this.inflight.delete(key);
      }
    })();
    this.inflight.set(key, flight);
    return flight.promise;
  }

  /** Drops what carries `tag`, stored or in flight. */
  invalidate(tag: string): void {
    this.lru.deleteTag(tag);
    for (const [key, flight] of this.inflight) {
      if (flight.tags.includes(tag)) {
        flight.stale = true;
        this.inflight.delete(key);
      }
    }
  }

  /** Keeps what carries `tag` but marks it stale, stored or in flight (see the class comment). */
  markStale(tag: string): void {
    this.lru.markStaleTag(tag);
    for (const flight of this.inflight.values()) if (flight.tags.includes(tag)) flight.behind = true;
  }

  /** Drops everything, stored or in flight. */
  reset(): void {
    this.lru.clear();
    for (const flight of this.inflight.values()) flight.stale = true;
    this.inflight.clear();
  }

  delete(key: string): void {
    this.lru.delete(key);
    const flight = this.inflight.get(key);
    if (flight) {
      flight.stale = true;
      this.inflight.delete(key);
    }
  }
}
