import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, connectAndSync, createTenant, followConsent, startSystem, waitFor, waitForSync, type System } from '../helpers/system';
import { differences, expectedInteractions, storedInteractions } from '../helpers/expectations';

/**
 * What matters arrives first (issue 16): the seat report is complete before the end users are in; seat
 * holders who left the list are found out (downgraded, suspended, deleted) at a cost that follows the seat
 * holders; the 30-day activity is exact before the whole backfill is in.
 */
let system: System;
let tenant: { id: string; apiKey: string };

before(async () => {
  system = await startSystem();
  tenant = await createTenant(system);
});
after(() => system?.stop());

const view = async (id: string) => (await api(system, 'GET', `/v1/integrations/${id}`, { key: tenant.apiKey })).json;

async function connect(subdomain: string): Promise<string> {
  const created = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body: { workspace: subdomain } });
  assert.equal(created.status, 201, created.text);
  assert.equal((await followConsent(created.json.authorizeUrl)).status, 200);
  return created.json.id;
}

async function storedSeatHolders(id: string): Promise<number[]> {
  const rows = await system.db
    .selectFrom('zendesk_users')
    .select('id')
    .where('integration_id', '=', id)
    .where('role', 'in', ['agent', 'admin'])
    .where('deleted', 'is not', true)
    .orderBy('id')
    .execute();
  return rows.map((r) => r.id);
}

test('the seat report is complete and exact before the end-user stream ends', async () => {
  // 20,000 users, 300 of them seat holders; the users export gets one page a second.
  const ws = system.sandbox.createWorkspace({
    subdomain: 'b2c',
    users: 20_000,
    seatHolders: 300,
    ticketEvents: 2_000,
    seed: 101,
    consentMode: 'allow',
    usersCursorLimit: 1,
  });
  const id = await connect('b2c');
  const early = await waitFor(
    'the seat report while end users are still coming',
    async () => {
      const v = await view(id);
      if (v.streams.endUsers.complete) throw new Error('the end users finished first: the test cannot tell the order');
      return v.streams.seatHolders.complete ? v : undefined;
    },
    60_000,
  );
  assert.equal(early.streams.endUsers.complete, false);
  assert.deepEqual(
    await storedSeatHolders(id),
    [...ws.seatHolderIds()].sort((a, b) => a - b),
    'every seat holder, and only them, already stored',
  );
  const util = (await api(system, 'GET', `/v1/integrations/${id}/utilization`, { key: tenant.apiKey })).json;
  assert.equal(util.paidSeats.total + util.freeSeats.total + util.unknownSeats.total, 300);
  const stored = await system.db
    .selectFrom('zendesk_users')
    .select(system.db.fn.countAll<number>().as('n'))
    .where('integration_id', '=', id)
    .executeTakeFirstOrThrow();
  assert.ok(Number(stored.n) < 20_000, `end users still coming (${stored.n} stored)`);
  assert.ok(early.streams.endUsers.estimatedCompletionAt === null || Date.parse(early.streams.endUsers.estimatedCompletionAt) > Date.now() - 1_000);

  const run = await waitForSync(system, id, { timeoutMs: 120_000 });
  assert.equal(run.status, 'succeeded', run.error ?? '');
  assert.deepEqual(await differences(system.db, id, ws), []);
  assert.equal((await view(id)).streams.endUsers.complete, true);
});

