import { sql } from 'kysely';
import type { Db } from '../database';

/**
 * Deleting an integration's synced data in batches: a workspace with millions of ticket events does not fit
 * one transaction under an activity's timeout, and a batch at a time keeps locks and WAL bursts short.
 * Each call deletes at most `limit` rows and says how many it deleted; call until 0.
 */

/** Drops the integration's per-user activity first, so deleting its events recomputes nobody's (the trigger joins it). */
export async function deleteUserActivity(db: Db, integrationId: string): Promise<void> {
  await sql`DELETE FROM zendesk_user_activity WHERE integration_id = ${integrationId}::uuid`.execute(db);
}

export async function deleteTicketEventsBatch(db: Db, integrationId: string, limit: number): Promise<number> {
  const result = await sql`
    DELETE FROM ticket_events
     WHERE integration_id = ${integrationId}::uuid
       AND event_id IN (SELECT event_id FROM ticket_events WHERE integration_id = ${integrationId}::uuid LIMIT ${limit})`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

export async function deleteUsersBatch(db: Db, integrationId: string, limit: number): Promise<number> {
  const result = await sql`
    DELETE FROM zendesk_users
     WHERE integration_id = ${integrationId}::uuid
       AND id IN (SELECT id FROM zendesk_users WHERE integration_id = ${integrationId}::uuid LIMIT ${limit})`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

export async function deleteCheckpoints(db: Db, integrationId: string): Promise<void> {
  await db.deleteFrom('sync_checkpoints').where('integration_id', '=', integrationId).execute();
}
