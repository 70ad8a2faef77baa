import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ApiLimits } from '../../config';
import type { Database } from '../../db/tables';
import type { Logger } from '../../logger';
import { refillPerMs, type Budget, type BudgetName } from './budget';
import { bucketKey, pruneShared, reconcileShared, type SpendReport } from './sharedBuckets';
import { TokenBucket, type Decision } from './tokenBucket';

/** A decision with what the response headers need. */
export interface LimitDecision extends Decision {
  budget: BudgetName;
  policy: Budget;
}

export interface TenantLimitsOptions {
  limits: ApiLimits;
  /** Absent: every bucket is local to this process (tests of the arithmetic; an API without a database). */
  db?: Kysely<Database>;
  logger?: Logger;
  now?: () => number;
}

/** Reconciliations between two prunes of the shared tables (about 5 minutes at the default 1 s). */
const PRUNE_EVERY = 300;

/**
 * Per-tenant budgets of one API process (README, "Fair sharing between tenants"): a token bucket per
 * tenant and budget, in memory, so a request costs a map lookup and some arithmetic — never a database
 * round trip, which would undo the report cache (a cache hit answers in about 2 ms without one). About
 * once a second (`API_RATE_LIMIT_SYNC`) one statement reconciles every bucket used here with the shared
 * buckets in PostgreSQL (src/api/limits/sharedBuckets.ts): it hands over what this process spent and takes
 * its share of what is left, so all API processes together spend one budget per tenant. Keyed by tenant,
 * not by API key: a tenant with two keys (during a key rotation) has one budget.
 *
 * Why not rate-limiter-flexible: its PostgreSQL limiter (`RateLimiterPostgres`) runs an upsert on every
 * `consume()`; its in-memory options only help around that — `inMemoryBlockOnConsumed` skips the store for
 * a key already over its limit, `insuranceLimiter` takes over when the store fails — so every allowed
 * request still waits for PostgreSQL. Batching spends into one statement a second, which is the whole
 * point here, is not something it offers; the reconciliation is about a hundred lines, so it is written
 * out instead.
 *
 * When PostgreSQL cannot be reached the buckets go on locally (each process enforcing its last known share)
 * and the spend is handed over once it is back.
 */
export class TenantLimits {
  readonly limits: ApiLimits;
  private readonly buckets = new Map<BudgetName, Map<string, TokenBucket>>();
  private readonly processId = `${process.pid}-${randomBytes(6).toString('hex')}`;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private reconciliations = 0;
  private failing = false;

  constructor(private readonly options: TenantLimitsOptions) {
    this.limits = options.limits;
    this.now = options.now ?? Date.now;
  }

  /** The budget's configuration; undefined when it is off. */
  policy(budget: BudgetName): Budget | undefined {
    return this.limits[budget];
  }

  /** Takes `cost` from the tenant's bucket; undefined when the budget is off. */
  take(tenantId: string, budget: BudgetName, cost = 1): LimitDecision | undefined {
    const policy = this.limits[budget];
    if (!policy) return undefined;
    let byTenant = this.buckets.get(budget);
    if (!byTenant) this.buckets.set(budget, (byTenant = new Map()));
    const now = this.now();
    let bucket = byTenant.get(tenantId);
    // A bucket this process has not used yet starts with the whole quota, without asking the database: when
    // several processes meet a tenant at the same moment, the first interval may overshoot by one quota per
    // process, a debt the shared bucket then collects before it allows more.
    if (!bucket) byTenant.set(tenantId, (bucket = new TokenBucket(policy, 1, now)));
    return { ...bucket.take(now, cost), budget, policy };
  }

  /** Spends `cost` more for work already done (its measured cost); the bucket may go into debt. */
  charge(tenantId: string, budget: BudgetName, cost: number): void {
    if (cost <= 0 || !this.limits[budget]) return;
    this.buckets.get(budget)?.get(tenantId)?.charge(this.now(), cost);
  }

  /** Gives back what `take` took for work that then did not happen. */
  refund(tenantId: string, budget: BudgetName, cost = 1): void {
    this.buckets.get(budget)?.get(tenantId)?.refund(cost);
  }

  /** Starts the periodic reconciliation (a timer that never keeps the process alive). */
  start(): void {
    // With every budget off there is nothing to share (and this process must not count as one that takes a share).
    const anyOn = this.limits.requests || this.limits.reports || this.limits.csv || this.limits.integrations;
    if (!this.options.db || this.timer || !anyOn) return;
    this.timer = setInterval(() => void this.reconcile(), this.limits.syncIntervalMs);
    this.timer.unref();
  }

  /** One reconciliation now (the timer's, also called by tests); at most one runs at a time. */
  reconcile(): Promise<void> {
    this.running ??= this.reconcileOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async reconcileOnce(): Promise<void> {
    const db = this.options.db;
    if (!db) return;
    const now = this.now();
    const reports: SpendReport[] = [];
    const sent: Array<{ bucket: TokenBucket; spent: number; key: string }> = [];
    for (const [budget, byTenant] of this.buckets) {
      const policy = this.limits[budget]!;
      for (const [tenantId, bucket] of byTenant) {
        if (bucket.idle(now)) {
          byTenant.delete(tenantId);
          continue;
        }
        const spent = bucket.takeSpent();
        reports.push({ tenantId, budget, spent, quota: policy.quota, rate: refillPerMs(policy) * 1000 });
        sent.push({ bucket, spent, key: bucketKey(tenantId, budget) });
      }
    }
    try {
      // A process uses a bucket while it reconciles it: three missed intervals (at least 3 s) and the others stop counting it.
      const levels = await reconcileShared(db, this.processId, Math.max(3_000, 3 * this.limits.syncIntervalMs), reports);
      const at = this.now();
      for (const { bucket, key } of sent) {
        const level = levels.get(key);
        if (level) bucket.reconcile(level.tokens, level.processes, at);
      }
      if (++this.reconciliations % PRUNE_EVERY === 0) await pruneShared(db);
      if (this.failing) this.options.logger?.info({}, 'API rate limits: reconciling with PostgreSQL again');
      this.failing = false;
    } catch (err) {
      // Hand the spend over next time; meanwhile each bucket goes on with its last share.
      for (const { bucket, spent } of sent) bucket.unreport(spent);
      if (!this.failing)
        this.options.logger?.warn(
          { err: { message: (err as Error).message } },
          'API rate limits: cannot reconcile with PostgreSQL; each API process enforces its last share meanwhile',
        );
      this.failing = true;
    }
  }

  /** Stops reconciling after handing over what was spent here. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.reconcile().catch(() => undefined);
  }
}
