import { sql, type Selectable } from 'kysely';
import { inTransaction, type Db } from '../database';
import type { SnapshotKind, UtilizationSnapshotsTable } from '../tables';

/** How many snapshots an integration keeps (its trend); older ones are deleted as new ones arrive. */
export const SNAPSHOTS_KEPT = 90;

export type UtilizationSnapshot = Selectable<UtilizationSnapshotsTable>;

/**
 * Stores a snapshot once per run and kind (a retried activity stores nothing twice) and keeps the newest
 * SNAPSHOTS_KEPT of the integration, in one transaction (the caller's, if given one). Returns whether this call stored it.
 */
export async function insertSnapshot(
  db: Db,
  snapshot: { integrationId: string; syncRunId: string; kind: SnapshotKind; takenAt: Date; inactiveDays: number; report: object },
): Promise<boolean> {
  const store = async (trx: Db): Promise<boolean> => {
    const inserted = await trx
      .insertInto('utilization_snapshots')
      .values({
        integration_id: snapshot.integrationId,
        sync_run_id: snapshot.syncRunId,
        kind: snapshot.kind,
        taken_at: snapshot.takenAt,
        inactive_days: snapshot.inactiveDays,
        report: JSON.stringify(snapshot.report),
      })
      .onConflict((oc) => oc.constraint('utilization_snapshots_once_per_run').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) return false;
    await sql`
      DELETE FROM utilization_snapshots
       WHERE integration_id = ${snapshot.integrationId}::uuid
         AND id NOT IN (SELECT id FROM utilization_snapshots WHERE integration_id = ${snapshot.integrationId}::uuid
                         ORDER BY taken_at DESC, id DESC LIMIT ${SNAPSHOTS_KEPT})`.execute(trx);
    return true;
  };
  return inTransaction(db, store);
}

/** The newest snapshot of an integration for `inactiveDays`, if any. */
export async function latestSnapshot(db: Db, integrationId: string, inactiveDays: number): Promise<UtilizationSnapshot | undefined> {
  return db
    .selectFrom('utilization_snapshots')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .where('inactive_days', '=', inactiveDays)
    .orderBy('taken_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** The integration's snapshots, newest first (its trend). */
export async function listSnapshots(db: Db, integrationId: string): Promise<UtilizationSnapshot[]> {
  return db
    .selectFrom('utilization_snapshots')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .orderBy('taken_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

export async function deleteSnapshots(db: Db, integrationId: string): Promise<number> {
  const result = await db.deleteFrom('utilization_snapshots').where('integration_id', '=', integrationId).executeTakeFirst();
  return Number(result.numDeletedRows);
}
