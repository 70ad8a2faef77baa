import type { Kysely } from 'kysely';
import { toUserRow } from '../../src/activities/syncMapping';
import { insertTicketEvents } from '../../src/db/repositories/ticketEvents';
import { upsertZendeskUsers } from '../../src/db/repositories/zendeskUsers';
import type { Database } from '../../src/db/tables';
import type { SandboxWorkspace, TicketEventSummary, ZendeskUser } from '../../src/sandbox';
import { zendeskUserSchema } from '../../src/zendesk/schemas';
import type { System } from '../helpers/system';

/**
 * Fixtures of the report tests, kept apart from the tests so the real sync can replace them:
 *
 * - `seedLikeSync` stores a sandbox workspace the way a completed first sync does (every user, deleted
 *   ones included; every ticket event since the backfill start, updater as user). When the sync lands,
 *   swap it for `connectAndSync(system, tenant.apiKey, subdomain)`; nothing else changes.
 * - `expectedUsers` and friends compute what the reports must answer from the sandbox's own data, in
 *   plain TypeScript, straight from the contract's definitions. They never call the code under test.
 */

// ------------------------------------------------------------------------------------------ seeding

/**
 * Writes users and ticket events the way the sync does: users through the Zendesk client's schema, the
 * sync's row mapping and its upsert; events through its insert, one statement per page of 1000.
 */
export async function writeLikeSync(db: Kysely<Database>, integrationId: string, users: ZendeskUser[], events: TicketEventSummary[]): Promise<void> {
  await upsertZendeskUsers(
    db,
    users.map((u) => toUserRow(integrationId, zendeskUserSchema.parse(u))),
  );
  for (let i = 0; i < events.length; i += 1000) {
    await insertTicketEvents(
      db,
      events.slice(i, i + 1000).map((e) => ({
        integration_id: integrationId,
        event_id: e.id,
        ticket_id: e.ticket_id,
        user_id: e.updater_id,
        occurred_at: new Date(e.timestamp * 1000),
      })),
    );
  }
}

/** The events a first sync stores: those since the backfill start. */
export function syncedEvents(ws: SandboxWorkspace, backfillDays: number, nowMs = Date.now()): TicketEventSummary[] {
  const start = Math.floor(nowMs / 1000) - backfillDays * 86_400;
  return [...ws.ticketEvents()].filter((e) => e.timestamp >= start);
}

/**
 * Stands in for connect + first sync: a connected integration of the tenant holding the workspace's
 * users and events, and a succeeded sync run. Returns the integration id.
 */
export async function seedLikeSync(system: System, tenant: { id: string; apiKey: string }, subdomain: string): Promise<string> {
  const ws = system.sandbox.workspace(subdomain);
  const { db } = system;
  const integration = await db
    .insertInto('integrations')
    .values({ tenant_id: tenant.id, workspace: subdomain, status: 'connected', error: null, zendesk_user_id: ws.ownerId, connected_at: new Date() })
    .returning('id')
    .executeTakeFirstOrThrow();
  const run = await db
    .insertInto('sync_runs')
    .values({ integration_id: integration.id, workflow_id: `zendesk-sync-${integration.id}-seed`, run_id: 'seed', status: 'running', error: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  await writeLikeSync(db, integration.id, ws.users(), syncedEvents(ws, system.config.activityBackfillDays));
  await db.updateTable('sync_runs').set({ status: 'succeeded', finished_at: new Date() }).where('id', '=', run.id).execute();
  return integration.id;
}

// ------------------------------------------------------------------------------- independent model

export const ROLE_TYPES = ['custom_agent', 'light_agent', 'chat_agent', 'contributor', 'admin', 'billing_admin'] as const;
const ROLE_NAMES = ['end-user', 'agent', 'admin'];
const RESTRICTIONS = ['organization', 'groups', 'assigned', 'requested'];
const DAY = 86_400_000;
/** A field as the API must answer it: itself when Zendesk sent it with the documented type, else null (unknown). */
const str = (v: unknown) => (typeof v === 'string' ? v.replaceAll('\u0000', '') : null);
const bool = (v: unknown) => (typeof v === 'boolean' ? v : null);
const int = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) ? v : null);
const iso = (v: unknown) => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? new Date(v).toISOString() : null);

