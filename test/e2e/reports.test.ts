import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SandboxWorkspace, TicketEventSummary, ZendeskUser } from '../../src/sandbox';
import { api, connectAndSync, createTenant, startSystem, type System } from '../helpers/system';
import {
  compareText,
  expectedUsers,
  expectedUtilization,
  readCsv,
  seedLikeSync,
  sortExpected,
  syncedEvents,
  writeLikeSync,
  type ExpectedUser,
} from './reports.fixture';

/**
 * The reports against a sandbox workspace (2000 users, 20000 ticket events) connected and synced for
 * real. Every expectation is computed here from the sandbox's own users and events (reports.fixture.ts),
 * judged at the instant the API reports in its `Report-As-Of` header, never by calling the report code.
 * The "while a sync writes" workspace is written by `seedLikeSync`/`writeLikeSync` (the sync's own
 * mapping and repositories) so the writes land exactly between two pages.
 */

const SUBDOMAIN = 'reports-acme';
const AS_OF = 'report-as-of';
const FIELDS = [
  'id',
  'name',
  'email',
  'createdAt',
  'lastLoginAt',
  'role',
  'roleType',
  'canReportCsv',
  'chatOnly',
  'moderator',
  'restrictedAgent',
  'shared',
  'sharedAgent',
  'suspended',
  'ticketRestriction',
  'twoFactorAuthEnabled',
  'verified',
  'deleted',
  'seat',
  'ticketInteractions',
  'lastTicketInteractionAt',
  'lastActivityAt',
  'usage',
  'seatReason',
  'roleRaw',
  'roleTypeRaw',
  'ticketRestrictionRaw',
  'usageBasis',
] as const;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let system: System;
let tenant: { id: string; apiKey: string };
let integrationId: string;
let ws: SandboxWorkspace;
let users: ZendeskUser[];
let events: TicketEventSummary[];

/** The model at an instant: every user (deleted included) as the contract defines it. */
const model = (asOf: Date, inactiveDays = system.config.inactiveAfterDays) => expectedUsers(users, events, asOf, inactiveDays, (id) => ws.entitlements(id));
const live = (list: ExpectedUser[]) => list.filter((u) => !u.deleted);
const ids = (list: Array<{ id: number }>) => list.map((u) => u.id);

interface Walk {
  users: ExpectedUser[];
  totals: number[];
  asOf: Date;
  pages: number;
}

/** Every page of a listing, checking each page's shape on the way. */
async function walk(
  params: Record<string, string>,
  opts: { limit?: number; between?: (page: number) => Promise<void>; integration?: string } = {},
): Promise<Walk> {
  const out: ExpectedUser[] = [];
  const totals: number[] = [];
  let asOf: string | undefined;
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query = new URLSearchParams({ ...params, limit: String(opts.limit ?? 500), ...(cursor ? { cursor } : {}) });
    const res = await api(system, 'GET', `/v1/integrations/${opts.integration ?? integrationId}/users?${query}`, { key: tenant.apiKey });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.json), ['users', 'total', 'nextCursor', 'completeness']);
    const header = res.headers.get(AS_OF)!;
    assert.match(header, ISO_UTC);
    if (asOf !== undefined) assert.equal(header, asOf, 'every page of a listing is judged at the same instant');
    asOf = header;
    assert.ok(res.json.users.length <= (opts.limit ?? 500));
    out.push(...res.json.users);
    totals.push(res.json.total);
    cursor = res.json.nextCursor;
    pages++;
    if (cursor && opts.between) await opts.between(pages);
  } while (cursor);
  return { users: out, totals, asOf: new Date(asOf), pages };
}

before(async () => {
  system = await startSystem();
  tenant = await createTenant(system, 'Reports tenant');
  // legacyChatOnly: users carry chat_only as accounts did before 2024, so the chatOnly filter has data to
  // select (live accounts of 2024–25 send none: test/e2e/real-shapes.test.ts).
  ws = system.sandbox.createWorkspace({
    subdomain: SUBDOMAIN,
    users: 2000,
    ticketEvents: 20000,
    seed: 20261125,
    days: 80,
    consentMode: 'allow',
    legacyChatOnly: true,
  });
  // Shapes that must survive JSON and CSV untouched.
  ws.addUser({ name: `O'Brien, "Jr"`, email: 'obrien.jr@example.com', role: 'agent', last_login_at: new Date(Date.now() - 3 * 86_400_000).toISOString() });
  ws.addUser({ name: 'Multi\r\nLine', email: 'multi.line@example.com' });
  ws.addUser({ name: '=SUM(A1:A2)', email: 'formula@example.com', role: 'admin' });
  // A suspended admin who is very active: still a paid seat, reclaimable as "suspended".
  const busy = ws.addUser({ name: 'Suspended But Busy', email: 'busy@example.com', role: 'admin', suspended: true, last_login_at: new Date().toISOString() });
  ws.addTicketEvents([{ updater_id: busy.id }, { updater_id: busy.id }]);
  // The real thing: OAuth connect and a complete first sync through the Zendesk client.
  ({ integrationId } = await connectAndSync(system, tenant.apiKey, SUBDOMAIN));
  users = ws.users();
  events = syncedEvents(ws, system.config.activityBackfillDays);
  assert.equal(users.length, 2004);
});

