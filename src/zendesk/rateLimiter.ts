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
 *   one at a time, so a response's headers are always known before the next request to that bucket.
 */

export type { ZendeskBucket } from './errors';
export { bucketsForPath, endpointBucket } from './http';

export const ZENDESK_BUCKETS: readonly ZendeskBucket[] = ['account', 'incremental', 'users-cursor'];

export interface BucketReading {
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
    if (!match) continue;
    const key = match[1].toLowerCase();
    const n = Number(match[2]);
    if (key === 'total' || key === 'limit') out.total = n;
    else if (key === 'remaining') out.remaining = n;
    else if (key === 'resets' || key === 'reset') out.resets = n;
  }
  return out;
}

/** Which of our buckets a `zendesk-ratelimit-<name>` header describes. */
export function bucketForHeaderName(name: string): ZendeskBucket | undefined {
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
    if (!match) return;
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
  /** How often `onWait` is called during a long wait. Default 5 s. */
  waitTickMs?: number;
}

export type OnWait = (remainingMs: number) => void | Promise<void>;

// Process-wide state, shared by every limiter (and so every client) of a workspace in this process.
const localBlocks = new Map<string, number>();
const bucketLocks = new Map<string, Promise<void>>();

function key(workspace: string, bucket: string): string {
  return `${workspace}\u0000${bucket}`;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class RateLimiter {
  readonly workspace: string;
  private readonly db: Db;
  private readonly maxInlineWaitMs: number;
  private readonly margin: number;
  private readonly reserve: Partial<Record<ZendeskBucket, number>>;
  private readonly tick: number;

  constructor(options: RateLimiterOptions) {
    this.db = options.db;
    this.workspace = options.workspace;
    this.maxInlineWaitMs = options.maxInlineWaitMs ?? 60_000;
    this.margin = options.safetyMarginMs ?? 50;
    this.reserve = options.reserve ?? {};
    this.tick = options.waitTickMs ?? 5_000;
  }

  /** Milliseconds until every given bucket is open (0 if open now), from memory and the database. */
  async blockedFor(buckets: readonly ZendeskBucket[]): Promise<{ ms: number; bucket: ZendeskBucket | undefined }> {
    const now = Date.now();
    let ms = 0;
    let bucket: ZendeskBucket | undefined;
    const stored = await readRateLimitBlocks(this.db, this.workspace, buckets);
    for (const b of buckets) {
      const k = key(this.workspace, b);
      const fromDb = stored.get(b);
      if (fromDb !== undefined) localBlocks.set(k, Math.max(localBlocks.get(k) ?? 0, now + fromDb));
      const until = localBlocks.get(k);
      if (until === undefined) continue;
      if (until <= now) {
        localBlocks.delete(k);
        continue;
      }
      if (until - now > ms) {
        ms = until - now;
        bucket = b;
      }
    }
    return { ms, bucket };
  }

  /**
   * Resolves when no given bucket is blocked. Waits inline (calling `onWait` so an activity can heartbeat)
   * when the wait is at most `maxInlineWaitMs`, else throws ZendeskRateLimitedError with the remaining delay.
   */
  async acquire(buckets: readonly ZendeskBucket[], onWait?: OnWait): Promise<void> {
    for (;;) {
      const { ms, bucket } = await this.blockedFor(buckets);
      if (ms <= 0 || bucket === undefined) return;
      if (ms > this.maxInlineWaitMs) throw new ZendeskRateLimitedError(bucket, ms);
      await this.wait(ms, onWait);
      // Loop: another activity or process may have extended the block meanwhile.
    }
  }

  private async wait(ms: number, onWait?: OnWait): Promise<void> {
    const until = Date.now() + ms;
    for (;;) {
      const left = until - Date.now();
      if (left <= 0) return;
      // A cancelled activity's heartbeat may throw: that ends the wait and reaches the caller.
      if (onWait) await onWait(left);
      await sleep(Math.min(left, this.tick));
    }
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
   * Books a response: on 429 blocks the exhausted buckets for Retry-After (default 10 s) and returns them;
   * otherwise paces, blocking any bucket whose remaining reached its reserve until its window resets.
   */
  async observe(requestBuckets: readonly ZendeskBucket[], status: number, headers: Headers): Promise<ZendeskBucket[]> {
    const readings = parseRateLimitHeaders(headers);
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
      if (!reading || reading.resetMs === undefined || reading.remaining > (this.reserve[b] ?? 0)) continue;
      paced.push(b);
      await this.block([b], reading.resetMs);
    }
    return paced;
  }

  /**
   * Runs one request to `path` under the limiter: waits for its buckets, holds this process's turn on the
   * endpoint bucket while the request is in flight, and books the response through `observe` (which the
   * request must call from its `onResponse`).
   */
  async withPermit<T>(path: string, onWait: OnWait | undefined, fn: (buckets: ZendeskBucket[]) => Promise<T>): Promise<T> {
    const buckets = bucketsForPath(path);
    const endpoint = endpointBucket(path);
    const serialKey = endpoint === 'incremental' || endpoint === 'users-cursor' ? key(this.workspace, endpoint) : undefined;
    const release = serialKey ? await takeTurn(serialKey) : undefined;
    try {
      await this.acquire(buckets, onWait);
      return await fn(buckets);
    } finally {
      release?.();
    }
  }
}

/** A tiny FIFO mutex per key. */
async function takeTurn(k: string): Promise<() => void> {
  const previous = bucketLocks.get(k) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => (release = resolve));
  const tail = previous.then(() => mine);
  bucketLocks.set(k, tail);
  await previous;
  return () => {
    release();
    if (bucketLocks.get(k) === tail) bucketLocks.delete(k);
  };
}

/** For tests: forget this process's cached blocks. */
export function resetLocalRateLimitState(): void {
  localBlocks.clear();
}
