import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { api, createTenant, followConsent, startSystem, waitFor, waitForSync, type System } from '../helpers/system';
import { differences } from '../helpers/expectations';
import { startWorkerProcess, type WorkerProcess } from '../helpers/workerProcess';

/** A worker process killed with SIGKILL in the middle of a sync, then another one started. */
let system: System;
const workers: WorkerProcess[] = [];

before(async () => {
  system = await startSystem({ inProcessWorker: false });
});
after(async () => {
  for (const w of workers) await w.kill();
  await system?.stop();
});

test('a sync survives its worker being killed mid-way: exact data, nothing counted twice', async () => {
  const ws = system.sandbox.createWorkspace({
    subdomain: 'crashy',
    users: 6_000,
    ticketEvents: 60_000,
    seed: 21,
    consentMode: 'allow',
    usersCursorLimit: 1,
    incrementalLimit: 4,
  });
  workers.push(await startWorkerProcess(system));
  const tenant = await createTenant(system);
  const created = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body: { workspace: 'crashy' } });
  assert.equal((await followConsent(created.json.authorizeUrl)).status, 200);
  const integrationId: string = created.json.id;

  const count = async (table: 'ticket_events' | 'zendesk_users') =>
    Number((await sql<{ n: string }>`select count(*) as n from ${sql.table(table)} where integration_id = ${integrationId}`.execute(system.db)).rows[0]!.n);
  await waitFor('the sync to be part-way', async () => (await count('ticket_events')) >= 8_000 && (await count('zendesk_users')) >= 1_000, 60_000);
  await workers[0]!.kill('SIGKILL');
  const atKill = { events: await count('ticket_events'), users: await count('zendesk_users') };
  assert.ok(atKill.users < 6_000 || atKill.events < 40_000, 'the kill happened before the sync finished');

  workers.push(await startWorkerProcess(system));
  const run = await waitForSync(system, integrationId, { timeoutMs: 180_000 });
  assert.equal(run.status, 'succeeded', run.error ?? '');
  assert.deepEqual(await differences(system.db, integrationId, ws), []);
  // Counters are written in the page's transaction: they equal the stored rows exactly.
  assert.equal(run.ticket_events_synced, await count('ticket_events'));
  assert.equal(run.users_synced, 6_000);
});
