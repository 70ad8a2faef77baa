import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/tables';
import { ROLE_TYPE_NAMES, roleTypeName, type ActivityWindow, type RoleTypeName, type Seat, type Usage } from './model';
import { isActiveSql, lastActivitySql, seatSql, usageSql } from './userQuery';

/**
 * The license-utilization summary of one integration, over its agents and admins that are not deleted
 * (end users and deleted users hold no seat):
 * - paidSeats: suspended paid seats count as suspended only, whatever their activity (a suspended agent
 *   keeps its paid seat until downgraded to end user); the others as active or inactive.
 *   total = active + inactive + suspended.
 * - freeSeats (light agents, contributors): by activity only; total = active + inactive.
 * - byRoleType: every role type (and `none`), same rule as paid seats: total = active + inactive + suspended.
 * - reclaimable: every paid seat that is suspended (reason "suspended", even if active) or inactive,
 *   least recently active first (never active first), then by id; count = paidSeats.suspended + paidSeats.inactive.
 * All figures come from one repeatable-read snapshot, so they add up even while a sync writes.
 */

export interface SeatSplit {
  total: number;
  active: number;
  inactive: number;
  suspended: number;
}

export interface ReclaimableUser {
  id: number;
  name: string;
  email: string | null;
  reason: 'suspended' | 'inactive';
  lastActivityAt: string | null;
}

export interface UtilizationView {
  asOf: string;
  inactiveDays: number;
  lastSyncedAt: string | null;
  paidSeats: SeatSplit;
  freeSeats: Omit<SeatSplit, 'suspended'>;
  byRoleType: Record<RoleTypeName | 'none', SeatSplit>;
  reclaimable: { count: number; users: ReclaimableUser[] };
}

const emptySplit = (): SeatSplit => ({ total: 0, active: 0, inactive: 0, suspended: 0 });

export async function utilizationReport(db: Kysely<Database>, integrationId: string, window: ActivityWindow): Promise<UtilizationView> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      const { rows: groups } = await sql<{ role_type: number | null; seat: Seat; suspended: boolean; usage: Usage; n: number }>`
        SELECT u.role_type, ${seatSql} AS seat, u.suspended, ${usageSql(window)} AS usage, count(*) AS n
          FROM zendesk_users u
          LEFT JOIN zendesk_user_activity a ON a.integration_id = u.integration_id AND a.user_id = u.id
         WHERE u.integration_id = ${integrationId}::uuid AND NOT u.deleted AND u.role <> 'end-user'
         GROUP BY 1, 2, 3, 4`.execute(trx);

      const { rows: reclaimable } = await sql<{ id: number; name: string; email: string | null; reason: 'suspended' | 'inactive'; last_activity_at: Date | null }>`
        SELECT u.id, u.name, u.email, CASE WHEN u.suspended THEN 'suspended' ELSE 'inactive' END AS reason,
               ${lastActivitySql} AS last_activity_at
          FROM zendesk_users u
          LEFT JOIN zendesk_user_activity a ON a.integration_id = u.integration_id AND a.user_id = u.id
         WHERE u.integration_id = ${integrationId}::uuid AND NOT u.deleted AND u.role <> 'end-user'
           AND ${seatSql} = 'paid' AND (u.suspended OR NOT ${isActiveSql(window)})
         ORDER BY ${lastActivitySql} ASC NULLS FIRST, u.id ASC`.execute(trx);

      const lastSync = await trx
        .selectFrom('sync_runs')
        .select('finished_at')
        .where('integration_id', '=', integrationId)
        .where('status', '=', 'succeeded')
        .where('finished_at', 'is not', null)
        .orderBy('finished_at', 'desc')
        .limit(1)
        .executeTakeFirst();

      const paidSeats = emptySplit();
      const freeSeats = { total: 0, active: 0, inactive: 0 };
      const byRoleType = Object.fromEntries([...ROLE_TYPE_NAMES, 'none'].map((k) => [k, emptySplit()])) as UtilizationView['byRoleType'];
      for (const g of groups) {
        const bucket = g.suspended ? 'suspended' : g.usage;
        const roleSplit = byRoleType[roleTypeName(g.role_type) ?? 'none'];
        roleSplit[bucket] += g.n;
        roleSplit.total += g.n;
        if (g.seat === 'paid') {
          paidSeats[bucket] += g.n;
          paidSeats.total += g.n;
        } else if (g.seat === 'free') {
          freeSeats[g.usage] += g.n;
          freeSeats.total += g.n;
        }
      }

      return {
        asOf: window.asOf.toISOString(),
        inactiveDays: window.inactiveDays,
        lastSyncedAt: lastSync?.finished_at ? lastSync.finished_at.toISOString() : null,
        paidSeats,
        freeSeats,
        byRoleType,
        reclaimable: {
          count: reclaimable.length,
          users: reclaimable.map((r) => ({
            id: r.id,
            name: r.name,
            email: r.email,
            reason: r.reason,
            lastActivityAt: r.last_activity_at ? r.last_activity_at.toISOString() : null,
          })),
        },
      };
    });
}
