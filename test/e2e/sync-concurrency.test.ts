import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { zendeskSync } from '../../src/workflows/sync';
import { api, connectAndSync, createTenant, startSystem, waitFor, type System } from '../helpers/system';
import { differences } from '../helpers/expectations';
import { startWorkerProcess, type WorkerProcess } from '../helpers/workerProcess';

/** Two workers on one task queue and a storm of sync requests: never two syncs of one integration at once. */
let system: System;
let second: WorkerProcess | undefined;

before(async () => {
  system = await startSystem();
  second = await startWorkerProcess(system);
});
after(async () => {
  await second?.kill();
  await system?.stop();
});

test('two workers, one integration: never two syncs at once', async () => {
  const ws = system.sandbox.createWorkspace({ subdomain: 'busy', users: 2_000, ticketEvents: 15_000, seed: 31, consentMode: 'allow', incrementalLimit: 3 });
  const tenant = await createTenant(system);
  const { integrationId } = await connectAndSync(system, tenant.apiKey, 'busy');
  ws.addTicketEvents(3_000);
  ws.addUser({ name: 'Late Joiner', role: 'agent', role_type: 0 });

  // Through the API (the schedule's overlap policy) and around it (straight workflow starts), all at once.
  const viaApi = Array.from({ length: 8 }, () => api(system, 'POST', `/v1/integrations/${integrationId}/sync`, { key: tenant.apiKey }));
  const direct = Array.from({ length: 4 }, (_, i) =>
    system.temporal.workflow.start(zendeskSync, {
      taskQueue: system.config.temporal.taskQueue,
      workflowId: `zendesk-sync-${integrationId}-manual-${i}`,
      args: [{ integrationId, tenantId: tenant.id, workspace: 'busy' }],
    }),
  );
  for (const res of await Promise.all(viaApi)) assert.equal(res.status, 202, res.text);
  const outcomes = await Promise.all((await Promise.all(direct)).map((h) => h.result()));
  assert.ok(
    outcomes.some((o) => o.step === 'skipped'),
    'overlapping starts were turned away',
  );

  await waitFor('all syncs to finish', async () => {
    const running = await system.db.selectFrom('sync_runs').select('id').where('integration_id', '=', integrationId).where('status', '=', 'running').execute();
    return running.length === 0;
  });
  const runs = await system.db.selectFrom('sync_runs').selectAll().where('integration_id', '=', integrationId).orderBy('started_at').execute();
  for (let i = 1; i < runs.length; i++) {
    assert.ok(runs[i]!.started_at >= runs[i - 1]!.finished_at!, `run ${i} started before run ${i - 1} finished`);
  }
  assert.deepEqual(await differences(system.db, integrationId, ws), []);
});
