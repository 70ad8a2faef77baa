import type { Kysely } from 'kysely';
import type { Db } from '../db/database';
import type { Database } from '../db/tables';

/**
 * `zendesk_user_activity` (migration 20261125T160000_report_indexes): each user's newest ticket event,
 * maintained exactly by triggers on `ticket_events`. The reports read it (and retention clears and walks it), so its
 * type lives here rather than in the shared `Database`.
 */
export interface ZendeskUserActivityTable {
  integration_id: string;
  user_id: number;
  last_event_at: Date;
}

export interface ReportDatabase extends Database {
  zendesk_user_activity: ZendeskUserActivityTable;
}

export function reportDb(db: Db): Kysely<ReportDatabase> {
  return db as unknown as Kysely<ReportDatabase>;
}
