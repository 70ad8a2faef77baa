import { sql, type RawBuilder, type Selectable, type SqlBool } from 'kysely';
import type { Db } from '../db/database';
import type { ZendeskUsersTable } from '../db/tables';
import type { CursorPosition } from './cursor';
import type { ZendeskUserActivityTable } from './tables';
import {
  FREE_ROLE_TYPE_CODES,
  ROLE_TYPE_NAMES,
  ROLES,
  TICKET_RESTRICTIONS,
  roleTypeCode,
  windowStart,
  type ActivityWindow,
  type Seat,
  type Sort,
  type Usage,
  type UserFilters,
} from './model';

/**
 * The SQL of `/users` and `/users.csv`, built as composable Kysely `sql` fragments over
 * `zendesk_users u LEFT JOIN zendesk_user_activity a` (a = the user's newest ticket event, kept by
 * triggers). Every derived field (seat, usage, lastActivityAt) has exactly one SQL definition here,
 * used both to filter and to answer, so what a filter selects is what the rows say.
 *
 * Sorts and their total orders (ties broken by id, in the sort's direction):
 * - name: byte order of the UTF-8 name (`COLLATE "C"`; a missing name as ''), index `zendesk_users_sort_name`;
 * - createdAt: missing dates last in both directions, indexes `zendesk_users_sort_created_asc/desc`;
 * - lastLoginAt, lastActivityAt: users without a date come last in both directions (the key is the
 *   date or ±infinity); lastLoginAt uses `zendesk_users_sort_login_asc/desc`;
 * - ticketInteractions: the windowed count, computed for every filtered user (the only sort that has
 *   to: one index range scan of `ticket_events_user_time` per user).
 * Pages are keyset pages: `(key, id) > (cursor key, cursor id)` (or `<` descending), so rows written
 * by a sync between two pages never shift the others.
 */

const TIMESTAMP_TEXT = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/** `a` is `zendesk_user_activity`; GREATEST ignores NULLs, so this is NULL only when both are. */
export const lastActivitySql = sql<Date | null>`GREATEST(u.last_login_at, a.last_event_at)`;

const FREE_CODES = sql.join(FREE_ROLE_TYPE_CODES.map((c) => sql.lit(c)));
const KNOWN_ROLE_TYPE_MAX = sql.lit(ROLE_TYPE_NAMES.length - 1);
const STAFF = sql`u.role IN ('agent', 'admin')`;

/**
 * The seat, from what Zendesk said (null columns are unknowns, never defaults):
 * - `none`: deleted users, end users;
 * - `unknown`: no or an undocumented role, activity or suspension unknown, an undocumented role type, or
 *   a light agent / contributor whose entitlements hold a role name Zendesk does not document;
 * - `free`: light agents and contributors, unless their entitlements give them a seat-requiring role in
 *   another product (then `paid`); never read entitlements fall back to `free` (Zendesk's Support rule);
 * - `paid`: every other agent or admin, suspended ones included.
 */
export const seatSql = sql<Seat>`(CASE
  WHEN u.deleted THEN 'none'
  WHEN u.role = 'end-user' THEN 'none'
  WHEN u.role IS NULL OR NOT ${STAFF} OR u.deleted IS NULL OR u.suspended IS NULL THEN 'unknown'
  WHEN u.role_type IN (${FREE_CODES}) THEN COALESCE(u.entitlement_seat, 'free')
  WHEN u.role_type NOT BETWEEN 0 AND ${KNOWN_ROLE_TYPE_MAX} THEN 'unknown'
  ELSE 'paid' END)`;