export interface ExpectedUser {
  id: number;
  name: string | null;
  email: string | null;
  createdAt: string | null;
  lastLoginAt: string | null;
  role: string | null;
  roleRaw: string | null;
  roleType: string | null;
  roleTypeRaw: number | null;
  canReportCsv: boolean | null;
  chatOnly: boolean | null;
  moderator: boolean | null;
  restrictedAgent: boolean | null;
  shared: boolean | null;
  sharedAgent: boolean | null;
  suspended: boolean | null;
  ticketRestriction: string | null;
  ticketRestrictionRaw: string | null;
  twoFactorAuthEnabled: boolean | null;
  verified: boolean | null;
  deleted: boolean | null;
  seat: 'none' | 'free' | 'paid' | 'unknown';
  seatReason: string;
  ticketInteractions: number;
  lastTicketInteractionAt: string | null;
  lastActivityAt: string | null;
  usage: 'active' | 'inactive';
  usageBasis: string;
}

/**
 * The contract's seat and its reason, straight from its definition: end users and deleted users hold none;
 * what decides it (role, active, suspended) missing, or an undocumented role or role type, is unknown;
 * light agents and contributors are free (entitlements, when synced, can make them paid: `paidThrough`).
 */
export function expectedSeat(
  u: { role: string | null; roleTypeRaw: number | null; deleted: boolean | null; suspended: boolean | null },
  paidThrough?: string,
): { seat: ExpectedUser['seat']; seatReason: string } {
  if (u.deleted === true) return { seat: 'none', seatReason: 'deleted user' };
  if (u.role === 'end-user') return { seat: 'none', seatReason: 'end user' };
  if (u.role === null) return { seat: 'unknown', seatReason: 'Zendesk did not send the role' };
  if (u.role !== 'agent' && u.role !== 'admin') return { seat: 'unknown', seatReason: 'role not documented by Zendesk' };
  if (u.deleted === null) return { seat: 'unknown', seatReason: 'Zendesk did not say whether the user is active' };
  if (u.suspended === null) return { seat: 'unknown', seatReason: 'Zendesk did not say whether the user is suspended' };
  const rt = u.roleTypeRaw;
  if (rt === 1 || rt === 3) {
    const what = rt === 1 ? 'light agent' : 'contributor';
    return paidThrough ? { seat: 'paid', seatReason: `${what} with ${paidThrough}` } : { seat: 'free', seatReason: what };
  }
  if (rt !== null && (rt < 0 || rt > 5)) return { seat: 'unknown', seatReason: 'role type not documented by Zendesk' };
  const names: Record<number, string> = { 0: 'agent with a custom role', 2: 'chat agent', 4: 'admin', 5: 'billing admin' };
  return { seat: 'paid', seatReason: `${u.suspended ? 'suspended ' : ''}${rt === null ? u.role : names[rt]}` };
}

/**
 * What a light agent's or contributor's entitlements (the `entitlements` object of Zendesk's answer) make of the seat, by the documented rule (Chat agent,
 * Guide agent or admin, Explore admin or editor take a seat; inactive ones do not count): the words for the
 * first seat-taking role, `unknown` for an active role name Zendesk does not document, else undefined.
 */
export function expectedPaidThrough(entitlements: unknown): string | 'unknown' | undefined {
  const e = (entitlements ?? {}) as Record<string, { name?: string; is_active?: boolean } | undefined>;
  const seatRoles: Array<[string, string, string]> = [
    ['chat', 'agent', 'a Chat agent role'],
    ['chat', 'admin', 'a Chat admin role'],
    ['guide', 'agent', 'a Guide agent role'],
    ['guide', 'admin', 'a Guide admin role'],
    ['explore', 'admin', 'an Explore admin role'],
    ['explore', 'editor', 'an Explore editor role'],
  ];
  const paid = seatRoles.filter(([product, name]) => e[product]?.is_active === true && e[product]?.name === name).map(([, , words]) => words);
  if (paid.length) return paid.join(' and ');
  const documented: Record<string, string[]> = { chat: ['agent', 'admin'], guide: ['agent', 'admin', 'viewer'], explore: ['admin', 'editor', 'viewer'] };
  const odd = Object.entries(documented).some(([product, names]) => e[product]?.is_active === true && !names.includes(e[product]?.name ?? ''));
  return odd ? 'unknown' : undefined;
}

