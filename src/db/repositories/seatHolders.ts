import { sql } from 'kysely';
import type { Db } from '../database';

/**
 * The seat-holder scan of a sync run: every user its listing of agents and admins returned is marked with
 * the run; seat holders stored earlier that the run did not list are then looked up one hundred at a time.
 */

export async function markSeatScanned(db: Db, integrationId: string, runId: string, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable('zendesk_users').set({ seat_scan_run: runId }).where('integration_id', '=', integrationId).where('id', 'in', ids).execute();
}

/** Stored seat holders (agents and admins not known deleted) this run has neither listed nor looked up yet. */
export async function unscannedSeatHolders(db: Db, integrationId: string, runId: string, limit: number): Promise<number[]> {
  const rows = await db
    .selectFrom('zendesk_users')
    .select('id')
    .where('integration_id', '=', integrationId)
    .where('role', 'in', ['agent', 'admin'])
    .where('deleted', 'is not', true)
    .where((eb) => eb.or([eb('seat_scan_run', 'is', null), eb('seat_scan_run', '<>', runId)]))
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

/** Users Zendesk no longer knows at all (absent from show_many with include_deleted): deleted. */
export async function markUsersDeleted(db: Db, integrationId: string, runId: string, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('zendesk_users')
    .set({ deleted: true, seat_scan_run: runId, synced_at: sql<Date>`now()` })
    .where('integration_id', '=', integrationId)
    .where('id', 'in', ids)
    .execute();
}
