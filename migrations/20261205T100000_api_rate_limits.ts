import { Kysely, sql } from 'kysely';

/**
 * The shared state of the API's per-tenant budgets (src/api/limits, README "Fair sharing between tenants").
 *
 * - `api_rate_limit_buckets`: one token bucket per tenant and budget, shared by every API process. Each
 *   process reconciles with it about once a second (one statement for all its buckets), never per request.
 *   `quota` and `rate` (tokens per second) are those of the last process that reconciled, so the refill can
 *   be computed in SQL; `last_spent` is what that process reported (it is how the upsert carries its spend).
 * - `api_rate_limit_processes`: the API processes seen lately (one row each, its heartbeat is the
 *   reconciliation): each takes its share of every bucket.
 *
 * UNLOGGED: this is seconds-old bookkeeping written every second by every API process; after a crash of
 * PostgreSQL the tables come back empty, which is every bucket full — harmless — and the writes skip the WAL.
 * No foreign key to `tenants`: a bucket of a deleted tenant is never read again and is pruned with the
 * idle ones.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE UNLOGGED TABLE api_rate_limit_buckets (
      tenant_id uuid NOT NULL,
      budget text NOT NULL,
      tokens double precision NOT NULL,
      quota double precision NOT NULL,
      rate double precision NOT NULL,
      last_spent double precision NOT NULL DEFAULT 0,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, budget)
    )`.execute(db);
  await sql`CREATE INDEX api_rate_limit_buckets_updated ON api_rate_limit_buckets (updated_at)`.execute(db);
  await sql`
    CREATE UNLOGGED TABLE api_rate_limit_processes (
      id text PRIMARY KEY,
      seen_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS api_rate_limit_processes`.execute(db);
  await sql`DROP TABLE IF EXISTS api_rate_limit_buckets`.execute(db);
}