after(() => system?.stop());

describe('GET /users', () => {
  test('answers every live user, fully and with correct types', async () => {
    const res = await walk({});
    const expected = sortExpected(live(model(res.asOf)), 'name');
    assert.equal(res.users.length, expected.length);
    assert.deepEqual(res.users, expected);
    assert.ok(res.totals.every((t) => t === expected.length));
    for (const u of res.users) {
      assert.deepEqual(Object.keys(u), [...FIELDS], 'fields in contract order');
      assert.ok(Number.isSafeInteger(u.id));
      if (u.createdAt !== null) assert.match(u.createdAt, ISO_UTC);
      for (const f of ['lastLoginAt', 'lastTicketInteractionAt', 'lastActivityAt'] as const) if (u[f] !== null) assert.match(u[f], ISO_UTC);
    }
    // Nulls are there as nulls (not missing, not strings), and the data set exercises them.
    assert.ok(res.users.some((u) => u.lastLoginAt === null));
    assert.ok(res.users.some((u) => u.roleType === null && u.role !== 'end-user'));
    assert.ok(res.users.some((u) => u.twoFactorAuthEnabled === null));
    // ids are JSON numbers in the raw body.
    const raw = await api(system, 'GET', `/v1/integrations/${integrationId}/users?limit=1`, { key: tenant.apiKey });
    assert.match(raw.text, /"users":\[\{"id":\d+,"name":/);
  });

  const today = () => new Date();
  const FILTERS: Array<[string, (params: { median: string }) => Record<string, string>, (u: ExpectedUser, ctx: { median: string }) => boolean]> = [
    ['role=agent', () => ({ role: 'agent' }), (u) => u.role === 'agent'],
    ['role=agent,admin', () => ({ role: 'agent,admin' }), (u) => u.role === 'agent' || u.role === 'admin'],
    ['roleType=light_agent', () => ({ roleType: 'light_agent' }), (u) => u.roleType === 'light_agent'],
    [
      'roleType=custom_agent,contributor',
      () => ({ roleType: 'custom_agent,contributor' }),
      (u) => u.roleType === 'custom_agent' || u.roleType === 'contributor',
    ],
    ['roleType=none', () => ({ roleType: 'none' }), (u) => u.roleType === null],
    [
      'roleType=admin,billing_admin,chat_agent',
      () => ({ roleType: 'admin,billing_admin,chat_agent' }),
      (u) => ['admin', 'billing_admin', 'chat_agent'].includes(u.roleType!),
    ],
    ['canReportCsv=true', () => ({ canReportCsv: 'true' }), (u) => u.canReportCsv === true],
    ['chatOnly=true', () => ({ chatOnly: 'true' }), (u) => u.chatOnly === true],
    ['moderator=false', () => ({ moderator: 'false' }), (u) => u.moderator === false],
    ['restrictedAgent=true', () => ({ restrictedAgent: 'true' }), (u) => u.restrictedAgent === true],
    ['shared=true', () => ({ shared: 'true' }), (u) => u.shared === true],
    ['sharedAgent=true', () => ({ sharedAgent: 'true' }), (u) => u.sharedAgent === true],
    ['suspended=true', () => ({ suspended: 'true' }), (u) => u.suspended === true],
    ['suspended=false', () => ({ suspended: 'false' }), (u) => u.suspended === false],
    ['ticketRestriction=groups', () => ({ ticketRestriction: 'groups' }), (u) => u.ticketRestriction === 'groups'],
    ['ticketRestriction=none', () => ({ ticketRestriction: 'none' }), (u) => u.ticketRestriction === null],
    [
      'ticketRestriction=assigned,requested,organization',
      () => ({ ticketRestriction: 'assigned,requested,organization' }),
      (u) => u.ticketRestriction !== null && u.ticketRestriction !== 'groups',
    ],
    ['twoFactorAuthEnabled=true', () => ({ twoFactorAuthEnabled: 'true' }), (u) => u.twoFactorAuthEnabled === true],
    ['twoFactorAuthEnabled=false (null matches neither)', () => ({ twoFactorAuthEnabled: 'false' }), (u) => u.twoFactorAuthEnabled === false],
    ['verified=false', () => ({ verified: 'false' }), (u) => u.verified === false],
    [
      'createdAfter=<date> (inclusive, midnight UTC)',
      (c) => ({ createdAfter: c.median.slice(0, 10) }),
      (u, c) => u.createdAt !== null && u.createdAt >= `${c.median.slice(0, 10)}T00:00:00.000Z`,
    ],
    [
      'createdBefore=<date-time with offset> (exclusive)',
      (c) => ({ createdBefore: c.median.replace('.000Z', '+00:00') }),
      (u, c) => u.createdAt !== null && Date.parse(u.createdAt) < Date.parse(c.median),
    ],
    ['seat=paid', () => ({ seat: 'paid' }), (u) => u.seat === 'paid'],
    ['seat=free', () => ({ seat: 'free' }), (u) => u.seat === 'free'],
    ['seat=none', () => ({ seat: 'none' }), (u) => u.seat === 'none'],
    ['usage=active', () => ({ usage: 'active' }), (u) => u.usage === 'active'],
    ['usage=inactive', () => ({ usage: 'inactive' }), (u) => u.usage === 'inactive'],
    ['usage=active,inactive', () => ({ usage: 'active,inactive' }), () => true],
    [
      "q=O'BRIEN (case-insensitive, name)",
      () => ({ q: "O'BRIEN" }),
      (u) => (u.name ?? '').toLowerCase().includes("o'brien") || (u.email ?? '').toLowerCase().includes("o'brien"),
    ],
    [
      'q=EXAMPLE.ORG (email)',
      () => ({ q: 'EXAMPLE.ORG' }),
      (u) => (u.name ?? '').toLowerCase().includes('example.org') || (u.email ?? '').toLowerCase().includes('example.org'),
    ],
    [
      'q=АННА (non-Latin, case-insensitive)',
      () => ({ q: 'АННА' }),
      (u) => (u.name ?? '').toLowerCase().includes('анна') || (u.email ?? '').toLowerCase().includes('анна'),
    ],
    ['q=_ (literal, not a wildcard)', () => ({ q: '_' }), (u) => (u.name ?? '').includes('_') || (u.email ?? '').includes('_')],
    ['q=% (literal, not a wildcard)', () => ({ q: '%' }), (u) => (u.name ?? '').includes('%') || (u.email ?? '').includes('%')],
    ['q= (empty: no filter)', () => ({ q: '' }), () => true],
  ];

  for (const [label, params, predicate] of FILTERS) {
    test(`filter ${label}`, async () => {
      const median = sortExpected(live(model(today())), 'createdAt')[1000]!.createdAt!;
      const res = await walk(params({ median }));
      const expected = sortExpected(
        live(model(res.asOf)).filter((u) => predicate(u, { median })),
        'name',
      );
      assert.deepEqual(ids(res.users), ids(expected));
      assert.deepEqual(res.users, expected);
      assert.ok(res.totals.every((t) => t === expected.length));
    });
  }

  test('filter includeDeleted=true adds the deleted users (seat none)', async () => {
    const res = await walk({ includeDeleted: 'true' });
    const expected = sortExpected(model(res.asOf), 'name');
    assert.deepEqual(res.users, expected);
    const deleted = res.users.filter((u) => u.deleted);
    assert.ok(deleted.length > 0);
    assert.ok(deleted.every((u) => u.seat === 'none'));
    const only = await walk({ includeDeleted: 'false' });
    assert.equal(only.users.length, expected.length - deleted.length);
  });

  test('the filters exercise real data (no vacuous case)', () => {
    const all = live(model(today()));
    for (const [label, params, predicate] of FILTERS) {
      if (label.startsWith('q=_') || label.startsWith('q=%')) continue;
      const median = sortExpected(all, 'createdAt')[1000]!.createdAt!;
      void params;
      const n = all.filter((u) => predicate(u, { median })).length;
      assert.ok(n > 0 && (n < all.length || label.includes('active,inactive') || label.startsWith('q= ')), `${label} selects ${n} of ${all.length}`);
    }
  });

  const COMBINED: Array<[Record<string, string>, (u: ExpectedUser) => boolean]> = [
    [
      { role: 'agent,admin', suspended: 'true', usage: 'inactive' },
      (u) => (u.role === 'agent' || u.role === 'admin') && u.suspended === true && u.usage === 'inactive',
    ],
    [
      { seat: 'paid', usage: 'inactive', twoFactorAuthEnabled: 'false' },
      (u) => u.seat === 'paid' && u.usage === 'inactive' && u.twoFactorAuthEnabled === false,
    ],
    [
      { roleType: 'none,light_agent', verified: 'true', q: 'example.com', includeDeleted: 'true' },
      (u) =>
        (u.roleType === null || u.roleType === 'light_agent') &&
        u.verified === true &&
        ((u.email ?? '').includes('example.com') || (u.name ?? '').toLowerCase().includes('example.com')),
    ],
    [
      { seat: 'free,none', moderator: 'true', ticketRestriction: 'none', inactiveDays: '90' },
      (u) => (u.seat === 'free' || u.seat === 'none') && u.moderator === true && u.ticketRestriction === null,
    ],
  ];
  for (const [params, predicate] of COMBINED) {
    test(`combined filters ${new URLSearchParams(params)}`, async () => {
      const res = await walk(params);
      const days = params.inactiveDays ? Number(params.inactiveDays) : undefined;
      const base = params.includeDeleted === 'true' ? model(res.asOf, days) : live(model(res.asOf, days));
      const expected = sortExpected(base.filter(predicate), 'name');
      assert.ok(expected.length > 0, 'the combination selects someone');
      assert.deepEqual(res.users, expected);
    });
  }

  const SORTS = ['name', 'createdAt', 'lastLoginAt', 'lastActivityAt', 'ticketInteractions'].flatMap((s) => [s, `-${s}`]);
  for (const sort of SORTS) {
    test(`sort=${sort}: every row exactly once, in order, over many pages`, async () => {
      const res = await walk({ sort, includeDeleted: 'true' }, { limit: 137 });
      const expected = sortExpected(model(res.asOf), sort);
      assert.ok(res.pages >= 14);
      assert.equal(new Set(ids(res.users)).size, res.users.length, 'no row repeated');
      assert.deepEqual(ids(res.users), ids(expected), 'no row skipped, order exact');
      assert.deepEqual(res.users, expected);
    });
  }

  test('default sort is name in code-point order with ties by id', async () => {
    const res = await walk({}, { limit: 500 });
    for (let i = 1; i < res.users.length; i++) {
      const [a, b] = [res.users[i - 1], res.users[i]];
      assert.ok(compareText(a!.name ?? '', b!.name ?? '') < 0 || (a!.name === b!.name && a!.id < b!.id), `${a!.name}/${a!.id} before ${b!.name}/${b!.id}`);
    }
    assert.ok(
      res.users.some((u, i) => i > 0 && res.users[i - 1]!.name === u.name),
      'the data has duplicate names',
    );
  });

  test('inactiveDays moves users between active and inactive', async () => {
    const [d7, d30, d60] = await Promise.all([
      walk({ inactiveDays: '7', usage: 'active' }),
      walk({ inactiveDays: '30', usage: 'active' }),
      walk({ inactiveDays: '60', usage: 'active' }),
    ]);
    for (const [days, res] of [
      [7, d7],
      [30, d30],
      [60, d60],
    ] as const) {
      const expected = sortExpected(
        live(model(res.asOf, days)).filter((u) => u.usage === 'active'),
        'name',
      );
      assert.deepEqual(ids(res.users), ids(expected), `inactiveDays=${days}`);
    }
    assert.ok(d7.users.length < d30.users.length && d30.users.length < d60.users.length);
    // Someone last active ~10-25 days ago: inactive at 7 days, active at 30.
    const moved = d30.users.find((u) => !d7.users.some((x) => x.id === u.id))!;
    assert.ok(moved);
    const at7 = await walk({ inactiveDays: '7', q: moved.email! });
    assert.equal(at7.users.find((u) => u.id === moved.id)?.usage, 'inactive');
    // ticketInteractions is windowed too.
    const all7 = await walk({ inactiveDays: '7' });
    const all60 = await walk({ inactiveDays: '60' });
    const sum = (w: Walk) => w.users.reduce((s, u) => s + u.ticketInteractions, 0);
    assert.ok(sum(all7) < sum(all60));
    assert.deepEqual(all7.users, sortExpected(live(model(all7.asOf, 7)), 'name'));
  });

  test('limit bounds the page; total counts every match', async () => {
    const res = await api(system, 'GET', `/v1/integrations/${integrationId}/users?limit=1&role=admin`, { key: tenant.apiKey });
    assert.equal(res.status, 200);
    assert.equal(res.json.users.length, 1);
    assert.equal(res.json.total, live(model(new Date())).filter((u) => u.role === 'admin').length);
    assert.equal(typeof res.json.nextCursor, 'string');
    const last = await api(system, 'GET', `/v1/integrations/${integrationId}/users?limit=500&role=admin`, { key: tenant.apiKey });
    assert.equal(last.json.nextCursor, null);
    const dflt = await api(system, 'GET', `/v1/integrations/${integrationId}/users`, { key: tenant.apiKey });
    assert.equal(dflt.json.users.length, 100);
  });
});

describe('pagination while a sync writes', () => {
  const BUSY = 'reports-busy';
  let busyId: string;
  let busyWs: SandboxWorkspace;

  before(async () => {
    busyWs = system.sandbox.createWorkspace({ subdomain: BUSY, users: 600, ticketEvents: 4000, seed: 77, days: 60, consentMode: 'allow' });
    busyId = await seedLikeSync(system, tenant, BUSY);
  });

  /** One "sync page": new users with names and dates all over the order, new events, changed users. */
  async function syncSomeChanges(round: number) {
    const added = ['Aaron', 'Mmm', 'Zed', '  lead', 'Ωmega', 'Émile'].map((first, k) =>
      busyWs.addUser({ name: `${first} Round${round}-${k}`, email: `new.${round}.${k}@example.com`, role: k % 2 ? 'agent' : 'end-user' }),
    );
    const existing = busyWs.userIds({ activeOnly: true });
    const touched = [...new Set([existing[(round * 7) % existing.length], existing[(round * 13 + 1) % existing.length]])].map((id) =>
      busyWs.updateUser(id!, { suspended: round % 2 === 0, moderator: true, last_login_at: new Date().toISOString() }),
    );
    const newEvents = busyWs.addTicketEvents(existing.slice(round * 5, round * 5 + 5).map((id) => ({ updater_id: id })));
    const changed = new Map([...added, ...touched].map((u) => [u.id, busyWs.user(u.id)!]));
    await writeLikeSync(system.db, busyId, [...changed.values()], newEvents);
  }

  for (const sort of ['name', '-name', 'createdAt', '-createdAt']) {
    test(`sort=${sort}: rows present from the start come exactly once; new rows at most once`, async () => {
      const stored = await system.db.selectFrom('zendesk_users').select('id').where('integration_id', '=', busyId).where('deleted', '=', false).execute();
      const before = new Set(stored.map((u) => u.id));
      let round = 0;
      const res = await walk({ sort }, { limit: 50, integration: busyId, between: () => syncSomeChanges(++round + sort.length * 100) });
      assert.ok(round >= 10, 'the sync wrote between most pages');
      const seen = ids(res.users);
      assert.equal(new Set(seen).size, seen.length, 'no row repeated');
      for (const id of before) assert.ok(seen.includes(id), `user ${id} skipped`);
      assert.ok(res.totals[res.totals.length - 1]! > res.totals[0]!, 'total follows the sync');
    });
  }
});

describe('GET /utilization', () => {
  test('matches the sandbox and adds up', async () => {
    const res = await api(system, 'GET', `/v1/integrations/${integrationId}/utilization`, { key: tenant.apiKey });
    assert.equal(res.status, 200, res.text);
    const body = res.json;
    assert.equal(res.headers.get(AS_OF), body.asOf);
    assert.equal(body.inactiveDays, system.config.inactiveAfterDays);
    assert.match(body.lastSyncedAt, ISO_UTC);
    const expected = expectedUtilization(model(new Date(body.asOf)));
    assert.deepEqual(body.paidSeats, expected.paidSeats);
    assert.deepEqual(body.freeSeats, expected.freeSeats);
    assert.deepEqual(body.byRoleType, expected.byRoleType);
    assert.deepEqual(body.reclaimable, expected.reclaimable);
    assert.deepEqual(body.unknownSeats, expected.unknownSeats);
    assert.equal(body.usageBasis, `last sign-in and ticket activity (complete for the last ${system.config.inactiveAfterDays} days)`);
    assert.equal(body.completeness.seatHolders.complete, true);
    assert.equal(body.completeness.ticketEvents.complete, true);

    const p = body.paidSeats;
    assert.equal(p.total, p.active + p.inactive + p.suspended);
    assert.equal(body.freeSeats.total, body.freeSeats.active + body.freeSeats.inactive);
    for (const split of Object.values<typeof p>(body.byRoleType)) assert.equal(split.total, split.active + split.inactive + split.suspended);
    const byRole = Object.values<typeof p>(body.byRoleType);
    assert.equal(
      byRole.reduce((s, r) => s + r.total, 0),
      p.total + body.freeSeats.total,
      'every agent and admin is in one role type',
    );
    assert.equal(body.reclaimable.count, p.inactive + p.suspended);
    assert.ok(p.active > 0 && p.inactive > 0 && p.suspended > 0 && body.freeSeats.total > 0);
    assert.deepEqual(Object.keys(body.byRoleType).sort(), [
      'admin',
      'billing_admin',
      'chat_agent',
      'contributor',
      'custom_agent',
      'light_agent',
      'none',
      'unknown',
    ]);
  });

  test('a suspended agent still holds a paid seat and is listed as reclaimable, even when active', async () => {
    const busy = (await reclaimableWalk({})).seats.find((u) => u.name === 'Suspended But Busy');
    assert.ok(busy, 'listed');
    assert.equal(busy.reason, 'suspended');
    assert.ok(Date.now() - Date.parse(busy.lastActivityAt ?? '') < 86_400_000, 'recently active, still reclaimable');
    const list = await walk({ q: 'busy@example.com' });
    assert.equal(list.users[0]!.seat, 'paid');
    assert.equal(list.users[0]!.usage, 'active');
  });

  for (const days of [7, 90]) {
    test(`inactiveDays=${days}`, async () => {
      const res = await api(system, 'GET', `/v1/integrations/${integrationId}/utilization?inactiveDays=${days}`, { key: tenant.apiKey });
      assert.equal(res.status, 200);
      assert.equal(res.json.inactiveDays, days);
      const { reclaimableSeats: _seats, ...expected } = expectedUtilization(model(new Date(res.json.asOf), days));
      const { asOf: _a, inactiveDays: _d, lastSyncedAt: _l, usageBasis, completeness: _c, savings, ...figures } = res.json;
      assert.equal(savings, null, 'no seat price set: no savings');
      assert.deepEqual(figures, expected);
      assert.equal(usageBasis, `last sign-in and ticket activity (complete for the last ${days} days)`);
    });
  }
});

/** Every page of `GET …/reclaimable`, checking each page's shape and that all pages share one instant. */
async function reclaimableWalk(params: Record<string, string>, limit?: number) {
  const seats: Array<{ id: number; name: string | null; email: string | null; reason: string; seatReason: string; lastActivityAt: string | null }> = [];
  let cursor: string | null = null;
  let asOf: string | undefined;
  let pages = 0;
  let total: number;
  do {
    const query = new URLSearchParams({ ...params, ...(limit ? { limit: String(limit) } : {}), ...(cursor ? { cursor } : {}) });
    const res = await api(system, 'GET', `/v1/integrations/${integrationId}/reclaimable?${query}`, { key: tenant.apiKey });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.json), ['users', 'total', 'nextCursor']);
    if (asOf === undefined) asOf = res.headers.get(AS_OF)!;
    else assert.equal(res.headers.get(AS_OF), asOf, "every page is judged at the first page's instant");
    if (limit) assert.ok(res.json.users.length <= limit);
    total = res.json.total;
    seats.push(...res.json.users);
    cursor = res.json.nextCursor;
    pages++;
  } while (cursor);
  return { seats, total, asOf: new Date(asOf), pages };
}

