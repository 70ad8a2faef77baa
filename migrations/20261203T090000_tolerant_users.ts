import { Kysely, sql } from 'kysely';

/**
 * Zendesk is read tolerantly (docs/zendesk.md): every user field but the id may be absent, and an absent
 * field is unknown (NULL), never a default. So every user column but the keys becomes nullable;
 * `role_type` widens to integer so an undocumented code is kept as sent; `deleted` is NULL when Zendesk
 * did not say `active`.
 *
 * The sort indexes follow the report's keys, which now put missing names ('' in byte order, first) and
 * missing creation dates (last in both directions) in a total order a keyset cursor can seek.
 *
 * `sync_runs.skipped_records` counts the quarantined records of a run (records.ts); `sync_runs.notes` says
 * what the run had to work around (a refused checkpoint reset, …), one sentence each.
 */
const NULLABLE = [
  'name',
  'created_at',
  'updated_at',
  'role',
  'report_csv',
  'chat_only',
  'moderator',
  'restricted_agent',
  'shared',
  'shared_agent',
  'suspended',
  'verified',
  'deleted',
];

export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE zendesk_users ${sql.join(NULLABLE.map((c) => sql`ALTER COLUMN ${sql.ref(c)} DROP NOT NULL`))}`.execute(db);
  await sql`ALTER TABLE zendesk_users ALTER COLUMN role_type TYPE integer`.execute(db);

  await sql`DROP INDEX zendesk_users_sort_name`.execute(db);
  await sql`CREATE INDEX zendesk_users_sort_name ON zendesk_users (integration_id, (COALESCE(name, '') COLLATE "C"), id)`.execute(db);
  await sql`DROP INDEX zendesk_users_sort_created`.execute(db);
  await sql`CREATE INDEX zendesk_users_sort_created_asc ON zendesk_users (integration_id, (COALESCE(created_at, 'infinity'::timestamptz)), id)`.execute(db);
  await sql`CREATE INDEX zendesk_users_sort_created_desc ON zendesk_users (integration_id, (COALESCE(created_at, '-infinity'::timestamptz)), id)`.execute(db);

  await sql`ALTER TABLE sync_runs ADD COLUMN skipped_records integer NOT NULL DEFAULT 0, ADD COLUMN notes text[] NOT NULL DEFAULT '{}'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE sync_runs DROP COLUMN skipped_records, DROP COLUMN notes`.execute(db);
  await sql`DROP INDEX zendesk_users_sort_created_desc`.execute(db);
  await sql`DROP INDEX zendesk_users_sort_created_asc`.execute(db);
  await sql`CREATE INDEX zendesk_users_sort_created ON zendesk_users (integration_id, created_at, id)`.execute(db);
  await sql`DROP INDEX zendesk_users_sort_name`.execute(db);
  await sql`CREATE INDEX zendesk_users_sort_name ON zendesk_users (integration_id, (name COLLATE "C"), id)`.execute(db);
  // Rows with unknowns cannot go back to NOT NULL columns; they are dropped (the next sync brings them back).
  await sql`DELETE FROM zendesk_users WHERE ${sql.join(
    NULLABLE.map((c) => sql`${sql.ref(c)} IS NULL`),
    sql` OR `,
  )} OR role_type NOT BETWEEN -32768 AND 32767`.execute(db);
  await sql`ALTER TABLE zendesk_users ALTER COLUMN role_type TYPE smallint`.execute(db);
  await sql`ALTER TABLE zendesk_users ${sql.join(NULLABLE.map((c) => sql`ALTER COLUMN ${sql.ref(c)} SET NOT NULL`))}`.execute(db);
}
