import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { api, connectAndSync, createTenant, followConsent, startSystem, waitFor, type System } from '../helpers/system';

/** DELETE as one durable operation owned by the disconnect workflow. */
let system: System;
let tenant: { id: string; apiKey: string };

before(async () => {
  system = await startSystem();
  tenant = await createTenant(system);
});
after(() => system?.stop());

const count = async (table: 'ticket_events' | 'zendesk_users' | 'oauth_credentials' | 'sync_checkpoints' | 'utilization_snapshots', id: string) =>
  Number((await system.db.selectFrom(table).select(system.db.fn.countAll<number>().as('n')).where('integration_id', '=', id).executeTakeFirstOrThrow()).n);

async function nothingLeftBehind(id: string) {
  const row = await system.db.selectFrom('integrations').select(['status']).where('id', '=', id).executeTakeFirstOrThrow();
  assert.equal(row.status, 'disconnected');
  assert.equal(await count('oauth_credentials', id), 0, 'tokens deleted');
  await assert.rejects(system.temporal.schedule.getHandle(`zendesk-sync-${id}`).describe(), /not found/i, 'schedule deleted');
  const running = await system.db.selectFrom('sync_runs').select('id').where('integration_id', '=', id).where('status', '=', 'running').execute();
  assert.deepEqual(running, [], 'no run left running');
}

test('two DELETEs at once join one disconnect: one revocation, the same answer, nothing left behind', async () => {
  const ws = system.sandbox.createWorkspace({
    subdomain: 'twice',
    users: 200,
    ticketEvents: 500,
    seed: 61,
    consentMode: 'allow',
    oauth: { revokeNeedsWrite: false },
  });
  const { integrationId: id } = await connectAndSync(system, tenant.apiKey, 'twice');
  const [a, b] = await Promise.all([1, 2].map(() => api(system, 'DELETE', `/v1/integrations/${id}`, { key: tenant.apiKey })));
  assert.equal(a!.status, 200, a!.text);
  assert.equal(b!.status, 200, b!.text);
  assert.equal(a!.json.workflowId, b!.json.workflowId);
  assert.deepEqual(a!.json.revocation, b!.json.revocation);
  assert.equal(a!.json.revocation.outcome, 'revoked');
  assert.equal(ws.stats().revocations, 1, 'Zendesk was asked once');
  await nothingLeftBehind(id);
  assert.equal((await api(system, 'DELETE', `/v1/integrations/${id}`, { key: tenant.apiKey })).status, 404, 'a disconnected integration is gone');
});

test('purging a workspace of 1,000,000 ticket events: 202 at once, then every row gone, in batches', { timeout: 600_000 }, async () => {
  system.sandbox.createWorkspace({ subdomain: 'hugepurge', users: 300, ticketEvents: 500, seed: 62, consentMode: 'allow' });
  const { integrationId: id } = await connectAndSync(system, tenant.apiKey, 'hugepurge');
  await sql`
    INSERT INTO ticket_events (integration_id, event_id, ticket_id, user_id, occurred_at)
    SELECT ${id}::uuid, 900000000000 + g, g / 5, 360000000000 + (g % 300), now() - (g % (90 * 86400)) * interval '1 second'
      FROM generate_series(1, 1000000) g`.execute(system.db);
  assert.ok((await count('ticket_events', id)) >= 1_000_000);
  assert.ok((await count('utilization_snapshots', id)) > 0, 'the sync stored its utilization reports');
  // A reader holding one of its rows keeps the purge from finishing while the DELETE waits, so the answer is
  // 202 however fast this machine deletes (a fast one purges a million rows within the wait).
  let releaseLock!: () => void;
  const locked = new Promise<void>((resolve) => (releaseLock = resolve));
  let lockTaken!: () => void;
  const lockHeld = new Promise<void>((resolve) => (lockTaken = resolve));
  const holder = system.db.transaction().execute(async (trx) => {
    await sql`SELECT 1 FROM ticket_events WHERE integration_id = ${id}::uuid ORDER BY event_id DESC LIMIT 1 FOR UPDATE`.execute(trx);
    lockTaken();
    await locked;
  });
  await lockHeld;

  const res = await api(system, 'DELETE', `/v1/integrations/${id}?purge=true`, { key: tenant.apiKey });
  assert.equal(res.status, 202, res.text);
  assert.equal(res.json.status, 'disconnecting');
  assert.equal(res.json.workflowId, `zendesk-disconnect-${id}`);
  assert.equal((await api(system, 'GET', `/v1/integrations/${id}/users`, { key: tenant.apiKey })).status, 404, 'reports stop at once');
  const again = await api(system, 'DELETE', `/v1/integrations/${id}?purge=true`, { key: tenant.apiKey });
  assert.ok(again.status === 202 || again.status === 200, `a repeated DELETE joins: ${again.status}`);
  assert.equal(again.json.workflowId, res.json.workflowId);
  releaseLock();
  await holder;

  await waitFor(
    'the purge to finish',
    async () => (await system.db.selectFrom('integrations').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status === 'disconnected',
    540_000,
  );
  assert.equal(await count('ticket_events', id), 0);
  assert.equal(await count('zendesk_users', id), 0);
  assert.equal(await count('sync_checkpoints', id), 0);
  assert.equal(await count('utilization_snapshots', id), 0, 'the stored reports go with the data');
  const activity = await sql<{ n: number }>`SELECT count(*)::int AS n FROM zendesk_user_activity WHERE integration_id = ${id}::uuid`.execute(system.db);
  assert.equal(activity.rows[0]!.n, 0);
  await nothingLeftBehind(id);
  const history = await system.temporal.workflow.getHandle(`zendesk-disconnect-${id}`).fetchHistory();
  const slices = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'purgeSyncedDataSlice').length;
  assert.ok(slices >= 1, `purge slices: ${slices}`);
});

test('DELETE stops a sync in the middle and closes its run', async () => {
  system.sandbox.createWorkspace({
    subdomain: 'midsync',
    users: 3_000,
    ticketEvents: 30_000,
    seed: 63,
    consentMode: 'allow',
    incrementalLimit: 1,
    usersCursorLimit: 1,
  });
  const created = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body: { workspace: 'midsync' } });
  const id: string = created.json.id;
  await followConsent(created.json.authorizeUrl);
  await waitFor('a running sync', async () =>
    system.db.selectFrom('sync_runs').select('id').where('integration_id', '=', id).where('status', '=', 'running').executeTakeFirst(),
  );
  const res = await api(system, 'DELETE', `/v1/integrations/${id}`, { key: tenant.apiKey });
  assert.ok(res.status === 200 || res.status === 202, res.text);
  await waitFor(
    'disconnected',
    async () => (await system.db.selectFrom('integrations').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status === 'disconnected',
  );
  await nothingLeftBehind(id);
  const runs = await system.db.selectFrom('sync_runs').select(['status', 'error']).where('integration_id', '=', id).execute();
  assert.ok(runs.every((r) => r.status !== 'running'));
  assert.ok(
    runs.some((r) => /disconnected/.test(r.error ?? '')),
    JSON.stringify(runs),
  );
});
