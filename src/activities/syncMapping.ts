import type { NewZendeskUser } from '../db/tables';
import type { TicketEventRow } from '../db/repositories/ticketEvents';
import type { TicketEvent, ZendeskUserRecord } from '../zendesk/schemas';

/** A Zendesk user object as a `zendesk_users` row: every contract field, deleted = not active. */
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
    deleted: !user.active,
  };
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
  if (!page.end_of_stream && page.end_time <= startTime) return startTime + 1;
  return Math.max(startTime, page.end_time);
}
