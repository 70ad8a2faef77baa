import type { Db } from '../database';

export interface TicketEventRow {
  integration_id: string;
  event_id: number;
  ticket_id: number;
  user_id: number;
  occurred_at: Date;
}

/**
 * Stores ticket events once each: Zendesk repeats events at page edges and a retried page repeats them
 * all, so the primary key decides. Returns how many were new.
 */
export async function insertTicketEvents(db: Db, rows: TicketEventRow[]): Promise<number> {
  let inserted = 0;
  for (let i = 0; i < rows.length; i += 5000) {
    const result = await db
      .insertInto('ticket_events')
      .values(rows.slice(i, i + 5000))
      .onConflict((oc) => oc.columns(['integration_id', 'event_id']).doNothing())
      .executeTakeFirst();
    inserted += Number(result.numInsertedOrUpdatedRows ?? 0);
  }
  return inserted;
}
