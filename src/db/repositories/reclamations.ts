import { sql } from 'kysely';
import type { PlanEntry, PlanUser } from '../../reclaim/plan';
import type { ActivityWindow, Seat } from '../../reports/model';
import { isActiveSql, lastActivitySql, seatReasonSql, seatSql } from '../../reports/userQuery';
import type { Db } from '../database';
import type { ReclaimAction, ReclamationStatus, ReclamationUserState, SeatSnapshot } from '../tables';

/** Reclamations, their users and their snapshots (migration 20261208T090000; src/reclaim/). */

const FROM = sql`zendesk_users u LEFT JOIN zendesk_user_activity a ON a.integration_id = u.integration_id AND a.user_id = u.id`;

/**
 * The synced users a plan considers: the given ids, or every paid seat that is suspended or inactive in the
 * window (`reasons` narrows it to one of the two).
 */
export async function planUsers(
  db: Db,
  integrationId: string,
  selection: { ids: number[] } | { reasons: Array<'suspended' | 'inactive'>; window: ActivityWindow },
): Promise<PlanUser[]> {
  const where =
    'ids' in selection
      ? sql`u.id = ANY(${selection.ids.map(String)}::int8[])`
      : sql`u.deleted IS NOT TRUE AND ${seatSql} = 'paid' AND (
          ${selection.reasons.includes('suspended') ? sql`u.suspended` : sql`false`}
          OR ${selection.reasons.includes('inactive') ? sql`(u.suspended IS NOT TRUE AND NOT ${isActiveSql(selection.window)})` : sql`false`})`;
  const { rows } = await sql<{
    id: string;
    email: string | null;
    role: string | null;
    role_type: number | null;
    suspended: boolean | null;
    shared: boolean | null;
    shared_agent: boolean | null;
    deleted: boolean | null;
    created_at: Date | null;
    last_login_at: Date | null;
    last_activity_at: Date | null;
    seat: Seat;
    seat_reason: string;
    entitlement_seat: 'paid' | 'free' | 'unknown' | null;
  }>`SELECT u.id, u.email, u.role, u.role_type, u.suspended, u.shared, u.shared_agent, u.deleted, u.created_at, u.last_login_at,
            ${lastActivitySql} AS last_activity_at, ${seatSql} AS seat, ${seatReasonSql} AS seat_reason, u.entitlement_seat
       FROM ${FROM}
      WHERE u.integration_id = ${integrationId}::uuid AND ${where}
      ORDER BY u.id
      LIMIT 100001`.execute(db);
  return rows.map((r) => ({
    id: Number(r.id),
    email: r.email,
    role: r.role,
    roleType: r.role_type,
    suspended: r.suspended,
    shared: r.shared,
    sharedAgent: r.shared_agent,
    deleted: r.deleted,
    createdAt: r.created_at,
    lastLoginAt: r.last_login_at,
    lastActivityAt: r.last_activity_at,
    seat: r.seat,
    seatReason: r.seat_reason,
    entitlementSeat: r.entitlement_seat,
  }));
}

/** The account's active, unsuspended admins as last synced. */
export async function activeAdminIds(db: Db, integrationId: string): Promise<number[]> {
  const rows = await db
    .selectFrom('zendesk_users')
    .select('id')
    .where('integration_id', '=', integrationId)
    .where('role', '=', 'admin')
    .where('deleted', 'is not', true)
    .where('suspended', 'is not', true)
    .execute();
  return rows.map((r) => Number(r.id));
}

export interface NewReclamation {
  integrationId: string;
  tenantId: string;
  action: ReclaimAction;
  request: Record<string, unknown>;
  requestedBy: { apiKeyId: string | null; actor: string | null };
  expiresAt: Date;
}

