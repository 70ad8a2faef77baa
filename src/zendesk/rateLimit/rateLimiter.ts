import type { Db } from '../../db/database';
import { ZendeskRateLimitedError, type ZendeskBucket } from '../errors';
import { DEFAULT_RETRY_AFTER_MS, bucketsForPath, endpointBucket, parseRetryAfterMs } from '../http';
import { exhaustedBuckets, parseRateLimitHeaders, type RateLimitReadings } from './headers';
import { LocalBuckets } from './localBuckets';
import { SharedBlocks } from './sharedBlocks';
import { sleepUnless, waitTicking, type OnWait } from './waits';

/**
 * Rate-limit coordination and pacing for one workspace.
 *
 * Buckets: `account` (every API request), `incremental` (`/api/v2/incremental/*` but the users cursor) and
 * `users-cursor` (`/api/v2/incremental/users/cursor`); a request draws from `account` plus its endpoint bucket.
 *
 * - Blocks: after a 429 (or a 503 with Retry-After) the exhausted bucket(s) are blocked for Retry-After
 *   plus a safety margin, in this process's memory and in `zendesk_rate_limits`, so that no retry, no other
 *   activity and no other worker process sends to the bucket before Zendesk allows it.
 * - Pacing: every response's rate-limit headers are read; when a bucket's remaining reaches its reserve,
 *   the bucket is blocked until the window resets (recorded in the database too), so a long walk does not
 *   run into 429s at all.
 * - Within one process, requests to an endpoint bucket (`incremental`, `users-cursor`) of one workspace go
 *   one at a time, and the requests in flight are counted against the remaining of the last response, so
 *   concurrent activities of a process (the users and the ticket-events streams share `account`) do not
 *   overrun a window between them. Across processes, the database blocks are the coordination.
 *
 * The parts: headers.ts reads Zendesk's headers, localBuckets.ts holds what this process knows (one per
 * process, ProcessRateLimits), sharedBlocks.ts reads and records the database blocks; this class decides.
 */

/** The rate-limit state of one worker process, shared by all its limiters: made once, handed to activities in their deps. */
export interface ProcessRateLimits {
  local: LocalBuckets;
  shared: SharedBlocks;
}

export function createProcessRateLimits(db: Db): ProcessRateLimits {
  return { local: new LocalBuckets(), shared: new SharedBlocks(db) };
}

export interface RateLimiterOptions {
  /** This process's state (another one is, to the rate limiting, another process). */
  process: ProcessRateLimits;
  /** The workspace (subdomain) whose buckets these are. */
  workspace: string;
  /** Longer waits throw ZendeskRateLimitedError instead (Temporal retries the activity later). Default 60 s. */
  maxInlineWaitMs?: number;
  /** Added to every wait so that we never arrive early (clock precision). Default 50 ms. */
  safetyMarginMs?: number;
  /** Requests kept in reserve per bucket: pacing waits for the reset when remaining ≤ reserve. Default 0. */
  reserve?: Partial<Record<ZendeskBucket, number>>;
  /**
   * How often `onWait` is called while waiting (a block, a turn on the endpoint bucket, this process's own
   * requests in flight). Default 2 s, so a sync chunk heartbeats every few seconds through every wait.
   */
  waitTickMs?: number;
  /** Ends every wait at once when it aborts (an activity's cancellation), throwing its reason. */
  signal?: AbortSignal;
  /**
   * The share of each bucket's limit this integration may use (0 < share ≤ 1; default 1): the rest is left
   * to the customer's other apps, which draw on the same per-account budget. This integration sends at
   * most `floor(limit × share)` requests per window (at least 1), the limit read from Zendesk's headers:
   * the rest, `limit − floor(limit × share)`, is a reserve (see budgetShareReserve).
   */
  budgetShare?: number;
}

/**
 * Requests of a bucket of `limit` per window that a budget `share` leaves to the customer's other apps:
 * `limit − floor(limit × share)`, keeping at least one request for this integration. Computed from the
 * share used, not from `1 − share`: in floating point 1 − 0.8 is 0.19999999999999996, and
 * `floor(10 × (1 − 0.8))` kept back 1 request of the incremental bucket's 10 instead of 2 (9 sent a window,
 * a share of 0.9; 17 of the users cursor's 20, 0.85). The epsilon absorbs the same error on `limit × share`
 * (30 × 0.7 is 20.999999999999996).
 */
function budgetShareReserve(limit: number, share: number): number {
  if (!(share < 1) || !(limit > 0)) return 0;
  const usable = Math.max(1, Math.floor(limit * share + 1e-9));
  return Math.max(0, limit - usable);
}