/**
 * Every user as the contract defines the `User` object, judged at `asOf` with `inactiveDays`. `entitlementsOf`
 * gives a user's entitlements as the sandbox serves them, when the workspace was synced with them.
 */
export function expectedUsers(
  users: object[],
  events: TicketEventSummary[],
  asOf: Date,
  inactiveDays: number,
  entitlementsOf?: (id: number) => unknown,
): ExpectedUser[] {
  const byUser = new Map<number, number[]>();
  for (const e of events) {
    const list = byUser.get(e.updater_id) ?? [];
    list.push(e.timestamp * 1000);
    byUser.set(e.updater_id, list);
  }
  const from = asOf.getTime() - inactiveDays * DAY;
  return users.map((json) => {
    const u = json as Record<string, unknown>;
    const id = u.id as number;
    const times = byUser.get(id) ?? [];
    const last = times.length ? Math.max(...times) : null;
    const lastLoginAt = iso(u.last_login_at);
    const login = lastLoginAt === null ? null : Date.parse(lastLoginAt);
    const activity = last === null ? login : login === null ? last : Math.max(last, login);
    const role = str(u.role);
    const roleTypeRaw = int(u.role_type);
    const restriction = str(u.ticket_restriction);
    const deleted = typeof u.active === 'boolean' ? !u.active : null;
    const suspended = bool(u.suspended);
    return {
      id,
      name: str(u.name),
      email: str(u.email),
      createdAt: iso(u.created_at),
      lastLoginAt,
      role: role === null ? null : ROLE_NAMES.includes(role) ? role : 'unknown',
      roleRaw: role,
      roleType: roleTypeRaw === null ? null : (ROLE_TYPES[roleTypeRaw] ?? 'unknown'),
      roleTypeRaw,
      canReportCsv: bool(u.report_csv),
      chatOnly: bool(u.chat_only),
      moderator: bool(u.moderator),
      restrictedAgent: bool(u.restricted_agent),
      shared: bool(u.shared),
      sharedAgent: bool(u.shared_agent),
      suspended,
      ticketRestriction: restriction === null ? null : RESTRICTIONS.includes(restriction) ? restriction : 'unknown',
      ticketRestrictionRaw: restriction,
      twoFactorAuthEnabled: bool(u.two_factor_auth_enabled),
      verified: bool(u.verified),
      deleted,
      ...seatOf({ role, roleTypeRaw, deleted, suspended }, entitlementsOf?.(id)),
      ticketInteractions: times.filter((t) => t >= from && t <= asOf.getTime()).length,
      lastTicketInteractionAt: last === null ? null : new Date(last).toISOString(),
      lastActivityAt: activity === null ? null : new Date(activity).toISOString(),
      usage: activity !== null && activity >= from ? 'active' : 'inactive',
      // The workspace is fully synced: every day of the window has its ticket activity.
      usageBasis: `last sign-in and ticket activity (complete for the last ${inactiveDays} days)`,
    };
  });
}

function seatOf(u: Parameters<typeof expectedSeat>[0], entitlements: unknown): { seat: ExpectedUser['seat']; seatReason: string } {
  const through = u.roleTypeRaw === 1 || u.roleTypeRaw === 3 ? expectedPaidThrough(entitlements) : undefined;
  if (through !== 'unknown') return expectedSeat(u, through);
  const base = expectedSeat(u);
  return base.seat === 'free' ? { seat: 'unknown', seatReason: `${base.seatReason} with an undocumented role` } : base;
}

