import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { CursorPosition } from './cursor';
import type { ActivityWindow } from './model';
import { isActiveSql, lastActivitySql, seatReasonSql, seatSql } from './userQuery';

/**
 * The reclaimable paid seats, page by page (`GET /v1/integrations/{id}/reclaimable`): every paid seat that is
 * suspended (reason "suspended", even if active) or inactive, least recently active first (never active
 * first), then by id. Keyset pages on (last activity or −infinity, id), judged at one `asOf` instant.
 */

export interface ReclaimableRow {
  id: number;
  name: string | null;
  email: string | null;
  reason: 'suspended' | 'inactive';
  seatReason: string;
  lastActivityAt: string | null;
}

const KEY = sql`COALESCE(${lastActivitySql}, '-infinity'::timestamptz)`;
const KEY_TEXT = sql<string>`(CASE WHEN isfinite(${KEY}) THEN to_char(${KEY} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') ELSE '-infinity' END)`;

export async function reclaimablePage(
  db: Db,
  integrationId: string,
  window: ActivityWindow,
  limit: number,
  after?: CursorPosition,
): Promise<{ rows: ReclaimableRow[]; next?: CursorPosition; total: number }> {
  const where = sql`u.integration_id = ${integrationId}::uuid AND u.deleted IS NOT TRUE AND u.role IS DISTINCT FROM 'end-user'
    AND ${seatSql} = 'paid' AND (u.suspended OR NOT ${isActiveSql(window)})`;
  const from = sql`zendesk_users u LEFT JOIN zendesk_user_activity a ON a.integration_id = u.integration_id AND a.user_id = u.id`;
  const seek = after ? sql`AND (${KEY}, u.id) > (${String(after.key)}::timestamptz, ${after.id}::int8)` : sql``;
  const [{ rows }, { rows: counted }] = await Promise.all([
    sql<{
      id: number;
      name: string | null;
      email: string | null;
      reason: 'suspended' | 'inactive';
      seat_reason: string;
      last_activity_at: Date | null;
      k: string;
    }>`
      SELECT u.id, u.name, u.email, CASE WHEN u.suspended THEN 'suspended' ELSE 'inactive' END AS reason,
             ${seatReasonSql} AS seat_reason, ${lastActivitySql} AS last_activity_at, ${KEY_TEXT} AS k
        FROM ${from}
       WHERE ${where} ${seek}
       ORDER BY ${KEY} ASC, u.id ASC
       LIMIT ${limit + 1}`.execute(db),
    sql<{ n: number }>`SELECT count(*)::int AS n FROM ${from} WHERE ${where}`.execute(db),
  ]);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    rows: page.map((r) => ({
      id: r.id,
      name: r.name,
      email: r.email,
      reason: r.reason,
      seatReason: r.seat_reason,
      lastActivityAt: r.last_activity_at ? r.last_activity_at.toISOString() : null,
    })),
    ...(rows.length > limit && last ? { next: { key: last.k, id: last.id } } : {}),
    total: counted[0]?.n ?? 0,
  };
}
