// Request accounting per workspace, so tests can assert how the product behaved (not only what it got).

import type { BucketName, FaultKind, WorkspaceStats } from './types';

function emptyStats(): WorkspaceStats {
  return {
    requests: 0,
    apiRequests: 0,
    byEndpoint: {},
    byStatus: {},
    rateLimited429: 0,
    rateLimited429ByBucket: { account: 0, incremental: 0, usersCursor: 0 },
    earlyRequests: { account: 0, incremental: 0, usersCursor: 0 },
    bucketRequests: { account: 0, incremental: 0, usersCursor: 0 },
    faults: { '503': 0, '500': 0, '429': 0, slow: 0, malformed: 0, reset: 0 },
    tokensIssued: 0,
    refreshes: 0,
    revocations: 0,
    abandoned: 0,
  };
}

export class Stats {
  private s = emptyStats();

  request(endpoint: string, api: boolean): void {
    this.s.requests++;
    if (api) this.s.apiRequests++;
    this.s.byEndpoint[endpoint] = (this.s.byEndpoint[endpoint] ?? 0) + 1;
  }

  status(code: number): void {
    const k = String(code);
    this.s.byStatus[k] = (this.s.byStatus[k] ?? 0) + 1;
  }

  bucket(name: BucketName, early: boolean): void {
    this.s.bucketRequests[name]++;
    if (early) this.s.earlyRequests[name]++;
  }

  rateLimited(bucket: BucketName): void {
    this.s.rateLimited429++;
    this.s.rateLimited429ByBucket[bucket]++;
  }

  /** The client closed the connection before its answer was sent (a cancelled or timed-out request). */
  abandoned(): void {
    this.s.abandoned++;
  }

  fault(kind: FaultKind): void {
    this.s.faults[kind]++;
  }

  tokenIssued(refresh: boolean): void {
    this.s.tokensIssued++;
    if (refresh) this.s.refreshes++;
  }

  revoked(): void {
    this.s.revocations++;
  }

  snapshot(): WorkspaceStats {
    return structuredClone(this.s);
  }

  reset(): void {
    this.s = emptyStats();
  }
}
