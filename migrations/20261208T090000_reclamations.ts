import { Kysely, sql } from 'kysely';

/**
 * Seat reclamation (issue 17): a consent attempt remembers the scope it asked for (`read`, or the reclaim
 * scopes); an integration keeps its reclaim settings (owner, exemptions, grace period); a reclamation is a
 * plan with one row per user it considered (candidates and the users it will not touch, with why), the
 * snapshot of what each downgrade changes (taken before the change: no names or emails), and an
 * append-only audit log (UPDATE is refused; rows go only with their integration). A downgraded user whom a
 * later sync shows with a paid role again is marked `reupgraded_at` (and an audit event says so).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE oauth_flows ADD COLUMN scope text NOT NULL DEFAULT 'read'`.execute(db);
  await sql`ALTER TABLE integrations ADD COLUMN reclaim_settings jsonb NOT NULL DEFAULT '{}'::jsonb`.execute(db);
  await sql`
    CREATE TABLE reclamations (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      integration_id uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
      tenant_id uuid NOT NULL,
      action text NOT NULL CHECK (action IN ('end_user', 'light_agent')),
      status text NOT NULL CHECK (status IN ('awaiting_approval', 'rejected', 'expired', 'executing', 'completed', 'undone')),
      request jsonb NOT NULL,
      requested_by jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      decided_at timestamptz,
      completed_at timestamptz,
      undo_until timestamptz
    )`.execute(db);
  await sql`CREATE INDEX reclamations_by_integration ON reclamations (integration_id, created_at DESC)`.execute(db);
  await sql`
    CREATE TABLE reclamation_users (
      reclamation_id uuid NOT NULL REFERENCES reclamations (id) ON DELETE CASCADE,
      user_id bigint NOT NULL,
      state text NOT NULL CHECK (state IN ('planned', 'excluded', 'not_approved', 'downgrading', 'downgraded', 'skipped', 'failed',
                                           'restoring', 'restored', 'undo_failed')),
      reason text NOT NULL,
      evidence jsonb NOT NULL,
      outcome text,
      snapshot jsonb,
      changed_at timestamptz,
      restored_at timestamptz,
      reupgraded_at timestamptz,
      PRIMARY KEY (reclamation_id, user_id)
    )`.execute(db);
  await sql`
    CREATE TABLE audit_events (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      integration_id uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
      reclamation_id uuid,
      at timestamptz NOT NULL DEFAULT clock_timestamp(),
      kind text NOT NULL,
      api_key_id uuid,
      actor text,
      user_id bigint,
      before jsonb,
      after jsonb,
      detail jsonb
    )`.execute(db);
  await sql`CREATE INDEX audit_events_by_integration ON audit_events (integration_id, id)`.execute(db);
  await sql`
    CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_events is append-only';
    END $$`.execute(db);
  await sql`CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE audit_events`.execute(db);
  await sql`DROP FUNCTION audit_events_append_only()`.execute(db);
  await sql`DROP TABLE reclamation_users`.execute(db);
  await sql`DROP TABLE reclamations`.execute(db);
  await sql`ALTER TABLE integrations DROP COLUMN reclaim_settings`.execute(db);
  await sql`ALTER TABLE oauth_flows DROP COLUMN scope`.execute(db);
}