describe('GET /reclaimable', () => {
  for (const [params, limit] of [
    [{}, undefined],
    [{}, 7],
    [{ inactiveDays: '7' }, 13],
  ] as Array<[Record<string, string>, number | undefined]>) {
    test(`every suspended or inactive paid seat, least recently active first, in pages: ${new URLSearchParams(params).toString() || '(defaults)'} limit=${limit ?? 'default'}`, async () => {
      const walked = await reclaimableWalk(params, limit);
      const expected = expectedUtilization(model(walked.asOf, params.inactiveDays ? Number(params.inactiveDays) : undefined));
      assert.deepEqual(walked.seats, expected.reclaimableSeats);
      assert.equal(walked.total, expected.reclaimable.count);
      if (limit) assert.equal(walked.pages, Math.max(1, Math.ceil(expected.reclaimable.count / limit)));
    });
  }

  test('a cursor belongs to its query: another inactiveDays is a 400 naming the cursor', async () => {
    const first = await api(system, 'GET', `/v1/integrations/${integrationId}/reclaimable?limit=2`, { key: tenant.apiKey });
    assert.ok(first.json.nextCursor, 'more than one page');
    const res = await api(system, 'GET', `/v1/integrations/${integrationId}/reclaimable?inactiveDays=7&cursor=${encodeURIComponent(first.json.nextCursor)}`, {
      key: tenant.apiKey,
    });
    assert.equal(res.status, 400, res.text);
    assert.match(res.text, /cursor/);
    for (const bad of ['limit=0', 'limit=501', 'cursor=nope', 'inactiveDays=0', 'sort=id']) {
      const r = await api(system, 'GET', `/v1/integrations/${integrationId}/reclaimable?${bad}`, { key: tenant.apiKey });
      assert.equal(r.status, 400, `${bad}: ${r.text}`);
      assert.match(r.text, new RegExp(bad.split('=')[0]!));
    }
  });
});