/** Stores a plan: the reclamation and one row per user considered. */
export async function insertReclamation(db: Db, r: NewReclamation, entries: PlanEntry[]): Promise<string> {
  const { id } = await db
    .insertInto('reclamations')
    .values({
      integration_id: r.integrationId,
      tenant_id: r.tenantId,
      action: r.action,
      status: 'awaiting_approval',
      request: JSON.stringify(r.request),
      requested_by: JSON.stringify(r.requestedBy),
      expires_at: r.expiresAt,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  for (let i = 0; i < entries.length; i += 1000) {
    await db
      .insertInto('reclamation_users')
      .values(
        entries.slice(i, i + 1000).map((e) => ({
          reclamation_id: id,
          user_id: e.userId,
          state: e.decision === 'candidate' ? ('planned' as const) : ('excluded' as const),
          reason: e.reason,
          evidence: JSON.stringify(e.evidence ?? {}),
          outcome: e.decision === 'excluded' ? e.detail : null,
        })),
      )
      .execute();
  }
  return id;
}

export async function findReclamation(db: Db, integrationId: string, id: string) {
  return db.selectFrom('reclamations').selectAll().where('integration_id', '=', integrationId).where('id', '=', id).executeTakeFirst();
}

export async function listReclamations(db: Db, integrationId: string, limit: number) {
  return db.selectFrom('reclamations').selectAll().where('integration_id', '=', integrationId).orderBy('created_at', 'desc').limit(limit).execute();
}

export async function reclamationUsers(db: Db, reclamationId: string) {
  return db.selectFrom('reclamation_users').selectAll().where('reclamation_id', '=', reclamationId).orderBy('user_id').execute();
}

export async function reclamationUser(db: Db, reclamationId: string, userId: number) {
  return db.selectFrom('reclamation_users').selectAll().where('reclamation_id', '=', reclamationId).where('user_id', '=', userId).executeTakeFirst();
}

/** Moves a reclamation from one of `from` to `to`; false when it was in another status. */
export async function setReclamationStatus(
  db: Db,
  id: string,
  to: ReclamationStatus,
  from: ReclamationStatus[],
  extra: { decided_at?: Date; completed_at?: Date; undo_until?: Date; notice_until?: Date } = {},
): Promise<boolean> {
  const result = await db
    .updateTable('reclamations')
    .set({ status: to, ...extra })
    .where('id', '=', id)
    .where('status', 'in', from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Moves a user of a reclamation from one of `from` to `to`; false when it was in another state. */
export async function setUserState(
  db: Db,
  reclamationId: string,
  userId: number,
  to: ReclamationUserState,
  from: ReclamationUserState[],
  extra: { outcome?: string | null; snapshot?: SeatSnapshot; changed_at?: Date; restored_at?: Date; kept_until?: Date } = {},
): Promise<boolean> {
  const { snapshot, ...rest } = extra;
  const result = await db
    .updateTable('reclamation_users')
    .set({ state: to, ...rest, ...(snapshot !== undefined ? { snapshot: JSON.stringify(snapshot) } : {}) })
    .where('reclamation_id', '=', reclamationId)
    .where('user_id', '=', userId)
    .where('state', 'in', from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Planned users left out of an approval of some of them (or of a plan that was rejected or expired: none approved). */
export async function markNotApproved(db: Db, reclamationId: string, approvedIds: number[], outcome = 'Not among the users approved.'): Promise<void> {
  await db
    .updateTable('reclamation_users')
    .set({ state: 'not_approved', outcome })
    .where('reclamation_id', '=', reclamationId)
    .where('state', '=', 'planned')
    .where(sql<boolean>`NOT (user_id = ANY(${approvedIds.map(String)}::int8[]))`)
    .execute();
}

/** Users of this integration kept during an earlier notice period whose cooldown has not ended: not proposed again yet. */
export async function keptUserIds(db: Db, integrationId: string, now: Date): Promise<number[]> {
  const rows = await db
    .selectFrom('reclamation_users as ru')
    .innerJoin('reclamations as r', 'r.id', 'ru.reclamation_id')
    .select('ru.user_id')
    .distinct()
    .where('r.integration_id', '=', integrationId)
    .where('ru.kept_until', '>', now)
    .execute();
  return rows.map((r) => Number(r.user_id));
}

/**
 * Tells each person of an approved reclamation in its notice period: an audit event per user and a
 * `reclamation.user_notice` event (webhook_emit, the outbox) per user, in the caller's transaction. The
 * event carries ids only; the platform knows (or reads from /users) whom to tell.
 */
export async function announceUserNotices(
  db: Db,
  r: { id: string; integrationId: string; tenantId: string; action: ReclaimAction },
  userIds: number[],
  noticeUntil: Date,
): Promise<void> {
  if (userIds.length === 0) return;
  await sql`
    SELECT webhook_emit(${r.tenantId}::uuid, 'reclamation.user_notice', jsonb_build_object(
             'integrationId', ${r.integrationId}::text, 'reclamationId', ${r.id}::text, 'action', ${r.action}::text,
             'userId', u.id, 'noticeUntil', ${noticeUntil.toISOString()}::text))
      FROM unnest(${userIds.map(String)}::int8[]) AS u(id)`.execute(db);
}

/** Snapshots end with the undo window: they are only kept to undo. */
export async function dropSnapshots(db: Db, reclamationId: string): Promise<void> {
  await db.updateTable('reclamation_users').set({ snapshot: null }).where('reclamation_id', '=', reclamationId).execute();
}

/**
 * Downgraded users that the last sync shows on a paid seat again (someone upgraded them in Zendesk): marked
 * once, with an audit event `user.reupgraded`. Returns how many were found.
 */
export async function noteReupgrades(db: Db, integrationId: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    WITH hits AS (
      UPDATE reclamation_users ru SET reupgraded_at = now()
        FROM reclamations r, zendesk_users u
       WHERE ru.reclamation_id = r.id AND r.integration_id = ${integrationId}::uuid
         AND ru.state = 'downgraded' AND ru.reupgraded_at IS NULL
         AND u.integration_id = r.integration_id AND u.id = ru.user_id AND u.deleted IS NOT TRUE
         AND u.synced_at > ru.changed_at AND ${seatSql} = 'paid'
      RETURNING ru.reclamation_id, ru.user_id, u.role, u.role_type
    ), audited AS (
      INSERT INTO audit_events (integration_id, reclamation_id, kind, user_id, after)
      SELECT ${integrationId}::uuid, reclamation_id, 'user.reupgraded', user_id, jsonb_build_object('role', role, 'role_type', role_type) FROM hits
      RETURNING 1
    )
    SELECT count(*)::int AS n FROM audited`.execute(db);
  return rows[0]?.n ?? 0;
}
