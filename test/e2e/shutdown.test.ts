import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import path from 'node:path';
import { sql } from 'kysely';
import { freePort } from '../../scripts/test';
import { api, createTenant, followConsent, startSystem, waitFor, waitForSync, type System } from '../helpers/system';
import { differences } from '../helpers/expectations';
import { startWorkerProcess, type WorkerProcess } from '../helpers/workerProcess';

/**
 * SIGTERM, as an orchestrator sends it on a deploy: the API stops taking requests and finishes those in
 * flight, then exits 0; a worker stops within its grace time without losing work, and the sync it was
 * running carries on, exactly, on another worker.
 */
let system: System;
const workers: WorkerProcess[] = [];
const children: ChildProcess[] = [];

before(async () => {
  system = await startSystem({ inProcessWorker: false });
});
after(async () => {
  for (const w of workers) await w.kill();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await system?.stop();
});

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });

test('the API finishes the request in flight after SIGTERM, refuses new connections, and exits 0', async () => {
  const port = await freePort();
  const adminKey = randomBytes(32).toString('base64url');
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../../src/api-server.ts')], {
    env: { ...process.env, ...system.env, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, ADMIN_API_KEY: adminKey, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const base = `http://127.0.0.1:${port}`;
  await waitFor(
    'the API to listen',
    () =>
      fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      ),
    60_000,
  );

  // A request in flight: its body arrives in two halves, with SIGTERM in between.
  const body = JSON.stringify({ name: 'created during shutdown' });
  let newConnection = '';
  const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(`${base}/v1/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.write(body.slice(0, 10));
    setTimeout(() => {
      child.kill('SIGTERM');
      setTimeout(() => {
        // Meanwhile, new connections are refused.
        void fetch(`${base}/healthz`)
          .then(
            (r) => `answered ${r.status}`,
            (err: Error & { cause?: { code?: string } }) => err.cause?.code ?? err.message,
          )
          .then((fresh) => {
            newConnection = fresh;
            req.end(body.slice(10));
          });
      }, 700);
    }, 300);
  });
  const answered = await response;
  assert.equal(answered.status, 201, answered.text);
  assert.equal(JSON.parse(answered.text).name, 'created during shutdown');
  assert.equal(newConnection, 'ECONNREFUSED');
  const { code } = await exited(child);
  assert.equal(code, 0, output.slice(-2000));
  assert.match(output, /shutting down: no new requests/);
  const stored = await system.db.selectFrom('tenants').select('name').where('name', '=', 'created during shutdown').execute();
  assert.equal(stored.length, 1);
});

test('a worker stopped by SIGTERM mid-sync exits within its grace time; another worker finishes the same sync exactly', async (t) => {
  // One users page and two ticket-event pages a second: a sync of about 40 s, longer than the 20 s grace time.
  const ws = system.sandbox.createWorkspace({
    subdomain: 'rolling',
    users: 40_000,
    ticketEvents: 60_000,
    seed: 81,
    consentMode: 'allow',
    usersCursorLimit: 1,
    incrementalLimit: 2,
  });
  workers.push(await startWorkerProcess(system));
  const tenant = await createTenant(system);
  const created = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body: { workspace: 'rolling' } });
  assert.equal((await followConsent(created.json.authorizeUrl)).status, 200);
  const integrationId: string = created.json.id;
  const count = async (table: 'ticket_events' | 'zendesk_users') =>
    Number((await sql<{ n: string }>`select count(*) as n from ${sql.table(table)} where integration_id = ${integrationId}`.execute(system.db)).rows[0]!.n);
  await waitFor('the sync to be under way', async () => (await count('zendesk_users')) >= 2_000, 60_000);

  // A rolling deploy: the old worker gets SIGTERM and a new one comes up.
  const stoppedAt = Date.now();
  const old = workers[0];
  old!.child.kill('SIGTERM');
  workers.push(await startWorkerProcess(system));
  const { code } = await exited(old!.child);
  const stopSeconds = (Date.now() - stoppedAt) / 1000;
  assert.equal(code, 0, old!.output().slice(-2000));
  assert.ok(stopSeconds < 28, `the worker took ${stopSeconds} s to stop (grace time 20 s)`);
  assert.match(old!.output(), /worker stopped/);
  t.diagnostic(`the old worker stopped ${stopSeconds.toFixed(1)} s after SIGTERM`);
  const atExit = await count('zendesk_users');
  assert.ok(atExit < 40_000, 'the old worker stopped before the sync was done');

  const run = await waitForSync(system, integrationId, { timeoutMs: 180_000 });
  assert.equal(run.status, 'succeeded', run.error ?? '');
  // The same run went on (no failed or restarted run), and the data is exact.
  const runs = await system.db.selectFrom('sync_runs').selectAll().where('integration_id', '=', integrationId).execute();
  assert.equal(runs.length, 1, JSON.stringify(runs.map((r) => [r.status, r.error])));
  assert.deepEqual(await differences(system.db, integrationId, ws), []);
  assert.equal(run.users_synced, 40_000);
  assert.equal(run.ticket_events_synced, await count('ticket_events'));
});
