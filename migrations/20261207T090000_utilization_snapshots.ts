import { Kysely, sql } from 'kysely';

/**
 * Utilization snapshots (issue 16): the `/utilization` report for the default `inactiveDays`, stored by the
 * worker when a sync's seat part is done and when the sync succeeds, so the API answers it with one indexed
 * read instead of recomputing it (src/reports/snapshots.ts). The last 90 per integration are kept, for a
 * trend. An insert notifies the report cache like the synced rows do (report_changes_statement): while a
 * sync runs (the seat part's snapshot) its reports go stale and are recomputed behind; the snapshot stored
 * in the transaction that closes a run drops them, so the next request reads the new one.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE utilization_snapshots (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      integration_id uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
      sync_run_id uuid REFERENCES sync_runs (id) ON DELETE SET NULL,
      kind text NOT NULL CHECK (kind IN ('seats', 'sync')),
      taken_at timestamptz NOT NULL,
      inactive_days integer NOT NULL CHECK (inactive_days > 0),
      report jsonb NOT NULL,
      CONSTRAINT utilization_snapshots_once_per_run UNIQUE (sync_run_id, kind)
    )`.execute(db);
  await sql`CREATE INDEX utilization_snapshots_latest ON utilization_snapshots (integration_id, inactive_days, taken_at DESC)`.execute(db);
  await sql`
    CREATE TRIGGER utilization_snapshots_report_changes AFTER INSERT ON utilization_snapshots
      REFERENCING NEW TABLE AS changed_rows
      FOR EACH STATEMENT EXECUTE FUNCTION report_changes_statement()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE utilization_snapshots`.execute(db);
}
