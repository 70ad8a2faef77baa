import { Kysely, sql } from 'kysely';

/** At most one running sync per integration, whatever schedules, triggers or workers do. */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE UNIQUE INDEX sync_runs_one_running ON sync_runs (integration_id) WHERE status = 'running'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS sync_runs_one_running`.execute(db);
}
