import type { NewZendeskUser } from '../db/tables';
import type { TicketEventRow } from '../db/repositories/ticketEvents';
import { ZendeskStalledExportError } from '../zendesk/errors';
import type { TicketEvent, ZendeskUserRecord } from '../zendesk/schemas';

/**
 * A Zendesk user object as a `zendesk_users` row: every contract field as read (null = unknown),
 * deleted = not active (unknown when `active` is unknown).
 */
export function toUserRow(integrationId: string, user: ZendeskUserRecord): NewZendeskUser {
  return {
    integration_id: integrationId,
    id: user.id,
    name: user.name,
    email: user.email,
    created_at: user.created_at,
    updated_at: user.updated_at,
    last_login_at: user.last_login_at,
    role: user.role,
    role_type: user.role_type,
    report_csv: user.report_csv,
    chat_only: user.chat_only,
    moderator: user.moderator,
    restricted_agent: user.restricted_agent,
    shared: user.shared,
    shared_agent: user.shared_agent,
    suspended: user.suspended,
    ticket_restriction: user.ticket_restriction,
    two_factor_auth_enabled: user.two_factor_auth_enabled,
    verified: user.verified,
    deleted: user.active === null ? null : !user.active,
  };
}

/**
 * One row per id: Zendesk may send a user twice in one page, and one upsert statement cannot touch a row
 * twice. The later copy wins (the export is ordered by update time) unless the earlier one is newer.
 */
export function uniqueUserRows(rows: NewZendeskUser[]): NewZendeskUser[] {
  const byId = new Map<number, NewZendeskUser>();
  const time = (r: NewZendeskUser) => (r.updated_at ? new Date(r.updated_at).getTime() : Number.NaN);
  for (const row of rows) {
    const seen = byId.get(row.id);
    if (seen && time(seen) > time(row)) continue;
    byId.set(row.id, row);
  }
  return byId.size === rows.length ? rows : [...byId.values()];
}

/** A ticket event as the update its `updater_id` made at `timestamp`. */
export function toTicketEventRow(integrationId: string, event: TicketEvent): TicketEventRow {
  return {
    integration_id: integrationId,
    event_id: event.id,
    ticket_id: event.ticket_id,
    user_id: event.updater_id,
    occurred_at: new Date(event.timestamp * 1000),
  };
}

/**
 * Where the ticket-event stream goes next. Zendesk pages overflow to hold every event of their last
 * second, so the next page restarts at `end_time` (repeats are deduplicated by id). If a whole page sat on
 * one second, restarting there would loop forever: that second is complete, so move past it.
 */
export function nextTicketEventsStart(startTime: number, page: { end_time: number; end_of_stream: boolean; count: number }): number {
  if (page.count === 0) return startTime;
  // An end_time before the start is no progress at all (Zendesk never should); ProgressGuard ends the chunk.
  if (page.end_time < startTime) return startTime;
  if (!page.end_of_stream && page.end_time === startTime) return startTime + 1;
  return page.end_time;
}

/** How many pages in a row may leave an export where it was before the chunk gives up. */
export const MAX_STALLED_PAGES = 3;

/**
 * Ends an export that stops moving: a cursor that comes back unchanged, an end_time that goes backwards.
 * Zendesk should never do either, but following such pages would loop for ever; a bounded number of them
 * ends the chunk with a clear error instead.
 */
export class ProgressGuard {
  private stalled = 0;
  constructor(
    private readonly what: string,
    private readonly max = MAX_STALLED_PAGES,
  ) {}

  /** Call once per page with whether it moved the stream forward (or ended it). */
  check(advanced: boolean): void {
    if (advanced) {
      this.stalled = 0;
      return;
    }
    this.stalled++;
    if (this.stalled >= this.max) throw new ZendeskStalledExportError(this.what, this.stalled);
  }
}
