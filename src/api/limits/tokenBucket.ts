import { refillPerMs, type Budget } from './budget';

/** What a bucket said to one request. */
export interface Decision {
  allowed: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Seconds until the next token (refused), or until the bucket is full again (allowed); at least 1 when refused. */
  resetSeconds: number;
}

/**
 * One tenant's bucket for one budget in one API process: this process's share of the shared bucket
 * (src/api/limits/sharedBuckets.ts). Between reconciliations it refills at `1/share` of the budget's rate
 * and holds at most `1/share` of its quota, so the N processes using the bucket together spend what one
 * bucket would; each
 * reconciliation replaces its level with its share of what the shared bucket has left, and hands over
 * what was spent here meanwhile (`takeSpent`). Pure arithmetic: no I/O, the clock is passed in.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;
  private spent = 0;
  /** When a request last used it (for forgetting idle buckets). */
  lastUsedAt: number;

  constructor(
    private readonly budget: Budget,
    private share: number,
    now: number,
  ) {
    // A bucket first seen by this process starts full (its share): no database round trip before the first request.
    this.tokens = budget.quota / share;
    this.at = now;
    this.lastUsedAt = now;
  }

  private refill(now: number): void {
    if (now > this.at) {
      this.tokens = Math.min(this.budget.quota / this.share, this.tokens + ((now - this.at) * refillPerMs(this.budget)) / this.share);
      this.at = now;
    }
  }

  take(now: number, cost = 1): Decision {
    this.refill(now);
    this.lastUsedAt = now;
    const rate = refillPerMs(this.budget) / this.share;
    if (this.tokens >= cost) {
      this.tokens -= cost;
      this.spent += cost;
      const full = this.budget.quota / this.share;
      return { allowed: true, remaining: Math.floor(this.tokens), resetSeconds: Math.ceil((full - this.tokens) / rate / 1000) };
    }
    return { allowed: false, remaining: 0, resetSeconds: Math.max(1, Math.ceil((cost - this.tokens) / rate / 1000)) };
  }

  /**
   * Spends `cost` whatever the level (work already done, measured afterwards): the bucket may go below
   * zero, a debt that refuses requests until it is refilled.
   */
  charge(now: number, cost: number): void {
    this.refill(now);
    this.tokens -= cost;
    this.spent += cost;
  }

  /** Gives back a token taken for work that did not happen (e.g. a CSV export refused for lack of a slot). */
  refund(cost = 1): void {
    this.tokens = Math.min(this.budget.quota / this.share, this.tokens + cost);
    this.spent -= cost;
  }

  /** What was spent here since the last call (reported to the shared bucket). */
  takeSpent(): number {
    const spent = this.spent;
    this.spent = 0;
    return spent;
  }

  /** Spent but not yet handed over (a reconciliation that failed gives it back with `unreport`). */
  unreport(spent: number): void {
    this.spent += spent;
  }

  /**
   * The shared bucket's level after this process's report, and how many processes share it: this
   * process may spend its share of what is left (a debt, when below zero, is carried too), at its share
   * of the rate, until the next reconciliation. What was spent here while the reconciliation ran is
   * taken off (it is reported next time).
   */
  reconcile(sharedTokens: number, processes: number, now: number): void {
    this.share = Math.max(1, processes);
    this.tokens = sharedTokens / this.share - this.spent;
    this.at = now;
  }

  /** Full and unused for a whole window: the same as a bucket not yet made. */
  idle(now: number): boolean {
    return this.spent === 0 && now - this.lastUsedAt > this.budget.windowMs;
  }
}
