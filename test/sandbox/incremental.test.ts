import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sandbox, SandboxWorkspace, ZendeskUser } from '../../src/sandbox';
import { api, connect, start, TestClock } from './helpers';

interface ExportPage {
  users: ZendeskUser[];
  after_cursor: string;
  after_url: string;
  before_cursor: string | null;
  before_url: string | null;
  end_of_stream: boolean;
}

describe('GET /api/v2/incremental/users/cursor', () => {
  let sb: Sandbox;
  let ws: SandboxWorkspace;
  let token: string;
  const clock = new TestClock();
  before(async () => {
    sb = await start({ now: clock.now });
    ws = sb.createWorkspace({ subdomain: 'inc', users: 2500, ticketEvents: 10, consentMode: 'allow', exclusionSeconds: 0, rateLimits: false });
    token = (await connect(sb, 'inc')).access_token;
  });
  after(() => sb.close());

  const get = async (path: string): Promise<ExportPage> => {
    const r = await api(sb, 'inc', path, token);
    assert.equal(r.status, 200, r.text);
    return r.body as ExportPage;
  };

  /** Follows after_cursor until end_of_stream; returns users and the cursor to resume from. */
  async function drain(first: string): Promise<{ users: ZendeskUser[]; cursor: string; pages: number }> {
    let page = await get(first);
    const users = [...page.users];
    let pages = 1;
    while (!page.end_of_stream) {
      page = await get(`/api/v2/incremental/users/cursor.json?cursor=${encodeURIComponent(page.after_cursor)}`);
      users.push(...page.users);
      pages++;
    }
    return { users, cursor: page.after_cursor, pages };
  }

  test('a full export returns every user once, deleted ones as active:false, ordered by (updated_at, id)', async () => {
    const { users, pages } = await drain('/api/v2/incremental/users/cursor?start_time=0');
    assert.equal(pages, 3);
    assert.equal(users.length, 2500);
    assert.equal(new Set(users.map((u) => u.id)).size, 2500);
    assert.ok(users.some((u) => u.active === false));
    for (let i = 1; i < users.length; i++) {
      const a = users[i - 1];
      const b = users[i];
      assert.ok(a!.updated_at < b!.updated_at || (a!.updated_at === b!.updated_at && a!.id < b!.id), `order at ${i}`);
    }
  });

  test('per_page defaults to 1000 and is capped at 1000', async () => {
    const def = await get('/api/v2/incremental/users/cursor?start_time=0');
    assert.equal(def.users.length, 1000);
    assert.equal(def.before_cursor, null);
    const big = await get('/api/v2/incremental/users/cursor?start_time=0&per_page=5000');
    assert.equal(big.users.length, 1000);
    const small = await get('/api/v2/incremental/users/cursor?start_time=0&per_page=7');
    assert.equal(small.users.length, 7);
    assert.equal(small.end_of_stream, false);
    const next = await get(small.after_url.slice(small.after_url.indexOf('/api/v2')));
    assert.equal(next.users.length, 7);
    assert.notEqual(next.before_cursor, null);
  });

  test('start_time filters by updated_at and is required', async () => {
    const all = ws.users();
    const mid = all.map((u) => Date.parse(u.updated_at) / 1000).sort((a, b) => a - b)[1250];
    const { users } = await drain(`/api/v2/incremental/users/cursor?start_time=${mid}`);
    assert.equal(users.length, all.filter((u) => Date.parse(u.updated_at) / 1000 >= mid!).length);
    assert.equal((await api(sb, 'inc', '/api/v2/incremental/users/cursor', token)).status, 400);
    const bogus = await api(sb, 'inc', '/api/v2/incremental/users/cursor?cursor=bogus', token);
    assert.equal(bogus.status, 400);
    assert.equal(bogus.body.errors[0].code, 'InvalidCursor');
  });

  test('the cursor survives end_of_stream and then returns exactly the changed users', async () => {
    const { cursor } = await drain('/api/v2/incremental/users/cursor?start_time=0');
    const empty = await get(`/api/v2/incremental/users/cursor?cursor=${encodeURIComponent(cursor)}`);
    assert.equal(empty.users.length, 0);
    assert.equal(empty.end_of_stream, true);
    assert.equal(empty.after_cursor, cursor);

    clock.advance(1000);
    const [a, b, c] = ws.users().filter((u) => u.active && u.role === 'agent');
    ws.suspendUser(a!.id);
    ws.deleteUser(b!.id);
    ws.setRole(c!.id, 'admin', 4);
    const added = ws.addUser({ name: 'New Person', email: 'new.person@example.com' });
    const changed = await drain(`/api/v2/incremental/users/cursor?cursor=${encodeURIComponent(cursor)}`);
    assert.deepEqual(
      changed.users.map((u) => u.id),
      [a!.id, b!.id, c!.id, added.id],
    );
    const byId = new Map(changed.users.map((u) => [u.id, u]));
    assert.equal(byId.get(a!.id)!.suspended, true);
    assert.equal(byId.get(b!.id)!.active, false);
    assert.equal(byId.get(c!.id)!.role, 'admin');

    // Nothing more until the next change; a user changed twice comes back again.
    const again = await drain(`/api/v2/incremental/users/cursor?cursor=${encodeURIComponent(changed.cursor)}`);
    assert.equal(again.users.length, 0);
    clock.advance(1000);
    ws.updateUser(a!.id, { name: 'Renamed' });
    const twice = await drain(`/api/v2/incremental/users/cursor?cursor=${encodeURIComponent(changed.cursor)}`);
    assert.deepEqual(
      twice.users.map((u) => [u.id, u.name]),
      [[a!.id, 'Renamed']],
    );
  });

  test('the most recent window is excluded and start_time must be older than it', async () => {
    ws.setExclusionSeconds(60);
    try {
      clock.advance(61_000); // let the earlier tests' changes leave the excluded window
      const { cursor } = await drain('/api/v2/incremental/users/cursor?start_time=0');
      clock.advance(1000);
      const u = ws.users().find((x) => x.active && x.role === 'end-user')!;
      ws.updateUser(u.id, { verified: !u.verified });
      const hidden = await get(`/api/v2/incremental/users/cursor?cursor=${encodeURIComponent(cursor)}`);
      assert.equal(hidden.users.length, 0);
      clock.advance(61_000);
      const shown = await get(`/api/v2/incremental/users/cursor?cursor=${encodeURIComponent(cursor)}`);
      assert.deepEqual(
        shown.users.map((x) => x.id),
        [u.id],
      );
      const recent = Math.floor(clock.now() / 1000) - 30;
      const r = await api(sb, 'inc', `/api/v2/incremental/users/cursor?start_time=${recent}`, token);
      assert.equal(r.status, 422);
      assert.deepEqual(r.body, { error: 'InvalidValue', description: 'Too recent start_time. Use a start_time older than 1 minute' });
    } finally {
      ws.setExclusionSeconds(0);
    }
  });
});
