import { Kysely, sql } from 'kysely';

/**
 * Seat holders first (issue 16):
 * - `zendesk_users.seat_scan_run`: the sync run whose listing of agents and admins last returned the user.
 *   After a listing, a seat holder another run listed is looked up (show_many): downgraded or deleted.
 * - `integrations.sync_end_users` / `max_budget_share`: per-integration settings (PATCH …/settings).
 * - `integration_streams`: per stream, when it was last complete and how far it got, so reports can say how
 *   complete they are and the integration can estimate when a stream will be done.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE zendesk_users ADD COLUMN seat_scan_run uuid`.execute(db);
  await sql`
    ALTER TABLE integrations
      ADD COLUMN sync_end_users boolean NOT NULL DEFAULT true,
      ADD COLUMN max_budget_share real NOT NULL DEFAULT 0.8 CHECK (max_budget_share > 0 AND max_budget_share <= 1)`.execute(db);
  await sql`
    CREATE TABLE integration_streams (
      integration_id uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
      stream text NOT NULL,
      completed_at timestamptz,
      progress jsonb NOT NULL DEFAULT '{}'::jsonb,
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT integration_streams_pk PRIMARY KEY (integration_id, stream)
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE integration_streams`.execute(db);
  await sql`ALTER TABLE integrations DROP COLUMN sync_end_users, DROP COLUMN max_budget_share`.execute(db);
  await sql`ALTER TABLE zendesk_users DROP COLUMN seat_scan_run`.execute(db);
}