test('seat holders who left the list are found out: downgraded, suspended, deleted, or gone from Zendesk', async () => {
  const ws = system.sandbox.createWorkspace({ subdomain: 'seatchanges', users: 3_000, seatHolders: 250, ticketEvents: 1_000, seed: 102, consentMode: 'allow' });
  const { integrationId: id } = await connectAndSync(system, tenant.apiKey, 'seatchanges');
  const settings = await api(system, 'PATCH', `/v1/integrations/${id}/settings`, { key: tenant.apiKey, body: { syncEndUsers: false } });
  assert.equal(settings.status, 200, settings.text);
  assert.equal(settings.json.settings.syncEndUsers, false);

  // Agents on paid seats (not light agents or contributors), not suspended yet.
  const agents = ws.seatHolderIds().filter((u) => {
    const user = ws.user(u);
    return user?.role === 'agent' && user.suspended === false && user.role_type !== 1 && user.role_type !== 3;
  });
  const [downgraded, suspended, deleted] = agents;
  ws.setRole(downgraded!, 'end-user', null);
  ws.suspendUser(suspended!);
  ws.deleteUser(deleted!);
  // A seat holder Zendesk no longer knows at all (hard-deleted): stored, but absent from show_many too.
  const ghost = 999_999_999_001;
  await system.db
    .insertInto('zendesk_users')
    .values({
      integration_id: id,
      id: ghost,
      name: 'Ghost Agent',
      role: 'agent',
      role_type: 0,
      deleted: false,
      suspended: false,
      updated_at: new Date(Date.now() - 86_400_000),
    })
    .execute();
  const exportsBefore = ws.stats().byEndpoint['GET /api/v2/incremental/users/cursor'] ?? 0;

  const previous = (await system.db.selectFrom('sync_runs').select('id').where('integration_id', '=', id).execute()).map((r) => r.id);
  assert.equal((await api(system, 'POST', `/v1/integrations/${id}/sync`, { key: tenant.apiKey })).status, 202);
  const run = await waitForSync(system, id, { notIds: previous });
  assert.equal(run.status, 'succeeded', run.error ?? '');
  assert.equal(ws.stats().byEndpoint['GET /api/v2/incremental/users/cursor'] ?? 0, exportsBefore, 'no end users fetched (syncEndUsers: false)');
  assert.ok(run.requests <= Math.ceil(250 / 100) + 4, `${run.requests} requests: the seat part costs what the seat holders cost`);

  const row = async (u: number) =>
    system.db
      .selectFrom('zendesk_users')
      .select(['role', 'suspended', 'deleted'])
      .where('integration_id', '=', id)
      .where('id', '=', u)
      .executeTakeFirstOrThrow();
  assert.equal((await row(downgraded!)).role, 'end-user');
  assert.equal((await row(suspended!)).suspended, true);
  assert.equal((await row(deleted!)).deleted, true);
  assert.equal((await row(ghost)).deleted, true);
  assert.deepEqual(
    await storedSeatHolders(id),
    [...ws.seatHolderIds()].sort((a, b) => a - b),
  );
  const reclaimable = (await api(system, 'GET', `/v1/integrations/${id}/reclaimable?limit=500`, { key: tenant.apiKey })).json;
  assert.equal(reclaimable.nextCursor, null, 'one page');
  assert.ok(
    reclaimable.users.some((u: { id: number; reason: string }) => u.id === suspended && u.reason === 'suspended'),
    'the suspended agent is reclaimable',
  );
});

test('ticket activity newest window first: exact 30-day counts before the backfill ends, exact 90-day counts at the end', async () => {
  // 40,000 events over 120 days, two ticket-events pages a second: a backfill of about 15 s.
  const ws = system.sandbox.createWorkspace({
    subdomain: 'newestfirst',
    users: 600,
    ticketEvents: 40_000,
    days: 120,
    seed: 103,
    consentMode: 'allow',
    incrementalLimit: 2,
  });
  const id = await connect('newestfirst');
  let checked = false;
  await waitFor(
    '30 days of activity complete while the backfill goes on',
    async () => {
      const v = await view(id);
      if (v.streams.ticketEvents.complete) throw new Error('the backfill finished before 30 days were seen complete');
      if (v.streams.ticketEvents.coveredDays < 30) return undefined;
      const now = Date.now();
      const want = expectedInteractions(ws, 29, now);
      const got = await storedInteractions(system.db, id, 29, now);
      for (const [user, n] of want) assert.equal(got.get(user) ?? 0, n, `user ${user}: 29-day interactions`);
      checked = true;
      return true;
    },
    60_000,
  );
  assert.ok(checked);
  const run = await waitForSync(system, id, { timeoutMs: 120_000 });
  assert.equal(run.status, 'succeeded', run.error ?? '');
  const v = await view(id);
  assert.equal(v.streams.ticketEvents.complete, true);
  assert.ok(v.streams.ticketEvents.coveredDays >= 90);
  assert.deepEqual(await differences(system.db, id, ws), []);
});
