// The seat-holder side of the sandbox on a small workspace: the role-filtered list (and its staff index
// kept in step with every change), show_many, users/count and the seatHolders option.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateWorkspace, type Sandbox, type SandboxWorkspace, type ZendeskUser } from '../../src/sandbox';
import { api, connect, start } from './helpers';

const SEAT_FILTER = 'role[]=agent&role[]=admin';
const SEAT_QUERY = `${SEAT_FILTER}&page[size]=100`;

describe('seat holders: role-filtered list, show_many, users/count', () => {
  let sb: Sandbox;
  let ws: SandboxWorkspace;
  let token: string;
  before(async () => {
    sb = await start();
    ws = sb.createWorkspace({ subdomain: 'seats', users: 3000, seatHolders: 130, ticketEvents: 100, seed: 4, consentMode: 'allow', rateLimits: false });
    token = (await connect(sb, 'seats')).access_token;
  });
  after(() => sb.close());
  const get = (path: string, t = token) => api(sb, 'seats', path, t);

  async function walk(query: string): Promise<ZendeskUser[]> {
    const users: ZendeskUser[] = [];
    const seen = new Set<string>();
    let next: string | null = `/api/v2/users?${query}`;
    while (next) {
      const r = await get(next);
      assert.equal(r.status, 200, r.text);
      users.push(...r.body.users);
      const cursor = r.body.meta.after_cursor;
      assert.ok(!seen.has(cursor), 'a cursor never repeats');
      seen.add(cursor);
      next = r.body.meta.has_more ? r.body.links.next : null;
    }
    return users;
  }
  /** Seat holders by the model (not the served JSON, which raw edits change): every active agent and admin. */
  const modelSeatHolders = () =>
    ws
      .users()
      .map((u) => u.id)
      .filter((id) => {
        const d = ws.userData(id)!;
        return d.active && d.role !== 'end-user';
      });
  const seatIds = async () => (await walk(SEAT_QUERY)).map((u) => u.id);
  const count = async (query = '') => (await get(`/api/v2/users/count${query ? `?${query}` : ''}`)).body.count.value as number;

  test('seatHolders: exactly that many active agents and admins, suspended agents among them, listed in id order', async () => {
    const listed = await walk(SEAT_QUERY);
    assert.equal(listed.length, 130);
    assert.deepEqual(
      listed.map((u) => u.id),
      modelSeatHolders(),
    );
    assert.deepEqual(
      listed.map((u) => u.id),
      ws.seatHolderIds(),
    );
    assert.ok(listed.every((u) => u.role === 'agent' || u.role === 'admin'));
    assert.ok(listed.some((u) => u.role === 'admin') && listed.some((u) => u.role === 'agent'));
    assert.ok(
      listed.some((u) => u.suspended),
      'suspended agents stay in the list',
    );
    assert.ok(listed[0]!.id === ws.ownerId, 'the owner is a seat holder');
    const ids = listed.map((u) => u.id);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
    );
    // Both directions agree.
    const admins = await walk('role=admin&page[size]=7');
    assert.deepEqual(
      admins.map((u) => u.id),
      listed.filter((u) => u.role === 'admin').map((u) => u.id),
    );
    const first = await get(`/api/v2/users?${SEAT_FILTER}&page[size]=20`);
    const next = await get(`/api/v2/users?${SEAT_FILTER}&page[size]=5&page[after]=${encodeURIComponent(first.body.meta.after_cursor)}`);
    assert.deepEqual(
      next.body.users.map((u: ZendeskUser) => u.id),
      ids.slice(20, 25),
    );
    const back = await get(`/api/v2/users?${SEAT_FILTER}&page[size]=20&page[before]=${encodeURIComponent(next.body.meta.before_cursor)}`);
    assert.deepEqual(
      back.body.users.map((u: ZendeskUser) => u.id),
      ids.slice(0, 20),
    );
    assert.equal(back.body.meta.has_more, false);
  });

  test('same options, same workspace; seatHolders spreads seats over the id range', () => {
    const a = generateWorkspace({ subdomain: 'det', users: 2000, seatHolders: 50, ticketEvents: 200, seed: 9, now: 1_772_000_000_000 });
    const b = generateWorkspace({ subdomain: 'det', users: 2000, seatHolders: 50, ticketEvents: 200, seed: 9, now: 1_772_000_000_000 });
    assert.deepEqual(a.users(), b.users());
    assert.deepEqual([...a.ticketEvents()], [...b.ticketEvents()]);
    const staff = a.users().filter((u) => u.role !== 'end-user');
    assert.equal(staff.length, 50);
    assert.ok(staff.every((u) => u.active));
    const all = a.users().map((u) => u.id);
    assert.ok(staff.some((u) => u.id > all[1800]!) && staff.some((u) => u.id < all[200]! && u.id !== a.ownerId));
    assert.throws(() => generateWorkspace({ subdomain: 'det', users: 10, seatHolders: 11 }), /seatHolders/);
    assert.throws(() => generateWorkspace({ subdomain: 'det', users: 10, seatHolders: 0 }), /seatHolders/);
  });

  test('the columns the store generates alone agree with the records it regenerates (default mix and seatHolders)', () => {
    for (const seatHolders of [undefined, 40]) {
      const w = generateWorkspace({ subdomain: 'cols', users: 2000, seatHolders, ticketEvents: 0, seed: 3, now: 1_772_000_000_000 });
      const store = w.userStore;
      for (let i = 0; i < store.size; i++) {
        const d = store.data(i);
        assert.equal(d.role, store.roleAt(i), `role of user ${i}`);
        assert.equal(d.active, store.isActive(i), `active of user ${i}`);
        assert.equal(d.id, store.idAt(i));
      }
    }
  });

  test('roles=agent,admin (misspelt) is ignored as by Zendesk: end users come back, with the recorded warning', async () => {
    const r = await get('/api/v2/users?page[size]=100&roles=agent,admin');
    assert.equal(r.status, 200);
    assert.ok(r.body.users.some((u: ZendeskUser) => u.role === 'end-user'));
    assert.equal(
      r.headers.get('x-zendesk-api-warn'),
      '{allowed_parameters: {controller: "users", action: "index", unpermitted_keys: ["roles"], invalid_values: []}}',
    );
    assert.equal((await get(`/api/v2/users?${SEAT_QUERY}`)).headers.get('x-zendesk-api-warn'), null);
    // An unknown role name matches nobody (the sandbox has no custom role names).
    assert.deepEqual((await get('/api/v2/users?role=superhero&page[size]=10')).body.users, []);
    assert.equal(await count('role=superhero'), 0);
  });

  test('every change keeps the list, show_many and the count in step', async () => {
    const before = await seatIds();
    const endUsers = ws.userIds({ role: 'end-user', activeOnly: true });
    const [promoted, promotedAdmin] = endUsers;
    const [demoted, deleted, suspended, rawEdited] = before.filter((id) => id !== ws.ownerId);
    ws.setRole(promoted!, 'agent', 1);
    ws.setRole(promotedAdmin!, 'admin');
    ws.setRole(demoted!, 'end-user');
    ws.deleteUser(deleted!);
    ws.suspendUser(suspended!);
    const added = ws.addUser({ role: 'admin', name: 'New Admin' }).id;
    const addedEndUser = ws.addUser({ name: 'New Customer' }).id;
    // Raw edits change the served JSON only; the model (and so the filter) keeps the user a seat holder.
    ws.setRawUserFields(rawEdited!, { role: 'superhero' });

    const after = await seatIds();
    const expected = new Set(before);
    for (const id of [promoted, promotedAdmin, added]) expected.add(id!);
    for (const id of [demoted, deleted]) expected.delete(id!);
    assert.deepEqual(
      after,
      [...expected].sort((a, b) => a - b),
    );
    assert.deepEqual(after, modelSeatHolders());
    assert.ok(after.includes(suspended!) && after.includes(rawEdited!) && !after.includes(addedEndUser));
    assert.equal(await count('role[]=agent&role[]=admin'), after.length);

    // What a sync asks about those that left the list.
    const many = await get(`/api/v2/users/show_many?ids=${[demoted, deleted, 12345, added].join(',')}`);
    assert.equal(many.status, 200);
    const byId = new Map<number, ZendeskUser>(many.body.users.map((u: ZendeskUser) => [u.id, u]));
    assert.equal(byId.get(demoted!)?.role, 'end-user', 'a downgraded seat holder is there as an end user');
    assert.ok(!byId.has(deleted!), 'a deleted user is absent without include_deleted');
    assert.ok(!byId.has(12345), 'an unknown id is simply absent');
    assert.equal(byId.get(added)?.role, 'admin');
    const withDeleted = await get(`/api/v2/users/show_many?ids=${deleted},${demoted}&include_deleted=true`);
    const expectedPairs: Array<[number, boolean]> = [
      [deleted!, false],
      [demoted!, true],
    ];
    expectedPairs.sort((a, b) => a[0] - b[0]);
    assert.deepEqual(
      withDeleted.body.users.map((u: ZendeskUser) => [u.id, u.active]),
      expectedPairs,
    );

    // Back again: reactivated and re-promoted users return to the list.
    ws.updateUser(deleted!, { active: true });
    ws.setRole(demoted!, 'agent');
    const restored = await seatIds();
    assert.ok(restored.includes(deleted!) && restored.includes(demoted!));
    assert.deepEqual(restored, modelSeatHolders());
  });

  test('show_many: at most 100 ids (101 is a 400), duplicates once, id order, served JSON', async () => {
    const ids = ws.userIds({ activeOnly: true }).slice(0, 100);
    const r = await get(`/api/v2/users/show_many?ids=${[...ids].reverse().join(',')},${ids[0]}`);
    assert.equal(r.status, 400, 'the duplicate makes it 101 ids as sent');
    const ok = await get(`/api/v2/users/show_many.json?ids=${[...ids].reverse().join(',')}`);
    assert.equal(ok.status, 200);
    assert.deepEqual(
      ok.body.users.map((u: ZendeskUser) => u.id),
      ids,
    );
    assert.deepEqual(ok.body.users[3], ws.user(ids[3]!));
    assert.deepEqual(Object.keys(ok.body), ['users']);
    const dup = await get(`/api/v2/users/show_many?ids=${ids[1]},${ids[0]},${ids[1]}`);
    assert.deepEqual(
      dup.body.users.map((u: ZendeskUser) => u.id),
      [ids[0], ids[1]],
    );
    const tooMany = await get(`/api/v2/users/show_many?ids=${Array.from({ length: 101 }, (_, i) => i + 1).join(',')}`);
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.error, 'InvalidValue');
    assert.equal((await get('/api/v2/users/show_many')).status, 400);
    assert.deepEqual((await get('/api/v2/users/show_many?ids=abc,,1')).body.users, []);
    const warned = await get(`/api/v2/users/show_many?ids=${ids[0]}&idz=1`);
    assert.match(warned.headers.get('x-zendesk-api-warn') ?? '', /action: "show_many", unpermitted_keys: \["idz"\]/);
  });

  test('users/count: active users by role, exactly; an estimate on request', async () => {
    const users = ws.users();
    const active = (pred: (u: ZendeskUser) => boolean) => users.filter((u) => u.active && pred(u)).length;
    assert.equal(
      await count(),
      active(() => true),
    );
    assert.equal(
      await count('role=end-user'),
      active((u) => u.role === 'end-user'),
    );
    assert.equal(
      await count('role=agent'),
      active((u) => u.role === 'agent'),
    );
    assert.equal(
      await count('role[]=agent&role[]=admin'),
      active((u) => u.role !== 'end-user'),
    );
    const r = await get('/api/v2/users/count?role[]=agent&role[]=admin');
    assert.deepEqual(Object.keys(r.body.count), ['refreshed_at', 'value']);
    assert.match(r.body.count.refreshed_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    ws.setUserCountEstimate({ value: 100_000, refreshedAt: null });
    assert.deepEqual((await get('/api/v2/users/count')).body, { count: { refreshed_at: null, value: 100_000 } });
    ws.setUserCountEstimate(null);
    assert.equal(
      await count(),
      active(() => true),
    );
    assert.equal((await get('/api/v2/users/count?rolez=agent')).headers.get('x-zendesk-api-warn')?.includes('action: "count"'), true);
  });

  test('show_many and users/count: staff only, read or users:read scope, account bucket', async () => {
    const ticketsOnly = (await connect(sb, 'seats', 'tickets:read')).access_token;
    assert.equal((await get(`/api/v2/users/show_many?ids=${ws.ownerId}`, ticketsOnly)).status, 403);
    assert.equal((await get('/api/v2/users/count', ticketsOnly)).status, 403);
    const usersRead = (await connect(sb, 'seats', 'users:read')).access_token;
    assert.equal((await get(`/api/v2/users/show_many?ids=${ws.ownerId}`, usersRead)).status, 200);
    assert.equal((await get('/api/v2/users/count', usersRead)).status, 200);
    assert.equal((await get('/api/v2/users/count', 'nope')).status, 401);
    const endUser = ws.userIds({ role: 'end-user', activeOnly: true })[5];
    ws.setConsentingUser(endUser!);
    const endUserToken = (await connect(sb, 'seats')).access_token;
    ws.setConsentingUser(ws.ownerId);
    assert.equal((await get(`/api/v2/users/show_many?ids=${endUser}`, endUserToken)).status, 403);
    assert.equal((await get('/api/v2/users/count', endUserToken)).status, 403);

    const limited = sb.createWorkspace({
      subdomain: 'seats-limited',
      users: 20,
      seatHolders: 3,
      ticketEvents: 0,
      consentMode: 'allow',
      accountLimit: 2,
      rateLimitWindowMs: 60_000,
    });
    const t = (await connect(sb, 'seats-limited')).access_token;
    const one = await api(sb, 'seats-limited', '/api/v2/users/count', t);
    assert.equal(one.headers.get('x-zendesk-private-zendesk-ratelimit-api-requests')?.startsWith('total=2;'), true);
    await api(sb, 'seats-limited', `/api/v2/users/show_many?ids=${limited.ownerId}`, t);
    assert.equal((await api(sb, 'seats-limited', '/api/v2/users/count', t)).status, 429);
    assert.equal(limited.stats().bucketRequests.account, 3);
  });

  test('bench references: export page counts match a walk; issueAccessToken gives a working token without consent', async () => {
    const direct = ws.issueAccessToken();
    assert.equal((await get('/api/v2/users/count', direct)).status, 200);
    assert.ok(ws.issuedTokens().includes(direct));
    assert.equal((await get('/api/v2/users/count', ws.issueAccessToken({ scope: 'tickets:read' }))).status, 403);

    let pages: number;
    let page = (await get('/api/v2/incremental/users/cursor?start_time=0&per_page=250', direct)).body;
    for (pages = 1; !page.end_of_stream; pages++) page = (await get(page.after_url, direct)).body;
    assert.equal(ws.usersExportPageCount(0, 250), pages);
    const events = sb.createWorkspace({
      subdomain: 'seats-events',
      users: 200,
      seatHolders: 20,
      ticketEvents: 5000,
      days: 90,
      consentMode: 'allow',
      rateLimits: false,
      exclusionSeconds: 0,
    });
    const t = events.issueAccessToken();
    const start = Math.floor(Date.now() / 1000) - 30 * 86_400;
    let eventPages = 0;
    let next: string | null = `/api/v2/incremental/ticket_events?start_time=${start}&per_page=100`;
    while (next) {
      const r: { end_of_stream: boolean; next_page: string } = (await api(sb, 'seats-events', next, t)).body;
      eventPages++;
      next = r.end_of_stream ? null : r.next_page;
    }
    assert.ok(eventPages > 5);
    assert.equal(events.ticketEventsPageCount(start, 100), eventPages);
  });
});