/** Why the seat is what it is, in words (the same cases as seatSql, in the same order). */
export const seatReasonSql = sql<string>`(CASE
  WHEN u.deleted THEN 'deleted user'
  WHEN u.role = 'end-user' THEN 'end user'
  WHEN u.role IS NULL THEN 'Zendesk did not send the role'
  WHEN NOT ${STAFF} THEN 'role not documented by Zendesk'
  WHEN u.deleted IS NULL THEN 'Zendesk did not say whether the user is active'
  WHEN u.suspended IS NULL THEN 'Zendesk did not say whether the user is suspended'
  WHEN u.role_type IN (${FREE_CODES}) THEN
    (CASE u.role_type WHEN 1 THEN 'light agent' ELSE 'contributor' END)
    || (CASE WHEN u.entitlement_reason IS NULL THEN '' ELSE ' with ' || u.entitlement_reason END)
  WHEN u.role_type NOT BETWEEN 0 AND ${KNOWN_ROLE_TYPE_MAX} THEN 'role type not documented by Zendesk'
  ELSE (CASE WHEN u.suspended THEN 'suspended ' ELSE '' END) || (CASE u.role_type
    WHEN 0 THEN 'agent with a custom role' WHEN 2 THEN 'chat agent' WHEN 4 THEN 'admin' WHEN 5 THEN 'billing admin'
    ELSE u.role END) END)`;

export function isActiveSql(window: ActivityWindow): RawBuilder<SqlBool> {
  return sql<SqlBool>`COALESCE(GREATEST(u.last_login_at, a.last_event_at) >= ${windowStart(window)}::timestamptz, false)`;
}

export function usageSql(window: ActivityWindow): RawBuilder<Usage> {
  return sql<Usage>`(CASE WHEN ${isActiveSql(window)} THEN 'active' ELSE 'inactive' END)`;
}

/** Ticket events of user `userRef` inside the window (counted once each: event_id is the key). */
function windowCountSql(integrationId: string, window: ActivityWindow, userRef: RawBuilder<unknown>): RawBuilder<number> {
  return sql<number>`(SELECT count(*) FROM ticket_events e
    WHERE e.integration_id = ${integrationId}::uuid AND e.user_id = ${userRef}
      AND e.occurred_at >= ${windowStart(window)}::timestamptz AND e.occurred_at <= ${window.asOf}::timestamptz)`;
}

const FROM_USERS = sql`zendesk_users u LEFT JOIN zendesk_user_activity a ON a.integration_id = u.integration_id AND a.user_id = u.id`;

export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

const BOOLEAN_COLUMNS = {
  canReportCsv: 'report_csv',
  chatOnly: 'chat_only',
  moderator: 'moderator',
  restrictedAgent: 'restricted_agent',
  shared: 'shared',
  sharedAgent: 'shared_agent',
  suspended: 'suspended',
  twoFactorAuthEnabled: 'two_factor_auth_enabled',
  verified: 'verified',
} as const satisfies Partial<Record<keyof UserFilters, string>>;

/** "x IN (values) OR x IS NULL" when `none` is one of the values. */
function inListOrNull(column: string, values: Array<string | number>, includeNull: boolean): RawBuilder<SqlBool> {
  const parts: RawBuilder<SqlBool>[] = [];
  if (values.length > 0) parts.push(sql<SqlBool>`${sql.ref(column)} IN (${sql.join(values)})`);
  if (includeNull) parts.push(sql<SqlBool>`${sql.ref(column)} IS NULL`);
  if (parts.length === 0) return sql<SqlBool>`false`;
  return sql<SqlBool>`(${sql.join(parts, sql` OR `)})`;
}

