/**
 * A tenant that keeps sending requests while it is being refused gets its later 429s after a pause
 * (API_RATE_LIMIT_TARPIT, 1 s by default). The first refusal is answered at once, so a client that honours
 * `Retry-After` never waits; one that retries in a tight loop — what a runaway script does — is slowed to one
 * request per pause per connection instead of taking the API process's CPU with thousands of 429s a second
 * (docs/benchmarks.md, scenario 9: 1,200 429s a second from 16 connections slowed every other tenant's
 * requests). Holding a refused request costs a timer, not CPU.
 */
export class Tarpit {
  private readonly lastRefusal = new Map<string, number>();

  constructor(
    private readonly pauseMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** How long to hold this refusal of `tenantId` (0: answer now); records it. */
  delayFor(tenantId: string): number {
    if (this.pauseMs <= 0) return 0;
    const now = this.now();
    const last = this.lastRefusal.get(tenantId);
    this.lastRefusal.set(tenantId, now);
    if (this.lastRefusal.size > 10_000) this.forget(now);
    // Refused again within two pauses of the last refusal: a client that did not wait.
    return last !== undefined && now - last < 2 * this.pauseMs ? this.pauseMs : 0;
  }

  private forget(now: number): void {
    for (const [tenant, at] of this.lastRefusal) if (now - at >= 2 * this.pauseMs) this.lastRefusal.delete(tenant);
  }
}
