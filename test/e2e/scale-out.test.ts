import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { api, createTenant, followConsent, startSystem, waitFor, waitForSync, type System } from '../helpers/system';
import { differences } from '../helpers/expectations';
import { startWorkerProcess, type WorkerProcess } from '../helpers/workerProcess';

/**
 * Scaling out: two worker processes on one task queue, many integrations connected at once. All are
 * synced exactly, never two syncs of one integration at once, and SIGKILL of one worker midway loses
 * nothing (its activities time out and are retried on the other workers, from their checkpoints).
 */
let system: System;
const workers: WorkerProcess[] = [];
const WORKSPACES = 12;

before(async () => {
  system = await startSystem({ inProcessWorker: false });
});
after(async () => {
  for (const w of workers) await w.kill();
  await system?.stop();
});

test('two workers sync many integrations exactly, one sync per integration at a time, and survive losing a worker', async (t) => {
  // One ticket-events page a second per workspace: each first sync takes several seconds, all at once.
  const spaces = Array.from({ length: WORKSPACES }, (_, i) =>
    system.sandbox.createWorkspace({
      subdomain: `scale${i}`,
      users: 300 + 25 * i,
      ticketEvents: 7_000,
      seed: 900 + i,
      consentMode: 'allow',
      incrementalLimit: 1,
    }),
  );
  workers.push(await startWorkerProcess(system), await startWorkerProcess(system));
  const tenant = await createTenant(system);

  const integrationIds = await Promise.all(
    spaces.map(async (ws) => {
      const created = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body: { workspace: ws.subdomain } });
      assert.equal(created.status, 201, created.text);
      const consent = await followConsent(created.json.authorizeUrl);
      assert.equal(consent.status, 200, consent.html);
      return created.json.id as string;
    }),
  );

  const totalEvents = async () =>
    Number(
      (await sql<{ n: string }>`select count(*) as n from ticket_events where integration_id = any(${integrationIds}::uuid[])`.execute(system.db)).rows[0]!.n,
    );
  await waitFor('the syncs to be under way', async () => (await totalEvents()) >= 15_000, 90_000);
  // Asking for a sync while one runs joins it: never a second run of the same integration.
  const joined = await Promise.all(integrationIds.slice(0, 4).map((id) => api(system, 'POST', `/v1/integrations/${id}/sync`, { key: tenant.apiKey })));
  for (const res of joined) assert.equal(res.status, 202, res.text);

  // Lose a worker midway, without warning; a replacement comes up.
  const atKill = await totalEvents();
  await workers[0]!.kill('SIGKILL');
  t.diagnostic(`killed a worker with ${atKill} ticket events stored`);
  workers.push(await startWorkerProcess(system));

  for (const id of integrationIds) {
    const run = await waitForSync(system, id, { timeoutMs: 240_000 });
    assert.equal(run.status, 'succeeded', `${id}: ${run.error}`);
  }
  // Let any sync started by the trigger above finish too, then check every run of every integration.
  await waitFor(
    'no sync running',
    async () =>
      (await system.db.selectFrom('sync_runs').select('id').where('integration_id', 'in', integrationIds).where('status', '=', 'running').execute()).length ===
      0,
    120_000,
  );

  for (const [i, id] of integrationIds.entries()) {
    assert.deepEqual(await differences(system.db, id, spaces[i]!), [], `integration ${spaces[i]!.subdomain}`);
    const runs = await system.db.selectFrom('sync_runs').selectAll().where('integration_id', '=', id).orderBy('started_at').execute();
    assert.ok(runs.length >= 1);
    for (const run of runs) assert.equal(run.status, 'succeeded', `${spaces[i]!.subdomain}: ${run.error}`);
    for (let k = 1; k < runs.length; k++) {
      assert.ok(runs[k - 1]!.finished_at! <= runs[k]!.started_at, `${spaces[i]!.subdomain}: runs ${k - 1} and ${k} overlap`);
    }
    const stored = Number((await sql<{ n: string }>`select count(*) as n from ticket_events where integration_id = ${id}`.execute(system.db)).rows[0]!.n);
    const counted = runs.reduce((sum, r) => sum + r.ticket_events_synced, 0);
    assert.equal(counted, stored, `${spaces[i]!.subdomain}: events counted once`);
  }
});
