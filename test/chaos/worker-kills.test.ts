import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, createTenant, followConsent, startSystem, waitFor, waitForSync, type System } from '../helpers/system';
import { differences } from '../helpers/expectations';
import { startWorkerProcess, type WorkerProcess } from '../helpers/workerProcess';
import { chaosSeed, earlyTotal, prng, reportCount, syncedCounts } from './helpers';

/**
 * Real worker processes SIGKILLed at random points of a large sync (seeded: the kill points and victims
 * are printed and replayable with CHAOS_SEED), two workers sharing the work and a replacement started
 * after each kill; once both at the same moment. Whatever was in flight (a page's transaction, a
 * heartbeat, a rate-limit wait, a workflow task), the final data must equal the sandbox exactly, every
 * row counted once, and no request sent early.
 */

const SEED = chaosSeed('worker-kills', 31_337);
const rand = prng(SEED);
const USERS = 8_000;
const EVENTS = 60_000;
let system: System;
const workers: WorkerProcess[] = [];
const counts = { kills: 0, killsSurvived: 0, killPoints: [] as string[] };

before(async () => {
  system = await startSystem({ inProcessWorker: false });
  workers.push(...(await Promise.all([startWorkerProcess(system), startWorkerProcess(system)])));
});

after(async () => {
  reportCount('worker-kills', { seed: SEED, ...counts });
  for (const w of workers) await w.kill();
  await system?.stop();
});

/** The pids of the workers running one of the sync's activities right now (identity is `pid@host`). */
async function busyPids(integrationId: string): Promise<number[]> {
  const pids: number[] = [];
  for await (const execution of system.temporal.workflow.list({
    query: `IntegrationId = "${integrationId}" AND WorkflowType = "zendeskSync" AND ExecutionStatus = "Running"`,
  })) {
    const description = await system.temporal.workflow.getHandle(execution.workflowId, execution.runId).describe();
    for (const activity of description.raw.pendingActivities ?? []) {
      const pid = Number(/^(\d+)@/.exec(activity.lastWorkerIdentity ?? '')?.[1]);
      // 2 = PENDING_ACTIVITY_STATE_STARTED: a worker holds it now (a scheduled retry names the previous one).
      if (Number.isFinite(pid) && Number(activity.state) === 2) pids.push(pid);
    }
  }
  return pids;
}

test('a large sync survives SIGKILLs of its workers at random points: exact data, nothing counted twice', { timeout: 420_000 }, async () => {
  const ws = system.sandbox.createWorkspace({
    subdomain: 'killzone',
    users: USERS,
    ticketEvents: EVENTS,
    seed: 33,
    consentMode: 'allow',
    usersCursorLimit: 1,
    incrementalLimit: 4,
  });
  const tenant = await createTenant(system, 'Kill tenant');
  const created = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body: { workspace: 'killzone' } });
  assert.equal(created.status, 201, created.text);
  assert.equal((await followConsent(created.json.authorizeUrl)).status, 200);
  const id: string = created.json.id;
  const eventsInWindow = [...ws.ticketEvents()].filter((e) => e.timestamp >= Date.now() / 1000 - 90 * 86_400).length;

  // Kill points: a fraction of the events synced, one in each third of the sync; the last kills both workers.
  const points = [0.08 + rand() * 0.2, 0.38 + rand() * 0.2, 0.66 + rand() * 0.2];
  for (const [i, fraction] of points.entries()) {
    const threshold = Math.floor(fraction * eventsInWindow);
    await waitFor(`${threshold} events synced`, async () => (await syncedCounts(system.db, id)).events >= threshold, 120_000);
    const busy = await busyPids(id);
    const alive = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
    const both = i === points.length - 1;
    // Prefer a worker that is running an activity; pick among them with the seeded PRNG.
    const candidates = alive.filter((w) => busy.includes(w.child.pid!));
    const pool = candidates.length > 0 ? candidates : alive;
    const victims = both ? alive : [pool[Math.floor(rand() * pool.length)]];
    const at = await syncedCounts(system.db, id);
    await Promise.all(victims.map((w) => w!.kill('SIGKILL')));
    counts.kills += victims.length;
    counts.killPoints.push(`${victims.length}×${victims.some((v) => busy.includes(v!.child.pid!)) ? 'busy' : 'idle'} at ${at.users} users/${at.events} events`);
    console.log(
      `[chaos] worker-kills: killed ${victims.length} worker(s) (${victims.map((v) => v!.child.pid).join(', ')}; busy: ${busy.join(', ') || 'none'}) at ${at.users} users, ${at.events} events`,
    );
    workers.push(...(await Promise.all(victims.map(() => startWorkerProcess(system)))));
  }
  const beforeEnd = await syncedCounts(system.db, id);
  assert.ok(beforeEnd.events < eventsInWindow || beforeEnd.users < USERS, 'every kill happened before the sync finished');

  const run = await waitForSync(system, id, { timeoutMs: 300_000 });
  assert.equal(run.status, 'succeeded', run.error ?? '');
  assert.deepEqual(await differences(system.db, id, ws), []);
  const stored = await syncedCounts(system.db, id);
  assert.equal(run.ticket_events_synced, stored.events, 'events counted once each');
  assert.equal(run.users_synced, USERS);
  assert.equal(stored.users, USERS);
  assert.deepEqual(ws.stats().earlyRequests, { account: 0, incremental: 0, usersCursor: 0 });
  assert.equal(earlyTotal(ws.stats()), 0);
  counts.killsSurvived = counts.kills;
});