/** A reserved slot: one request of this process in flight on its buckets. */
interface Permit {
  buckets: ZendeskBucket[];
  /** Books the response (blocks and pacing) and ends the in-flight count. */
  observe(status: number, headers: Headers): Promise<ZendeskBucket[]>;
  /** Ends the in-flight count without a response (network error, timeout). Idempotent. */
  release(): void;
  /**
   * Waits out a Retry-After block that reached one of its buckets after the permit was given (a 429 another
   * request received meanwhile); true when it waited. Throws ZendeskRateLimitedError, as entering does,
   * when the block is longer than the inline wait allows.
   */
  waitOutBlocks(onWait?: OnWait): Promise<boolean>;
}

export class RateLimiter {
  readonly workspace: string;
  private readonly local: LocalBuckets;
  private readonly shared: SharedBlocks;
  private readonly maxInlineWaitMs: number;
  private readonly margin: number;
  private readonly reserve: Partial<Record<ZendeskBucket, number>>;
  private readonly tick: number;
  private readonly signal: AbortSignal | undefined;
  private readonly budgetShare: number;

  constructor(options: RateLimiterOptions) {
    this.signal = options.signal;
    this.budgetShare = Math.min(1, Math.max(0.01, options.budgetShare ?? 1));
    this.local = options.process.local;
    this.shared = options.process.shared;
    this.workspace = options.workspace;
    this.maxInlineWaitMs = options.maxInlineWaitMs ?? 60_000;
    this.margin = options.safetyMarginMs ?? 50;
    this.reserve = options.reserve ?? {};
    this.tick = options.waitTickMs ?? 2_000;
  }

  /** Requests of bucket `b` kept back each window: the configured reserve, or what the budget share leaves. */
  private reserveOf(b: ZendeskBucket, limit: number | undefined): number {
    return Math.max(this.reserve[b] ?? 0, limit === undefined ? 0 : budgetShareReserve(limit, this.budgetShare));
  }

  /** Takes the shared blocks of the buckets into this process's memory (`fresh`: see SharedBlocks.read). */
  private async loadBlocks(buckets: readonly ZendeskBucket[], fresh: boolean): Promise<void> {
    for (const [b, until] of await this.shared.read(this.workspace, buckets, fresh)) this.local.block(this.workspace, b, until);
  }

  /**
   * How long until a request may go to all the buckets, from memory only (synchronous, so the check and
   * the reservation that follows it cannot interleave with another caller of this process).
   * `inflightOnly` is true when only this process's own in-flight requests stand in the way.
   */
  private localWait(buckets: readonly ZendeskBucket[]): { ms: number; bucket: ZendeskBucket | undefined; inflightOnly: boolean } {
    const now = Date.now();
    let ms = 0;
    let bucket: ZendeskBucket | undefined;
    let inflightOnly = true;
    const consider = (b: ZendeskBucket, wait: number, onlyInflight: boolean) => {
      if (wait <= 0) return;
      if (!onlyInflight) inflightOnly = false;
      if (wait > ms) {
        ms = wait;
        bucket = b;
      }
    };
    for (const b of buckets) {
      consider(b, this.local.blockLeftMs(this.workspace, b, now), false);
      const window = this.local.window(this.workspace, b, now);
      if (window) {
        const reserve = this.reserveOf(b, window.limit);
        const pending = this.local.inflightOf(this.workspace, b);
        if (window.remaining <= reserve) consider(b, window.resetAt - now + this.margin, false);
        else if (window.remaining - pending <= reserve) consider(b, 50, true); // wait for our own responses
      }
    }
    return { ms, bucket, inflightOnly: ms > 0 && inflightOnly };
  }

  /**
   * Resolves when no given bucket is blocked. Waits inline (calling `onWait` so an activity can heartbeat)
   * when the wait is at most `maxInlineWaitMs`, else throws ZendeskRateLimitedError with the remaining delay.
   */
  async acquire(buckets: readonly ZendeskBucket[], onWait?: OnWait): Promise<void> {
    (await this.enter(buckets, onWait)).release();
  }

  /** acquire(), then reserves a slot on the buckets until the response is booked or the permit released. */
  async enter(buckets: readonly ZendeskBucket[], onWait?: OnWait): Promise<Permit> {
    let lastTick = Date.now();
    // A request goes only right after a fresh read of the shared blocks (one another process just recorded
    // must stop it); while it waits, re-checks make do with the process's recent reading.
    let fresh = true;
    for (;;) {
      this.signal?.throwIfAborted();
      await this.loadBlocks(buckets, fresh);
      const { ms, bucket, inflightOnly } = this.localWait(buckets);
      if (ms <= 0 || bucket === undefined) {
        if (fresh) return this.reserveSlot(buckets);
        fresh = true;
        continue;
      }
      fresh = false;
      if (ms > this.maxInlineWaitMs) throw new ZendeskRateLimitedError(bucket, ms);
      if (inflightOnly) {
        // Short sleeps until our own responses arrive; that can take up to a request timeout, so tick too.
        if (onWait && Date.now() - lastTick >= this.tick) {
          lastTick = Date.now();
          await onWait(ms);
        }
        await sleepUnless(ms, this.local.nextChange(), this.signal);
      } else {
        await this.wait(ms, onWait);
        lastTick = Date.now();
      }
      // Loop: another activity or process may have extended the block meanwhile.
    }
  }

