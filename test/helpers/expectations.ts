import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/tables';
import type { SandboxWorkspace } from '../../src/sandbox';

/**
 * Expected synced state computed straight from the sandbox's own data, independently of the code
 * under test, and the stored state read straight from PostgreSQL.
 */
export interface UserFields {
  id: number;
  name: string | null;
  email: string | null;
  created_at: string | null;
  last_login_at: string | null;
  role: string | null;
  role_type: number | null;
  report_csv: boolean | null;
  chat_only: boolean | null;
  moderator: boolean | null;
  restricted_agent: boolean | null;
  shared: boolean | null;
  shared_agent: boolean | null;
  suspended: boolean | null;
  ticket_restriction: string | null;
  two_factor_auth_enabled: boolean | null;
  verified: boolean | null;
  deleted: boolean | null;
}

const iso = (s: unknown) => (typeof s === 'string' ? new Date(s).toISOString() : null);
/** What a field of the JSON the sandbox sent should be stored as: itself when of the expected type, else unknown. */
const str = (v: unknown) => (typeof v === 'string' ? v.replaceAll('\u0000', '') : null);
const bool = (v: unknown) => (typeof v === 'boolean' ? v : null);
const int = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) ? v : null);

/** The stored form of one user object as the sandbox serialises it (absent fields: null). */
export function expectedUser(json: object): UserFields {
  const u = json as Record<string, unknown>;
  return {
    id: u.id as number,
    name: str(u.name),
    email: str(u.email),
    created_at: iso(u.created_at),
    last_login_at: iso(u.last_login_at),
    role: str(u.role),
    role_type: int(u.role_type),
    report_csv: bool(u.report_csv),
    chat_only: bool(u.chat_only),
    moderator: bool(u.moderator),
    restricted_agent: bool(u.restricted_agent),
    shared: bool(u.shared),
    shared_agent: bool(u.shared_agent),
    suspended: bool(u.suspended),
    ticket_restriction: str(u.ticket_restriction),
    two_factor_auth_enabled: bool(u.two_factor_auth_enabled),
    verified: bool(u.verified),
    deleted: typeof u.active === 'boolean' ? !u.active : null,
  };
}

export function expectedUsers(ws: SandboxWorkspace): Map<number, UserFields> {
  const map = new Map<number, UserFields>();
  for (const u of ws.users()) map.set(u.id, expectedUser(u));
  return map;
}

export async function storedUsers(db: Kysely<Database>, integrationId: string): Promise<Map<number, UserFields>> {
  const rows = await db.selectFrom('zendesk_users').selectAll().where('integration_id', '=', integrationId).execute();
  return new Map(
    rows.map((r) => [
      r.id,
      {
        id: r.id,
        name: r.name,
        email: r.email,
        created_at: r.created_at?.toISOString() ?? null,
        last_login_at: r.last_login_at?.toISOString() ?? null,
        role: r.role,
        role_type: r.role_type,
        report_csv: r.report_csv,
        chat_only: r.chat_only,
        moderator: r.moderator,
        restricted_agent: r.restricted_agent,
        shared: r.shared,
        shared_agent: r.shared_agent,
        suspended: r.suspended,
        ticket_restriction: r.ticket_restriction,
        two_factor_auth_enabled: r.two_factor_auth_enabled,
        verified: r.verified,
        deleted: r.deleted,
      },
    ]),
  );
}

/** Ticket updates per user within the last `days` days, by the sandbox's events. */
export function expectedInteractions(ws: SandboxWorkspace, days: number, now = Date.now()): Map<number, number> {
  const since = now / 1000 - days * 86_400;
  const counts = new Map<number, number>();
  for (const e of ws.ticketEvents()) {
    if (e.timestamp >= since) counts.set(e.updater_id, (counts.get(e.updater_id) ?? 0) + 1);
  }
  return counts;
}

export async function storedInteractions(db: Kysely<Database>, integrationId: string, days: number, now = Date.now()): Promise<Map<number, number>> {
  const rows = await db
    .selectFrom('ticket_events')
    .select(['user_id', db.fn.countAll<number>().as('n')])
    .where('integration_id', '=', integrationId)
    .where('occurred_at', '>=', new Date(now - days * 86_400_000))
    .groupBy('user_id')
    .execute();
  return new Map(rows.map((r) => [r.user_id, Number(r.n)]));
}

/** Asserts the stored state equals the sandbox, user by user and count by count; returns a description of the first differences. */
export async function differences(db: Kysely<Database>, integrationId: string, ws: SandboxWorkspace): Promise<string[]> {
  const problems: string[] = [];
  const expected = expectedUsers(ws);
  const stored = await storedUsers(db, integrationId);
  if (expected.size !== stored.size) problems.push(`user count: expected ${expected.size}, stored ${stored.size}`);
  for (const [id, want] of expected) {
    const got = stored.get(id);
    if (!got) {
      problems.push(`user ${id} missing`);
      continue;
    }
    for (const key of Object.keys(want) as Array<keyof UserFields>) {
      if (want[key] !== got[key]) problems.push(`user ${id} ${key}: expected ${JSON.stringify(want[key])}, stored ${JSON.stringify(got[key])}`);
    }
  }
  const now = Date.now();
  for (const days of [30, 90]) {
    const want = expectedInteractions(ws, days, now);
    const got = await storedInteractions(db, integrationId, days, now);
    for (const id of new Set([...want.keys(), ...got.keys()])) {
      if ((want.get(id) ?? 0) !== (got.get(id) ?? 0))
        problems.push(`user ${id} interactions over ${days} days: expected ${want.get(id) ?? 0}, stored ${got.get(id) ?? 0}`);
    }
  }
  return problems.slice(0, 20);
}
