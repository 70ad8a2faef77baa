import { sql } from 'kysely';
import type { Db } from '../database';
import type { SyncCheckpointsTable } from '../tables';

export type Stream = SyncCheckpointsTable['stream'];

export async function getCheckpoint(db: Db, integrationId: string, stream: Stream): Promise<string | undefined> {
  const row = await db
    .selectFrom('sync_checkpoints')
    .select('position')
    .where('integration_id', '=', integrationId)
    .where('stream', '=', stream)
    .executeTakeFirst();
  return row?.position;
}

/** Written in the same transaction as the page it follows. */
export async function setCheckpoint(db: Db, integrationId: string, stream: Stream, position: string): Promise<void> {
  await db
    .insertInto('sync_checkpoints')
    .values({ integration_id: integrationId, stream, position })
    .onConflict((oc) => oc.columns(['integration_id', 'stream']).doUpdateSet({ position, updated_at: sql<Date>`now()` }))
    .execute();
}

/** Forgets a stream's position: its next page starts a fresh export. */
export async function clearCheckpoint(db: Db, integrationId: string, stream: Stream): Promise<void> {
  await db.deleteFrom('sync_checkpoints').where('integration_id', '=', integrationId).where('stream', '=', stream).execute();
}
