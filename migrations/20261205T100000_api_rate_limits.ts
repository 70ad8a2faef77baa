import { Kysely, sql } from 'kysely';

/**
 * The shared state of the API's per-tenant budgets (src/api/limits, README "Fair sharing between tenants").
 *
 * - `api_rate_limit_buckets`: one token bucket per tenant and budget, shared by every API process. Each
 *   process reconciles with it about once a second (one statement for all its buckets), never per request.
 *   `quota` and `rate` (tokens per second) are those of the last process that reconciled, so the refill can
 *   be computed in SQL; `last_spent` is what that process reported (it is how the upsert carries its spend).
 * - `api_rate_limit_bucket_processes`: which API processes used which bucket lately (a row per bucket and
 *   process, touched by each reconciliation): each of them takes its share of that bucket. Counted per
 *   bucket, so a tenant served by one process has its whole budget there, whatever the number of processes.
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
    CREATE UNLOGGED TABLE api_rate_limit_bucket_processes (
      tenant_id uuid NOT NULL,
      budget text NOT NULL,
      process_id text NOT NULL,
      seen_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, budget, process_id)
    )`.execute(db);
  await sql`CREATE INDEX api_rate_limit_bucket_processes_seen ON api_rate_limit_bucket_processes (seen_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS api_rate_limit_bucket_processes`.execute(db);
  await sql`DROP TABLE IF EXISTS api_rate_limit_buckets`.execute(db);
}
