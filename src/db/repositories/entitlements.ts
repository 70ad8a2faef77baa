import { sql } from 'kysely';
import type { EntitlementSeat } from '../../zendesk/entitlements';
import type { Db } from '../database';

/** Light agents and contributors are read again at least this often (role changes may not move updated_at). */
const ENTITLEMENTS_MAX_AGE_DAYS = 7;

export interface DueEntitlementCheck {
  id: number;
  updatedAt: Date | null;
}

/**
 * The light agents and contributors (not deleted) whose entitlements were never read, whose user record
 * changed since, or whose last reading is older than ENTITLEMENTS_MAX_AGE_DAYS; by id, leaving out
 * `excludeIds` (those a chunk postponed).
 */
export async function dueEntitlementChecks(db: Db, integrationId: string, limit: number, excludeIds: number[] = []): Promise<DueEntitlementCheck[]> {
  let query = db
    .selectFrom('zendesk_users')
    .select(['id', 'updated_at'])
    .where('integration_id', '=', integrationId)
    .where('role', 'in', ['agent', 'admin'])
    .where('role_type', 'in', [1, 3])
    .where('deleted', 'is not', true)
    .where((eb) =>
      eb.or([
        eb('entitlements_checked_at', 'is', null),
        eb('entitlements_user_updated_at', 'is distinct from', eb.ref('updated_at')),
        eb('entitlements_checked_at', '<', sql<Date>`now() - make_interval(days => ${ENTITLEMENTS_MAX_AGE_DAYS})`),
      ]),
    )
    .orderBy('id')
    .limit(limit);
  if (excludeIds.length > 0) query = query.where('id', 'not in', excludeIds);
  const rows = await query.execute();
  return rows.map((r) => ({ id: r.id, updatedAt: r.updated_at }));
}

export interface EntitlementsReading {
  /** Zendesk's answer as sent; null when the user is gone (404). */
  entitlements: unknown;
  seat: EntitlementSeat | null;
  reason: string | null;
  /** The user's `updated_at` when the check was chosen. */
  userUpdatedAt: Date | null;
}

export async function saveEntitlements(db: Db, integrationId: string, userId: number, reading: EntitlementsReading): Promise<void> {
  await db
    .updateTable('zendesk_users')
    .set({
      entitlements: reading.entitlements === null ? null : JSON.stringify(reading.entitlements),
      entitlement_seat: reading.seat,
      entitlement_reason: reading.reason,
      entitlements_checked_at: sql<Date>`now()`,
      entitlements_user_updated_at: reading.userUpdatedAt,
    })
    .where('integration_id', '=', integrationId)
    .where('id', '=', userId)
    .execute();
}

/** Whether the account lets the worker read entitlements (see IntegrationsTable.entitlements_status). */
export async function setEntitlementsStatus(db: Db, integrationId: string, status: 'available' | 'forbidden'): Promise<void> {
  await db
    .updateTable('integrations')
    .set({ entitlements_status: status })
    .where('id', '=', integrationId)
    .where('entitlements_status', 'is distinct from', status)
    .execute();
}
