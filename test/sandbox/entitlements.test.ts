import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sandbox, SandboxWorkspace, UserEntitlements } from '../../src/sandbox';
import { api, connect, start } from './helpers';

const PAID: Array<[string, string]> = [
  ['chat', 'agent'],
  ['guide', 'agent'],
  ['guide', 'admin'],
  ['explore', 'admin'],
  ['explore', 'editor'],
];
const paidRole = (e: UserEntitlements) =>
  PAID.some(([p, n]) => (e[p] as { name?: string; is_active?: boolean } | undefined)?.name === n && (e[p] as { is_active?: boolean }).is_active === true);

describe('GET /api/v2/users/{id}/entitlements/full', () => {
  let sb: Sandbox;
  let ws: SandboxWorkspace;
  let token: string;
  before(async () => {
    sb = await start({ rateLimitWindowMs: 60_000 });
    ws = sb.createWorkspace({ subdomain: 'seats', users: 1500, ticketEvents: 0, seed: 12, consentMode: 'allow', accountLimit: 10_000 });
    token = (await connect(sb, 'seats')).access_token;
  });
  after(() => sb.close());
  const get = (path: string, t = token) => api(sb, 'seats', path, t);

  test('the OAS shape; light agents and contributors mostly without a paid role, some with one', async () => {
    const owner = await get(`/api/v2/users/${ws.ownerId}/entitlements/full`);
    assert.equal(owner.status, 200);
    assert.deepEqual(Object.keys(owner.body), ['entitlements']);
    assert.deepEqual(Object.keys(owner.body.entitlements).sort(), ['chat', 'explore', 'guide', 'talk']);
    assert.deepEqual(owner.body.entitlements.chat, { name: 'admin', is_active: true });

    const free = [...ws.userIds({ roleType: 1 }), ...ws.userIds({ roleType: 3 })];
    assert.ok(free.length > 50);
    const all = free.map((id) => ws.entitlements(id)!);
    const paid = all.filter(paidRole).length;
    assert.ok(paid > free.length * 0.15 && paid < free.length * 0.5, `${paid} of ${free.length} hold a paid role`);
    for (const [p, n] of PAID)
      assert.ok(
        all.some((e) => (e[p] as { name: string }).name === n && (e[p] as { is_active: boolean }).is_active),
        `${p} ${n}`,
      );
    assert.ok(
      all.some((e) => (e.guide as { name: string; is_active: boolean }).name === 'viewer' && (e.guide as { is_active: boolean }).is_active),
      'guide viewer (free)',
    );
    // Deterministic: the endpoint serves what the control API says, again and again.
    const r = await get(`/api/v2/users/${free[0]}/entitlements/full`);
    assert.deepEqual(r.body.entitlements, ws.entitlements(free[0]!));
  });

  test('setEntitlements sets any JSON; it does not move the user unless touch', async () => {
    const id = ws.userIds({ roleType: 1 })[0];
    const before = ws.user(id!)!.updated_at;
    ws.setEntitlements(id!, { chat: { name: 'agent', is_active: true }, guide: { name: 'curator', is_active: true } });
    const r = await get(`/api/v2/users/${id}/entitlements/full.json`);
    assert.deepEqual(r.body.entitlements, { chat: { name: 'agent', is_active: true }, guide: { name: 'curator', is_active: true } });
    assert.equal(ws.user(id!)!.updated_at, before);
    ws.setEntitlements(id!, { chat: { name: 'agent', is_active: false } }, { touch: true });
    assert.notEqual(ws.user(id!)!.updated_at, before);
  });

  test('404 RecordNotFound for an unknown user, 403 when the workspace cannot read entitlements', async () => {
    const missing = await get('/api/v2/users/12345/entitlements/full');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error, 'RecordNotFound');
    ws.setEntitlementsReadable(false);
    try {
      const r = await get(`/api/v2/users/${ws.ownerId}/entitlements/full`);
      assert.equal(r.status, 403);
      assert.equal(r.body.error, 'Forbidden');
    } finally {
      ws.setEntitlementsReadable(true);
    }
    const old = sb.createWorkspace({ subdomain: 'old-plan', users: 5, ticketEvents: 0, consentMode: 'allow', entitlementsForbidden: true });
    const t = (await connect(sb, 'old-plan')).access_token;
    assert.equal((await api(sb, 'old-plan', `/api/v2/users/${old.ownerId}/entitlements/full`, t)).status, 403);
  });

  test('needs a token with read or users:read; counts against the account bucket', async () => {
    assert.equal((await get(`/api/v2/users/${ws.ownerId}/entitlements/full`, '')).status, 401);
    const ticketsOnly = (await connect(sb, 'seats', 'tickets:read')).access_token;
    assert.equal((await get(`/api/v2/users/${ws.ownerId}/entitlements/full`, ticketsOnly)).status, 403);
    const usersRead = (await connect(sb, 'seats', 'users:read')).access_token;
    assert.equal((await get(`/api/v2/users/${ws.ownerId}/entitlements/full`, usersRead)).status, 200);

    ws.resetStats();
    ws.resetRateLimits();
    ws.setRateLimits({ accountLimit: 3 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await get(`/api/v2/users/${ws.ownerId}/entitlements/full`)).status);
      assert.deepEqual(statuses, [200, 200, 200, 429]);
      const s = ws.stats();
      assert.equal(s.bucketRequests.account, 4);
      assert.equal(s.rateLimited429ByBucket.account, 1);
      assert.equal(s.byEndpoint['GET /api/v2/users/:id/entitlements/full'], 4);
    } finally {
      ws.setRateLimits({ accountLimit: 10_000 });
      ws.resetRateLimits();
    }
  });
});