/** Code-point order of UTF-8 text (what byte order gives). */
export function compareText(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The contract's sorts: ties by id in the same direction, missing dates last in both directions. */
export function sortExpected(users: ExpectedUser[], sort: string): ExpectedUser[] {
  const desc = sort.startsWith('-');
  const field = desc ? sort.slice(1) : sort;
  const sign = desc ? -1 : 1;
  const cmpDate = (a: string | null, b: string | null) => {
    if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1; // nulls last, whatever the direction
    return sign * (Date.parse(a) - Date.parse(b));
  };
  const cmp = (a: ExpectedUser, b: ExpectedUser): number => {
    let c: number;
    switch (field) {
      case 'name':
        c = sign * compareText(a.name ?? '', b.name ?? ''); // a missing name sorts as ''
        break;
      case 'createdAt':
        c = cmpDate(a.createdAt, b.createdAt);
        break;
      case 'lastLoginAt':
        c = cmpDate(a.lastLoginAt, b.lastLoginAt);
        break;
      case 'lastActivityAt':
        c = cmpDate(a.lastActivityAt, b.lastActivityAt);
        break;
      case 'ticketInteractions':
        c = sign * (a.ticketInteractions - b.ticketInteractions);
        break;
      default:
        throw new Error(`unknown sort ${sort}`);
    }
    return c || sign * (a.id - b.id);
  };
  return [...users].sort(cmp);
}

export interface ExpectedSplit {
  total: number;
  active: number;
  inactive: number;
  suspended: number;
}

/** The contract's `Utilization`, from the expected users. */
export function expectedUtilization(users: ExpectedUser[]) {
  const split = (): ExpectedSplit => ({ total: 0, active: 0, inactive: 0, suspended: 0 });
  const paidSeats = split();
  const freeSeats = { total: 0, active: 0, inactive: 0 };
  const byRoleType: Record<string, ExpectedSplit> = Object.fromEntries([...ROLE_TYPES, 'none', 'unknown'].map((k) => [k, split()]));
  const unknownSeats = { total: 0, byReason: {} as Record<string, number> };
  const reclaimable: Array<{ id: number; name: string | null; email: string | null; reason: string; seatReason: string; lastActivityAt: string | null }> = [];
  for (const u of users) {
    if (u.deleted === true || u.role === 'end-user') continue;
    if (u.seat === 'unknown') {
      unknownSeats.total++;
      unknownSeats.byReason[u.seatReason] = (unknownSeats.byReason[u.seatReason] ?? 0) + 1;
      continue;
    }
    const bucket = u.suspended ? 'suspended' : u.usage;
    const r = byRoleType[u.roleType ?? 'none'];
    r!.total++;
    r![bucket]++;
    if (u.seat === 'paid') {
      paidSeats.total++;
      paidSeats[bucket]++;
      if (bucket !== 'active')
        reclaimable.push({ id: u.id, name: u.name, email: u.email, reason: bucket, seatReason: u.seatReason, lastActivityAt: u.lastActivityAt });
    } else if (u.seat === 'free') {
      freeSeats.total++;
      freeSeats[u.usage]++;
    }
  }
  // Least recently active first, never active first, then id.
  reclaimable.sort((a, b) => {
    if (a.lastActivityAt !== b.lastActivityAt) {
      if (a.lastActivityAt === null) return -1;
      if (b.lastActivityAt === null) return 1;
      return Date.parse(a.lastActivityAt) - Date.parse(b.lastActivityAt);
    }
    return a.id - b.id;
  });
  const suspended = reclaimable.filter((r) => r.reason === 'suspended').length;
  return {
    paidSeats,
    freeSeats,
    byRoleType,
    unknownSeats,
    reclaimable: { count: reclaimable.length, suspended, inactive: reclaimable.length - suspended },
    /** What `GET …/reclaimable` lists, all pages. */
    reclaimableSeats: reclaimable,
  };
}

// ------------------------------------------------------------------------------------------ CSV reader

/** A strict RFC 4180 reader: fields with `quoted` so null (empty) and "" stay distinct. */
export function readCsv(text: string): Array<Array<{ value: string; quoted: boolean }>> {
  const rows: Array<Array<{ value: string; quoted: boolean }>> = [];
  let row: Array<{ value: string; quoted: boolean }> = [];
  let i = 0;
  while (i < text.length) {
    let value = '';
    let quoted = false;
    if (text[i] === '"') {
      quoted = true;
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
        if (text[i] === '"') throw new Error(`bare quote in an unquoted field at ${i}`);
        value += text[i++];
      }
    }
    row.push({ value, quoted });
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text.startsWith('\r\n', i)) {
      rows.push(row);
      row = [];
      i += 2;
      continue;
    }
    if (i >= text.length) break;
    throw new Error(`expected a comma or CRLF at ${i}, got ${JSON.stringify(text[i])}`);
  }
  if (row.length) rows.push(row);
  return rows;
}
