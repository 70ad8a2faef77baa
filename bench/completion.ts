/**
 * How the big-account scenario learns that a part of the first sync is complete, from the product's own
 * records — the one place to adapt when the product's completeness contract settles (issue 16: "/users
 * and /utilization say how complete they are").
 *
 * Today it reads the `integration_streams` table (migration 20261206T090000_seat_holders_first), one small
 * query per poll:
 * - `seat_holders.completed_at` set: the seat holders are listed and the unlisted ones looked up. The
 *   scenario takes that as "the seat report is complete" and then checks it: the non-deleted agents and
 *   admins in `zendesk_users` must be exactly the sandbox's seat holders. If the seat report should also
 *   wait for the entitlements of light agents and contributors, or for a utilization snapshot, change
 *   `seatReportComplete` (e.g. to `GET /v1/integrations/:id/utilization` and its completeness field).
 * - `ticket_events.progress.coveredSince` (epoch s, "the oldest instant covered without gaps up to now"):
 *   the activity is complete for N days once coveredSince ≤ (sync start − N days).
 * - `end_users.completed_at`: the end-user stream is done (not a milestone of its own: "everything" is the
 *   first finished `sync_runs` row of the integration, as in the other scenarios).
 * Each milestone is observed when a poll sees it, so it is late by up to one poll interval.
 */
import { sql } from 'kysely';
import type { Harness } from './harness';

export interface Completion {
  /** When the seat report became complete (the product's own clock), or null. */
  seatReportAt: Date | null;
  /** Days of activity complete back from the sync's start (0: none yet), and when that was written. */
  activityCompleteDays: number;
  activityWrittenAt: Date | null;
  endUsersAt: Date | null;
}

interface StreamRow {
  stream: string;
  completed_at: Date | null;
  progress: { coveredSince?: number } | null;
  updated_at: Date;
}

export async function readCompletion(h: Harness, integrationId: string, syncStartedAtMs: number): Promise<Completion> {
  const rows = (
    await sql<StreamRow>`select stream, completed_at, progress, updated_at from integration_streams where integration_id = ${integrationId}`.execute(h.db)
  ).rows;
  const row = (name: string) => rows.find((r) => r.stream === name);
  const coveredSince = row('ticket_events')?.progress?.coveredSince;
  const days = typeof coveredSince === 'number' ? Math.max(0, (syncStartedAtMs / 1000 - coveredSince) / 86_400) : 0;
  // A completed_at from before this sync would be an earlier sync's (the first sync has none).
  const thisSync = (d: Date | null | undefined) => (d && d.getTime() >= syncStartedAtMs - 1000 ? d : null);
  return {
    seatReportAt: thisSync(row('seat_holders')?.completed_at),
    activityCompleteDays: days,
    // The row's updated_at is when that coverage was written (or a later write: at most one chunk late).
    activityWrittenAt: row('ticket_events')?.updated_at ?? null,
    endUsersAt: thisSync(row('end_users')?.completed_at),
  };
}

/** The non-deleted agents and admins the product stored for the integration (to check a seat report is exact). */
export async function storedSeatHolderIds(h: Harness, integrationId: string): Promise<number[]> {
  const rows = await h.db
    .selectFrom('zendesk_users')
    .select('id')
    .where('integration_id', '=', integrationId)
    .where('role', 'in', ['agent', 'admin'])
    .where((eb) => eb.or([eb('deleted', '=', false), eb('deleted', 'is', null)]))
    .orderBy('id')
    .execute();
  return rows.map((r) => Number(r.id));
}

/** Distinct events stored with a time in [fromSec, toSec] (to check a "complete for 30 days" claim). */
export async function storedEventsBetween(h: Harness, integrationId: string, fromSec: number, toSec: number): Promise<number> {
  const row = await h.db
    .selectFrom('ticket_events')
    .select(sql<number>`count(distinct event_id)`.as('n'))
    .where('integration_id', '=', integrationId)
    .where('occurred_at', '>=', new Date(fromSec * 1000))
    .where('occurred_at', '<=', new Date(toSec * 1000))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
