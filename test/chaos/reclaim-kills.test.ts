import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, connectAndSync, createTenant, startSystem, waitFor, type System } from '../helpers/system';
import { startWorkerProcess, type WorkerProcess } from '../helpers/workerProcess';
import { chaosSeed, prng, reportCount } from './helpers';

/**
 * Real worker processes SIGKILLed while a reclamation downgrades users (five kill points) and while its undo
 * restores them (two more), with slow Zendesk answers so kills land inside requests too (a PUT the sandbox
 * applies after its sender died, a read-back in flight). Whatever was in flight, every user is changed
 * exactly once by the downgrade and once by the undo (the sandbox's change log), every snapshot is the
 * state before the first change (its groups included), and undo restores every field and each group
 * membership exactly, each added back once.
 */

const SEED = chaosSeed('reclaim-kills', 4242);
const rand = prng(SEED);
const USERS_TO_RECLAIM = 24;
const DAY = 86_400_000;
let system: System;
const workers: WorkerProcess[] = [];
const counts = { kills: 0, killPoints: [] as string[] };

before(async () => {
  system = await startSystem({ inProcessWorker: false, env: { RECLAIM_DAY: '5s' } });
  workers.push(...(await Promise.all([startWorkerProcess(system), startWorkerProcess(system)])));
});

after(async () => {
  reportCount('reclaim-kills', { seed: SEED, ...counts });
  for (const w of workers) await w.kill();
  await system?.stop();
});

/** The pids of the workers running one of the reclamation's activities right now. */
async function busyPids(workflowId: string): Promise<number[]> {
  const description = await system.temporal.workflow.getHandle(workflowId).describe();
  return (description.raw.pendingActivities ?? [])
    .filter((a) => Number(a.state) === 2)
    .map((a) => Number(/^(\d+)@/.exec(a.lastWorkerIdentity ?? '')?.[1]))
    .filter(Number.isFinite);
}

async function killOne(workflowId: string, label: string) {
  const busy = await busyPids(workflowId);
  const alive = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
  const candidates = alive.filter((w) => busy.includes(w.child.pid!));
  const pool = candidates.length > 0 ? candidates : alive;
  const victim = pool[Math.floor(rand() * pool.length)]!;
  await victim.kill('SIGKILL');
  counts.kills++;
  counts.killPoints.push(`${candidates.length > 0 ? 'busy' : 'idle'} ${label}`);
  console.log(`[chaos] reclaim-kills: killed worker ${victim.child.pid} (${candidates.length > 0 ? 'busy' : 'idle'}) ${label}`);
  workers.push(await startWorkerProcess(system));
}

const seat = (u: { role: string; role_type: number | null; custom_role_id: number | null; default_group_id: number | null }) => ({
  role: u.role,
  role_type: u.role_type,
  custom_role_id: u.custom_role_id,
  default_group_id: u.default_group_id,
});

