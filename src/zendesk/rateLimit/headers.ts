import type { ZendeskBucket } from '../errors';

/**
 * Zendesk's rate-limit headers read into one reading per bucket (pure: no state, no clock). Buckets:
 * `account` (every API request), `incremental` (`/api/v2/incremental/*` but the users cursor) and
 * `users-cursor` (`/api/v2/incremental/users/cursor`).
 */

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
