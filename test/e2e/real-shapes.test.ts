import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, connectAndSync, createTenant, startSystem, waitForSync, type System } from '../helpers/system';
import { differences } from '../helpers/expectations';

/**
 * Workspaces whose records look like the public recordings of live accounts (the sandbox's default shape:
 * no chat_only, admins with a custom_role_id, nulls), and the ways real data goes wrong: undocumented values,
 * absent fields, broken records, refused or stalled positions. Real PostgreSQL, Temporal and sandbox.
 */
let system: System;
let tenant: { id: string; apiKey: string };

before(async () => {
  system = await startSystem();
  tenant = await createTenant(system);
});
after(() => system?.stop());

async function syncNow(integrationId: string) {
  const previous = (await system.db.selectFrom('sync_runs').select('id').where('integration_id', '=', integrationId).execute()).map((r) => r.id);
  const res = await api(system, 'POST', `/v1/integrations/${integrationId}/sync`, { key: tenant.apiKey });
  assert.equal(res.status, 202, res.text);
  return waitForSync(system, integrationId, { notIds: previous });
}

const get = async (path: string) => {
  const res = await api(system, 'GET', path, { key: tenant.apiKey });
  assert.equal(res.status, 200, res.text);
  return res.json;
};

describe('a real-shaped workspace', () => {
  let id: string;

  test('the first sync is exact, with every field Zendesk did not send stored and shown as null', async () => {
    const ws = system.sandbox.createWorkspace({ subdomain: 'realshape', users: 1_500, ticketEvents: 8_000, seed: 21, consentMode: 'allow' });
    assert.ok(
      ws.users().every((u) => !('chat_only' in u)),
      'the sandbox sends real shapes: no chat_only',
    );
    const result = await connectAndSync(system, tenant.apiKey, 'realshape');
    id = result.integrationId;
    assert.equal(result.run.users_synced, 1_500);
    assert.deepEqual(await differences(system.db, id, ws), []);
    const stored = await system.db.selectFrom('zendesk_users').select(['chat_only']).where('integration_id', '=', id).execute();
    assert.ok(
      stored.every((r) => r.chat_only === null),
      'absent chat_only is unknown, never false',
    );
    const page = await get(`/v1/integrations/${id}/users?limit=500&includeDeleted=true`);
    assert.ok(page.users.every((u: { chatOnly: unknown }) => u.chatOnly === null));
    assert.equal((await get(`/v1/integrations/${id}/users?chatOnly=false`)).total, 0, 'chatOnly=false matches only users known not to be chat-only');
    const csv = await api(system, 'GET', `/v1/integrations/${id}/users.csv?role=admin`, { key: tenant.apiKey });
    assert.equal(csv.status, 200);
    const [header, first] = csv.text.split('\r\n').map((line) => line.split(','));
    assert.equal(first![header!.indexOf('chatOnly')], '', 'unknown is an empty CSV field, not false');
  });

  test('an incremental sync of undocumented values and absent fields keeps them as unknown, and seats that cannot be told are counted apart', async () => {
    const ws = system.sandbox.workspace('realshape');
    const agents = ws.userIds({ role: 'agent', activeOnly: true });
    const [odd, noRole, noActive, noSuspended, noUpdatedAt] = agents;
    ws.setRawUserFields(odd!, { role: 'superhero', role_type: 9, ticket_restriction: 'team' });
    ws.removeUserFields(noRole!, ['role']);
    ws.removeUserFields(noActive!, ['active']);
    ws.removeUserFields(noSuspended!, ['suspended']);
    ws.removeUserFields(noUpdatedAt!, ['updated_at', 'name', 'created_at']);
    const run = await syncNow(id);
    assert.equal(run.status, 'succeeded', run.error ?? '');
    // Five users changed; the one without updated_at cannot be ordered, so both the seat-holder listing and the
    // users export write it.
    assert.equal(run.users_synced, 6);
    assert.deepEqual(await differences(system.db, id, ws), []);

    const users = new Map<number, Record<string, unknown>>(
      (await get(`/v1/integrations/${id}/users?limit=500&role=unknown,agent,admin`)).users.map((u: { id: number }) => [u.id, u]),
    );
    const o = users.get(odd!)!;
    assert.deepEqual(
      [o.role, o.roleRaw, o.roleType, o.roleTypeRaw, o.ticketRestriction, o.ticketRestrictionRaw, o.seat],
      ['unknown', 'superhero', 'unknown', 9, 'unknown', 'team', 'unknown'],
    );
    assert.equal(users.get(noRole!)!.role, null);
    assert.equal(users.get(noRole!)!.seat, 'unknown');
    assert.equal(users.get(noActive!)!.deleted, null, 'an absent active is unknown: shown, not hidden as deleted');
    assert.equal(users.get(noActive!)!.seat, 'unknown');
    assert.equal(users.get(noSuspended!)!.suspended, null);
    assert.equal(users.get(noSuspended!)!.seat, 'unknown');
    const n = users.get(noUpdatedAt!)!;
    assert.deepEqual([n.name, n.createdAt], [null, null]);

    const util = await get(`/v1/integrations/${id}/utilization`);
    assert.equal(util.unknownSeats.total, 4);
    assert.deepEqual(util.unknownSeats.byReason, {
      'role not documented by Zendesk': 1,
      'Zendesk did not send the role': 1,
      'Zendesk did not say whether the user is active': 1,
      'Zendesk did not say whether the user is suspended': 1,
    });
    const reclaimable = await get(`/v1/integrations/${id}/reclaimable?limit=500`);
    assert.equal(reclaimable.nextCursor, null, 'one page');
    assert.ok(
      !reclaimable.users.some((u: { id: number }) => [odd, noRole, noActive, noSuspended].includes(u.id)),
      'an unknown seat is never listed as reclaimable',
    );
    assert.equal((await get(`/v1/integrations/${id}/users?seat=unknown`)).total, 4);

    // A record without updated_at cannot be ordered: a later copy without it overwrites, fields it lacks become null.
    ws.removeUserFields(noUpdatedAt!, ['email']);
    const again = await syncNow(id);
    assert.equal(again.status, 'succeeded', again.error ?? '');
    assert.deepEqual(await differences(system.db, id, ws), []);
    const row = await system.db
      .selectFrom('zendesk_users')
      .select(['email', 'updated_at'])
      .where('integration_id', '=', id)
      .where('id', '=', noUpdatedAt!)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { email: null, updated_at: null });
  });

  test('a page with broken records among good ones keeps every good one and reports the skipped count', async () => {
    const ws = system.sandbox.workspace('realshape');
    ws.addTicketEvents(30);
    const unusable = ['noId', 'stringId', 'unsafeId', 'string', 'null', 'array'] as const;
    const newcomer = ws.addUser({ name: 'After The Broken', role: 'agent' });
    const [event] = ws.addTicketEvents(1);
    // After this sync's position: among the good records of its pages.
    ws.injectBrokenRecords('users', [...unusable, 'duplicateId', 'nulInName'], { after: newcomer.id });
    ws.injectBrokenRecords('ticketEvents', [...unusable, 'duplicateId'], { after: event!.id });
    const result = await syncNow(id);
    assert.equal(result.status, 'succeeded', result.error ?? '');
    assert.deepEqual(await differences(system.db, id, ws), []);
    const view = await get(`/v1/integrations/${id}`);
    assert.equal(view.lastSync.skippedRecords, result.skipped_records);
    assert.equal(result.skipped_records, 2 * unusable.length);
    const log = system.logs.filter((l) => l.includes('Zendesk records skipped'));
    assert.ok(log.length > 0);
    assert.ok(
      log.every((l) => !l.includes('@')),
      'quarantine logs hold positions and ids, no personal data',
    );
    // Later syncs are not blocked by them either.
    ws.addTicketEvents(5);
    assert.equal((await syncNow(id)).status, 'succeeded');
    assert.deepEqual(await differences(system.db, id, ws), []);
  });
});

