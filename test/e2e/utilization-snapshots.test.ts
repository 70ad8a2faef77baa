import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SandboxWorkspace } from '../../src/sandbox';
import { findIntegration } from '../../src/db/repositories/integrations';
import { finishSyncRun, startSyncRun } from '../../src/db/repositories/syncRuns';
import { insertSnapshot, listSnapshots, SNAPSHOTS_KEPT } from '../../src/db/repositories/utilizationSnapshots';
import { takeUtilizationSnapshot, utilizationBody } from '../../src/reports/snapshots';
import { api, connectAndSync, createTenant, startSystem, waitForSync, type System } from '../helpers/system';
import { expectedUsers, expectedUtilization, syncedEvents } from './reports.fixture';

/**
 * Utilization snapshots (issue 16): the worker stores the default-`inactiveDays` report when a sync's seat
 * part is done and when the sync succeeds; `/utilization` serves the newest with `asOf` = its time, and it
 * equals a fresh computation at that instant (and the sandbox's own figures). Other `inactiveDays` are live.
 */

let system: System;
let tenant: { id: string; apiKey: string };
let ws: SandboxWorkspace;
let integrationId: string;

before(async () => {
  system = await startSystem();
  tenant = await createTenant(system, 'Snapshot tenant');
  ws = system.sandbox.createWorkspace({ subdomain: 'snapshots', users: 800, ticketEvents: 6000, seed: 1607, days: 60, consentMode: 'allow' });
  ({ integrationId } = await connectAndSync(system, tenant.apiKey, 'snapshots'));
});

after(() => system?.stop());

const utilization = (query = '') => api(system, 'GET', `/v1/integrations/${integrationId}/utilization${query}`, { key: tenant.apiKey });

test('a sync stores two snapshots, its seat part and its end; /utilization serves the newest, equal to a fresh computation', async () => {
  const run = await system.db.selectFrom('sync_runs').selectAll().where('integration_id', '=', integrationId).executeTakeFirstOrThrow();
  const snapshots = await listSnapshots(system.db, integrationId);
  assert.deepEqual(snapshots.map((s) => [s.kind, s.sync_run_id, s.inactive_days]).sort(), [
    ['seats', run.id, system.config.inactiveAfterDays],
    ['sync', run.id, system.config.inactiveAfterDays],
  ]);
  const newest = snapshots[0]!;
  assert.equal(newest.kind, 'sync');
  assert.ok(newest.taken_at >= run.finished_at!, 'taken after the run was closed');

  const res = await utilization();
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.asOf, newest.taken_at.toISOString());
  assert.equal(res.headers.get('report-as-of'), newest.taken_at.toISOString());
  assert.equal(res.json.lastSyncedAt, run.finished_at!.toISOString(), 'the snapshot knows its own run');
  // A fresh computation at the snapshot's instant gives the same body, and so do the sandbox's own users.
  const integration = (await findIntegration(system.db, integrationId))!;
  const fresh = await utilizationBody(system.db, integration, { asOf: newest.taken_at, inactiveDays: system.config.inactiveAfterDays });
  // The API adds the savings (from the seat price, none here) to the stored report; the rest is the report itself.
  const { savings, ...report } = res.json;
  assert.equal(savings, null);
  assert.deepEqual(report, JSON.parse(JSON.stringify(fresh)));
  const model = expectedUtilization(
    expectedUsers(ws.users(), syncedEvents(ws, system.config.activityBackfillDays), newest.taken_at, system.config.inactiveAfterDays, (id) =>
      ws.entitlements(id),
    ),
  );
  assert.deepEqual(res.json.paidSeats, model.paidSeats);
  assert.deepEqual(res.json.reclaimable, model.reclaimable);
  assert.deepEqual(res.json.byRoleType, model.byRoleType);

  // Passing the default explicitly is the same report; another inactiveDays is computed now.
  assert.equal((await utilization(`?inactiveDays=${system.config.inactiveAfterDays}`)).json.asOf, newest.taken_at.toISOString());
  const live = await utilization('?inactiveDays=7');
  assert.equal(live.status, 200);
  assert.ok(Date.parse(live.json.asOf) > newest.taken_at.getTime(), `computed live: ${live.json.asOf}`);
});

