// Per-workspace fixed-window rate limiting with Zendesk's buckets: the account-wide limit of the
// plan, 10/window for /api/v2/incremental/* and 20/window for the users cursor export (its own
// bucket). It also remembers each bucket's last Retry-After deadline so we can count clients that
// come back too early, which is the point of a sandbox for a well-behaved client.

import type { BucketName, Plan, RateLimitSettings } from './types';

const PLAN_LIMITS: Record<Plan, number> = {
  team: 200,
  growth: 400,
  professional: 400,
  enterprise: 700,
  enterprise_plus: 2500,
};

const DEFAULT_PLAN: Plan = 'enterprise';

interface Bucket {
  limit: number;
  count: number;
  windowStart: number;
  /** Until when the last Retry-After we sent for this bucket told clients to stay away. */
  retryAfterUntil: number;
}

export interface Admission {
  allowed: boolean;
  /** Buckets the request was sent into before their Retry-After had passed. */
  early: BucketName[];
  retryAfterSeconds?: number;
  blockedBy?: BucketName;
  headers: Record<string, string>;
}

const EXPORT_HEADER: Partial<Record<BucketName, string>> = {
  usersCursor: 'Zendesk-RateLimit-incremental-exports-cursor',
  incremental: 'zendesk-ratelimit-incremental-exports',
};

/** The endpoint-specific bucket of a normalised /api/v2 path, if any. */
export function endpointBucket(path: string): BucketName | null {
  if (path === '/api/v2/incremental/users/cursor') return 'usersCursor';
  if (path.startsWith('/api/v2/incremental/')) return 'incremental';
  return null;
}

export class RateLimiter {
  private enabled = true;
  private windowMs: number;
  private readonly buckets: Record<BucketName, Bucket>;

  constructor(settings: RateLimitSettings & { windowMs: number }) {
    this.windowMs = settings.windowMs;
    const fresh = (limit: number): Bucket => ({ limit, count: 0, windowStart: -Infinity, retryAfterUntil: 0 });
    this.buckets = { account: fresh(PLAN_LIMITS[DEFAULT_PLAN]), incremental: fresh(10), usersCursor: fresh(20) };
    this.configure(settings);
  }

  configure(s: RateLimitSettings): void {
    if (s.enabled !== undefined) this.enabled = s.enabled;
    if (s.windowMs !== undefined) this.windowMs = s.windowMs;
    if (s.plan !== undefined) this.buckets.account.limit = PLAN_LIMITS[s.plan];
    if (s.accountLimit !== undefined) this.buckets.account.limit = s.accountLimit;
    if (s.incrementalLimit !== undefined) this.buckets.incremental.limit = s.incrementalLimit;
    if (s.usersCursorLimit !== undefined) this.buckets.usersCursor.limit = s.usersCursorLimit;
  }

  get isEnabled(): boolean {
    return this.enabled;
  }

  limits(): Record<BucketName, number> & { windowMs: number; enabled: boolean } {
    return {
      account: this.buckets.account.limit,
      incremental: this.buckets.incremental.limit,
      usersCursor: this.buckets.usersCursor.limit,
      windowMs: this.windowMs,
      enabled: this.enabled,
    };
  }

  /** Counts one request into the account bucket and its endpoint bucket, or refuses it with a 429. */
  admit(bucket: BucketName | null, now: number): Admission {
    const names: BucketName[] = bucket ? ['account', bucket] : ['account'];
    const early = names.filter((n) => now < this.buckets[n].retryAfterUntil);
    for (const n of names) this.roll(this.buckets[n], now);

    if (this.enabled) {
      const exhausted = names.filter((n) => this.buckets[n].count >= this.buckets[n].limit);
      if (exhausted.length > 0) {
        let seconds = 1;
        for (const n of exhausted) seconds = Math.max(seconds, this.secondsToReset(this.buckets[n], now));
        for (const n of exhausted) this.buckets[n].retryAfterUntil = now + seconds * 1000;
        // The endpoint bucket is the more specific reason when both are out.
        const blockedBy = exhausted[exhausted.length - 1];
        return { allowed: false, early, retryAfterSeconds: seconds, blockedBy, headers: this.headers(bucket, now) };
      }
    }
    for (const n of names) this.buckets[n].count++;
    return { allowed: true, early, headers: this.headers(bucket, now) };
  }

  /** A 429 sent for another reason (an injected fault) still sets the bucket's Retry-After deadline. */
  penalize(bucket: BucketName, seconds: number, now: number): void {
    this.buckets[bucket].retryAfterUntil = Math.max(this.buckets[bucket].retryAfterUntil, now + seconds * 1000);
  }

  /** Forget counts and deadlines (between test phases). */
  reset(): void {
    for (const b of Object.values(this.buckets)) {
      b.count = 0;
      b.windowStart = -Infinity;
      b.retryAfterUntil = 0;
    }
  }

  headers(bucket: BucketName | null, now: number): Record<string, string> {
    if (!this.enabled) return {};
    const account = this.buckets.account;
    this.roll(account, now);
    const remaining = Math.max(0, account.limit - account.count);
    const reset = this.secondsToReset(account, now);
    const h: Record<string, string> = {
      'X-Rate-Limit': String(account.limit),
      'X-Rate-Limit-Remaining': String(remaining),
      'ratelimit-limit': String(account.limit),
      'ratelimit-remaining': String(remaining),
      'ratelimit-reset': String(reset),
      // Recorded on /api/v2/users next to the trio above: the same account bucket, in the bucket syntax.
      'x-zendesk-private-zendesk-ratelimit-api-requests': `total=${account.limit}; remaining=${remaining}; resets=${reset}`,
    };
    const name = bucket ? EXPORT_HEADER[bucket] : undefined;
    if (bucket && name) {
      const b = this.buckets[bucket];
      this.roll(b, now);
      h[name] = `total=${b.limit}; remaining=${Math.max(0, b.limit - b.count)}; resets=${this.secondsToReset(b, now)}`;
    }
    return h;
  }

  private roll(b: Bucket, now: number): void {
    if (now >= b.windowStart + this.windowMs) {
      b.windowStart = now;
      b.count = 0;
    }
  }

  private secondsToReset(b: Bucket, now: number): number {
    const end = Number.isFinite(b.windowStart) ? b.windowStart + this.windowMs : now + this.windowMs;
    return Math.max(1, Math.ceil((end - now) / 1000));
  }
}