test('a first sync whose very first pages hold broken records keeps every good record', async () => {
  const ws = system.sandbox.createWorkspace({ subdomain: 'brokenfirst', users: 400, ticketEvents: 2_000, seed: 22, consentMode: 'allow' });
  ws.injectBrokenRecords('users', ['noId', 'stringId', 'unsafeId', 'string', 'null', 'array', 'duplicateId', 'nulInName']);
  const inWindow = [...ws.ticketEvents()].find((e) => e.timestamp > Date.now() / 1000 - 30 * 86_400)!; // inside the backfill
  ws.injectBrokenRecords('ticketEvents', ['noId', 'string', 'duplicateId'], { after: inWindow.id });
  const { integrationId, run } = await connectAndSync(system, tenant.apiKey, 'brokenfirst');
  assert.equal(run.users_synced, 400);
  // Six unusable users and two unusable events, each counted every time a page holds it (a backfill window
  // reads one page past its end, and pages repeat their last second).
  assert.ok(run.skipped_records >= 8, `${run.skipped_records} skipped`);
  assert.deepEqual(await differences(system.db, integrationId, ws), []);
});

describe('positions Zendesk refuses or that stop moving', () => {
  let id: string;
  test('a refused users cursor and a refused ticket-events start_time reset their streams, say so on the run, and recover exact', async () => {
    const ws = system.sandbox.createWorkspace({ subdomain: 'refusing', users: 600, ticketEvents: 3_000, seed: 23, consentMode: 'allow' });
    id = (await connectAndSync(system, tenant.apiKey, 'refusing')).integrationId;
    ws.addUser({ name: 'Newcomer', role: 'agent', role_type: 0 });
    ws.addTicketEvents(12);
    ws.refuseExportCursors();
    const saved = await system.db
      .selectFrom('sync_checkpoints')
      .select('position')
      .where('integration_id', '=', id)
      .where('stream', '=', 'ticket_events')
      .executeTakeFirstOrThrow();
    const head = (JSON.parse(saved.position) as { head: number }).head; // where the ticket-events plan goes on
    ws.refuseTicketEventStartTimes(head, { exact: true, times: 1 }); // the saved start_time is refused
    const run = await syncNow(id);
    assert.equal(run.status, 'succeeded', run.error ?? '');
    assert.equal(run.notes.length, 2, run.notes.join(' | '));
    assert.match(run.notes.join(' '), /refused the saved users cursor \(HTTP 400/);
    assert.match(run.notes.join(' '), /refused the saved ticket-events start_time \(HTTP 422/);
    ws.acceptTicketEventStartTimes();
    assert.deepEqual(await differences(system.db, id, ws), []);
    const view = await get(`/v1/integrations/${id}`);
    assert.equal(view.lastSync.notes.length, 2);
    // The fresh cursors work: the next sync is incremental again.
    ws.addTicketEvents(3);
    const next = await syncNow(id);
    assert.equal(next.status, 'succeeded', next.error ?? '');
    assert.deepEqual(next.notes, []);
    assert.equal(next.ticket_events_synced, 3);
  });

  test('a users cursor that does not advance ends the sync with a clear error after a few pages, not an endless loop', async () => {
    const ws = system.sandbox.workspace('refusing');
    ws.acceptExportCursors();
    ws.stallUsersExportCursor(true);
    const before = ws.stats().byEndpoint['GET /api/v2/incremental/users/cursor'] ?? 0;
    const run = await syncNow(id);
    assert.equal(run.status, 'failed');
    assert.match(run.error ?? '', /users export did not move forward for 3 pages/);
    const pages = (ws.stats().byEndpoint['GET /api/v2/incremental/users/cursor'] ?? 0) - before;
    assert.ok(pages <= 4, `${pages} export requests`);
    ws.stallUsersExportCursor(false);
  });

  test('a ticket-events end_time that goes backwards ends the sync with a clear error', async () => {
    const ws = system.sandbox.workspace('refusing');
    ws.rewindTicketEventsEndTime(3600);
    ws.addTicketEvents(2);
    const run = await syncNow(id);
    assert.equal(run.status, 'failed');
    assert.match(run.error ?? '', /ticket events export did not move forward/);
    ws.rewindTicketEventsEndTime(null);
    const ok = await syncNow(id);
    assert.equal(ok.status, 'succeeded', ok.error ?? '');
    assert.deepEqual(await differences(system.db, id, ws), []);
  });
});

describe('seats as Zendesk counts them', () => {
  test('light agents and contributors with a Chat agent, Guide agent/admin or Explore admin/editor role are paid seats, and say why', async () => {
    const ws = system.sandbox.createWorkspace({ subdomain: 'entitled', users: 800, ticketEvents: 1_000, seed: 24, consentMode: 'allow' });
    const light = ws.userIds({ roleType: 1, activeOnly: true });
    const contributors = ws.userIds({ roleType: 3, activeOnly: true });
    assert.ok(light.length >= 3 && contributors.length >= 1, `${light.length} light agents, ${contributors.length} contributors`);
    const off = { is_active: false, name: 'agent' };
    ws.setEntitlements(light[0]!, { chat: { is_active: true, name: 'agent' }, guide: { is_active: false, name: 'viewer' }, explore: off, talk: off });
    ws.setEntitlements(light[1]!, { chat: off, guide: { is_active: true, name: 'viewer' }, explore: { is_active: true, name: 'viewer' }, talk: off });
    ws.setEntitlements(light[2]!, { chat: off, guide: { is_active: true, name: 'wizard' }, explore: off, talk: off });
    ws.setEntitlements(contributors[0]!, { chat: off, guide: off, explore: { is_active: true, name: 'editor' }, talk: off });
    const { integrationId: id, run } = await connectAndSync(system, tenant.apiKey, 'entitled');
    const checked = light.length + contributors.length;
    assert.ok(run.requests >= checked, `one entitlements request per light agent / contributor (${run.requests} requests, ${checked} users)`);

    const users = new Map<number, { seat: string; seatReason: string }>(
      (await get(`/v1/integrations/${id}/users?limit=500&roleType=light_agent,contributor`)).users.map((u: { id: number }) => [u.id, u]),
    );
    assert.deepEqual(users.get(light[0]!), { ...users.get(light[0]!), seat: 'paid', seatReason: 'light agent with a Chat agent role' });
    assert.deepEqual(users.get(light[1]!), { ...users.get(light[1]!), seat: 'free', seatReason: 'light agent' });
    assert.deepEqual(users.get(light[2]!), { ...users.get(light[2]!), seat: 'unknown' });
    assert.match(users.get(light[2]!)!.seatReason, /Guide role Zendesk does not document/);
    assert.deepEqual(users.get(contributors[0]!), { ...users.get(contributors[0]!), seat: 'paid', seatReason: 'contributor with an Explore editor role' });
    assert.equal((await get(`/v1/integrations/${id}`)).entitlements, 'available');

    // Nothing changed: the next sync reads no entitlements again; a changed user is read again.
    const idle = await syncNow(id);
    const seatPages = Math.ceil(ws.seatHolderIds().length / 100);
    assert.ok(idle.requests <= seatPages + 3, `an idle sync took ${idle.requests} requests (${seatPages} seat pages)`);
    ws.setEntitlements(light[1]!, { chat: { is_active: true, name: 'agent' }, guide: off, explore: off, talk: off }, { touch: true });
    const changed = await syncNow(id);
    assert.equal(changed.status, 'succeeded');
    const after = (await get(`/v1/integrations/${id}/users?limit=500&roleType=light_agent`)).users.find((u: { id: number }) => u.id === light[1]);
    assert.equal(after.seat, 'paid');
  });

  test('a workspace whose entitlements cannot be read falls back to the Support rule and says so', async () => {
    const ws = system.sandbox.createWorkspace({
      subdomain: 'oldplan',
      users: 300,
      ticketEvents: 500,
      seed: 25,
      consentMode: 'allow',
      entitlementsForbidden: true,
    });
    const { integrationId: id, run } = await connectAndSync(system, tenant.apiKey, 'oldplan');
    assert.equal(run.status, 'succeeded', run.error ?? '');
    const view = await get(`/v1/integrations/${id}`);
    assert.equal(view.status, 'connected');
    assert.equal(view.entitlements, 'forbidden');
    const light = ws.userIds({ roleType: 1, activeOnly: true });
    const listed = await get(`/v1/integrations/${id}/users?limit=500&roleType=light_agent`);
    assert.equal(listed.total, light.length);
    assert.ok(listed.users.every((u: { seat: string }) => u.seat === 'free'));
  });
});
