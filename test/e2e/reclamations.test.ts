import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, connectAndSync, createTenant, startSystem, waitFor, waitForSync, type System } from '../helpers/system';
import { WebhookReceiver } from '../helpers/webhookReceiver';
import { readCsv } from './reports.fixture';
import type { SandboxWorkspace } from '../../src/sandbox';

/**
 * Reclaiming seats end to end over HTTP: real PostgreSQL, Temporal and the sandbox. A "day" of the
 * reclamation periods is one second here (RECLAIM_DAY), so expiry and undo windows take seconds.
 */
let system: System;
let tenant: { id: string; apiKey: string };
let other: { id: string; apiKey: string };

const receiver = new WebhookReceiver();

before(async () => {
  await receiver.start();
  system = await startSystem({ env: { RECLAIM_DAY: '1s', WEBHOOK_ALLOW_HOSTS: '127.0.0.1', WEBHOOK_RELAY_INTERVAL: '50ms' } });
  tenant = await createTenant(system);
  other = await createTenant(system, 'Another customer');
});
after(async () => {
  await system?.stop();
  await receiver.stop();
});

const DAY = 86_400_000;

async function waitForStatus(integrationId: string, rid: string, statuses: string[], timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api(system, 'GET', `/v1/integrations/${integrationId}/reclamations/${rid}`, { key: tenant.apiKey });
    assert.equal(res.status, 200, res.text);
    if (statuses.includes(res.json.status)) return res.json;
    if (Date.now() > deadline) throw new Error(`reclamation still ${res.json.status}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Active, unsuspended, unshared agents with a paid seat, last seen long ago and created long ago. */
function inactiveAgents(ws: SandboxWorkspace, n: number) {
  return ws
    .users()
    .filter(
      (u) =>
        u.active &&
        u.role === 'agent' &&
        !u.suspended &&
        !u.shared &&
        !u.shared_agent &&
        (u.role_type === 0 || u.role_type === null) &&
        Date.now() - Date.parse(u.created_at) > 60 * DAY &&
        (u.last_login_at === null || Date.now() - Date.parse(u.last_login_at) > 120 * DAY) &&
        u.id !== ws.ownerId,
    )
    .slice(0, n);
}

const seat = (u: { role: string; role_type: number | null; custom_role_id: number | null; default_group_id: number | null }) => ({
  role: u.role,
  role_type: u.role_type,
  custom_role_id: u.custom_role_id,
  default_group_id: u.default_group_id,
});

describe('reclaiming seats', () => {
  let ws: SandboxWorkspace;
  let integrationId: string;
  let readOnlyId: string;
  let agents: ReturnType<SandboxWorkspace['users']>;
  let newHireId: number;
  let sharedId: number;
  let exemptId: number;

  before(async () => {
    ws = system.sandbox.createWorkspace({ subdomain: 'reclaimco', users: 400, ticketEvents: 200, seed: 1717, consentMode: 'allow' });
    // No ticket activity for the agents we pick: only their (old) sign-ins count.
    agents = inactiveAgents(ws, 6);
    assert.equal(agents.length, 6, 'the workspace has enough long-inactive agents');
    for (const a of agents) ws.updateUser(a.id, { default_group_id: 9_000 + (a.id % 100) });
    sharedId = agents[4]!.id;
    ws.updateUser(sharedId, { shared_agent: true });
    exemptId = agents[5]!.id;
    newHireId = ws.addUser({ name: 'New Hire', role: 'agent', role_type: 0, last_login_at: null }).id;
    integrationId = (await connectAndSync(system, tenant.apiKey, 'reclaimco', { access: 'reclaim' })).integrationId;
    system.sandbox.createWorkspace({ subdomain: 'readonlyco', users: 30, ticketEvents: 10, seed: 5, consentMode: 'allow' });
    readOnlyId = (await connectAndSync(system, tenant.apiKey, 'readonlyco')).integrationId;
  });

  test('an integration connected with access "reclaim" holds write access and says so; a read-only one says why not', async () => {
    const view = (await api(system, 'GET', `/v1/integrations/${integrationId}`, { key: tenant.apiKey })).json;
    assert.deepEqual(view.capabilities, { reclaim: { enabled: true, reason: null } });
    const grant = ws.grants().at(-1)!;
    assert.match(grant.scope, /\bwrite\b/);
    const readOnly = (await api(system, 'GET', `/v1/integrations/${readOnlyId}`, { key: tenant.apiKey })).json;
    assert.equal(readOnly.capabilities.reclaim.enabled, false);
    assert.match(readOnly.capabilities.reclaim.reason, /reconnect with access "reclaim"/);
    const refused = await api(system, 'POST', `/v1/integrations/${readOnlyId}/reclamations`, { key: tenant.apiKey, body: { action: 'end_user', rule: {} } });
    assert.equal(refused.status, 409, refused.text);
    assert.match(refused.json.detail, /read-only/);
    assert.equal((await system.db.selectFrom('reclamations').select('id').where('integration_id', '=', readOnlyId).execute()).length, 0);
  });

  test('bad input is refused with a problem naming the field, and changes nothing', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ action: 'end_user' }, /exactly one of userIds or rule/],
      [{ action: 'end_user', userIds: [1], rule: {} }, /exactly one of userIds or rule/],
      [{ action: 'delete', userIds: [1] }, /action/],
      [{ action: 'end_user', userIds: [-3] }, /userIds/],
      [{ action: 'end_user', userIds: [1], noticeDays: 2.5 }, /noticeDays/],
      [{ action: 'end_user', userIds: [1], noticeDays: 31 }, /noticeDays/],
    ];
    for (const [body, reason] of cases) {
      const res = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations`, { key: tenant.apiKey, body });
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
      assert.match(res.json.detail, reason);
    }
    const longActor = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations`, {
      key: tenant.apiKey,
      body: { action: 'end_user', userIds: [1] },
      headers: { actor: 'x'.repeat(201) },
    });
    assert.equal(longActor.status, 400);
    assert.equal((await system.db.selectFrom('reclamations').select('id').where('integration_id', '=', integrationId).execute()).length, 0);
    assert.equal(ws.userChanges.all().length, 0, 'nothing reached Zendesk');
  });

  test('another tenant sees neither the reclamations nor the audit log', async () => {
    const res = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations`, {
      key: other.apiKey,
      body: { action: 'end_user', userIds: [agents[0]!.id] },
    });
    assert.equal(res.status, 404);
    assert.equal((await api(system, 'GET', `/v1/integrations/${integrationId}/audit`, { key: other.apiKey })).status, 404);
  });

  test('plan → approve → execute → verify → undo: every guardrail in the plan, each user changed exactly once, undo restores every field and group membership', async () => {
    const settings = await api(system, 'PATCH', `/v1/integrations/${integrationId}/settings`, {
      key: tenant.apiKey,
      body: { reclaim: { exemptions: { userIds: [exemptId] }, newHireGraceDays: 30 } },
    });
    assert.equal(settings.status, 200, settings.text);
    assert.deepEqual(settings.json.settings.reclaim, { exemptions: { userIds: [exemptId] }, newHireGraceDays: 30 });

    const endUser = ws.users().find((u) => u.active && u.role === 'end-user')!;
    const targets = agents.slice(0, 4).map((a) => a.id);
    const before = new Map(targets.map((id) => [id, seat(ws.user(id)!)]));
    const groupsBefore = new Map(targets.map((id) => [id, ws.groupIdsOf(id)]));
    assert.ok(
      targets.every((id) => groupsBefore.get(id)!.length > 0),
      'every target is in a group',
    );
    const asked = [...targets, sharedId, exemptId, newHireId, ws.ownerId, endUser.id, 999_999_999];
    const created = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations`, {
      key: tenant.apiKey,
      body: { action: 'end_user', userIds: asked, approvalExpiresInDays: 60, undoWindowDays: 60 },
      headers: { actor: 'jane@platform.example' },
    });
    assert.equal(created.status, 201, created.text);
    const plan = created.json;
    assert.equal(plan.status, 'awaiting_approval');
    assert.equal(plan.workflowId, `zendesk-reclaim-${plan.id}`);
    const byUser = new Map<number, { state: string; reason: string; evidence: Record<string, unknown> }>(
      plan.users.map((u: { userId: number }) => [u.userId, u]),
    );
    for (const id of targets) {
      assert.equal(byUser.get(id)?.state, 'planned', `user ${id}`);
      assert.equal(byUser.get(id)?.reason, 'requested');
      assert.ok('lastLoginAt' in byUser.get(id)!.evidence && 'seatReason' in byUser.get(id)!.evidence);
    }
    const excluded = (id: number) => [byUser.get(id)?.state, byUser.get(id)?.reason];
    assert.deepEqual(excluded(sharedId), ['excluded', 'shared_user']);
    assert.deepEqual(excluded(exemptId), ['excluded', 'exempt']);
    assert.deepEqual(excluded(newHireId), ['excluded', 'new_hire']);
    assert.deepEqual(excluded(ws.ownerId), ['excluded', 'grant_admin']);
    assert.deepEqual(excluded(endUser.id), ['excluded', 'free_seat']);
    assert.deepEqual(excluded(999_999_999), ['excluded', 'not_found']);
    assert.equal(ws.userChanges.all().length, 0, 'a plan is a dry run');

    const approved = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations/${plan.id}/approve`, {
      key: tenant.apiKey,
      body: {},
      headers: { actor: 'boss@platform.example' },
    });
    assert.equal(approved.status, 200, approved.text);
    const done = await waitForStatus(integrationId, plan.id, ['completed']);
    for (const id of targets) {
      assert.equal(done.users.find((u: { userId: number }) => u.userId === id).state, 'downgraded', `user ${id}`);
      assert.equal(ws.user(id)!.role, 'end-user');
      assert.equal(ws.userChanges.forUser(id).length, 1, `user ${id} changed exactly once`);
      assert.deepEqual(ws.userChanges.forUser(id)[0]!.before, before.get(id));
      assert.deepEqual(ws.groupIdsOf(id), [], `user ${id}: Zendesk dropped the memberships of the end user`);
    }
    assert.equal(ws.userChanges.all().length, targets.length, 'nobody else was changed');
    const again = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations/${plan.id}/approve`, { key: tenant.apiKey, body: {} });
    assert.equal(again.status, 409, 'a plan is approved once');

    const undo = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations/${plan.id}/undo`, { key: tenant.apiKey, body: {} });
    assert.equal(undo.status, 200, undo.text);
    assert.deepEqual([...undo.json.restored].sort(), [...targets].sort());
    for (const id of targets) {
      assert.deepEqual(seat(ws.user(id)!), before.get(id), `user ${id} restored exactly`);
      assert.equal(ws.userChanges.forUser(id).length, 2);
      assert.deepEqual(ws.groupIdsOf(id), groupsBefore.get(id), `user ${id}: exactly the original groups again`);
      assert.equal(ws.membershipChanges(id).filter((c) => c.kind === 'added').length, groupsBefore.get(id)!.length, 'each group added back once');
    }

    const audit = await api(system, 'GET', `/v1/integrations/${integrationId}/audit?reclamationId=${plan.id}`, { key: tenant.apiKey });
    assert.equal(audit.status, 200, audit.text);
    const kinds = audit.json.events.map((e: { kind: string }) => e.kind);
    assert.equal(kinds[0], 'reclamation.planned');
    assert.equal(audit.json.events[0].actor, 'jane@platform.example');
    assert.ok(audit.json.events.some((e: { kind: string; actor: string }) => e.kind === 'reclamation.approved' && e.actor === 'boss@platform.example'));
    assert.equal(kinds.filter((k: string) => k === 'user.downgraded').length, targets.length);
    assert.equal(kinds.filter((k: string) => k === 'user.restored').length, targets.length);
    const downgraded = audit.json.events.find((e: { kind: string; userId: number }) => e.kind === 'user.downgraded' && e.userId === targets[0]);
    assert.deepEqual(downgraded.before, { ...before.get(targets[0]!), group_ids: groupsBefore.get(targets[0]!) }, 'the snapshot, groups included');
    assert.equal(downgraded.after.role, 'end-user');
    await assert.rejects(system.db.updateTable('audit_events').set({ kind: 'tampered' }).where('integration_id', '=', integrationId).execute(), /append-only/);
  });

  test('a partial approval changes only the approved users; an undo blocked by Zendesk (no free seat) says so for that user', async () => {
    const [a, b] = inactiveAgents(ws, 100).filter(
      (u) => u.role === 'agent' && ws.userChanges.forUser(u.id).length === 0 && u.id !== sharedId && u.id !== exemptId,
    );
    assert.ok(a && b);
    const created = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations`, {
      key: tenant.apiKey,
      body: { action: 'end_user', userIds: [a.id, b.id], approvalExpiresInDays: 60, undoWindowDays: 60 },
    });
    assert.equal(created.status, 201, created.text);
    const rid = created.json.id;
    const bad = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations/${rid}/approve`, { key: tenant.apiKey, body: { userIds: [12345] } });
    assert.equal(bad.status, 409, bad.text);
    assert.match(bad.json.detail, /Not planned/);
    const ok = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations/${rid}/approve`, { key: tenant.apiKey, body: { userIds: [a.id] } });
    assert.equal(ok.status, 200, ok.text);
    const done = await waitForStatus(integrationId, rid, ['completed']);
    assert.equal(done.users.find((u: { userId: number }) => u.userId === a.id).state, 'downgraded');
    assert.equal(done.users.find((u: { userId: number }) => u.userId === b.id).state, 'not_approved');
    assert.equal(ws.user(b.id)!.role, 'agent');
    // Every seat is taken again: Zendesk refuses the upgrade back.
    ws.setPurchasedSeats(ws.paidSeatsInUse());
    const undo = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations/${rid}/undo`, { key: tenant.apiKey, body: {} });
    assert.equal(undo.status, 200, undo.text);
    assert.deepEqual(undo.json.failed, [a.id]);
    const user = undo.json.reclamation.users.find((u: { userId: number }) => u.userId === a.id);
    assert.equal(user.state, 'undo_failed');
    assert.match(user.outcome, /no agent seat is free/);
    assert.equal(ws.user(a.id)!.role, 'end-user');
    ws.setPurchasedSeats(undefined);
    const retry = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations/${rid}/undo`, { key: tenant.apiKey, body: {} });
    assert.deepEqual(retry.json.restored, [a.id]);
    assert.equal(ws.user(a.id)!.role, 'agent');
  });

  test('a rejected plan and an expired plan change nothing', async () => {
    const [a] = inactiveAgents(ws, 100).filter((u) => ws.userChanges.forUser(u.id).length === 0 && u.id !== sharedId && u.id !== exemptId);
    const changesBefore = ws.userChanges.all().length;
    const rejected = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations`, {
      key: tenant.apiKey,
      body: { action: 'end_user', userIds: [a!.id], approvalExpiresInDays: 60 },
    });
    const rej = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations/${rejected.json.id}/reject`, { key: tenant.apiKey, body: {} });
    assert.equal(rej.status, 200, rej.text);
    assert.equal((await waitForStatus(integrationId, rejected.json.id, ['rejected'])).users[0].state, 'not_approved');
    const expiring = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations`, {
      key: tenant.apiKey,
      body: { action: 'end_user', userIds: [a!.id], approvalExpiresInDays: 1 },
    });
    assert.equal(expiring.status, 201, expiring.text);
    await waitForStatus(integrationId, expiring.json.id, ['expired'], 30_000);
    const late = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations/${expiring.json.id}/approve`, { key: tenant.apiKey, body: {} });
    assert.equal(late.status, 409, late.text);
    assert.equal(ws.userChanges.all().length, changesBefore);
  });

  test('a rule selects the inactive paid seats, and Zendesk refusing one user (shared since the sync) fails only that user', async () => {
    const created = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations`, {
      key: tenant.apiKey,
      body: { action: 'end_user', rule: { reasons: ['inactive'], inactiveDays: 90 }, approvalExpiresInDays: 60, undoWindowDays: 60 },
    });
    assert.equal(created.status, 201, created.text);
    const planned = created.json.users.filter((u: { state: string }) => u.state === 'planned');
    assert.ok(planned.length >= 2, `planned ${planned.length}`);
    for (const u of planned) assert.equal(u.reason, 'inactive');
    assert.ok(!planned.some((u: { userId: number }) => u.userId === sharedId || u.userId === exemptId || u.userId === ws.ownerId));
    // One of them becomes a shared agent after the sync: the live check skips it.
    const sharedNow = planned[0].userId;
    ws.updateUser(sharedNow, { shared_agent: true });
    const first = planned.slice(0, 3).map((u: { userId: number }) => u.userId);
    const ok = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations/${created.json.id}/approve`, {
      key: tenant.apiKey,
      body: { userIds: first },
    });
    assert.equal(ok.status, 200, ok.text);
    const done = await waitForStatus(integrationId, created.json.id, ['completed']);
    const state = (id: number) => done.users.find((u: { userId: number }) => u.userId === id);
    assert.equal(state(sharedNow).state, 'skipped');
    assert.match(state(sharedNow).outcome, /shared/);
    for (const id of first.slice(1)) assert.equal(state(id).state, 'downgraded');
    assert.equal(ws.user(sharedNow)!.role, 'agent');
  });

  test('a retried step after a crash (snapshot stored; before or after the PUT) never changes a user twice and keeps the first snapshot', async () => {
    const fresh = inactiveAgents(ws, 200).filter(
      (u) => ws.userChanges.forUser(u.id).length === 0 && u.id !== sharedId && u.id !== exemptId && u.role === 'agent',
    );
    const [beforePut, afterPut] = fresh;
    assert.ok(beforePut && afterPut);
    const original = new Map([beforePut, afterPut].map((u) => [u.id, seat(ws.user(u.id)!)]));
    const created = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations`, {
      key: tenant.apiKey,
      body: { action: 'end_user', userIds: [beforePut.id, afterPut.id], approvalExpiresInDays: 60, undoWindowDays: 60 },
    });
    assert.equal(created.status, 201, created.text);
    const rid = created.json.id;
    // What a worker killed mid-step leaves behind: the snapshot stored (state downgrading) and, for one of the
    // two, the change already made at Zendesk but not yet recorded.
    for (const u of [beforePut, afterPut]) {
      await system.db
        .updateTable('reclamation_users')
        .set({ state: 'downgrading', snapshot: JSON.stringify(original.get(u.id)) })
        .where('reclamation_id', '=', rid)
        .where('user_id', '=', u.id)
        .execute();
    }
    ws.setRole(afterPut.id, 'end-user');
    const ok = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations/${rid}/approve`, { key: tenant.apiKey, body: {} });
    assert.equal(ok.status, 200, ok.text);
    const done = await waitForStatus(integrationId, rid, ['completed']);
    for (const u of [beforePut, afterPut]) assert.equal(done.users.find((x: { userId: number }) => x.userId === u.id).state, 'downgraded');
    assert.equal(ws.userChanges.forUser(beforePut.id).length, 1, 'the step that crashed before the PUT sends it once');
    assert.equal(ws.userChanges.forUser(afterPut.id).length, 0, 'the step that crashed after the PUT does not send it again');
    const undo = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations/${rid}/undo`, { key: tenant.apiKey, body: {} });
    assert.equal(undo.status, 200, undo.text);
    for (const u of [beforePut, afterPut]) {
      assert.deepEqual(seat(ws.user(u.id)!), original.get(u.id), `user ${u.id} restored from the first snapshot`);
      // These snapshots, as stored before group memberships were recorded, have no group_ids: restored as then.
      assert.deepEqual(ws.groupIdsOf(u.id), []);
      assert.equal(ws.membershipChanges(u.id).filter((c) => c.kind === 'added').length, 0);
    }
  });

  test('a reclaimed user upgraded again in Zendesk shows up at the next sync as re-upgraded, on the reclamation and in the audit log', async () => {
    const downgraded = await system.db
      .selectFrom('reclamation_users')
      .innerJoin('reclamations', 'reclamations.id', 'reclamation_users.reclamation_id')
      .select(['reclamation_users.user_id', 'reclamation_users.reclamation_id'])
      .where('reclamations.integration_id', '=', integrationId)
      .where('reclamation_users.state', '=', 'downgraded')
      .execute();
    assert.ok(downgraded.length >= 2, `downgraded users: ${downgraded.length}`);
    const [again, stays] = downgraded;
    ws.setRole(Number(again!.user_id), 'agent', 0);
    const runs = (await system.db.selectFrom('sync_runs').select('id').where('integration_id', '=', integrationId).execute()).map((r) => r.id);
    assert.equal((await api(system, 'POST', `/v1/integrations/${integrationId}/sync`, { key: tenant.apiKey })).status, 202);
    const run = await waitForSync(system, integrationId, { notIds: runs });
    assert.equal(run.status, 'succeeded', run.error ?? '');
    const view = (await api(system, 'GET', `/v1/integrations/${integrationId}/reclamations/${again!.reclamation_id}`, { key: tenant.apiKey })).json;
    const user = (id: unknown) => view.users.find((u: { userId: number }) => u.userId === Number(id));
    assert.ok(user(again!.user_id).reupgradedAt, 'marked re-upgraded');
    if (stays!.reclamation_id === again!.reclamation_id) assert.equal(user(stays!.user_id).reupgradedAt, null, 'the others are not');
    const audit = await api(system, 'GET', `/v1/integrations/${integrationId}/audit?kind=user.reupgraded`, { key: tenant.apiKey });
    assert.deepEqual(
      audit.json.events.map((e: { userId: number }) => e.userId),
      [Number(again!.user_id)],
    );
    assert.equal(audit.json.events[0].after.role, 'agent');
  });

  test('with a seat price, /utilization shows potential and realized savings and a recommended seat count for the renewal', async () => {
    const bad = await api(system, 'PATCH', `/v1/integrations/${integrationId}/settings`, {
      key: tenant.apiKey,
      body: { reclaim: { seatPrice: { amount: -1, currency: 'usd', per: 'week' } } },
    });
    assert.equal(bad.status, 400, bad.text);
    assert.deepEqual(bad.json.errors.map((e: { name: string }) => e.name).sort(), [
      'reclaim.seatPrice.amount',
      'reclaim.seatPrice.currency',
      'reclaim.seatPrice.per',
    ]);
    const before = (await api(system, 'GET', `/v1/integrations/${integrationId}/utilization`, { key: tenant.apiKey })).json;
    assert.equal(before.savings, null, 'no seat price, no savings');
    const set = await api(system, 'PATCH', `/v1/integrations/${integrationId}/settings`, {
      key: tenant.apiKey,
      body: { reclaim: { seatPrice: { amount: 55, currency: 'USD', per: 'month' }, purchasedSeats: 500, renewalDate: '2027-03-31' } },
    });
    assert.equal(set.status, 200, set.text);
    const u = (await api(system, 'GET', `/v1/integrations/${integrationId}/utilization`, { key: tenant.apiKey })).json;
    const freed = await system.db
      .selectFrom('reclamation_users')
      .innerJoin('reclamations', 'reclamations.id', 'reclamation_users.reclamation_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('reclamations.integration_id', '=', integrationId)
      .where('reclamation_users.state', '=', 'downgraded')
      .where('reclamation_users.reupgraded_at', 'is', null)
      .executeTakeFirstOrThrow();
    assert.ok(Number(freed.n) > 0);
    assert.deepEqual(u.savings.seatPrice, { amount: 55, currency: 'USD', per: 'month' });
    assert.deepEqual(u.savings.potential, { seats: u.reclaimable.count, amount: u.reclaimable.count * 55 });
    assert.deepEqual(u.savings.realized, { seats: Number(freed.n), amount: Number(freed.n) * 55 });
    const inUse = u.paidSeats.total - u.reclaimable.count;
    const buffer = Math.max(1, Math.ceil(inUse * 0.05));
    const { keep, ...renewal } = u.savings.renewal;
    assert.deepEqual(renewal, {
      date: '2027-03-31',
      purchasedSeats: 500,
      seatsInUse: inUse,
      buffer,
      recommendedSeats: inUse + buffer,
      seatsToDrop: Math.max(0, 500 - inUse - buffer),
    });

    // The agents to keep: every page of the linked /users listing is a seat in use, by name, seatsInUse in all.
    const kept: { id: number; name: string | null; seat: string; suspended: boolean; usage: string }[] = [];
    for (let url: string | null = `${keep.users}&limit=500`; url;) {
      const page = await api(system, 'GET', url, { key: tenant.apiKey });
      assert.equal(page.status, 200, page.text);
      kept.push(...page.json.users);
      url = page.json.nextCursor ? `${keep.users}&limit=500&cursor=${encodeURIComponent(page.json.nextCursor)}` : null;
    }
    assert.ok(inUse > 0);
    assert.equal(kept.length, inUse, 'the keep list holds exactly the seats in use');
    assert.equal(new Set(kept.map((k) => k.id)).size, kept.length);
    for (const k of kept) assert.deepEqual([k.seat, k.suspended, k.usage], ['paid', false, 'active'], `user ${k.id}`);
    const csv = await api(system, 'GET', keep.csv, { key: tenant.apiKey });
    assert.equal(csv.status, 200, csv.text);
    const [header, ...rows] = readCsv(csv.text);
    const idAt = header!.findIndex((f) => f.value === 'id');
    assert.deepEqual(
      rows.map((r) => Number(r[idAt]!.value)),
      kept.map((k) => k.id),
      'the CSV lists the same seats in the same order',
    );
  });

  test('light_agent: the seat is freed with the light-agent role, the groups stay, and undo gives back the custom role and default group', async () => {
    const picked = inactiveAgents(ws, 300)
      .filter((u) => ws.userChanges.forUser(u.id).length === 0 && u.id !== sharedId && u.id !== exemptId)
      .slice(0, 2);
    assert.equal(picked.length, 2);
    const original = new Map(picked.map((u) => [u.id, seat(ws.user(u.id)!)]));
    const groups = new Map(picked.map((u) => [u.id, ws.groupIdsOf(u.id)]));
    const created = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations`, {
      key: tenant.apiKey,
      body: { action: 'light_agent', userIds: picked.map((u) => u.id), approvalExpiresInDays: 60, undoWindowDays: 60 },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.users.filter((u: { state: string }) => u.state === 'planned').length, 2, created.text);
    assert.equal(
      (await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations/${created.json.id}/approve`, { key: tenant.apiKey, body: {} })).status,
      200,
    );
    await waitForStatus(integrationId, created.json.id, ['completed']);
    for (const u of picked) {
      const now = ws.user(u.id)!;
      assert.equal(now.role, 'agent');
      assert.equal(now.role_type, 1, 'a light agent');
      assert.equal(ws.userChanges.forUser(u.id).length, 1);
      assert.deepEqual(ws.groupIdsOf(u.id), groups.get(u.id), 'a light agent keeps its groups');
    }
    const undo = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations/${created.json.id}/undo`, { key: tenant.apiKey, body: {} });
    assert.equal(undo.status, 200, undo.text);
    for (const u of picked) {
      assert.deepEqual(seat(ws.user(u.id)!), original.get(u.id), `user ${u.id} restored exactly`);
      assert.deepEqual(ws.groupIdsOf(u.id), groups.get(u.id));
      assert.deepEqual(ws.membershipChanges(u.id), [], 'no membership dropped or added');
    }
  });

  test('undo re-creates the memberships of the snapshot; a group deleted since is named and left out, the rest restored', async () => {
    const [picked] = inactiveAgents(ws, 300).filter((u) => ws.userChanges.forUser(u.id).length === 0 && u.id !== sharedId && u.id !== exemptId);
    assert.ok(picked);
    // A group of its own, so deleting it touches no other user of the workspace.
    const ownGroup = 9_999_001;
    const added = await fetch(`${system.sandbox.url}/reclaimco/api/v2/group_memberships.json`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ws.issueAccessToken({ scope: 'read write' })}`, 'content-type': 'application/json' },
      body: JSON.stringify({ group_membership: { user_id: picked.id, group_id: ownGroup } }),
    });
    assert.equal(added.status, 201);
    const groups = ws.groupIdsOf(picked.id);
    assert.ok(groups.includes(ownGroup) && groups.length >= 2);
    const created = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations`, {
      key: tenant.apiKey,
      body: { action: 'end_user', userIds: [picked.id], approvalExpiresInDays: 60, undoWindowDays: 60 },
    });
    assert.equal(created.status, 201, created.text);
    const rid = created.json.id;
    assert.equal((await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations/${rid}/approve`, { key: tenant.apiKey, body: {} })).status, 200);
    await waitForStatus(integrationId, rid, ['completed']);
    assert.deepEqual(ws.groupIdsOf(picked.id), []);
    ws.deleteGroup(ownGroup);

    const undo = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations/${rid}/undo`, { key: tenant.apiKey, body: {} });
    assert.equal(undo.status, 200, undo.text);
    assert.deepEqual(undo.json.restored, [picked.id]);
    assert.deepEqual(
      ws.groupIdsOf(picked.id),
      groups.filter((g) => g !== ownGroup),
    );
    const row = (await api(system, 'GET', `/v1/integrations/${integrationId}/reclamations/${rid}`, { key: tenant.apiKey })).json.users[0];
    assert.equal(row.state, 'restored');
    assert.match(row.outcome, new RegExp(`except the membership of group ${ownGroup}`));
  });
});

describe('a notice period', () => {
  test('everyone is told; a user kept and a user active again are left alone; the rest changed once it ends; a kept user is not proposed again', async () => {
    const ws = system.sandbox.createWorkspace({ subdomain: 'noticeco', users: 200, ticketEvents: 50, seed: 2929, consentMode: 'allow' });
    const [toChange, toKeep, comesBack] = inactiveAgents(ws, 3).map((u) => u.id) as [number, number, number];
    assert.ok(comesBack, 'the workspace has three long-inactive agents');
    const { integrationId } = await connectAndSync(system, tenant.apiKey, 'noticeco', { access: 'reclaim' });
    const endpoint = await api(system, 'POST', '/v1/webhook-endpoints', {
      key: tenant.apiKey,
      body: { url: receiver.url, events: ['reclamation.user_notice'] },
    });
    assert.equal(endpoint.status, 201, endpoint.text);
    receiver.secrets = [endpoint.json.secret];

    // Ten "days" of notice (ten seconds here): time to keep one user and to sync another's new sign-in.
    const plan = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations`, {
      key: tenant.apiKey,
      body: { action: 'end_user', userIds: [toChange, toKeep, comesBack], noticeDays: 10 },
    });
    assert.equal(plan.status, 201, plan.text);
    const rid = plan.json.id as string;
    const approved = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations/${rid}/approve`, { key: tenant.apiKey, body: {} });
    assert.equal(approved.status, 200, approved.text);
    assert.equal(approved.json.status, 'notice');
    assert.ok(Date.parse(approved.json.noticeUntil) > Date.now() + 5_000, approved.json.noticeUntil);

    // Each person is announced to the platform, ids only.
    const notices = await waitFor('three user notices', async () => {
      const mine = receiver.of('reclamation.user_notice').filter((r) => r.body.data.reclamationId === rid);
      return mine.length >= 3 && mine;
    });
    assert.deepEqual(notices.map((n) => n.body.data.userId).sort(), [toChange, toKeep, comesBack].sort());
    assert.ok(notices.every((n) => n.body.data.noticeUntil === approved.json.noticeUntil && n.verifiedBy.includes(0)));

    const keep = (userId: number) =>
      api(system, 'POST', `/v1/integrations/${integrationId}/reclamations/${rid}/users/${userId}/keep`, {
        key: tenant.apiKey,
        headers: { actor: 'agent-self-service' },
      });
    const kept = await keep(toKeep);
    assert.equal(kept.status, 200, kept.text);
    const keptUser = kept.json.users.find((u: { userId: number }) => u.userId === toKeep);
    assert.equal(keptUser.state, 'kept');
    assert.ok(Date.parse(keptUser.keptUntil) > Date.now());
    assert.equal((await keep(toKeep)).status, 409, 'kept once');
    assert.equal((await keep(123)).status, 409, 'not a user of this reclamation');
    assert.equal((await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations/${rid}/users/abc/keep`, { key: tenant.apiKey })).status, 400);
    assert.equal(
      (await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations/${rid}/users/${toChange}/keep`, { key: other.apiKey })).status,
      404,
    );

    // One of them signs in again; the next sync shows it, and the daily re-check drops them.
    ws.updateUser(comesBack, { last_login_at: new Date().toISOString() });
    const runs = (await system.db.selectFrom('sync_runs').select('id').where('integration_id', '=', integrationId).execute()).map((r) => r.id);
    assert.equal((await api(system, 'POST', `/v1/integrations/${integrationId}/sync`, { key: tenant.apiKey })).status, 202);
    assert.equal((await waitForSync(system, integrationId, { notIds: runs })).status, 'succeeded');
    assert.equal(ws.userChanges.all().length, 0, 'nobody is changed during the notice period');

    const done = await waitForStatus(integrationId, rid, ['completed'], 60_000);
    const state = (id: number) => done.users.find((u: { userId: number }) => u.userId === id);
    assert.equal(state(toChange).state, 'downgraded');
    assert.equal(state(toKeep).state, 'kept');
    assert.equal(state(comesBack).state, 'skipped');
    assert.match(state(comesBack).outcome, /Active during the notice period/);
    assert.deepEqual(
      ws.userChanges.all().map((c) => c.userId),
      [toChange],
      'only the user neither kept nor back was changed, once',
    );

    const audit = await api(system, 'GET', `/v1/integrations/${integrationId}/audit?reclamationId=${rid}`, { key: tenant.apiKey });
    const kinds = audit.json.events.map((e: { kind: string }) => e.kind);
    assert.equal(kinds.filter((k: string) => k === 'user.notice').length, 3);
    assert.ok(
      audit.json.events.some(
        (e: { kind: string; userId: number; actor: string }) => e.kind === 'user.kept' && e.userId === toKeep && e.actor === 'agent-self-service',
      ),
    );
    assert.ok(kinds.includes('user.active_during_notice') && kinds.includes('reclamation.notice_ended'));
    assert.ok(kinds.indexOf('reclamation.notice_ended') < kinds.indexOf('user.downgraded'));

    // The kept user is in their cooldown: a new plan leaves them alone, saying why.
    const next = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations`, {
      key: tenant.apiKey,
      body: { action: 'end_user', userIds: [toKeep] },
    });
    assert.equal(next.status, 201, next.text);
    assert.deepEqual([next.json.users[0].state, next.json.users[0].reason], ['excluded', 'kept']);
    await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations/${next.json.id}/reject`, { key: tenant.apiKey });
    await api(system, 'DELETE', `/v1/webhook-endpoints/${endpoint.json.id}`, { key: tenant.apiKey });
  });
});
