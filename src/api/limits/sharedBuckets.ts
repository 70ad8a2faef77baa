import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/tables';
import type { BudgetName } from './budget';

/** One bucket's report: what this process spent since its last reconciliation. */
export interface SpendReport {
  tenantId: string;
  budget: BudgetName;
  spent: number;
  quota: number;
  /** Tokens per second. */
  rate: number;
}

/** A reported bucket after the reconciliation. */
export interface SharedLevel {
  /** The shared level after this process's report (below zero: a debt). */
  tokens: number;
  /** API processes that used this bucket within the liveness window, this one included. */
  processes: number;
}

export const bucketKey = (tenantId: string, budget: string) => `${tenantId}\u0000${budget}`;

/**
 * The shared side of the budgets, in PostgreSQL (migration 20261205T100000_api_rate_limits): one statement
 * per reconciliation, whatever the number of buckets. For each bucket it records that this process uses it,
 * refills it for the time since its last update (capped at its quota), takes off what this process spent
 * (the debt floored at minus one quota, so an overshoot is paid back within a window), and returns the level
 * and how many processes used the bucket lately. Rows are written in key order, so two processes reconciling
 * the same buckets at once wait for each other instead of deadlocking.
 */
export async function reconcileShared(db: Kysely<Database>, processId: string, livenessMs: number, reports: SpendReport[]): Promise<Map<string, SharedLevel>> {
  const levels = new Map<string, SharedLevel>();
  if (reports.length === 0) return levels;
  const sorted = [...reports].sort((a, b) =>
    a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : a.budget < b.budget ? -1 : a.budget > b.budget ? 1 : 0,
  );
  const { rows } = await sql<{ tenant_id: string; budget: string; tokens: number; processes: number }>`
    WITH input AS (
      SELECT * FROM unnest(${sorted.map((r) => r.tenantId)}::uuid[], ${sorted.map((r) => r.budget)}::text[], ${sorted.map((r) => r.spent)}::float8[],
                           ${sorted.map((r) => r.quota)}::float8[], ${sorted.map((r) => r.rate)}::float8[]) WITH ORDINALITY AS t(tenant_id, budget, spent, quota, rate, n)
    ), seen AS (
      INSERT INTO api_rate_limit_bucket_processes (tenant_id, budget, process_id, seen_at)
      SELECT tenant_id, budget, ${processId}, now() FROM input ORDER BY n
      ON CONFLICT (tenant_id, budget, process_id) DO UPDATE SET seen_at = now()
      RETURNING tenant_id, budget
    ), up AS (
      INSERT INTO api_rate_limit_buckets AS b (tenant_id, budget, quota, rate, last_spent, tokens, updated_at)
      SELECT tenant_id, budget, quota, rate, spent, GREATEST(-quota, quota - spent), now() FROM input ORDER BY n
      ON CONFLICT (tenant_id, budget) DO UPDATE SET
        quota = excluded.quota,
        rate = excluded.rate,
        last_spent = excluded.last_spent,
        tokens = GREATEST(-excluded.quota,
          LEAST(excluded.quota, b.tokens + excluded.rate * GREATEST(0, EXTRACT(EPOCH FROM now() - b.updated_at))) - excluded.last_spent),
        updated_at = now()
      RETURNING b.tenant_id, b.budget, b.tokens
    )
    SELECT up.tenant_id, up.budget, up.tokens,
           1 + (SELECT count(*) FROM api_rate_limit_bucket_processes p
                 WHERE p.tenant_id = up.tenant_id AND p.budget = up.budget AND p.process_id <> ${processId}
                   AND p.seen_at > now() - ${livenessMs} * interval '1 millisecond') AS processes
      FROM up`.execute(db);
  for (const r of rows) levels.set(bucketKey(r.tenant_id, r.budget), { tokens: r.tokens, processes: Number(r.processes) });
  return levels;
}

/** Forgets bucket users gone for an hour and buckets untouched for a day (full by then, whatever their window). */
export async function pruneShared(db: Kysely<Database>): Promise<void> {
  await sql`DELETE FROM api_rate_limit_bucket_processes WHERE seen_at < now() - interval '1 hour'`.execute(db);
  await sql`DELETE FROM api_rate_limit_buckets WHERE updated_at < now() - interval '1 day'`.execute(db);
}