test('SIGKILLs of the workers during a reclamation and its undo: each user changed exactly once each way, restored exactly', { timeout: 480_000 }, async () => {
  const ws = system.sandbox.createWorkspace({ subdomain: 'reclaimkill', users: 800, ticketEvents: 0, seed: 2024, consentMode: 'allow' });
  const tenant = await createTenant(system, 'Reclaim kill tenant');
  const agents = ws
    .users()
    .filter(
      (u) =>
        u.active &&
        u.role === 'agent' &&
        !u.suspended &&
        !u.shared &&
        !u.shared_agent &&
        (u.role_type === 0 || u.role_type === null) &&
        Date.now() - Date.parse(u.created_at) > 60 * DAY &&
        (u.last_login_at === null || Date.now() - Date.parse(u.last_login_at) > 120 * DAY) &&
        u.id !== ws.ownerId,
    )
    .slice(0, USERS_TO_RECLAIM);
  assert.equal(agents.length, USERS_TO_RECLAIM);
  for (const a of agents) ws.updateUser(a.id, { default_group_id: 7_000 + (a.id % 50) });
  const ids = agents.map((a) => a.id);
  const original = new Map(ids.map((id) => [id, seat(ws.user(id)!)]));
  const originalGroups = new Map(ids.map((id) => [id, ws.groupIdsOf(id)]));
  const { integrationId } = await connectAndSync(system, tenant.apiKey, 'reclaimkill', { access: 'reclaim' });

  const created = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations`, {
    key: tenant.apiKey,
    body: { action: 'end_user', userIds: ids, approvalExpiresInDays: 90, undoWindowDays: 90 },
  });
  assert.equal(created.status, 201, created.text);
  const rid: string = created.json.id;
  const workflowId: string = created.json.workflowId;
  const planned = created.json.users.filter((u: { state: string }) => u.state === 'planned').map((u: { userId: number }) => u.userId);
  assert.deepEqual([...planned].sort(), [...ids].sort(), 'every chosen agent is a candidate');
  // Slow answers (seeded): kills land inside requests as well as between them.
  ws.setFaults({ rateSlow: 0.5, slowMs: 400, seed: SEED });

  const stateCount = async (state: string) =>
    Number(
      (
        await system.db
          .selectFrom('reclamation_users')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('reclamation_id', '=', rid)
          .where('state', '=', state as never)
          .executeTakeFirstOrThrow()
      ).n,
    );

  const approved = await api(system, 'POST', `/v1/integrations/${integrationId}/reclamations/${rid}/approve`, { key: tenant.apiKey, body: {} });
  assert.equal(approved.status, 200, approved.text);
  for (const at of [2, 6, 11, 16, 20]) {
    await waitFor(`${at} users downgraded`, async () => (await stateCount('downgraded')) + (await stateCount('failed')) >= at, 120_000);
    await killOne(workflowId, `after ${await stateCount('downgraded')} downgraded`);
  }
  const done = await waitFor(
    'the reclamation completed',
    async () => {
      const r = await api(system, 'GET', `/v1/integrations/${integrationId}/reclamations/${rid}`, { key: tenant.apiKey });
      return r.json.status === 'completed' ? r.json : undefined;
    },
    240_000,
  );
  for (const id of ids) {
    assert.equal(done.users.find((u: { userId: number }) => u.userId === id).state, 'downgraded', `user ${id}`);
    const changes = ws.userChanges.forUser(id);
    assert.equal(changes.length, 1, `user ${id} downgraded exactly once (${changes.length} changes)`);
    assert.deepEqual(changes[0]!.before, original.get(id), `user ${id}: the change started from the original`);
    assert.equal(ws.user(id)!.role, 'end-user');
    assert.deepEqual(ws.groupIdsOf(id), [], `user ${id}: an end user is in no group`);
  }
  const snapshots = await system.db.selectFrom('reclamation_users').select(['user_id', 'snapshot']).where('reclamation_id', '=', rid).execute();
  for (const s of snapshots) {
    const id = Number(s.user_id);
    assert.deepEqual(s.snapshot, { ...original.get(id), group_ids: originalGroups.get(id) }, `user ${id}: snapshot of the state before`);
  }

  // The undo, killed twice while it restores.
  const undo = api(system, 'POST', `/v1/integrations/${integrationId}/reclamations/${rid}/undo`, { key: tenant.apiKey, body: {} });
  for (const at of [4, 14]) {
    await waitFor(`${at} users restored`, async () => (await stateCount('restored')) >= at, 120_000);
    await killOne(workflowId, `after ${await stateCount('restored')} restored`);
  }
  const undone = await undo;
  assert.equal(undone.status, 200, undone.text);
  assert.deepEqual([...undone.json.restored].sort(), [...ids].sort());
  for (const id of ids) {
    assert.deepEqual(seat(ws.user(id)!), original.get(id), `user ${id} restored exactly`);
    assert.equal(ws.userChanges.forUser(id).length, 2, `user ${id}: one downgrade and one restore`);
    assert.deepEqual(ws.groupIdsOf(id), originalGroups.get(id), `user ${id}: its groups restored exactly`);
    const added = ws.membershipChanges(id).filter((c) => c.kind === 'added');
    assert.equal(added.length, originalGroups.get(id)!.length, `user ${id}: each group added back once`);
  }
  assert.ok(counts.kills >= 7);
});
