import { Kysely, sql } from 'kysely';

/**
 * Notice periods of reclamations (issue 17): after approval a reclamation with `noticeDays` waits in
 * `notice` until `notice_until`, each affected person told (`reclamation.user_notice`), re-checked daily;
 * a user taken out by request is `kept`, and not proposed again until `kept_until` (the keep cooldown).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE reclamations DROP CONSTRAINT reclamations_status_check`.execute(db);
  await sql`ALTER TABLE reclamations ADD CONSTRAINT reclamations_status_check
    CHECK (status IN ('awaiting_approval', 'rejected', 'expired', 'notice', 'executing', 'completed', 'undone'))`.execute(db);
  await sql`ALTER TABLE reclamations ADD COLUMN notice_until timestamptz`.execute(db);
  await sql`ALTER TABLE reclamation_users DROP CONSTRAINT reclamation_users_state_check`.execute(db);
  await sql`ALTER TABLE reclamation_users ADD CONSTRAINT reclamation_users_state_check
    CHECK (state IN ('planned', 'excluded', 'not_approved', 'kept', 'downgrading', 'downgraded', 'skipped', 'failed', 'restoring', 'restored', 'undo_failed'))`.execute(
    db,
  );
  await sql`ALTER TABLE reclamation_users ADD COLUMN kept_until timestamptz`.execute(db);
  // The plan's lookup of users in their keep cooldown.
  await sql`CREATE INDEX reclamation_users_kept ON reclamation_users (reclamation_id) WHERE kept_until IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX reclamation_users_kept`.execute(db);
  await sql`ALTER TABLE reclamation_users DROP COLUMN kept_until`.execute(db);
  await sql`ALTER TABLE reclamation_users DROP CONSTRAINT reclamation_users_state_check`.execute(db);
  await sql`ALTER TABLE reclamation_users ADD CONSTRAINT reclamation_users_state_check
    CHECK (state IN ('planned', 'excluded', 'not_approved', 'downgrading', 'downgraded', 'skipped', 'failed', 'restoring', 'restored', 'undo_failed'))`.execute(
    db,
  );
  await sql`ALTER TABLE reclamations DROP COLUMN notice_until`.execute(db);
  await sql`ALTER TABLE reclamations DROP CONSTRAINT reclamations_status_check`.execute(db);
  await sql`ALTER TABLE reclamations ADD CONSTRAINT reclamations_status_check
    CHECK (status IN ('awaiting_approval', 'rejected', 'expired', 'executing', 'completed', 'undone'))`.execute(db);
}
