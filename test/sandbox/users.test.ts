import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sandbox, SandboxWorkspace, ZendeskUser } from '../../src/sandbox';
import { api, connect, start } from './helpers';

describe('GET /api/v2/users', () => {
  let sb: Sandbox;
  let ws: SandboxWorkspace;
  let token: string;
  before(async () => {
    sb = await start();
    ws = sb.createWorkspace({ subdomain: 'people', users: 750, ticketEvents: 10, consentMode: 'allow', rateLimits: false });
    token = (await connect(sb, 'people')).access_token;
  });
  after(() => sb.close());

  const get = (path: string) => api(sb, 'people', path, token);

  async function walk(query: string): Promise<{ users: ZendeskUser[]; pages: number }> {
    const users: ZendeskUser[] = [];
    let next: string | null = `/api/v2/users.json?${query}`;
    let pages = 0;
    while (next) {
      const r = await get(next);
      assert.equal(r.status, 200, r.text);
      pages++;
      users.push(...r.body.users);
      next = r.body.meta.has_more ? r.body.links.next : null;
    }
    return { users, pages };
  }

  test('cursor walk returns every active user once, in id order, deleted excluded', async () => {
    const { users, pages } = await walk('page[size]=100&include_boundary_indicators=true');
    const expected = ws.users().filter((u) => u.active);
    assert.equal(users.length, expected.length);
    assert.deepEqual(
      users.map((u) => u.id),
      expected.map((u) => u.id),
    );
    assert.equal(pages, Math.ceil(expected.length / 100));
    assert.ok(
      ws.users().some((u) => !u.active),
      'the fixture has deleted users',
    );
  });

  test('meta.has_more is sent with or without include_boundary_indicators (recorded); links as recorded', async () => {
    const without = await get('/api/v2/users?page[size]=10');
    assert.equal(without.body.meta.has_more, true);
    assert.ok(without.body.meta.after_cursor);
    assert.ok(without.body.meta.before_cursor);
    assert.ok(without.body.links.prev);
    // No .json, the cursor first, brackets encoded.
    assert.match(without.body.links.next, /\/api\/v2\/users\?page%5Bafter%5D=[^&]+&page%5Bsize%5D=10$/);
    const withFlag = await get('/api/v2/users?page[size]=10&include_boundary_indicators=true');
    assert.equal(withFlag.body.meta.has_more, true);
    // The recorded cursor encoding: {"o":"id","v":base64('i' + int64 LE)}.
    const decoded = JSON.parse(Buffer.from(without.body.meta.after_cursor, 'base64').toString('utf8'));
    const bytes = Buffer.from(decoded.v, 'base64');
    assert.equal(decoded.o, 'id');
    assert.equal(Number(bytes.readBigUInt64LE(1)), without.body.users[9].id);
  });

  test('an unknown parameter is ignored and named in X-Zendesk-API-Warn', async () => {
    const r = await get('/api/v2/users?page[size]=5&roles=agent,admin');
    assert.equal(r.status, 200);
    assert.ok(
      r.body.users.some((u: ZendeskUser) => u.role === 'end-user'),
      'the misspelt filter did nothing',
    );
    assert.match(r.headers.get('x-zendesk-api-warn') ?? '', /unpermitted_keys: \["roles"\]/);
    assert.equal((await get('/api/v2/users?page[size]=5&role=agent')).headers.get('x-zendesk-api-warn'), null);
  });

  test('hasMoreOnlyWithBoundaryIndicators restores the older behaviour', async () => {
    sb.createWorkspace({
      subdomain: 'people-old',
      users: 30,
      ticketEvents: 0,
      consentMode: 'allow',
      rateLimits: false,
      hasMoreOnlyWithBoundaryIndicators: true,
    });
    const t = (await connect(sb, 'people-old')).access_token;
    const without = await api(sb, 'people-old', '/api/v2/users?page[size]=10', t);
    assert.equal('has_more' in without.body.meta, false);
    const withFlag = await api(sb, 'people-old', '/api/v2/users?page[size]=10&include_boundary_indicators=true', t);
    assert.equal(withFlag.body.meta.has_more, true);
  });

  test('following links.next without the flag ends on an empty page with null cursors', async () => {
    let next: string | null = `${sb.url}/people/api/v2/users.json?page[size]=100&role=admin`;
    let pages = 0;
    let seen = 0;
    while (next) {
      const r = await get(next);
      pages++;
      seen += r.body.users.length;
      next = r.body.links.next;
      if (r.body.users.length === 0) {
        assert.equal(r.body.meta.after_cursor, null);
        assert.equal(r.body.links.next, null);
      }
    }
    assert.equal(seen, ws.users().filter((u) => u.active && u.role === 'admin').length);
    assert.ok(pages >= 2);
  });

  test('page[size] above 100 is 400; default page size is 100', async () => {
    const r = await get('/api/v2/users?page[size]=101');
    assert.equal(r.status, 400);
    const d = await get('/api/v2/users?page[after]=' + encodeURIComponent((await get('/api/v2/users?page[size]=1')).body.meta.after_cursor));
    assert.equal(d.body.users.length, 100);
  });

  test('page[before] walks backwards', async () => {
    const first = await get('/api/v2/users?page[size]=25');
    const second = await get(`/api/v2/users?page[size]=25&page[after]=${encodeURIComponent(first.body.meta.after_cursor)}`);
    const back = await get(`/api/v2/users?page[size]=25&page[before]=${encodeURIComponent(second.body.meta.before_cursor)}`);
    assert.deepEqual(
      back.body.users.map((u: ZendeskUser) => u.id),
      first.body.users.map((u: ZendeskUser) => u.id),
    );
  });

  test('role=agent excludes admins; role[] is repeatable', async () => {
    const agents = await walk('page[size]=100&role=agent&include_boundary_indicators=true');
    assert.ok(agents.users.length > 0);
    assert.ok(agents.users.every((u) => u.role === 'agent'));
    const staff = await walk('page[size]=100&role[]=agent&role[]=admin&include_boundary_indicators=true');
    const expected = ws.users().filter((u) => u.active && u.role !== 'end-user');
    assert.equal(staff.users.length, expected.length);
    assert.ok(staff.users.some((u) => u.role === 'admin'));
  });

  test('offset pagination works and refuses pages past 10,000 records with InvalidPaginationDepth', async () => {
    const p1 = await get('/api/v2/users.json?page=1&per_page=50');
    assert.equal(p1.status, 200);
    assert.equal(p1.body.users.length, 50);
    assert.equal(p1.body.count, ws.users().filter((u) => u.active).length);
    assert.ok(p1.body.next_page);
    const deep = await get('/api/v2/users.json?page=101&per_page=100');
    assert.equal(deep.status, 400);
    assert.match(deep.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(deep.body.errors[0].code, 'InvalidPaginationDepth');
    assert.equal((await get('/api/v2/users.json?page=100&per_page=100')).status, 200);
    assert.equal((await get('/api/v2/users.json?page=2&page[size]=10')).status, 400);
  });

  test('users keep the JSON types of the contract', async () => {
    const r = await get('/api/v2/users?page[size]=100');
    for (const u of r.body.users as ZendeskUser[]) {
      assert.equal(typeof u.id, 'number');
      assert.ok(u.id > 2 ** 32 && u.id < Number.MAX_SAFE_INTEGER);
      assert.match(u.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.ok(u.role_type === null || typeof u.role_type === 'number');
    }
  });

  test('GET /users/{id}, .json optional, unknown id is 404', async () => {
    const id = ws.ownerId;
    assert.equal((await get(`/api/v2/users/${id}.json`)).body.user.id, id);
    assert.equal((await get(`/api/v2/users/${id}`)).body.user.id, id);
    const missing = await get('/api/v2/users/1');
    assert.equal(missing.status, 404);
  });

  test('unknown endpoints answer 404 InvalidEndpoint', async () => {
    const r = await get('/api/v2/nothing/here.json');
    assert.equal(r.status, 404);
    assert.deepEqual(r.body, { error: 'InvalidEndpoint', description: 'Not found' });
  });

  test('mutations are visible through the API', async () => {
    const target = ws.users().find((u) => u.role === 'agent' && u.active && !u.suspended)!;
    ws.suspendUser(target.id);
    assert.equal((await get(`/api/v2/users/${target.id}`)).body.user.suspended, true);
    ws.unsuspendUser(target.id);
    const promoted = ws.setRole(target.id, 'admin');
    assert.equal(promoted.role_type, 4);
    assert.equal(promoted.restricted_agent, false);
    assert.equal(promoted.custom_role_id, ws.user(ws.ownerId)!.custom_role_id, 'admins share the admin role');
    assert.notEqual(promoted.custom_role_id, null);
    const demoted = ws.setRole(target.id, 'end-user');
    assert.equal(demoted.role_type, null);
    assert.equal(demoted.custom_role_id, null);
    const added = ws.addUser({ name: `O'Brien, "Jr"`, email: 'obrien@example.com', role: 'agent' });
    const got = await get(`/api/v2/users/${added.id}`);
    assert.equal(got.body.user.name, `O'Brien, "Jr"`);
    assert.ok(added.id > ws.ownerId);
  });
});