  private reserveSlot(buckets: readonly ZendeskBucket[]): Permit {
    const release = this.local.startRequest(this.workspace, buckets);
    return {
      buckets: [...buckets],
      waitOutBlocks: (onWait) => this.waitOutBlocks(buckets, onWait),
      observe: async (status, headers) => {
        try {
          return await this.observe(buckets, status, headers);
        } finally {
          release();
        }
      },
      release,
    };
  }

  /** `Permit.waitOutBlocks`: only Retry-After blocks count (the permit's own slot is one of the in-flight requests). */
  private async waitOutBlocks(buckets: readonly ZendeskBucket[], onWait?: OnWait): Promise<boolean> {
    let waited = false;
    for (;;) {
      const now = Date.now();
      let ms = 0;
      let blocked: ZendeskBucket | undefined;
      for (const b of buckets) {
        const left = this.local.blockLeftMs(this.workspace, b, now);
        if (left > ms) [ms, blocked] = [left, b];
      }
      if (blocked === undefined) return waited;
      if (ms > this.maxInlineWaitMs) throw new ZendeskRateLimitedError(blocked, ms);
      await this.wait(ms, onWait);
      waited = true;
    }
  }

  private wait(ms: number, onWait?: OnWait): Promise<void> {
    return waitTicking(ms, this.tick, onWait, this.signal);
  }

  /** Blocks buckets for `delayMs` + the safety margin, in this process and for every other process. */
  async block(buckets: readonly ZendeskBucket[], delayMs: number): Promise<void> {
    if (buckets.length === 0) return;
    const total = Math.max(0, delayMs) + this.margin;
    const until = Date.now() + total;
    for (const b of buckets) this.local.block(this.workspace, b, until);
    await this.shared.record(this.workspace, buckets, total);
  }

  /** The windows a response reports (LocalBuckets.noteWindow), for the buckets whose reset the headers say. */
  private noteWindows(buckets: readonly ZendeskBucket[], readings: RateLimitReadings): void {
    const now = Date.now();
    for (const b of buckets) {
      const reading = readings[b];
      if (reading?.resetMs !== undefined) this.local.noteWindow(this.workspace, b, { ...reading, resetMs: reading.resetMs }, now);
    }
  }

  /**
   * Books a response: on 429 blocks the exhausted buckets for Retry-After (default 10 s) and returns them;
   * otherwise paces, blocking any bucket whose remaining reached its reserve until its window resets.
   */
  async observe(requestBuckets: readonly ZendeskBucket[], status: number, headers: Headers): Promise<ZendeskBucket[]> {
    const readings = parseRateLimitHeaders(headers);
    this.noteWindows(requestBuckets, readings);
    if (status === 429) {
      const retryAfterMs = parseRetryAfterMs(headers.get('retry-after')) ?? DEFAULT_RETRY_AFTER_MS;
      const buckets = exhaustedBuckets(requestBuckets, readings);
      await this.block(buckets, retryAfterMs);
      return buckets;
    }
    if (status === 503) {
      const retryAfterMs = parseRetryAfterMs(headers.get('retry-after'));
      // Zendesk asked every request of this kind to wait; share that like a 429.
      if (retryAfterMs !== undefined) await this.block(requestBuckets, retryAfterMs);
    }
    const paced: ZendeskBucket[] = [];
    for (const b of requestBuckets) {
      const reading = readings[b];
      if (!reading || reading.resetMs === undefined || reading.remaining > this.reserveOf(b, reading.limit)) continue;
      paced.push(b);
      // Until the window's earliest known reset (see noteWindow), not this response's rounded-up reset.
      const window = this.local.window(this.workspace, b, Date.now());
      await this.block([b], window ? Math.min(reading.resetMs, window.resetAt - Date.now()) : reading.resetMs);
    }
    return paced;
  }

  /**
   * Runs one request to `path` under the limiter: holds this process's turn on the endpoint bucket while
   * the request is in flight, waits for the buckets, reserves a slot, and hands `fn` the permit whose
   * `observe` the request must call with the response's status and headers (from its `onResponse`).
   */
  async withPermit<T>(path: string, onWait: OnWait | undefined, fn: (permit: Permit) => Promise<T>): Promise<T> {
    const buckets = bucketsForPath(path);
    const endpoint = endpointBucket(path);
    const serial = endpoint === 'incremental' || endpoint === 'users-cursor' ? endpoint : undefined;
    const turn = serial ? await this.local.takeTurn(this.workspace, serial, onWait, this.tick, this.signal) : undefined;
    try {
      const permit = await this.enter(buckets, onWait);
      try {
        return await fn(permit);
      } finally {
        permit.release();
      }
    } finally {
      turn?.();
    }
  }
}
