import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../scripts/test';
import { startDevServer, type DevServer } from '../../src/temporal/devServer';
import { api, createTenant, followConsent, startSystem, waitFor, waitForSync, type System } from '../helpers/system';
import { differences } from '../helpers/expectations';
import { startWorkerProcess, type WorkerProcess } from '../helpers/workerProcess';
import { chaosSeed, earlyTotal, prng, reportCount, sleep, syncedCounts } from './helpers';

/**
 * The Temporal server stopped for a few seconds in the middle of a large sync, then started again on the
 * same port with the same database file (its state kept). The worker process and the API reconnect by
 * themselves, and the sync completes with data equal to the sandbox.
 */

const SEED = chaosSeed('temporal-outage', 7_233);
const rand = prng(SEED);
let dir: string;
let server: DevServer | undefined;
let port: number;
let system: System;
let worker: WorkerProcess | undefined;
const counts = { outages: 0, outageMs: 0 };

const startServer = () => startDevServer({ port, dbFilename: path.join(dir, 'temporal.db') });

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'zw-chaos-temporal-'));
  port = await freePort();
  server = await startServer();
  system = await startSystem({ inProcessWorker: false, env: { TEMPORAL_ADDRESS: server.address } });
  worker = await startWorkerProcess(system);
});

after(async () => {
  reportCount('temporal-outage', { seed: SEED, ...counts });
  await worker?.kill();
  await system?.stop();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('Temporal stopped for seconds mid-sync and started again: the sync completes exactly', { timeout: 300_000 }, async () => {
  const ws = system.sandbox.createWorkspace({
    subdomain: 'tempo',
    users: 4_000,
    ticketEvents: 30_000,
    seed: 72,
    consentMode: 'allow',
    usersCursorLimit: 1,
    incrementalLimit: 3,
  });
  const tenant = await createTenant(system, 'Temporal chaos tenant');
  const created = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body: { workspace: 'tempo' } });
  assert.equal(created.status, 201, created.text);
  assert.equal((await followConsent(created.json.authorizeUrl)).status, 200);
  const id: string = created.json.id;

  for (const threshold of [5_000, 14_000]) {
    await waitFor('the sync to be part-way', async () => (await syncedCounts(system.db, id)).events >= threshold, 90_000);
    const outageMs = 3_000 + Math.floor(rand() * 3_000);
    await server!.stop();
    server = undefined;
    const stoppedAt = Date.now();
    // While Temporal is down the API still answers what PostgreSQL knows, promptly; readiness says not ready.
    const [view, ready] = await Promise.all([
      api(system, 'GET', `/v1/integrations/${id}`, { key: tenant.apiKey }).then((r) => ({ ...r, ms: Date.now() - stoppedAt })),
      fetch(`${system.internalUrl}/readyz`),
    ]);
    assert.equal(view.status, 200);
    assert.equal(view.json.nextSyncAt, null);
    assert.ok(view.ms < 6_000, `GET /v1/integrations/:id took ${view.ms} ms while Temporal was down`);
    assert.equal(ready.status, 503);
    await sleep(Math.max(0, outageMs - (Date.now() - stoppedAt)));
    server = await startServer();
    console.log(`[chaos] temporal-outage: Temporal was down for ${Date.now() - stoppedAt} ms`);
    counts.outages++;
    counts.outageMs += Date.now() - stoppedAt;
  }
  const midway = await syncedCounts(system.db, id);
  assert.ok(midway.events < 30_000, 'the outages hit the sync before it ended');

  // The worker process reconnects by itself (it must not have exited).
  const run = await waitForSync(system, id, { timeoutMs: 200_000 }).catch(async (err) => {
    console.log(`[chaos] temporal-outage: worker alive=${worker!.child.exitCode === null}; its last output:\n${worker!.output().slice(-5000)}`);
    throw err;
  });
  assert.equal(worker!.child.exitCode, null, `the worker process exited during the outage: ${worker!.output().slice(-3000)}`);
  assert.equal(run.status, 'succeeded', run.error ?? '');
  assert.deepEqual(await differences(system.db, id, ws), []);
  const stored = await syncedCounts(system.db, id);
  assert.equal(run.ticket_events_synced, stored.events);
  assert.equal(earlyTotal(ws.stats()), 0);
  await waitFor('readiness', async () => (await fetch(`${system.internalUrl}/readyz`)).status === 200, 30_000);
});

test(
  'DELETE while Temporal is down answers 503 and changes nothing; once it is back, DELETE completes with nothing left behind',
  { timeout: 300_000 },
  async () => {
    system.sandbox.createWorkspace({
      subdomain: 'tempo-delete',
      users: 300,
      ticketEvents: 1_000,
      seed: 73,
      consentMode: 'allow',
      oauth: { revokeNeedsWrite: false },
    });
    const tenant = await createTenant(system, 'Temporal chaos tenant, delete');
    const created = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body: { workspace: 'tempo-delete' } });
    assert.equal((await followConsent(created.json.authorizeUrl)).status, 200);
    const id: string = created.json.id;
    await waitForSync(system, id, { timeoutMs: 120_000 });

    await server!.stop();
    server = undefined;
    try {
      const res = await api(system, 'DELETE', `/v1/integrations/${id}?purge=true`, { key: tenant.apiKey });
      assert.equal(res.status, 503, res.text);
      const row = await system.db.selectFrom('integrations').select('status').where('id', '=', id).executeTakeFirstOrThrow();
      assert.equal(row.status, 'connected', 'nothing changed');
      const tokens = await system.db.selectFrom('oauth_credentials').select('integration_id').where('integration_id', '=', id).execute();
      assert.equal(tokens.length, 1, 'the tokens are still there');
    } finally {
      server = await startServer();
    }
    const res = await waitFor(
      'a DELETE that goes through',
      async () => {
        const r = await api(system, 'DELETE', `/v1/integrations/${id}?purge=true`, { key: tenant.apiKey });
        return r.status === 200 || r.status === 202 ? r : undefined;
      },
      120_000,
    );
    assert.ok(res.json.workflowId);
    await waitFor(
      'disconnected',
      async () => (await system.db.selectFrom('integrations').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status === 'disconnected',
      120_000,
    );
    await assert.rejects(system.temporal.schedule.getHandle(`zendesk-sync-${id}`).describe(), /not found/i, 'no schedule left behind');
    for (const table of ['oauth_credentials', 'ticket_events', 'zendesk_users'] as const) {
      const rows = await system.db.selectFrom(table).select('integration_id').where('integration_id', '=', id).execute();
      assert.equal(rows.length, 0, `${table} left behind`);
    }
    const running = await system.db.selectFrom('sync_runs').select('id').where('integration_id', '=', id).where('status', '=', 'running').execute();
    assert.deepEqual(running, []);
  },
);