/** The WHERE conditions of a filtered listing (always scoped to the integration). */
function filterConditions(integrationId: string, filters: UserFilters, window: ActivityWindow): RawBuilder<SqlBool>[] {
  const where: RawBuilder<SqlBool>[] = [sql<SqlBool>`u.integration_id = ${integrationId}::uuid`];
  // Only users known to be deleted are left out: an unknown `active` is shown.
  if (!filters.includeDeleted) where.push(sql<SqlBool>`u.deleted IS NOT TRUE`);
  if (filters.role) {
    const roles = filters.role.filter((r) => r !== 'unknown');
    const parts: RawBuilder<SqlBool>[] = [];
    if (roles.length > 0) parts.push(sql<SqlBool>`u.role IN (${sql.join(roles)})`);
    if (filters.role.includes('unknown')) parts.push(sql<SqlBool>`(u.role IS NULL OR u.role NOT IN (${sql.join([...ROLES])}))`);
    where.push(sql<SqlBool>`(${sql.join(parts, sql` OR `)})`);
  }
  if (filters.roleType) {
    const codes = filters.roleType.flatMap((t) => (t === 'none' || t === 'unknown' ? [] : [roleTypeCode(t)]));
    const parts: RawBuilder<SqlBool>[] = [];
    if (codes.length > 0) parts.push(sql<SqlBool>`u.role_type IN (${sql.join(codes)})`);
    if (filters.roleType.includes('none')) parts.push(sql<SqlBool>`u.role_type IS NULL`);
    if (filters.roleType.includes('unknown')) parts.push(sql<SqlBool>`u.role_type NOT BETWEEN 0 AND ${KNOWN_ROLE_TYPE_MAX}`);
    where.push(sql<SqlBool>`(${sql.join(parts, sql` OR `)})`);
  }
  for (const [param, column] of Object.entries(BOOLEAN_COLUMNS) as Array<[keyof typeof BOOLEAN_COLUMNS, string]>) {
    const value = filters[param];
    // Strict equality: a null (twoFactorAuthEnabled that Zendesk leaves unset) matches neither true nor false.
    if (value !== undefined) where.push(sql<SqlBool>`${sql.ref(`u.${column}`)} = ${value}`);
  }
  if (filters.ticketRestriction) {
    const values = filters.ticketRestriction.filter((t) => t !== 'none' && t !== 'unknown');
    const parts: RawBuilder<SqlBool>[] = [inListOrNull('u.ticket_restriction', values, filters.ticketRestriction.includes('none'))];
    if (filters.ticketRestriction.includes('unknown')) parts.push(sql<SqlBool>`u.ticket_restriction NOT IN (${sql.join([...TICKET_RESTRICTIONS])})`);
    where.push(sql<SqlBool>`(${sql.join(parts, sql` OR `)})`);
  }
  if (filters.createdAfter) where.push(sql<SqlBool>`u.created_at >= ${filters.createdAfter}::timestamptz`);
  if (filters.createdBefore) where.push(sql<SqlBool>`u.created_at < ${filters.createdBefore}::timestamptz`);
  if (filters.seat) where.push(sql<SqlBool>`${seatSql} IN (${sql.join(filters.seat)})`);
  if (filters.usage && filters.usage.length === 1) {
    where.push(filters.usage[0] === 'active' ? isActiveSql(window) : sql<SqlBool>`NOT ${isActiveSql(window)}`);
  }
  if (filters.q !== undefined && filters.q !== '') {
    const pattern = `%${escapeLike(filters.q)}%`;
    where.push(sql<SqlBool>`(u.name ILIKE ${pattern} OR u.email ILIKE ${pattern})`);
  }
  return where;
}

const and = (conditions: RawBuilder<SqlBool>[]) => sql.join(conditions, sql` AND `);

export async function countUsers(db: Db, integrationId: string, filters: UserFilters, window: ActivityWindow): Promise<number> {
  const { rows } = await sql<{
    total: number;
  }>`SELECT count(*) AS total FROM ${FROM_USERS} WHERE ${and(filterConditions(integrationId, filters, window))}`.execute(db);
  return rows[0]?.total ?? 0;
}

/** The stored user columns a report row carries (every contract field), in SELECT order. */
const USER_COLUMNS = [
  'id',
  'name',
  'email',
  'created_at',
  'last_login_at',
  'role',
  'role_type',
  'report_csv',
  'chat_only',
  'moderator',
  'restricted_agent',
  'shared',
  'shared_agent',
  'suspended',
  'ticket_restriction',
  'two_factor_auth_enabled',
  'verified',
  'deleted',
] as const satisfies ReadonlyArray<keyof ZendeskUsersTable>;

