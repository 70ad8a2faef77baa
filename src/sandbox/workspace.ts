// One simulated Zendesk account: its users, ticket events, OAuth state, rate limits, faults and
// statistics, plus the control methods tests use to change it while the product talks to it. The
// concerns are layered up to here (workspaceBase.ts); this last layer holds rate limits, faults and stats.

import type { RateLimiter } from './rateLimiter';
import type { FaultConfig, RateLimitSettings, ScriptedFault, WorkspaceStats } from './types';
import { WorkspaceOAuth } from './workspaceOAuth';

export class SandboxWorkspace extends WorkspaceOAuth {
  setRateLimits(s: RateLimitSettings): void {
    this.limiter.configure(s);
  }

  rateLimits(): ReturnType<RateLimiter['limits']> {
    return this.limiter.limits();
  }

  /** Clears the current windows and Retry-After deadlines (not the stats). */
  resetRateLimits(): void {
    this.limiter.reset();
  }

  setExclusionSeconds(seconds: number): void {
    this.exclusionSeconds = seconds;
    this.changed();
  }

  setFaults(config: FaultConfig | null): void {
    this.faults.set(config);
  }

  injectFaults(faults: ScriptedFault[]): void {
    this.faults.inject(faults);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  pendingFaults(): number {
    return this.faults.pending();
  }

  /** Request counts, 429s, early requests per bucket, faults, tokens issued. */
  stats(): WorkspaceStats {
    return this.counters.snapshot();
  }

  resetStats(): void {
    this.counters.reset();
  }
}
