import { Kysely, sql } from 'kysely';

/**
 * What bounded listing and housekeeping (src/workflows/housekeeping.ts) need.
 *
 * 1. `integrations_tenant_listing`: `GET /v1/integrations` is a keyset walk of a tenant's live integrations,
 *    newest first (`created_at DESC, id DESC`); the partial index seeks straight to a cursor and never reads
 *    the disconnected rows, which only accumulate.
 * 2. `oauth_flows_integration`: flows were only ever found by id; expiring an integration's open flows,
 *    the cascade of an integration's delete and housekeeping's "newest flow of the integration" all look
 *    them up by integration (a sequential scan of every flow before).
 * 3. `integrations.disconnected_at`: when the integration became `disconnected`, from which
 *    DISCONNECTED_DATA_RETENTION_DAYS counts. A trigger sets it on the transition, whatever code makes it
 *    (the disconnect workflow, a repair by hand), so the retention never starts from an unrelated
 *    `updated_at`. Rows already disconnected get their `updated_at` (the disconnect was their last change).
 * 4. `zendesk_users.deleted_at`: when the worker first stored the user as deleted in Zendesk (`deleted`
 *    true, Zendesk's `active: false`), from which the scrub of deleted users' names and emails counts.
 *    Zendesk's `updated_at` is not documented to move on deletion (docs/zendesk.md), so the worker's own
 *    observation is the anchor. Triggers keep it whatever writes the row: set on insert or on the change to
 *    deleted (an explicit value is kept, so tests can backdate), kept while the user stays deleted (an
 *    upsert of an unchanged deleted user leaves it alone), cleared when the user is restored. Their WHEN
 *    clauses are evaluated without calling the function, so a sync page of live users pays nothing.
 *    Existing deleted rows get `synced_at` (the last time the worker stored them, deleted).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX integrations_tenant_listing ON integrations (tenant_id, created_at DESC, id DESC) WHERE status <> 'disconnected'`.execute(db);
  // oauth_flows (integration_id, created_at) is indexed by 20261204T090000_reconnect_attempts.

  await sql`ALTER TABLE integrations ADD COLUMN disconnected_at timestamptz`.execute(db);
  await sql`UPDATE integrations SET disconnected_at = updated_at WHERE status = 'disconnected'`.execute(db);
  await sql`
    CREATE FUNCTION integrations_disconnected_at() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF NEW.status = 'disconnected' THEN
        NEW.disconnected_at := COALESCE(NEW.disconnected_at, now());
      ELSE
        NEW.disconnected_at := NULL;
      END IF;
      RETURN NEW;
    END
    $fn$`.execute(db);
  await sql`
    CREATE TRIGGER integrations_disconnected_at_insert BEFORE INSERT ON integrations
    FOR EACH ROW WHEN (NEW.status = 'disconnected') EXECUTE FUNCTION integrations_disconnected_at()`.execute(db);
  await sql`
    CREATE TRIGGER integrations_disconnected_at_update BEFORE UPDATE OF status ON integrations
    FOR EACH ROW WHEN (NEW.status IS DISTINCT FROM OLD.status) EXECUTE FUNCTION integrations_disconnected_at()`.execute(db);
  await sql`CREATE INDEX integrations_disconnected ON integrations (disconnected_at) WHERE status = 'disconnected'`.execute(db);

  await sql`ALTER TABLE zendesk_users ADD COLUMN deleted_at timestamptz`.execute(db);
  await sql`UPDATE zendesk_users SET deleted_at = synced_at WHERE deleted IS TRUE`.execute(db);
  await sql`
    CREATE FUNCTION zendesk_users_deleted_at() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF NEW.deleted IS TRUE THEN
        NEW.deleted_at := COALESCE(NEW.deleted_at, now());
      ELSE
        NEW.deleted_at := NULL;
      END IF;
      RETURN NEW;
    END
    $fn$`.execute(db);
  await sql`
    CREATE TRIGGER zendesk_users_deleted_at_insert BEFORE INSERT ON zendesk_users
    FOR EACH ROW WHEN (NEW.deleted IS TRUE) EXECUTE FUNCTION zendesk_users_deleted_at()`.execute(db);
  await sql`
    CREATE TRIGGER zendesk_users_deleted_at_update BEFORE UPDATE ON zendesk_users
    FOR EACH ROW WHEN (NEW.deleted IS DISTINCT FROM OLD.deleted) EXECUTE FUNCTION zendesk_users_deleted_at()`.execute(db);
  // Only deleted users are in it: the scrub finds what is due without reading the live ones.
  await sql`CREATE INDEX zendesk_users_deleted_at ON zendesk_users (deleted_at) WHERE deleted_at IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS zendesk_users_deleted_at`.execute(db);
  await sql`DROP TRIGGER IF EXISTS zendesk_users_deleted_at_update ON zendesk_users`.execute(db);
  await sql`DROP TRIGGER IF EXISTS zendesk_users_deleted_at_insert ON zendesk_users`.execute(db);
  await sql`DROP FUNCTION IF EXISTS zendesk_users_deleted_at()`.execute(db);
  await sql`ALTER TABLE zendesk_users DROP COLUMN IF EXISTS deleted_at`.execute(db);
  await sql`DROP INDEX IF EXISTS integrations_disconnected`.execute(db);
  await sql`DROP TRIGGER IF EXISTS integrations_disconnected_at_update ON integrations`.execute(db);
  await sql`DROP TRIGGER IF EXISTS integrations_disconnected_at_insert ON integrations`.execute(db);
  await sql`DROP FUNCTION IF EXISTS integrations_disconnected_at()`.execute(db);
  await sql`ALTER TABLE integrations DROP COLUMN IF EXISTS disconnected_at`.execute(db);
  await sql`DROP INDEX IF EXISTS integrations_tenant_listing`.execute(db);
}