/** One row of the report: the stored user plus what the report derives from it. */
export type UserReportRow = Pick<Selectable<ZendeskUsersTable>, (typeof USER_COLUMNS)[number]> & {
  /** The user's newest ticket event (`zendesk_user_activity`); null without any. */
  last_event_at: Selectable<ZendeskUserActivityTable>['last_event_at'] | null;
  last_activity_at: Date | null;
  seat: Seat;
  seat_reason: string;
  usage: Usage;
  ticket_interactions: number;
  cursor_key: string | number;
};

interface SortSql {
  /** The ORDER BY expression (also the keyset key). */
  key: RawBuilder<unknown>;
  /** How the cursor value is cast back to the key's type. */
  cast: (value: string | number) => RawBuilder<unknown>;
  /** The key as the cursor stores it (exact: timestamps as UTC text with microseconds). */
  cursorKey: RawBuilder<string | number>;
}

function timestampKey(expression: RawBuilder<unknown>): Pick<SortSql, 'cast' | 'cursorKey'> {
  return {
    cast: (value) => sql`${value}::timestamptz`,
    cursorKey: sql<string>`(CASE WHEN isfinite(${expression}) THEN to_char(${expression} AT TIME ZONE 'UTC', ${sql.raw(TIMESTAMP_TEXT)}) ELSE (${expression})::text END)`,
  };
}

function sortSql(sort: Sort): SortSql {
  // Missing dates sort last whichever the direction.
  const missing = sql.raw(sort.desc ? `'-infinity'::timestamptz` : `'infinity'::timestamptz`);
  switch (sort.field) {
    case 'name': {
      // A missing name sorts as the empty string (first ascending): index zendesk_users_sort_name.
      const key = sql`(COALESCE(u.name, '') COLLATE "C")`;
      return { key, cast: (value) => sql`${value}::text`, cursorKey: sql<string>`COALESCE(u.name, '')` };
    }
    case 'createdAt': {
      const key = sql`COALESCE(u.created_at, ${missing})`;
      return { key, ...timestampKey(key) };
    }
    case 'lastLoginAt': {
      const key = sql`COALESCE(u.last_login_at, ${missing})`;
      return { key, ...timestampKey(key) };
    }
    case 'lastActivityAt': {
      const key = sql`COALESCE(${lastActivitySql}, ${missing})`;
      return { key, ...timestampKey(key) };
    }
    case 'ticketInteractions': {
      const key = sql`w.c`;
      return { key, cast: (value) => sql`${value}::int8`, cursorKey: sql<number>`w.c` };
    }
  }
}

export interface PageRequest {
  integrationId: string;
  filters: UserFilters;
  sort: Sort;
  window: ActivityWindow;
  limit: number;
  /** Rows strictly after this position (in the sort's order). */
  after?: CursorPosition;
}

export interface Page {
  rows: UserReportRow[];
  /** Where the next page starts; absent on the last page. */
  next?: CursorPosition;
}

/** A listing without paging: every filtered user, in the sort's order. */
export type ListingRequest = Omit<PageRequest, 'limit' | 'after'>;

/** The timestamps of a listing row, as the API writes them (ISO-8601 UTC with milliseconds), made by PostgreSQL. */
type TimestampColumn = 'created_at' | 'last_login_at' | 'last_event_at' | 'last_activity_at';
export type ListingRow = Omit<UserReportRow, 'cursor_key' | TimestampColumn> & { [K in TimestampColumn]: string | null };

/** `Date.prototype.toISOString`'s format; both truncate microseconds to milliseconds. */
const ISO_TEXT = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const isoText = (expression: RawBuilder<unknown>) => sql<string | null>`to_char((${expression}) AT TIME ZONE 'UTC', ${sql.raw(ISO_TEXT)})`;

/**
 * The whole listing as one query, for users.csv: the same filters, derived fields and total order as the
 * pages of `/users`, read once through a server-side cursor (src/api/csvExport.ts). Every sort costs one
 * pass — `ticketInteractions` counts each user's window once and sorts once; the others read their index in
 * order (or sort once) and count each row's window as it goes — where paging re-ran the query for each
 * 1,000 rows (quadratic for `ticketInteractions`, which must count every user for every page). Timestamps
 * come as ISO text (PostgreSQL formats them in C; parsing 400,000 of them into Dates to format them back was
 * a fifth of an export's time in Node).
 */