describe('GET /users.csv', () => {
  async function csv(params: Record<string, string>) {
    const res = await fetch(`${system.apiUrl}/v1/integrations/${integrationId}/users.csv?${new URLSearchParams(params)}`, {
      headers: { authorization: `Bearer ${tenant.apiKey}` },
    });
    return { res, text: await res.text() };
  }

  /** A JSON value as its CSV field: text a spreadsheet would evaluate gets a leading ' (OWASP; `raw=true` keeps it). */
  const asField = (v: unknown) =>
    v === null
      ? { value: '', quoted: false }
      : { value: typeof v === 'string' && /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/.test(v) ? `'${v}` : String(v), quoted: undefined };

  const CSV_CASES: Array<Record<string, string>> = [
    {},
    { includeDeleted: 'true', sort: '-lastActivityAt' },
    { role: 'agent,admin', usage: 'inactive', q: 'a' },
  ];
  for (const params of CSV_CASES) {
    test(`the same rows as the JSON listing: ${new URLSearchParams(params).toString() || '(no parameters)'}`, async () => {
      const [{ res, text }, json] = await Promise.all([csv(params), walk(params)]);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type')!, /^text\/csv; charset=utf-8/);
      assert.match(res.headers.get('content-disposition')!, /attachment; filename="zendesk-users-reports-acme\.csv"/);
      const rows = readCsv(text);
      assert.deepEqual(
        rows[0]!.map((f) => f.value),
        [...FIELDS],
      );
      const body = rows.slice(1);
      // The two requests judged activity at their own instants: compare each with its own model, and with each other.
      const csvAsOf = new Date(res.headers.get(AS_OF)!);
      const csvModel = new Map(model(csvAsOf).map((u) => [u.id, u]));
      assert.equal(body.length, json.users.length);
      body.forEach((row, i) => {
        const expected = csvModel.get(Number(row[0]!.value))!;
        const jsonUser = json.users[i];
        assert.equal(Number(row[0]!.value), jsonUser!.id, `row ${i} is the same user`);
        FIELDS.forEach((f, k) => {
          const want = asField(expected[f]);
          assert.equal(row[k]!.value, want.value, `${f} of ${jsonUser!.id}`);
          if (want.quoted === false) assert.equal(row[k]!.quoted, false, `${f} of ${jsonUser!.id} is null, not ""`);
          if (f !== 'ticketInteractions' && f !== 'usage') assert.equal(row[k]!.value, asField(jsonUser![f]).value);
        });
      });
    });
  }

  test('quotes what needs quoting and leaves values intact', async () => {
    const { text } = await csv({ q: 'example.com' });
    assert.ok(text.includes(`,"O'Brien, ""Jr""",obrien.jr@example.com,`), 'comma and quotes');
    assert.ok(text.includes(`,"Multi\r\nLine",multi.line@example.com,`), 'line break');
    assert.ok(text.includes(`,'=SUM(A1:A2),formula@example.com,`), 'a formula is neutralised');
    assert.ok(text.endsWith('\r\n'));
    const raw = await csv({ q: 'example.com', raw: 'true' });
    assert.ok(raw.text.includes(`,=SUM(A1:A2),formula@example.com,`), "raw=true: Zendesk's value as it is");
    assert.ok(raw.text.includes(`,"O'Brien, ""Jr""",obrien.jr@example.com,`));
  });

  test('streams more rows than a page holds (2000+ users, 1000 per query)', async () => {
    const { res, text } = await csv({ includeDeleted: 'true' });
    assert.equal(res.headers.get('transfer-encoding'), 'chunked');
    assert.equal(readCsv(text).length, users.length + 1);
  });
});

