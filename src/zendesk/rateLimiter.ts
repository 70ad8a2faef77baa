import type { Db } from '../db/database';
import { readRateLimitBlocks, recordRateLimitBlock } from '../db/repositories/rateLimits';
import { ZendeskRateLimitedError, type ZendeskBucket } from './errors';
import { DEFAULT_RETRY_AFTER_MS, bucketsForPath, endpointBucket, parseRetryAfterMs } from './http';

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
 */

export type { ZendeskBucket } from './errors';

interface BucketReading {
  limit?: number;
  remaining: number;
  /** Milliseconds until the bucket's window resets, when the headers say. */
  resetMs?: number;
}

export type RateLimitReadings = Partial<Record<ZendeskBucket, BucketReading>>;

function intHeader(value: string | null): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (!/^\d+(\.\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** `total=700; remaining=699; resets=42` → its numbers. */
export function parseBucketHeader(value: string): { total?: number; remaining?: number; resets?: number } {
  const out: { total?: number; remaining?: number; resets?: number } = {};
  for (const part of value.split(/[;,]/)) {
    const match = /^\s*([a-z_-]+)\s*=\s*"?(\d+(?:\.\d+)?)"?\s*$/i.exec(part);
    if (!match?.[1]) continue;
    const key = match[1].toLowerCase();
    const n = Number(match[2]);
    if (key === 'total' || key === 'limit') out.total = n;
    else if (key === 'remaining') out.remaining = n;
    else if (key === 'resets' || key === 'reset') out.resets = n;
  }
  return out;
}

/** Which of our buckets a `zendesk-ratelimit-<name>` header describes. */
function bucketForHeaderName(name: string): ZendeskBucket | undefined {
  const n = name.toLowerCase();
  if (n === 'account' || n === 'account-requests') return 'account';
  if (n.startsWith('incremental') || n === 'users-cursor' || n === 'userscursor') {
    return n.includes('cursor') ? 'users-cursor' : 'incremental';
  }
  return undefined;
}

function merge(readings: RateLimitReadings, bucket: ZendeskBucket, reading: Partial<BucketReading>): void {
  const current = readings[bucket];
  if (reading.remaining === undefined) {
    if (current && reading.resetMs !== undefined) current.resetMs = Math.max(current.resetMs ?? 0, reading.resetMs);
    return;
  }
  if (!current) {
    readings[bucket] = { remaining: reading.remaining, limit: reading.limit, resetMs: reading.resetMs };
    return;
  }
  // Two headers for one bucket: trust the more pessimistic.
  current.remaining = Math.min(current.remaining, reading.remaining);
  if (reading.limit !== undefined) current.limit = current.limit === undefined ? reading.limit : Math.min(current.limit, reading.limit);
  if (reading.resetMs !== undefined) current.resetMs = Math.max(current.resetMs ?? 0, reading.resetMs);
}

/**
 * Reads every rate-limit header Zendesk sends:
 * `X-Rate-Limit`/`X-Rate-Limit-Remaining` and `ratelimit-limit`/`-remaining`/`-reset` (the account bucket),
 * and `zendesk-ratelimit-<bucket>: total=N; remaining=N; resets=N` (endpoint buckets).
 */
export function parseRateLimitHeaders(headers: Headers): RateLimitReadings {
  const readings: RateLimitReadings = {};
  const xRemaining = intHeader(headers.get('x-rate-limit-remaining'));
  if (xRemaining !== undefined) merge(readings, 'account', { remaining: xRemaining, limit: intHeader(headers.get('x-rate-limit')) });
  const remaining = intHeader(headers.get('ratelimit-remaining'));
  const reset = intHeader(headers.get('ratelimit-reset'));
  merge(readings, 'account', {
    remaining,
    limit: intHeader(headers.get('ratelimit-limit')),
    resetMs: reset === undefined ? undefined : Math.ceil(reset * 1000),
  });
  headers.forEach((value, name) => {
    const match = /^zendesk-ratelimit-(.+)$/i.exec(name);
    if (!match?.[1]) return;
    const bucket = bucketForHeaderName(match[1]);
    if (!bucket) return;
    const parsed = parseBucketHeader(value);
    merge(readings, bucket, {
      remaining: parsed.remaining,
      limit: parsed.total,
      resetMs: parsed.resets === undefined ? undefined : Math.ceil(parsed.resets * 1000),
    });
  });
  return readings;
}

/**
 * Which buckets a 429 exhausted: those of the request whose remaining is 0 in the response's headers;
 * when that is unclear (no header says 0), the endpoint bucket and the account bucket.
 */
export function exhaustedBuckets(requestBuckets: readonly ZendeskBucket[], readings: RateLimitReadings): ZendeskBucket[] {
  const exhausted = requestBuckets.filter((b) => readings[b]?.remaining === 0);
  return exhausted.length > 0 ? exhausted : [...requestBuckets];
}

export interface RateLimiterOptions {
  db: Db;
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

export type OnWait = (remainingMs: number) => void | Promise<void>;

// Process-wide state, shared by every limiter (and so every client) of a workspace in this process.
/** Known blocks (429 Retry-After, 503 Retry-After, pacing): local epoch ms until which a bucket is closed. */
const localBlocks = new Map<string, number>();
/** The latest rate-limit window seen per bucket: remaining requests and when the window resets (local ms). */
const windows = new Map<string, { remaining: number; resetAt: number; limit?: number }>();
/** Requests of this process in flight per bucket (sent, response not yet booked). */
const inflight = new Map<string, number>();
const bucketLocks = new Map<string, Promise<void>>();
/** Resolved (and replaced) whenever a response is booked or a request ends: waiters re-check then. */
let changed = deferred();

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function notifyChange(): void {
  const current = changed;
  changed = deferred();
  current.resolve();
}

function key(workspace: string, bucket: string): string {
  return `${workspace}\u0000${bucket}`;
}

/** Sleeps `ms`, or less when `early` resolves first or `signal` aborts; never leaves a timer or listener behind. */
function sleepUnless(ms: number, early?: Promise<unknown>, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    signal?.addEventListener('abort', wake, { once: true });
    void early?.then(wake);
  });
}

/** How long this process still holds bucket key `k` blocked by a Retry-After (0 when not; an expired block is forgotten). */
function blockLeftMs(k: string, now: number): number {
  const until = localBlocks.get(k);
  if (until === undefined) return 0;
  if (until > now) return until - now;
  localBlocks.delete(k);
  return 0;
}

/**
 * Sleeps `ms`, calling `onWait` first and then every `tickMs`, so an activity heartbeats through the wait.
 * A cancelled activity's heartbeat may throw: that ends the wait and reaches the caller.
 */
export async function waitTicking(ms: number, tickMs: number, onWait?: OnWait, signal?: AbortSignal): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    signal?.throwIfAborted();
    const left = until - Date.now();
    if (left <= 0) return;
    if (onWait) await onWait(left);
    await sleepUnless(Math.min(left, tickMs), undefined, signal);
  }
}