export function listingSql(req: ListingRequest): RawBuilder<ListingRow> {
  const { integrationId, filters, sort, window } = req;
  const s = sortSql(sort);
  const dir = sql.raw(sort.desc ? 'DESC' : 'ASC');
  const byInteractions = sort.field === 'ticketInteractions';
  const windowJoin = byInteractions ? sql`CROSS JOIN LATERAL ${windowCountSql(integrationId, window, sql`u.id`)} AS w(c)` : sql``;
  const interactions = byInteractions ? sql`w.c` : windowCountSql(integrationId, window, sql`u.id`);
  const columns = USER_COLUMNS.map((c) =>
    c === 'created_at' || c === 'last_login_at' ? sql`${isoText(sql.ref(`u.${c}`))} AS ${sql.ref(c)}` : sql.ref(`u.${c}`),
  );
  return sql<ListingRow>`
    SELECT ${sql.join(columns)}, ${isoText(sql`a.last_event_at`)} AS last_event_at, ${isoText(lastActivitySql)} AS last_activity_at, ${seatSql} AS seat,
           ${seatReasonSql} AS seat_reason, ${usageSql(window)} AS usage, ${interactions} AS ticket_interactions
      FROM ${FROM_USERS} ${windowJoin}
     WHERE ${and(filterConditions(integrationId, filters, window))}
     ORDER BY ${s.key} ${dir}, u.id ${dir}`;
}

/** One keyset page: at most `limit` rows after `after`. */
export async function findUserPage(db: Db, req: PageRequest): Promise<Page> {
  const { integrationId, filters, sort, window, limit, after } = req;
  const s = sortSql(sort);
  const dir = sql.raw(sort.desc ? 'DESC' : 'ASC');
  const where = filterConditions(integrationId, filters, window);
  if (after) where.push(sql<SqlBool>`(${s.key}, u.id) ${sql.raw(sort.desc ? '<' : '>')} (${s.cast(after.key)}, ${after.id}::int8)`);
  const byInteractions = sort.field === 'ticketInteractions';
  // Only this sort needs every filtered user's windowed count; other sorts count for their page's rows
  // only. A per-user LATERAL count (an index range scan of ticket_events_user_time each) rather than
  // one aggregate joined by hash: its plan cannot degrade when statistics are stale after a big sync.
  const windowJoin = byInteractions ? sql`CROSS JOIN LATERAL ${windowCountSql(integrationId, window, sql`u.id`)} AS w(c)` : sql``;
  const interactions = byInteractions ? sql`p.window_count` : windowCountSql(integrationId, window, sql`p.id`);

  const { rows } = await sql<UserReportRow>`
    SELECT ${sql.join(USER_COLUMNS.map((c) => sql.ref(`p.${c}`)))}, p.last_event_at, p.last_activity_at, p.seat, p.seat_reason, p.usage,
           ${interactions} AS ticket_interactions, p.cursor_key
      FROM (
        SELECT u.*, a.last_event_at, ${lastActivitySql} AS last_activity_at, ${seatSql} AS seat, ${seatReasonSql} AS seat_reason, ${usageSql(window)} AS usage,
               ${s.key} AS sort_key, ${s.cursorKey} AS cursor_key
               ${byInteractions ? sql`, w.c AS window_count` : sql``}
          FROM ${FROM_USERS} ${windowJoin}
         WHERE ${and(where)}
         ORDER BY ${s.key} ${dir}, u.id ${dir}
         LIMIT ${limit + 1}
      ) p
     ORDER BY p.sort_key ${dir}, p.id ${dir}`.execute(db);

  if (rows.length <= limit) return { rows };
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return last ? { rows: page, next: { key: last.cursor_key, id: last.id } } : { rows: page };
}
