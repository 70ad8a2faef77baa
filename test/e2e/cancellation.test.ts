import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, createTenant, followConsent, startSystem, waitFor, waitForSync, type System } from '../helpers/system';
import { differences } from '../helpers/expectations';
import { startWorkerProcess, type WorkerProcess } from '../helpers/workerProcess';

/**
 * Cancellation reaches the request: a worker whose grace time ends while a Zendesk request of its chunk is
 * still pending aborts that request (the sandbox sees the client hang up; it does not wait out the 5-minute
 * request timeout), exits, and the sync resumes on another worker, exactly.
 */
let system: System;
const workers: WorkerProcess[] = [];

before(async () => {
  system = await startSystem({ inProcessWorker: false, env: { ZENDESK_REQUEST_TIMEOUT: '5m' } });
});
after(async () => {
  for (const w of workers) await w.kill();
  await system?.stop();
});

test('a chunk cancelled while its Zendesk request is pending aborts the request; the sync resumes elsewhere', { timeout: 540_000 }, async () => {
  const ws = system.sandbox.createWorkspace({
    subdomain: 'cancelled',
    users: 20_000,
    ticketEvents: 20_000,
    seed: 91,
    consentMode: 'allow',
    usersCursorLimit: 1,
    incrementalLimit: 2,
  });
  const first = await startWorkerProcess(system);
  workers.push(first);
  const tenant = await createTenant(system);
  const created = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body: { workspace: 'cancelled' } });
  assert.equal((await followConsent(created.json.authorizeUrl)).status, 200);
  const id: string = created.json.id;
  await waitFor(
    'the sync to be under way',
    async () => {
      const n = await system.db
        .selectFrom('zendesk_users')
        .select(system.db.fn.countAll<number>().as('n'))
        .where('integration_id', '=', id)
        .executeTakeFirstOrThrow();
      return Number(n.n) >= 2_000;
    },
    60_000,
  );

  // The next users page hangs for 4 minutes: longer than the worker's grace time, shorter than the request timeout.
  ws.injectFaults([{ kind: 'slow', slowMs: 240_000, path: /incremental\/users/, count: 1 }]);
  // The end users' export starts once the seat holders are listed (1 page a second here): minutes on a busy machine.
  await waitFor('the slow request to be pending', async () => ws.stats().faults.slow >= 1, 180_000);
  const abandonedBefore = ws.stats().abandoned;
  workers.push(await startWorkerProcess(system));
  first.child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => first.child.once('exit', (c) => resolve(c)));
  assert.equal(code, 0, first.output().slice(-2000));
  assert.ok(ws.stats().abandoned > abandonedBefore, 'the pending request was aborted by the worker, not left to its timeout');

  const run = await waitForSync(system, id, { timeoutMs: 240_000 });
  assert.equal(run.status, 'succeeded', run.error ?? '');
  const runs = await system.db.selectFrom('sync_runs').select('id').where('integration_id', '=', id).execute();
  assert.equal(runs.length, 1, 'the same run went on');
  assert.deepEqual(await differences(system.db, id, ws), []);
});
