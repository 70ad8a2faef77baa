import { Kysely, sql } from 'kysely';

/**
 * Change notifications for the API's report cache (src/api/cache/): every transaction that changes what
 * a report, the tenant authentication or an integration lookup reads sends `NOTIFY report_changes` with
 * the tag of what changed. NOTIFY is transactional: it is delivered when (and only if) the transaction
 * commits, so a listener that drops its cached entries on the notification never misses a committed
 * change, and identical payloads within one transaction are delivered once.
 *
 * Payloads (the cache's invalidation tags):
 * - `integration:<uuid>`: report data or the integration row changed. Sent by
 *   - `sync_runs` insert/update/delete (row trigger): every page transaction of a sync updates its run's
 *     counters in the same transaction as the rows, and the run's end changes `lastSyncedAt`;
 *   - `zendesk_users`, `ticket_events` insert/update/delete (statement triggers over the transition
 *     tables, one `SELECT DISTINCT integration_id` per statement): writes that do not go through a sync
 *     (a purge, a repair, a test), and redundant with the above for syncs (one notification per
 *     transaction either way). `zendesk_user_activity` is only written by `ticket_events`' triggers;
 *   - `integrations` update/delete (row trigger): a status change (disconnect), a purge.
 * - `tenant:<uuid>`: a tenant row was updated or deleted (API key hash changed, tenant removed).
 * - `all`: `zendesk_users` or `ticket_events` truncated.
 * The API also sends `probe:<token>` itself to check that notifications reach it.
 */
export const REPORT_CHANGES_CHANNEL = 'report_changes';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION report_changes_row() RETURNS trigger LANGUAGE plpgsql AS $fn$
    DECLARE
      rec record;
    BEGIN
      IF TG_OP = 'DELETE' THEN rec := OLD; ELSE rec := NEW; END IF;
      IF TG_TABLE_NAME = 'tenants' THEN
        PERFORM pg_notify('report_changes', 'tenant:' || rec.id::text);
      ELSIF TG_TABLE_NAME = 'integrations' THEN
        PERFORM pg_notify('report_changes', 'integration:' || rec.id::text);
      ELSE
        PERFORM pg_notify('report_changes', 'integration:' || rec.integration_id::text);
      END IF;
      RETURN NULL;
    END
    $fn$`.execute(db);

  // Statement level: one notification per integration a statement touched (a sync page: one).
  await sql`
    CREATE FUNCTION report_changes_statement() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM pg_notify('report_changes', 'integration:' || d.integration_id::text)
         FROM (SELECT DISTINCT integration_id FROM changed_rows) d;
      RETURN NULL;
    END
    $fn$`.execute(db);

  await sql`
    CREATE FUNCTION report_changes_truncate() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM pg_notify('report_changes', 'all');
      RETURN NULL;
    END
    $fn$`.execute(db);

  await sql`CREATE TRIGGER tenants_report_changes AFTER UPDATE OR DELETE ON tenants FOR EACH ROW EXECUTE FUNCTION report_changes_row()`.execute(db);
  await sql`CREATE TRIGGER integrations_report_changes AFTER UPDATE OR DELETE ON integrations FOR EACH ROW EXECUTE FUNCTION report_changes_row()`.execute(db);
  await sql`CREATE TRIGGER sync_runs_report_changes AFTER INSERT OR UPDATE OR DELETE ON sync_runs FOR EACH ROW EXECUTE FUNCTION report_changes_row()`.execute(
    db,
  );
  for (const table of ['zendesk_users', 'ticket_events']) {
    // A trigger with transition tables handles one event (PostgreSQL's rule), hence three.
    for (const [op, ref] of [
      ['INSERT', 'NEW'],
      ['UPDATE', 'NEW'],
      ['DELETE', 'OLD'],
    ] as const) {
      await sql
        .raw(
          `CREATE TRIGGER ${table}_report_changes_${op.toLowerCase()} AFTER ${op} ON ${table}
           REFERENCING ${ref} TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION report_changes_statement()`,
        )
        .execute(db);
    }
    await sql
      .raw(`CREATE TRIGGER ${table}_report_changes_truncate AFTER TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION report_changes_truncate()`)
      .execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['zendesk_users', 'ticket_events']) {
    for (const op of ['insert', 'update', 'delete', 'truncate']) await sql.raw(`DROP TRIGGER IF EXISTS ${table}_report_changes_${op} ON ${table}`).execute(db);
  }
  await sql`DROP TRIGGER IF EXISTS sync_runs_report_changes ON sync_runs`.execute(db);
  await sql`DROP TRIGGER IF EXISTS integrations_report_changes ON integrations`.execute(db);
  await sql`DROP TRIGGER IF EXISTS tenants_report_changes ON tenants`.execute(db);
  for (const fn of ['report_changes_truncate()', 'report_changes_statement()', 'report_changes_row()'])
    await sql.raw(`DROP FUNCTION IF EXISTS ${fn}`).execute(db);
}
