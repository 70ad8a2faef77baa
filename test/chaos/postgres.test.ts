import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql, type Kysely } from 'kysely';
import { createDb } from '../../src/db/database';
import { api, createTenant, followConsent, startSystem, waitFor, waitForSync, type System } from '../helpers/system';
import { differences } from '../helpers/expectations';
import { startWorkerProcess, type WorkerProcess } from '../helpers/workerProcess';
import { chaosSeed, databaseName, localCluster, pgctl, prng, reportCount, sleep, syncedCounts, terminateBackends, waitPgReady } from './helpers';

/**
 * PostgreSQL going away under a large sync, with a real worker process and the API:
 * - every connection of the test database terminated again and again for several seconds (what the
 *   processes see when PostgreSQL crashes or fails over);
 * - the PostgreSQL server itself restarted mid-sync (the machine's cluster; only when nobody else is using
 *   it, since other test runs on the machine share it; always started again, even when the test fails).
 * Each time the worker process survives (no restart), the sync completes, and the data equals the sandbox
 * exactly with counters equal to the stored rows.
 */

const SEED = chaosSeed('postgres', 5_432);
const rand = prng(SEED);
let system: System;
let admin: Kysely<any>;
let worker: WorkerProcess;
let tenant: { id: string; apiKey: string };
const counts: Record<string, number | string> = { backendTerminations: 0, connectionsTerminated: 0, restarts: 0 };

before(async () => {
  system = await startSystem({ inProcessWorker: false });
  tenant = await createTenant(system, 'Postgres chaos tenant');
  worker = await startWorkerProcess(system);
  admin = createDb(process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', 1, { allowExitOnIdle: true });
});

after(async () => {
  reportCount('postgres', { seed: SEED, ...counts });
  await worker?.kill();
  await system?.stop();
  await admin?.destroy();
});

async function startSync(subdomain: string, size: { users: number; ticketEvents: number }, seed: number) {
  const ws = system.sandbox.createWorkspace({ subdomain, ...size, seed, consentMode: 'allow', usersCursorLimit: 1, incrementalLimit: 3 });
  const created = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body: { workspace: subdomain } });
  assert.equal(created.status, 201, created.text);
  assert.equal((await followConsent(created.json.authorizeUrl)).status, 200);
  return { ws, id: created.json.id as string };
}

async function assertExact(id: string, ws: Parameters<typeof differences>[2]) {
  const run = await waitForSync(system, id, { timeoutMs: 150_000 }).catch(async (err) => {
    console.log(`[chaos] postgres: worker alive=${worker.child.exitCode === null}; its last output:\n${worker.output().slice(-6000)}`);
    throw err;
  });
  assert.equal(run.status, 'succeeded', run.error ?? '');
  assert.deepEqual(await differences(system.db, id, ws), []);
  const stored = await syncedCounts(system.db, id);
  assert.equal(run.ticket_events_synced, stored.events, 'events counted once each');
  assert.equal(run.users_synced, stored.users, 'users counted once each');
  assert.equal(worker.child.exitCode, null, `the worker process died: ${worker.output().slice(-2000)}`);
  assert.equal(worker.child.signalCode, null);
  // The API answers normally again.
  assert.equal((await api(system, 'GET', `/v1/integrations/${id}`, { key: tenant.apiKey })).status, 200);
}

test('every connection terminated again and again for seconds mid-sync: the worker lives on, data exact', { timeout: 240_000 }, async () => {
  const { ws, id } = await startSync('pg-terminated', { users: 4_000, ticketEvents: 30_000 }, 51);
  await waitFor('the sync to be part-way', async () => (await syncedCounts(system.db, id)).events >= 4_000, 60_000);
  const until = Date.now() + 6_000;
  let apiAnswers = 0;
  while (Date.now() < until) {
    counts.connectionsTerminated = Number(counts.connectionsTerminated) + (await terminateBackends(admin));
    counts.backendTerminations = Number(counts.backendTerminations) + 1;
    // The API, meanwhile, answers (a 5xx while its query was cut is allowed; it must not die).
    const res = await fetch(`${system.apiUrl}/v1/integrations/${id}`, { headers: { authorization: `Bearer ${tenant.apiKey}` } }).catch(() => undefined);
    if (res) apiAnswers++;
    await sleep(200 + rand() * 500);
  }
  assert.ok(apiAnswers > 0, 'the API never answered during the outage');
  const midway = await syncedCounts(system.db, id);
  assert.ok(midway.events < 30_000, 'the terminations hit the sync before it ended');
  await assertExact(id, ws);
});

test('the PostgreSQL server restarted mid-sync: data exact', { timeout: 240_000 }, async (t) => {
  const cluster = localCluster();
  if (!cluster) {
    counts.restartSkipped = 'not a local cluster we may restart';
    t.skip('PostgreSQL is not the local cluster on 127.0.0.1:5432 run by this (root) user');
    return;
  }
  // Other clients (another test run on this machine, a developer's psql) would lose their connections.
  const others = (
    await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
      where backend_type = 'client backend' and pid <> pg_backend_pid() and datname is distinct from ${databaseName()}`.execute(admin)
  ).rows[0]!.n;
  if (others > 0) {
    counts.restartSkipped = `${others} other clients were connected`;
    t.skip(`${others} other clients use this PostgreSQL; not restarting it under them`);
    return;
  }
  const { ws, id } = await startSync('pg-restarted', { users: 4_000, ticketEvents: 30_000 }, 52);
  await waitFor('the sync to be part-way', async () => (await syncedCounts(system.db, id)).events >= 4_000, 60_000);
  try {
    pgctl(cluster.version, 'stop');
    await sleep(1_000 + rand() * 2_000);
  } finally {
    // Started again whatever happened above.
    try {
      pgctl(cluster.version, 'start');
    } catch {
      /* already running */
    }
    await waitPgReady();
  }
  counts.restarts = Number(counts.restarts) + 1;
  const midway = await syncedCounts(system.db, id);
  assert.ok(midway.events < 30_000, 'the restart hit the sync before it ended');
  await assertExact(id, ws);
});
