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
  await upsertZendeskUsers(db, users.map((u) => toUserRow(integrationId, zendeskUserSchema.parse(u))));
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
const DAY = 86_400_000;
const iso = (text: string | null) => (text === null ? null : new Date(text).toISOString());

export interface ExpectedUser {
  id: number;
  name: string;
  email: string | null;
  createdAt: string;
  lastLoginAt: string | null;
  role: string;
  roleType: string | null;
  canReportCsv: boolean;
  chatOnly: boolean | null;
  moderator: boolean;
  restrictedAgent: boolean;
  shared: boolean;
  sharedAgent: boolean;
  suspended: boolean;
  ticketRestriction: string | null;
  twoFactorAuthEnabled: boolean | null;
  verified: boolean;
  deleted: boolean;
  seat: 'none' | 'free' | 'paid';
  ticketInteractions: number;
  lastTicketInteractionAt: string | null;
  lastActivityAt: string | null;
  usage: 'active' | 'inactive';
}

/** Every user as the contract defines the `User` object, judged at `asOf` with `inactiveDays`. */
export function expectedUsers(users: ZendeskUser[], events: TicketEventSummary[], asOf: Date, inactiveDays: number): ExpectedUser[] {
  const byUser = new Map<number, number[]>();
  for (const e of events) {
    const list = byUser.get(e.updater_id) ?? [];
    list.push(e.timestamp * 1000);
    byUser.set(e.updater_id, list);
  }
  const from = asOf.getTime() - inactiveDays * DAY;
  return users.map((u) => {
    const times = byUser.get(u.id) ?? [];
    const last = times.length ? Math.max(...times) : null;
    const login = u.last_login_at === null ? null : Date.parse(u.last_login_at);
    const activity = last === null ? login : login === null ? last : Math.max(last, login);
    const staff = u.role !== 'end-user';
    return {
      id: u.id,
      name: u.name,
      email: u.email ?? null,
      createdAt: iso(u.created_at)!,
      lastLoginAt: iso(u.last_login_at),
      role: u.role,
      roleType: u.role_type === null ? null : ROLE_TYPES[u.role_type],
      canReportCsv: u.report_csv,
      chatOnly: u.chat_only ?? null,
      moderator: u.moderator,
      restrictedAgent: u.restricted_agent,
      shared: u.shared,
      sharedAgent: u.shared_agent,
      suspended: u.suspended,
      ticketRestriction: u.ticket_restriction,
      twoFactorAuthEnabled: u.two_factor_auth_enabled,
      verified: u.verified,
      deleted: !u.active,
      seat: !u.active || !staff ? 'none' : u.role_type === 1 || u.role_type === 3 ? 'free' : 'paid',
      ticketInteractions: times.filter((t) => t >= from && t <= asOf.getTime()).length,
      lastTicketInteractionAt: last === null ? null : new Date(last).toISOString(),
      lastActivityAt: activity === null ? null : new Date(activity).toISOString(),
      usage: activity !== null && activity >= from ? 'active' : 'inactive',
    };
  });
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
        c = sign * compareText(a.name, b.name);
        break;
      case 'createdAt':
        c = sign * (Date.parse(a.createdAt) - Date.parse(b.createdAt));
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
  const byRoleType: Record<string, ExpectedSplit> = Object.fromEntries([...ROLE_TYPES, 'none'].map((k) => [k, split()]));
  const reclaimable: Array<{ id: number; name: string; email: string | null; reason: string; lastActivityAt: string | null }> = [];
  for (const u of users) {
    if (u.deleted || u.role === 'end-user') continue;
    const bucket = u.suspended ? 'suspended' : u.usage;
    const r = byRoleType[u.roleType ?? 'none'];
    r.total++;
    r[bucket]++;
    if (u.seat === 'paid') {
      paidSeats.total++;
      paidSeats[bucket]++;
      if (bucket !== 'active') reclaimable.push({ id: u.id, name: u.name, email: u.email, reason: bucket, lastActivityAt: u.lastActivityAt });
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
  return { paidSeats, freeSeats, byRoleType, reclaimable: { count: reclaimable.length, users: reclaimable } };
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