test('the seat snapshot is the seat report when its part was done: complete seat holders, its own instant', async () => {
  const seats = (await listSnapshots(system.db, integrationId)).find((s) => s.kind === 'seats')!;
  const report = seats.report as { asOf: string; completeness: { seatHolders: { complete: boolean } }; paidSeats: { total: number } };
  assert.equal(report.asOf, seats.taken_at.toISOString());
  assert.equal(report.completeness.seatHolders.complete, true);
  const final = (await utilization()).json;
  assert.equal(report.paidSeats.total, final.paidSeats.total, 'nothing changed in Zendesk during the sync: the same seats');
});

test('a new sync replaces the served report at once (the cache hears of the insert)', async () => {
  const before = (await utilization()).json;
  const earlier = await system.db.selectFrom('sync_runs').select('id').where('integration_id', '=', integrationId).execute();
  // Zendesk changes: an agent more; the next sync's snapshot has it.
  ws.addUser({ name: 'New Agent', email: 'new.agent@example.com', role: 'agent', last_login_at: new Date().toISOString() });
  const started = await api(system, 'POST', `/v1/integrations/${integrationId}/sync`, { key: tenant.apiKey });
  assert.ok(started.status === 202 || started.status === 200, started.text);
  const run = await waitForSync(system, integrationId, { notIds: earlier.map((r) => r.id) });
  assert.equal(run.status, 'succeeded', run.error ?? '');
  const after = (await utilization()).json;
  assert.ok(Date.parse(after.asOf) > Date.parse(before.asOf), `a newer snapshot: ${before.asOf} → ${after.asOf}`);
  assert.equal(after.paidSeats.total, before.paidSeats.total + 1);
  assert.equal(after.paidSeats.active, before.paidSeats.active + 1);
});

test('storing is once per run and kind; the newest 90 are kept', async () => {
  const run = await system.db.selectFrom('sync_runs').select('id').where('integration_id', '=', integrationId).orderBy('started_at').executeTakeFirstOrThrow();
  const count = async () => (await listSnapshots(system.db, integrationId)).length;
  const n = await count();
  assert.equal(
    await takeUtilizationSnapshot(system.db, { integrationId, syncRunId: run.id, kind: 'sync', inactiveDays: system.config.inactiveAfterDays }),
    false,
    'a retry stores nothing',
  );
  assert.equal(await count(), n);

  // 95 more runs' snapshots, older than every real one: the newest 90 of all stay.
  const real = await listSnapshots(system.db, integrationId);
  const oldest = Math.min(...real.map((s) => s.taken_at.getTime()));
  for (let i = 0; i < 95; i++) {
    const r = await startSyncRun(system.db, { integrationId, workflowId: `snapshot-test-${i}`, runId: `run-${i}` });
    await finishSyncRun(system.db, r.id, 'succeeded', null);
    await insertSnapshot(system.db, {
      integrationId,
      syncRunId: r.id,
      kind: 'sync',
      takenAt: new Date(oldest - (95 - i) * 60_000),
      inactiveDays: system.config.inactiveAfterDays,
      report: { marker: i },
    });
  }
  const kept = await listSnapshots(system.db, integrationId);
  assert.equal(kept.length, SNAPSHOTS_KEPT);
  for (const s of real)
    assert.ok(
      kept.some((k) => k.id === s.id),
      'the real, newer snapshots stay',
    );
  const markers = kept.map((k) => (k.report as { marker?: number }).marker).filter((m) => m !== undefined);
  assert.equal(Math.min(...markers), 95 - (SNAPSHOTS_KEPT - real.length), 'the oldest went first');
});
