import { Kysely, sql } from 'kysely';

/**
 * What the license-utilization reports need to stay fast on a 100k-user, 1M-event workspace.
 *
 * 1. `zendesk_user_activity`: each user's newest ticket event, kept exact by statement-level triggers
 *    on `ticket_events` (so whatever writes events — the sync, a purge, a test — keeps it right, in the
 *    same transaction). Without it, every `usage` filter, `lastActivityAt` sort and utilization report
 *    would aggregate the whole event table (≈0.5 s at 1M events instead of tens of milliseconds).
 *    - insert: one upsert per statement over the inserted rows that only ever moves a user's time
 *      forward, so concurrent inserts for one user commute; rows are upserted in key order, so
 *      concurrent batches cannot deadlock. Cost: ≈ 6-10 ms per 1000-event page of 1000 distinct users.
 *    - update / delete: the affected users' rows are locked first (waiting for concurrent inserters),
 *      then recomputed from the remaining events in a fresh snapshot; users left without events lose
 *      their row. A delete only recomputes users whose newest event may be among the deleted ones,
 *      and a purge (no event left in the integration) drops the integration's rows at once.
 *    - truncate: emptied.
 * 2. Keyset indexes for every sort of `/users` that can use one, each ending in `id` (the tiebreak):
 *    name in byte order (`COLLATE "C"`, the order the API documents), created_at, and last_login_at with
 *    nulls last in both directions (as `COALESCE(last_login_at, ±infinity)`, so a row comparison can
 *    seek straight to a cursor).
 * 3. Trigram indexes for `q` (case-insensitive substring of name or email).
 * Windowed counts (`ticketInteractions`) use the initial migration's
 * `ticket_events (integration_id, user_id, occurred_at)`: one range scan per user.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE EXTENSION IF NOT EXISTS pg_trgm`.execute(db);

  await sql`
    CREATE TABLE zendesk_user_activity (
      integration_id uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
      user_id bigint NOT NULL,
      last_event_at timestamptz NOT NULL,
      CONSTRAINT zendesk_user_activity_pk PRIMARY KEY (integration_id, user_id)
    )`.execute(db);

  await sql`
    CREATE FUNCTION zendesk_user_activity_on_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      INSERT INTO zendesk_user_activity AS a (integration_id, user_id, last_event_at)
      SELECT integration_id, user_id, max(occurred_at)
        FROM inserted_events
       GROUP BY integration_id, user_id
       ORDER BY integration_id, user_id
      ON CONFLICT (integration_id, user_id)
      DO UPDATE SET last_event_at = EXCLUDED.last_event_at
       WHERE a.last_event_at < EXCLUDED.last_event_at;
      RETURN NULL;
    END
    $fn$`.execute(db);

  // Shared by the update and delete triggers: `keys` lists the affected (integration_id, user_id) pairs.
  await sql`
    CREATE FUNCTION zendesk_user_activity_recompute(keys jsonb) RETURNS void LANGUAGE plpgsql AS $fn$
    BEGIN
      -- Wait for concurrent inserters of these users, so the next statements' snapshots see their events.
      PERFORM 1
         FROM zendesk_user_activity a
         JOIN jsonb_to_recordset(keys) AS k(integration_id uuid, user_id bigint)
           ON a.integration_id = k.integration_id AND a.user_id = k.user_id
        ORDER BY a.integration_id, a.user_id
          FOR UPDATE OF a;
      INSERT INTO zendesk_user_activity AS a (integration_id, user_id, last_event_at)
      SELECT k.integration_id, k.user_id, m.last_event_at
        FROM jsonb_to_recordset(keys) AS k(integration_id uuid, user_id bigint)
        CROSS JOIN LATERAL (
          SELECT max(e.occurred_at) AS last_event_at
            FROM ticket_events e
           WHERE e.integration_id = k.integration_id AND e.user_id = k.user_id
        ) m
       WHERE m.last_event_at IS NOT NULL
       ORDER BY k.integration_id, k.user_id
      ON CONFLICT (integration_id, user_id)
      DO UPDATE SET last_event_at = EXCLUDED.last_event_at
       WHERE a.last_event_at IS DISTINCT FROM EXCLUDED.last_event_at;
      DELETE FROM zendesk_user_activity a
       USING jsonb_to_recordset(keys) AS k(integration_id uuid, user_id bigint)
       WHERE a.integration_id = k.integration_id AND a.user_id = k.user_id
         AND NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.integration_id = k.integration_id AND e.user_id = k.user_id);
    END
    $fn$`.execute(db);

  await sql`
    CREATE FUNCTION zendesk_user_activity_on_delete() RETURNS trigger LANGUAGE plpgsql AS $fn$
    DECLARE
      purged uuid[];
    BEGIN
      -- A purge (no event left in the integration): drop its rows at once. A purge runs after the
      -- integration's syncs are stopped, so no insert races it.
      SELECT coalesce(array_agg(d.integration_id), '{}') INTO purged
        FROM (SELECT DISTINCT integration_id FROM deleted_events) d
       WHERE NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.integration_id = d.integration_id);
      DELETE FROM zendesk_user_activity WHERE integration_id = ANY (purged);
      -- Otherwise only users whose newest event may be among the deleted ones change (pruning old
      -- events leaves everyone else alone).
      PERFORM zendesk_user_activity_recompute((
        SELECT coalesce(jsonb_agg(jsonb_build_object('integration_id', d.integration_id, 'user_id', d.user_id)), '[]'::jsonb)
          FROM (SELECT integration_id, user_id, max(occurred_at) AS newest
                  FROM deleted_events
                 WHERE integration_id <> ALL (purged)
                 GROUP BY integration_id, user_id) d
          JOIN zendesk_user_activity a ON a.integration_id = d.integration_id AND a.user_id = d.user_id
         WHERE d.newest >= a.last_event_at));
      RETURN NULL;
    END
    $fn$`.execute(db);

  await sql`
    CREATE FUNCTION zendesk_user_activity_on_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM zendesk_user_activity_recompute(
        (SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_object('integration_id', integration_id, 'user_id', user_id)), '[]'::jsonb)
           FROM (SELECT integration_id, user_id FROM old_events UNION SELECT integration_id, user_id FROM new_events) k));
      RETURN NULL;
    END
    $fn$`.execute(db);

  await sql`
    CREATE FUNCTION zendesk_user_activity_on_truncate() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      DELETE FROM zendesk_user_activity;
      RETURN NULL;
    END
    $fn$`.execute(db);

  await sql`
    CREATE TRIGGER ticket_events_activity_insert AFTER INSERT ON ticket_events
    REFERENCING NEW TABLE AS inserted_events
    FOR EACH STATEMENT EXECUTE FUNCTION zendesk_user_activity_on_insert()`.execute(db);
  await sql`
    CREATE TRIGGER ticket_events_activity_delete AFTER DELETE ON ticket_events
    REFERENCING OLD TABLE AS deleted_events
    FOR EACH STATEMENT EXECUTE FUNCTION zendesk_user_activity_on_delete()`.execute(db);
  await sql`
    CREATE TRIGGER ticket_events_activity_update AFTER UPDATE ON ticket_events
    REFERENCING OLD TABLE AS old_events NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION zendesk_user_activity_on_update()`.execute(db);
  await sql`
    CREATE TRIGGER ticket_events_activity_truncate AFTER TRUNCATE ON ticket_events
    FOR EACH STATEMENT EXECUTE FUNCTION zendesk_user_activity_on_truncate()`.execute(db);

  // Events already stored (the triggers hold ticket_events' lock until this migration commits).
  await sql`
    INSERT INTO zendesk_user_activity (integration_id, user_id, last_event_at)
    SELECT integration_id, user_id, max(occurred_at) FROM ticket_events GROUP BY integration_id, user_id`.execute(db);

  await sql`CREATE INDEX zendesk_users_sort_name ON zendesk_users (integration_id, (name COLLATE "C"), id)`.execute(db);
  await sql`CREATE INDEX zendesk_users_sort_created ON zendesk_users (integration_id, created_at, id)`.execute(db);
  await sql`CREATE INDEX zendesk_users_sort_login_asc ON zendesk_users (integration_id, (COALESCE(last_login_at, 'infinity'::timestamptz)), id)`.execute(db);
  await sql`CREATE INDEX zendesk_users_sort_login_desc ON zendesk_users (integration_id, (COALESCE(last_login_at, '-infinity'::timestamptz)), id)`.execute(db);
  await sql`CREATE INDEX zendesk_users_name_trgm ON zendesk_users USING gin (name gin_trgm_ops)`.execute(db);
  await sql`CREATE INDEX zendesk_users_email_trgm ON zendesk_users USING gin (email gin_trgm_ops)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const index of [
    'zendesk_users_email_trgm',
    'zendesk_users_name_trgm',
    'zendesk_users_sort_login_desc',
    'zendesk_users_sort_login_asc',
    'zendesk_users_sort_created',
    'zendesk_users_sort_name',
  ]) {
    await sql`DROP INDEX IF EXISTS ${sql.id(index)}`.execute(db);
  }
  for (const trigger of [
    'ticket_events_activity_truncate',
    'ticket_events_activity_update',
    'ticket_events_activity_delete',
    'ticket_events_activity_insert',
  ]) {
    await sql`DROP TRIGGER IF EXISTS ${sql.id(trigger)} ON ticket_events`.execute(db);
  }
  for (const fn of [
    'zendesk_user_activity_on_truncate()',
    'zendesk_user_activity_on_update()',
    'zendesk_user_activity_on_delete()',
    'zendesk_user_activity_recompute(jsonb)',
    'zendesk_user_activity_on_insert()',
  ]) {
    await sql.raw(`DROP FUNCTION IF EXISTS ${fn}`).execute(db);
  }
  await sql`DROP TABLE IF EXISTS zendesk_user_activity`.execute(db);
}
