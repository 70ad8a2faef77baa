import { Kysely, sql } from 'kysely';

/**
 * Tells the API's report cache a running sync's progress apart from finished changes.
 *
 * While a sync runs, every page transaction changes an integration's data, several times a second on a
 * large workspace; dropping the cached reports each time made every reader recompute them (seconds under
 * load, docs/benchmarks.md, scenario 6), for data that is out of date again by the next page. Those
 * transactions now send `progress:<integration uuid>` instead of `integration:<uuid>`: the cache keeps
 * serving the reports it has and recomputes them in the background (src/api/cache/cachedLoader.ts).
 * Everything else still sends `integration:<uuid>`, which drops them: a run's start and end (status
 * changes), writes while no sync of the integration runs (a purge, a repair), integration changes.
 *
 * - `sync_runs` row trigger: an update that leaves a run `running` (its counters, each page) is progress.
 * - `zendesk_users` / `ticket_events` statement triggers: progress when the integration has a running
 *   run (the sync's own pages: the run's row is in the same transaction), else a change.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION report_changes_row() RETURNS trigger LANGUAGE plpgsql AS $fn$
    DECLARE
      rec record;
    BEGIN
      IF TG_OP = 'DELETE' THEN rec := OLD; ELSE rec := NEW; END IF;
      IF TG_TABLE_NAME = 'tenants' THEN
        PERFORM pg_notify('report_changes', 'tenant:' || rec.id::text);
      ELSIF TG_TABLE_NAME = 'integrations' THEN
        PERFORM pg_notify('report_changes', 'integration:' || rec.id::text);
      ELSIF TG_TABLE_NAME = 'sync_runs' AND TG_OP = 'UPDATE' THEN
        IF OLD.status = 'running' AND NEW.status = 'running' THEN
          PERFORM pg_notify('report_changes', 'progress:' || rec.integration_id::text);
        ELSE
          PERFORM pg_notify('report_changes', 'integration:' || rec.integration_id::text);
        END IF;
      ELSE
        PERFORM pg_notify('report_changes', 'integration:' || rec.integration_id::text);
      END IF;
      RETURN NULL;
    END
    $fn$`.execute(db);

  await sql`
    CREATE OR REPLACE FUNCTION report_changes_statement() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM pg_notify('report_changes',
               CASE WHEN EXISTS (SELECT 1 FROM sync_runs r WHERE r.integration_id = d.integration_id AND r.status = 'running')
                    THEN 'progress:' ELSE 'integration:' END || d.integration_id::text)
         FROM (SELECT DISTINCT integration_id FROM changed_rows) d;
      RETURN NULL;
    END
    $fn$`.execute(db);
}

/** Back to 20261201T120000_report_change_notify's functions: every change drops the reports. */
export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION report_changes_row() RETURNS trigger LANGUAGE plpgsql AS $fn$
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
  await sql`
    CREATE OR REPLACE FUNCTION report_changes_statement() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM pg_notify('report_changes', 'integration:' || d.integration_id::text)
         FROM (SELECT DISTINCT integration_id FROM changed_rows) d;
      RETURN NULL;
    END
    $fn$`.execute(db);
}
