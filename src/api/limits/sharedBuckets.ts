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

export interface Reconciled {
  /** API processes seen within the liveness window, this one included. */
  processes: number;
  /** The shared level of each reported bucket after the report, by `tenantId \0 budget`. */
  tokens: Map<string, number>;
}

export const bucketKey = (tenantId: string, budget: string) => `${tenantId}\u0000${budget}`;

/**
 * The shared side of the budgets, in PostgreSQL (migration 20261205T100000_api_rate_limits): one statement
 * per reconciliation, whatever the number of buckets — it records this process as alive, counts the live
 * ones, and for each bucket refills it for the time since its last update (capped at its quota), takes off
 * what this process spent (the debt floored at minus one quota, so a burst is paid back within a window)
 * and returns the level. Rows are written in key order, so two processes reconciling the same buckets at
 * once wait for each other instead of deadlocking.
 */
export async function reconcileShared(db: Kysely<Database>, processId: string, livenessMs: number, reports: SpendReport[]): Promise<Reconciled> {
  const sorted = [...reports].sort((a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : a.budget < b.budget ? -1 : a.budget > b.budget ? 1 : 0));
  const { rows } = await sql<{ processes: number; buckets: Array<{ tenant_id: string; budget: string; tokens: number }> | null }>`
    WITH me AS (
      INSERT INTO api_rate_limit_processes (id, seen_at) VALUES (${processId}, now())
      ON CONFLICT (id) DO UPDATE SET seen_at = now()
      RETURNING id
    ), input AS (
      SELECT * FROM unnest(${sorted.map((r) => r.tenantId)}::uuid[], ${sorted.map((r) => r.budget)}::text[], ${sorted.map((r) => r.spent)}::float8[],
                           ${sorted.map((r) => r.quota)}::float8[], ${sorted.map((r) => r.rate)}::float8[]) WITH ORDINALITY AS t(tenant_id, budget, spent, quota, rate, n)
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
    SELECT (SELECT count(*) FROM api_rate_limit_processes p, me
             WHERE p.id <> me.id AND p.seen_at > now() - ${livenessMs} * interval '1 millisecond') + 1 AS processes,
           (SELECT json_agg(up) FROM up) AS buckets`.execute(db);
  const tokens = new Map<string, number>();
  for (const b of rows[0].buckets ?? []) tokens.set(bucketKey(b.tenant_id, b.budget), b.tokens);
  return { processes: Number(rows[0].processes), tokens };
}

/** Forgets processes gone for an hour and buckets untouched for a day (full by then, whatever their window). */
export async function pruneShared(db: Kysely<Database>): Promise<void> {
  await sql`DELETE FROM api_rate_limit_processes WHERE seen_at < now() - interval '1 hour'`.execute(db);
  await sql`DELETE FROM api_rate_limit_buckets WHERE updated_at < now() - interval '1 day'`.execute(db);
}