describe('bad requests', () => {
  const BAD: Array<[string, string, string[]]> = [
    ['users', 'foo=1', ['foo']],
    ['users', 'foo=1&bar=2&role=agent', ['foo', 'bar']],
    ['users', 'role=owner', ['role']],
    ['users', 'role=agent,', ['role']],
    ['users', 'role=agent&role=admin', ['role']],
    ['users', 'roleType=superhero', ['roleType']],
    ['users', 'roleType=1', ['roleType']],
    ['users', 'canReportCsv=yes', ['canReportCsv']],
    ['users', 'chatOnly=1', ['chatOnly']],
    ['users', 'moderator=', ['moderator']],
    ['users', 'restrictedAgent=TRUE', ['restrictedAgent']],
    ['users', 'shared=null', ['shared']],
    ['users', 'sharedAgent=no', ['sharedAgent']],
    ['users', 'suspended=true&suspended=false', ['suspended']],
    ['users', 'ticketRestriction=all', ['ticketRestriction']],
    ['users', 'twoFactorAuthEnabled=none', ['twoFactorAuthEnabled']],
    ['users', 'verified=maybe', ['verified']],
    ['users', 'createdAfter=yesterday', ['createdAfter']],
    ['users', 'createdAfter=2024-02-30', ['createdAfter']],
    ['users', 'createdBefore=2024-01-01T00:00:00', ['createdBefore']],
    ['users', 'createdAfter=2024-05-01&createdBefore=2024-01-01', ['createdAfter', 'createdBefore']],
    ['users', 'seat=expensive', ['seat']],
    ['users', 'usage=sometimes', ['usage']],
    ['users', 'inactiveDays=0', ['inactiveDays']],
    ['users', 'inactiveDays=-1', ['inactiveDays']],
    ['users', 'inactiveDays=3651', ['inactiveDays']],
    ['users', 'inactiveDays=401', ['inactiveDays']],
    ['users.csv', 'inactiveDays=401', ['inactiveDays']],
    ['users', 'inactiveDays=1.5', ['inactiveDays']],
    ['users', 'inactiveDays=abc', ['inactiveDays']],
    ['users', `q=${'x'.repeat(201)}`, ['q']],
    ['users', 'includeDeleted=all', ['includeDeleted']],
    ['users', 'sort=email', ['sort']],
    ['users', 'sort=--name', ['sort']],
    ['users', 'limit=0', ['limit']],
    ['users', 'limit=501', ['limit']],
    ['users', 'limit=ten', ['limit']],
    ['users', 'cursor=not-a-cursor', ['cursor']],
    ['users', 'cursor=', ['cursor']],
    ['users', `cursor=${Buffer.from('{"v":1}').toString('base64url')}`, ['cursor']],
    ['users', 'role=x&limit=0&zzz=1&sort=up', ['role', 'limit', 'zzz', 'sort']],
    ['users.csv', 'limit=10', ['limit']],
    ['users.csv', 'cursor=abc', ['cursor']],
    ['users.csv', 'seat=gold&verified=perhaps', ['seat', 'verified']],
    ['utilization', 'inactiveDays=0', ['inactiveDays']],
    ['utilization', 'inactiveDays=401', ['inactiveDays']],
    ['utilization', 'role=agent', ['role']],
    ['utilization', 'inactiveDays=7&inactiveDays=8', ['inactiveDays']],
  ];

  for (const [endpoint, query, names] of BAD) {
    test(`${endpoint}?${query.length > 60 ? `${query.slice(0, 60)}…` : query} → 400 naming ${names.join(', ')}`, async () => {
      const res = await api(system, 'GET', `/v1/integrations/${integrationId}/${endpoint}?${query}`, { key: tenant.apiKey });
      assert.equal(res.status, 400, res.text);
      assert.match(res.headers.get('content-type')!, /^application\/problem\+json/);
      assert.equal(res.json.status, 400);
      assert.deepEqual(res.json.errors.map((e: { name: string }) => e.name).sort(), [...names].sort());
      for (const e of res.json.errors) assert.ok(e.reason.length > 5, `a reason for ${e.name}`);
    });
  }

  async function firstCursor(params: Record<string, string>) {
    const res = await api(system, 'GET', `/v1/integrations/${integrationId}/users?${new URLSearchParams({ ...params, limit: '5' })}`, { key: tenant.apiKey });
    return res.json.nextCursor as string;
  }

  test('a cursor is bound to its sort and filters', async () => {
    const cursor = await firstCursor({ sort: 'name', role: 'agent' });
    const others: Array<Record<string, string>> = [
      { sort: 'createdAt', role: 'agent' },
      { sort: '-name', role: 'agent' },
      { sort: 'name', role: 'admin' },
      { sort: 'name' },
      { sort: 'name', role: 'agent', inactiveDays: '7' },
    ];
    for (const other of others) {
      const res = await api(system, 'GET', `/v1/integrations/${integrationId}/users?${new URLSearchParams({ ...other, cursor })}`, { key: tenant.apiKey });
      assert.equal(res.status, 400, JSON.stringify(other));
      assert.deepEqual(
        res.json.errors.map((e: { name: string }) => e.name),
        ['cursor'],
      );
    }
    const ok = await api(system, 'GET', `/v1/integrations/${integrationId}/users?${new URLSearchParams({ role: 'agent', cursor, sort: 'name', limit: '7' })}`, {
      key: tenant.apiKey,
    });
    assert.equal(ok.status, 200, 'the same listing may change its page size');
    const tampered = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(cursor, 'base64url').toString()), k: 42 })).toString('base64url');
    const res = await api(system, 'GET', `/v1/integrations/${integrationId}/users?${new URLSearchParams({ role: 'agent', sort: 'name', cursor: tampered })}`, {
      key: tenant.apiKey,
    });
    assert.equal(res.status, 400);
  });

  test('another tenant, an unknown id and a malformed id', async () => {
    const other = await createTenant(system, 'Other tenant');
    for (const endpoint of ['users', 'users.csv', 'utilization']) {
      const theirs = await api(system, 'GET', `/v1/integrations/${integrationId}/${endpoint}`, { key: other.apiKey });
      const unknown = await api(system, 'GET', `/v1/integrations/00000000-0000-4000-8000-000000000000/${endpoint}`, { key: other.apiKey });
      assert.equal(theirs.status, 404);
      assert.equal(unknown.status, 404);
      assert.deepEqual({ ...theirs.json, detail: undefined }, { ...unknown.json, detail: undefined });
      assert.equal((await api(system, 'GET', `/v1/integrations/nope/${endpoint}`, { key: tenant.apiKey })).status, 400);
      assert.equal((await api(system, 'GET', `/v1/integrations/${integrationId}/${endpoint}`)).status, 401);
    }
  });
});
