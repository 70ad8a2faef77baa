import type { ZendeskBucket } from '../errors';
import type { BucketReading } from './headers';
import { Turns } from './turns';
import type { OnWait } from './waits';

/** The latest rate-limit window seen of a bucket: remaining requests and when it resets (local epoch ms). */
interface BucketWindow {
  remaining: number;
  resetAt: number;
  limit?: number;
}

/**
 * What one process knows of the Zendesk buckets of every workspace it calls, shared by all its limiters
 * (so all its clients and activities): one instance per worker process, handed to activities through
 * their dependencies. Another instance is, to the rate limiting, another process.
 */
export class LocalBuckets {
  /** Known blocks (429 Retry-After, 503 Retry-After, pacing, other processes'): local epoch ms until which a bucket is closed. */
  private readonly blocks = new Map<string, number>();
  private readonly windows = new Map<string, BucketWindow>();
  /** Requests of this process in flight per bucket (sent, response not yet booked). */
  private readonly inflight = new Map<string, number>();
  /** Resolved (and replaced) whenever a request ends: waiters re-check then. */
  private changed = deferred();
  private readonly turns = new Turns();

  /** Closes the bucket until `until` (local epoch ms) unless it is already closed for longer. */
  block(workspace: string, bucket: ZendeskBucket, until: number): void {
    const k = key(workspace, bucket);
    this.blocks.set(k, Math.max(this.blocks.get(k) ?? 0, until));
  }

  /** How long the bucket is still blocked (0 when not; an expired block is forgotten). */
  blockLeftMs(workspace: string, bucket: ZendeskBucket, now: number): number {
    const k = key(workspace, bucket);
    const until = this.blocks.get(k);
    if (until === undefined) return 0;
    if (until > now) return until - now;
    this.blocks.delete(k);
    return 0;
  }

  /** The bucket's current window, if one is known and has not reset yet. */
  window(workspace: string, bucket: ZendeskBucket, now: number): BucketWindow | undefined {
    const k = key(workspace, bucket);
    const window = this.windows.get(k);
    if (window && window.resetAt <= now) this.windows.delete(k);
    else return window;
    return undefined;
  }

  /**
   * Remembers the window a response reports: the lowest remaining seen within one window, and the earliest
   * reset time any of its responses implies. Each `resets=N` (whole seconds, rounded up) says the window
   * resets at most N s after the response, so every reading is an upper bound of the true reset and the
   * earliest one, usually from the window's first response, is the tightest. (Taking the latest reading
   * instead overshot each window by the time its requests took: ~25 % slower syncs with 2 s windows in
   * bench scenario 2, ~5 % with Zendesk's 60 s windows.)
   */
  noteWindow(workspace: string, bucket: ZendeskBucket, reading: BucketReading & { resetMs: number }, now: number): void {
    const k = key(workspace, bucket);
    const resetAt = now + reading.resetMs;
    const known = this.windows.get(k);
    // Reset times come in whole seconds, so readings of one window differ by < 1 s; a later one is a new window.
    if (!known || known.resetAt <= now || resetAt - known.resetAt >= 1_000)
      this.windows.set(k, { remaining: reading.remaining, resetAt, limit: reading.limit });
    else
      this.windows.set(k, {
        remaining: Math.min(known.remaining, reading.remaining),
        resetAt: Math.min(known.resetAt, resetAt),
        limit: reading.limit ?? known.limit,
      });
  }

  /** Requests of this process in flight on the bucket. */
  inflightOf(workspace: string, bucket: ZendeskBucket): number {
    return this.inflight.get(key(workspace, bucket)) ?? 0;
  }

  /** Counts one request in flight on each bucket; the returned function (idempotent) ends the count. */
  startRequest(workspace: string, buckets: readonly ZendeskBucket[]): () => void {
    const keys = buckets.map((b) => key(workspace, b));
    for (const k of keys) this.inflight.set(k, (this.inflight.get(k) ?? 0) + 1);
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      for (const k of keys) {
        const n = (this.inflight.get(k) ?? 1) - 1;
        if (n <= 0) this.inflight.delete(k);
        else this.inflight.set(k, n);
      }
      const current = this.changed;
      this.changed = deferred();
      current.resolve();
    };
  }

  /** This process's turn on an endpoint bucket of a workspace, one request at a time (Turns.take). */
  takeTurn(workspace: string, bucket: ZendeskBucket, onWait: OnWait | undefined, tickMs: number, signal?: AbortSignal): Promise<() => void> {
    return this.turns.take(key(workspace, bucket), onWait, tickMs, signal);
  }

  /** Resolves at the next end of a request in flight. */
  nextChange(): Promise<void> {
    return this.changed.promise;
  }
}

function key(workspace: string, bucket: string): string {
  return `${workspace}\u0000${bucket}`;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
