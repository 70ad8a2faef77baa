// Group memberships in the sandbox: generated per agent, listed in offset pages, added by POST (with its
// refusals and scopes), and dropped when the users PUT (or setRole) makes an agent an end user.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Sandbox, type SandboxWorkspace } from '../../src/sandbox';
import { GROUP_IDS } from '../../src/sandbox/groupMemberships';
import { LIGHT_AGENT_ROLE_ID } from '../../src/sandbox/userWrites';
import { api, start, type ApiResult } from './helpers';

const SUB = 'groups';

describe('sandbox group memberships', () => {
  let sb: Sandbox;
  let ws: SandboxWorkspace;
  let write: string;
  let read: string;

  before(async () => {
    sb = await start();
    ws = sb.createWorkspace({ subdomain: SUB, users: 400, ticketEvents: 0, seed: 31, consentMode: 'allow', rateLimits: false });
    write = ws.issueAccessToken({ scope: 'read write' });
    read = ws.issueAccessToken({ scope: 'read' });
  });
  after(() => sb.close());

  const list = (userId: number, query = '', token = read) => api(sb, SUB, `/api/v2/users/${userId}/group_memberships.json${query}`, token);
  async function send(method: 'POST' | 'PUT', path: string, body: unknown, token = write): Promise<ApiResult> {
    const res = await fetch(`${sb.url}/${SUB}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined, text };
  }
  const addMembership = (userId: number, groupId: number, token = write) =>
    send('POST', '/api/v2/group_memberships.json', { group_membership: { user_id: userId, group_id: groupId } }, token);
  /** Active, unshared agents (the PUT refuses shared ones), not the owner. */
  const agents = () => ws.users().filter((u) => u.active && u.role === 'agent' && !u.shared && !u.shared_agent && u.id !== ws.ownerId);
  const unusedGroup = (userId: number) => GROUP_IDS.find((g) => !ws.groupIdsOf(userId).includes(g))!;

  test('every agent and admin is in 1–3 groups, its default group among them; end users in none; the same seed gives the same groups', async () => {
    const twin = sb.createWorkspace({ subdomain: 'groups-twin', users: 400, ticketEvents: 0, seed: 31 });
    const staff = ws.users().filter((u) => u.active && u.role !== 'end-user');
    assert.ok(staff.length > 20);
    for (const u of staff.slice(0, 40)) {
      const r = await list(u.id);
      assert.equal(r.status, 200, r.text);
      const ms = r.body.group_memberships as Array<Record<string, unknown>>;
      assert.ok(ms.length >= 1 && ms.length <= 3, `user ${u.id}: ${ms.length} groups`);
      assert.equal(r.body.count, ms.length);
      assert.equal(r.body.next_page, null);
      assert.equal(r.body.previous_page, null);
      for (const m of ms) {
        assert.deepEqual(Object.keys(m), ['id', 'url', 'user_id', 'group_id', 'default', 'created_at', 'updated_at']);
        assert.equal(m.user_id, u.id);
        assert.equal(m.default, m.group_id === u.default_group_id);
      }
      if (u.default_group_id !== null) assert.ok(ms.some((m) => m.group_id === u.default_group_id && m.default === true));
      assert.equal(new Set(ms.map((m) => m.group_id)).size, ms.length, 'no group twice');
      assert.deepEqual(twin.groupIdsOf(u.id), ws.groupIdsOf(u.id));
    }
    const endUser = ws.users().find((u) => u.active && u.role === 'end-user')!;
    assert.deepEqual((await list(endUser.id)).body.group_memberships, []);
    assert.equal((await list(999_999_999)).status, 404);
    assert.equal(ws.membershipChanges().length, 0, 'generation is not a change');
  });

  test('offset pages: per_page ≤ 100, next_page and previous_page links, count over all pages', async () => {
    const u = agents().find((a) => ws.groupIdsOf(a.id).length >= 2)!;
    const n = ws.groupIdsOf(u.id).length;
    const first = await list(u.id, '?per_page=1');
    assert.equal(first.body.group_memberships.length, 1);
    assert.equal(first.body.count, n);
    assert.equal(first.body.previous_page, null);
    assert.match(first.body.next_page, /\/group_memberships\.json\?page=2&per_page=1$/);
    const second = await api(sb, SUB, first.body.next_page, read);
    assert.equal(second.status, 200, second.text);
    assert.notEqual(second.body.group_memberships[0].id, first.body.group_memberships[0].id);
    assert.match(second.body.previous_page, /page=1&per_page=1$/);
    const last = await list(u.id, `?page=${n}&per_page=1`);
    assert.equal(last.body.next_page, null);
    assert.equal((await list(u.id, `?page=${n + 1}&per_page=1`)).body.group_memberships.length, 0);
    assert.equal((await list(u.id, '?per_page=500')).body.group_memberships.length, n, 'per_page is capped at 100, not refused');
    assert.equal((await list(u.id, '?page=0')).status, 400);
  });

  test('POST adds a membership (201); an existing membership, an end user, a bad group id are 422; read-only grants and agents get 403', async () => {
    const [u] = agents();
    const group = unusedGroup(u!.id);
    const created = await addMembership(u!.id, group);
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(Object.keys(created.body.group_membership), ['id', 'url', 'user_id', 'group_id', 'default', 'created_at', 'updated_at']);
    assert.equal(created.body.group_membership.group_id, group);
    assert.equal(created.body.group_membership.default, false);
    assert.ok(ws.groupIdsOf(u!.id).includes(group));
    assert.ok((await list(u!.id)).body.group_memberships.some((m: { id: number }) => m.id === created.body.group_membership.id));
    assert.deepEqual(
      ws.membershipChanges(u!.id).map((c) => [c.kind, c.groupId]),
      [['added', group]],
    );

    const again = await addMembership(u!.id, group);
    assert.equal(again.status, 422);
    assert.equal(again.body.error, 'RecordInvalid');
    const endUser = ws.users().find((x) => x.active && x.role === 'end-user')!;
    assert.equal((await addMembership(endUser.id, group)).status, 422);
    assert.equal((await addMembership(u!.id, -1)).status, 422);
    assert.equal((await addMembership(999_999_999, group)).status, 422);
    assert.equal((await send('POST', '/api/v2/group_memberships.json', {})).status, 400);
    assert.equal((await addMembership(u!.id, unusedGroup(u!.id), read)).status, 403, 'reading is not writing');
    assert.equal((await addMembership(u!.id, unusedGroup(u!.id), ws.issueAccessToken({ userId: u!.id, scope: 'read write' }))).status, 403, 'admins only');
    // As the sandbox's users PUT: users:write counts (Zendesk documents no resource scope for memberships).
    assert.equal((await addMembership(u!.id, unusedGroup(u!.id), ws.issueAccessToken({ scope: 'users:read users:write' }))).status, 201);
    assert.equal(ws.membershipChanges(u!.id).length, 2, 'refusals change nothing');
  });

  test('a PUT to end user drops every membership (logged); to a light agent keeps them; back to agent none until re-added; setRole drops too', async () => {
    ws.clearMembershipChanges();
    const [, light, down, viaSetRole] = agents();
    const groupsOf = new Map([light!, down!, viaSetRole!].map((u) => [u.id, ws.groupIdsOf(u.id)]));

    const toLight = await send('PUT', `/api/v2/users/${light!.id}.json`, { user: { role: 'agent', custom_role_id: LIGHT_AGENT_ROLE_ID } });
    assert.equal(toLight.status, 200, toLight.text);
    assert.equal(toLight.body.user.role_type, 1);
    assert.deepEqual(ws.groupIdsOf(light!.id), groupsOf.get(light!.id), 'a light agent stays in its groups');

    const toEndUser = await send('PUT', `/api/v2/users/${down!.id}.json`, { user: { role: 'end-user' } });
    assert.equal(toEndUser.status, 200, toEndUser.text);
    assert.deepEqual((await list(down!.id)).body.group_memberships, []);
    assert.deepEqual(
      ws
        .membershipChanges(down!.id)
        .map((c) => [c.kind, c.groupId])
        .sort((a, b) => Number(a[1]) - Number(b[1])),
      groupsOf.get(down!.id)!.map((g) => ['dropped', g]),
    );

    const back = await send('PUT', `/api/v2/users/${down!.id}.json`, {
      user: { role: 'agent', custom_role_id: down!.custom_role_id, default_group_id: down!.default_group_id },
    });
    assert.equal(back.status, 200, back.text);
    assert.deepEqual(ws.groupIdsOf(down!.id), [], 'an upgrade does not bring the groups back');
    for (const g of groupsOf.get(down!.id)!) assert.equal((await addMembership(down!.id, g)).status, 201);
    assert.deepEqual(ws.groupIdsOf(down!.id), groupsOf.get(down!.id));
    const defaults = (await list(down!.id)).body.group_memberships.filter((m: { default: boolean }) => m.default);
    assert.deepEqual(
      defaults.map((m: { group_id: number }) => m.group_id),
      down!.default_group_id === null ? [] : [down!.default_group_id],
    );

    ws.setRole(viaSetRole!.id, 'end-user');
    assert.deepEqual(ws.groupIdsOf(viaSetRole!.id), []);
    assert.equal(ws.membershipChanges(viaSetRole!.id).length, groupsOf.get(viaSetRole!.id)!.length);
    assert.equal(ws.membershipChanges(light!.id).length, 0);
  });

  test('deleteGroup: its members leave it (logged), a POST to it is 422, and users generated later are not in it', async () => {
    ws.clearMembershipChanges();
    const member = agents().find((u) => ws.groupIdsOf(u.id).length >= 2)!;
    const group = ws.groupIdsOf(member.id)[0]!;
    ws.deleteGroup(group);
    assert.ok(!ws.groupIdsOf(member.id).includes(group));
    assert.deepEqual(
      ws.membershipChanges(member.id).map((c) => [c.kind, c.groupId]),
      [['dropped', group]],
    );
    assert.equal((await addMembership(member.id, group)).status, 422);
    const fresh = sb.createWorkspace({ subdomain: 'groups-deleted', users: 400, ticketEvents: 0, seed: 31 });
    const staff = fresh.users().filter((u) => u.active && u.role !== 'end-user');
    fresh.deleteGroup(group);
    for (const u of staff) assert.ok(!fresh.groupIdsOf(u.id).includes(group), `user ${u.id}`);
  });
});