/** A reserved slot: one request of this process in flight on its buckets. */
export interface Permit {
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
  private readonly db: Db;
  private readonly maxInlineWaitMs: number;
  private readonly margin: number;
  private readonly reserve: Partial<Record<ZendeskBucket, number>>;
  private readonly tick: number;
  private readonly signal: AbortSignal | undefined;
  private readonly budgetShare: number;

  constructor(options: RateLimiterOptions) {
    this.signal = options.signal;
    this.budgetShare = Math.min(1, Math.max(0.01, options.budgetShare ?? 1));
    this.db = options.db;
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

  /** Reads the shared blocks of the buckets into this process's memory. */
  private async loadBlocks(buckets: readonly ZendeskBucket[]): Promise<void> {
    const stored = await readRateLimitBlocks(this.db, this.workspace, buckets);
    const now = Date.now();
    for (const [b, ms] of stored) {
      const k = key(this.workspace, b);
      localBlocks.set(k, Math.max(localBlocks.get(k) ?? 0, now + ms));
    }
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
      const k = key(this.workspace, b);
      consider(b, blockLeftMs(k, now), false);
      const window = windows.get(k);
      if (window && window.resetAt <= now) windows.delete(k);
      else if (window) {
        const reserve = this.reserveOf(b, window.limit);
        const pending = inflight.get(k) ?? 0;
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
    for (;;) {
      this.signal?.throwIfAborted();
      await this.loadBlocks(buckets);
      const { ms, bucket, inflightOnly } = this.localWait(buckets);
      if (ms <= 0 || bucket === undefined) return this.reserveSlot(buckets);
      if (ms > this.maxInlineWaitMs) throw new ZendeskRateLimitedError(bucket, ms);
      if (inflightOnly) {
        // Short sleeps until our own responses arrive; that can take up to a request timeout, so tick too.
        if (onWait && Date.now() - lastTick >= this.tick) {
          lastTick = Date.now();
          await onWait(ms);
        }
        await sleepUnless(ms, changed.promise, this.signal);
      } else {
        await this.wait(ms, onWait);
        lastTick = Date.now();
      }
      // Loop: another activity or process may have extended the block meanwhile.
    }
  }

  private reserveSlot(buckets: readonly ZendeskBucket[]): Permit {
    const keys = buckets.map((b) => key(this.workspace, b));
    for (const k of keys) inflight.set(k, (inflight.get(k) ?? 0) + 1);
    let open = true;
    const release = () => {
      if (!open) return;
      open = false;
      for (const k of keys) {
        const n = (inflight.get(k) ?? 1) - 1;
        if (n <= 0) inflight.delete(k);
        else inflight.set(k, n);
      }
      notifyChange();
    };
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
        const left = blockLeftMs(key(this.workspace, b), now);
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
    for (const b of buckets) {
      const k = key(this.workspace, b);
      localBlocks.set(k, Math.max(localBlocks.get(k) ?? 0, until));
    }
    await recordRateLimitBlock(this.db, this.workspace, buckets, total);
  }

  /**
   * Remembers the window a response reports: the lowest remaining seen within one window, and the earliest
   * reset time any of its responses implies. Each `resets=N` (whole seconds, rounded up) says the window
   * resets at most N s after the response, so every reading is an upper bound of the true reset and the
   * earliest one, usually from the window's first response, is the tightest. (Taking the latest reading
   * instead overshot each window by the time its requests took: ~25 % slower syncs with 2 s windows in
   * bench scenario 2, ~5 % with Zendesk's 60 s windows.)
   */
  private noteWindows(buckets: readonly ZendeskBucket[], readings: RateLimitReadings): void {
    const now = Date.now();
    for (const b of buckets) {
      const reading = readings[b];
      if (!reading || reading.resetMs === undefined) continue;
      const k = key(this.workspace, b);
      const resetAt = now + reading.resetMs;
      const known = windows.get(k);
      // Reset times come in whole seconds, so readings of one window differ by < 1 s; a later one is a new window.
      if (!known || known.resetAt <= now || resetAt - known.resetAt >= 1_000) windows.set(k, { remaining: reading.remaining, resetAt, limit: reading.limit });
      else
        windows.set(k, {
          remaining: Math.min(known.remaining, reading.remaining),
          resetAt: Math.min(known.resetAt, resetAt),
          limit: reading.limit ?? known.limit,
        });
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
      // Until the window's earliest known reset (see noteWindows), not this response's rounded-up reset.
      const window = windows.get(key(this.workspace, b));
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
    const serialKey = endpoint === 'incremental' || endpoint === 'users-cursor' ? key(this.workspace, endpoint) : undefined;
    const turn = serialKey ? await takeTurn(serialKey, onWait, this.tick, this.signal) : undefined;
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

/**
 * A tiny FIFO mutex per key. While waiting for its turn the caller's `onWait` keeps being called (so a
 * queued activity still heartbeats); if `onWait` throws, the caller leaves the queue without breaking it.
 */
async function takeTurn(k: string, onWait: OnWait | undefined, tickMs: number, signal?: AbortSignal): Promise<() => void> {
  const previous = bucketLocks.get(k) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => (release = resolve));
  const tail = previous.then(() => mine);
  bucketLocks.set(k, tail);
  const done = () => {
    release();
    if (bucketLocks.get(k) === tail) bucketLocks.delete(k);
  };
  if (onWait || signal) {
    try {
      while (!(await turnOrTick(previous, tickMs, signal))) {
        signal?.throwIfAborted();
        await onWait?.(tickMs);
      }
    } catch (err) {
      // Give our turn away as soon as it comes, so the ones queued behind us are not stuck.
      void previous.then(done);
      throw err;
    }
  } else {
    await previous;
  }
  return done;
}

/** Resolves true when `turn` resolves, or false after `ms` (without leaving a timer behind). */
function turnOrTick(turn: Promise<void>, ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const end = (value: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', aborted);
      resolve(value);
    };
    const aborted = () => end(false);
    const timer = setTimeout(() => end(false), ms);
    signal?.addEventListener('abort', aborted, { once: true });
    void turn.then(() => end(true));
  });
}

/** For tests: forget this process's cached blocks and windows (as if in another process). */
export function resetLocalRateLimitState(): void {
  localBlocks.clear();
  windows.clear();
}
