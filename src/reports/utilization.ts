import { sql } from 'kysely';
import { inTransaction, type Db } from '../db/database';
import { ROLE_TYPE_NAMES, roleTypeName, type ActivityWindow, type RoleTypeName, type Seat, type Usage } from './model';
import { seatReasonSql, seatSql, usageSql } from './userQuery';

/**
 * The license-utilization summary of one integration, over its agents and admins that are not deleted
 * (end users and deleted users hold no seat):
 * - paidSeats: suspended paid seats count as suspended only, whatever their activity (a suspended agent
 *   keeps its paid seat until downgraded to end user); the others as active or inactive.
 *   total = active + inactive + suspended.
 * - freeSeats (light agents, contributors): by activity only; total = active + inactive.
 * - byRoleType: every role type (and `none`), same rule as paid seats: total = active + inactive + suspended.
 * - reclaimable: how many paid seats are suspended (reason "suspended", even if active) or inactive:
 *   count = paidSeats.suspended + paidSeats.inactive; the seats themselves are listed page by page by
 *   reclaimable.ts (`GET …/reclaimable`), so a 10,000-agent account's report stays small.
 * - unknownSeats: users not known to be deleted or end users whose seat cannot be told (seatSql's
 *   `unknown`: Zendesk left out the role, `active` or `suspended`, or sent undocumented values), by reason.
 *   They are in no other figure.
 * All figures come from one repeatable-read snapshot, so they add up even while a sync writes.
 */

interface SeatSplit {
  total: number;
  active: number;
  inactive: number;
  suspended: number;
}

type RoleTypeKey = RoleTypeName | 'none' | 'unknown';

export interface UtilizationView {
  asOf: string;
  inactiveDays: number;
  lastSyncedAt: string | null;
  paidSeats: SeatSplit;
  freeSeats: Omit<SeatSplit, 'suspended'>;
  byRoleType: Record<RoleTypeKey, SeatSplit>;
  unknownSeats: { total: number; byReason: Record<string, number> };
  reclaimable: { count: number; suspended: number; inactive: number };
}

const emptySplit = (): SeatSplit => ({ total: 0, active: 0, inactive: 0, suspended: 0 });

/** In one snapshot of the database: its own repeatable-read transaction, or the caller's (a snapshot stored with its run). */
export async function utilizationReport(db: Db, integrationId: string, window: ActivityWindow): Promise<UtilizationView> {
  const compute = async (trx: Db): Promise<UtilizationView> => {
    // Everyone not known to be deleted or an end user: agents, admins, and users whose role is unknown.
    const { rows: groups } = await sql<{ role_type: number | null; seat: Seat; seat_reason: string; suspended: boolean | null; usage: Usage; n: number }>`
      SELECT u.role_type, ${seatSql} AS seat, ${seatReasonSql} AS seat_reason, u.suspended, ${usageSql(window)} AS usage, count(*) AS n
        FROM zendesk_users u
        LEFT JOIN zendesk_user_activity a ON a.integration_id = u.integration_id AND a.user_id = u.id
       WHERE u.integration_id = ${integrationId}::uuid AND u.deleted IS NOT TRUE AND u.role IS DISTINCT FROM 'end-user'
       GROUP BY 1, 2, 3, 4, 5`.execute(trx);

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
    const byRoleType = Object.fromEntries([...ROLE_TYPE_NAMES, 'none', 'unknown'].map((k) => [k, emptySplit()])) as UtilizationView['byRoleType'];
    const unknownSeats: UtilizationView['unknownSeats'] = { total: 0, byReason: {} };
    for (const g of groups) {
      if (g.seat === 'unknown') {
        unknownSeats.total += g.n;
        unknownSeats.byReason[g.seat_reason] = (unknownSeats.byReason[g.seat_reason] ?? 0) + g.n;
        continue;
      }
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
      unknownSeats,
      // The list itself is paginated: GET …/reclaimable (reclaimable.ts).
      reclaimable: { count: paidSeats.suspended + paidSeats.inactive, suspended: paidSeats.suspended, inactive: paidSeats.inactive },
    };
  };
  return inTransaction(db, compute, 'repeatable read');
}
