import { sql } from 'kysely';
import type { Db } from '../database';
import type { SyncRun } from '../tables';

/** Records a sync run; idempotent per (workflow id, run id) so a retried activity finds its own row. */
export async function startSyncRun(db: Db, run: { integrationId: string; workflowId: string; runId: string }): Promise<SyncRun> {
  await db
    .insertInto('sync_runs')
    .values({ integration_id: run.integrationId, workflow_id: run.workflowId, run_id: run.runId, status: 'running', error: null })
    .onConflict((oc) => oc.columns(['workflow_id', 'run_id']).doNothing())
    .execute();
  return db.selectFrom('sync_runs').selectAll().where('workflow_id', '=', run.workflowId).where('run_id', '=', run.runId).executeTakeFirstOrThrow();
}

/** The integration's newest running run, if any (a unique index allows one). */
export async function findSyncRun(db: Db, syncRunId: string): Promise<SyncRun | undefined> {
  return db.selectFrom('sync_runs').selectAll().where('id', '=', syncRunId).executeTakeFirst();
}

export async function runningSyncRun(db: Db, integrationId: string): Promise<SyncRun | undefined> {
  return db
    .selectFrom('sync_runs')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .where('status', '=', 'running')
    .orderBy('started_at', 'desc')
    .executeTakeFirst();
}

/** The integration's running runs; `lock` takes their row locks (inside a transaction). */
export async function runningSyncRuns(db: Db, integrationId: string, options: { lock: boolean }): Promise<SyncRun[]> {
  const query = db.selectFrom('sync_runs').selectAll().where('integration_id', '=', integrationId).where('status', '=', 'running');
  return (options.lock ? query.forUpdate() : query).execute();
}

export async function addSyncRunCounts(
  db: Db,
  syncRunId: string,
  counts: { users?: number; events?: number; requests?: number; rateLimited?: number; skipped?: number },
): Promise<void> {
  await db
    .updateTable('sync_runs')
    .set((eb) => ({
      users_synced: eb('users_synced', '+', counts.users ?? 0),
      ticket_events_synced: eb('ticket_events_synced', '+', counts.events ?? 0),
      requests: eb('requests', '+', counts.requests ?? 0),
      rate_limited: eb('rate_limited', '+', counts.rateLimited ?? 0),
      skipped_records: eb('skipped_records', '+', counts.skipped ?? 0),
    }))
    .where('id', '=', syncRunId)
    .execute();
}

/** Adds a sentence to the run's notes (what it had to work around). */
export async function addSyncRunNote(db: Db, syncRunId: string, note: string): Promise<void> {
  await db
    .updateTable('sync_runs')
    .set({ notes: sql<string[]>`array_append(notes, ${note})` })
    .where('id', '=', syncRunId)
    .execute();
}

/** Closes a running run; returns it, or undefined when it was already closed (a retried call). */
export async function finishSyncRun(db: Db, syncRunId: string, status: 'succeeded' | 'failed', error: string | null): Promise<SyncRun | undefined> {
  return db
    .updateTable('sync_runs')
    .set({ status, error, finished_at: sql<Date>`now()` })
    .where('id', '=', syncRunId)
    .where('status', '=', 'running')
    .returningAll()
    .executeTakeFirst();
}

/** Closes every run of the integration still recorded as running (its syncs were stopped). */
export async function closeRunningSyncRuns(db: Db, integrationId: string, error: string): Promise<number> {
  const result = await db
    .updateTable('sync_runs')
    .set({ status: 'failed', error, finished_at: sql<Date>`now()` })
    .where('integration_id', '=', integrationId)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Whether the sync workflow `workflowId` has a run record and it is closed. */
export async function syncRunClosed(db: Db, workflowId: string): Promise<boolean> {
  const row = await db.selectFrom('sync_runs').select('status').where('workflow_id', '=', workflowId).orderBy('started_at', 'desc').executeTakeFirst();
  return row !== undefined && row.status !== 'running';
}
