import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SandboxWorkspace } from '../../src/sandbox';
import { api, createTenant, followConsent, startSystem, waitFor, waitForSync, type System } from '../helpers/system';
import { differences } from '../helpers/expectations';
import { startWorkerProcess, type WorkerProcess } from '../helpers/workerProcess';
import { chaosSeed, earlyTotal, reportCount, sleep, syncedCounts } from './helpers';

/**
 * Tokens under stress, with two real worker processes sharing the work:
 * - one-second access tokens: both workers (the users and the ticket-events streams run side by side) need
 *   a refresh at the same moments; rotation means a refresh token works once, so any reuse is a bug;
 * - the grant revoked mid-sync, the consenting admin deleted, the refresh token expired: `needs_reauth`,
 *   a paused schedule, a bounded number of requests, and a reconnect that brings back exact data.
 */

const SEED = chaosSeed('tokens', 99);
let system: System;
let tenant: { id: string; apiKey: string };
const workers: WorkerProcess[] = [];
const counts: Record<string, number> = {};

before(async () => {
  system = await startSystem({ inProcessWorker: false });
  tenant = await createTenant(system, 'Token tenant');
  workers.push(...(await Promise.all([startWorkerProcess(system), startWorkerProcess(system)])));
});

after(async () => {
  reportCount('tokens', { seed: SEED, ...counts });
  for (const w of workers) await w.kill();
  await system?.stop();
});

interface RefreshWatch {
  presented: number;
  /** Refresh tokens presented after they had been rotated away: must stay 0. */
  spent: number;
  /** Presented after the grant was revoked (expected once the grant is gone). */
  revoked: number;
  expired: number;
}

/** Watches every refresh token the product presents to the sandbox's token endpoint. */
function watchRefreshes(ws: SandboxWorkspace): RefreshWatch {
  const watch: RefreshWatch = { presented: 0, spent: 0, revoked: 0, expired: 0 };
  const oauth = ws.oauth;
  const original = oauth.refreshToken.bind(oauth);
  oauth.refreshToken = (token: string) => {
    const record = original(token);
    watch.presented++;
    if (record) {
      const grant = oauth.grant(record.grantId);
      if (grant?.revoked) watch.revoked++;
      else if (record.dead) watch.spent++;
      else if (ws.now() >= record.expiresAt) watch.expired++;
    }
    return record;
  };
  return watch;
}

async function connect(subdomain: string): Promise<string> {
  const created = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body: { workspace: subdomain } });
  assert.equal(created.status, 201, created.text);
  const consent = await followConsent(created.json.authorizeUrl);
  assert.equal(consent.status, 200, consent.html);
  return created.json.id;
}

async function integration(id: string) {
  return (await api(system, 'GET', `/v1/integrations/${id}`, { key: tenant.apiKey })).json;
}

async function syncNow(id: string) {
  const previous = (await system.db.selectFrom('sync_runs').select('id').where('integration_id', '=', id).execute()).map((r) => r.id);
  const res = await api(system, 'POST', `/v1/integrations/${id}/sync`, { key: tenant.apiKey });
  assert.equal(res.status, 202, res.text);
  return waitForSync(system, id, { notIds: previous, timeoutMs: 120_000 });
}

/** Worker identities that ran activities of an integration's sync workflows. */
async function activityWorkers(id: string): Promise<Set<string>> {
  const identities = new Set<string>();
  for await (const execution of system.temporal.workflow.list({ query: `IntegrationId = "${id}" AND WorkflowType = "zendeskSync"` })) {
    const history = await system.temporal.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    for (const event of history.events ?? []) {
      const identity = event.activityTaskStartedEventAttributes?.identity;
      if (identity) identities.add(identity);
    }
  }
  return identities;
}

async function assertNeedsReauth(id: string, ws: SandboxWorkspace, requestsBefore: number) {
  const view = await waitFor(
    'needs_reauth',
    async () => {
      const v = await integration(id);
      return v.status === 'needs_reauth' ? v : undefined;
    },
    60_000,
  );
  assert.match(view.error, /[Rr]econnect/);
  assert.equal(view.nextSyncAt, null);
  const schedule = await system.temporal.schedule.getHandle(`zendesk-sync-${id}`).describe();
  assert.equal(schedule.state.paused, true);
  // Give a misbehaving worker the time to hammer Zendesk, then count.
  await sleep(2_000);
  const extra = ws.stats().requests - requestsBefore;
  assert.ok(extra <= 12, `${extra} requests after the grant was gone`);
  return view;
}

test('one-second tokens refreshed by two worker processes at once: no refresh token is spent twice, data exact', { timeout: 180_000 }, async () => {
  const ws = system.sandbox.createWorkspace({
    subdomain: 'racing',
    users: 3_000,
    ticketEvents: 20_000,
    seed: 91,
    consentMode: 'allow',
    accessTokenTtlSeconds: 1,
    usersCursorLimit: 2,
    incrementalLimit: 4,
  });
  const watch = watchRefreshes(ws);
  const id = await connect('racing');
  const run = await waitForSync(system, id, { timeoutMs: 150_000 });
  assert.equal(run.status, 'succeeded', run.error ?? '');
  assert.deepEqual(await differences(system.db, id, ws), []);
  assert.equal(watch.spent, 0, `a spent refresh token was presented (${JSON.stringify(watch)})`);
  assert.equal(watch.revoked + watch.expired, 0);
  const stats = ws.stats();
  assert.ok(stats.refreshes >= 3, `only ${stats.refreshes} refreshes`);
  assert.equal(stats.refreshes, watch.presented, 'every refresh grant presented was a live token');
  assert.equal(earlyTotal(stats), 0);
  // A second, incremental sync with the same short tokens.
  ws.addTicketEvents(200);
  ws.suspendUser(ws.users().find((u) => u.active && u.role === 'agent' && !u.suspended)!.id);
  const second = await syncNow(id);
  assert.equal(second.status, 'succeeded', second.error ?? '');
  assert.deepEqual(await differences(system.db, id, ws), []);
  assert.equal(watch.spent, 0);
  const identities = await activityWorkers(id);
  assert.ok(identities.size >= 2, `only ${[...identities].join(', ')} ran the sync's activities`);
  counts.refreshesRacing = ws.stats().refreshes;
  counts.workersSharingTheSync = identities.size;
});

test('the grant revoked mid-sync: needs_reauth, paused schedule, few requests; reconnect brings back exact data', { timeout: 180_000 }, async () => {
  const ws = system.sandbox.createWorkspace({
    subdomain: 'revoked-mid',
    users: 4_000,
    ticketEvents: 30_000,
    seed: 92,
    consentMode: 'allow',
    usersCursorLimit: 1,
    incrementalLimit: 3,
  });
  const watch = watchRefreshes(ws);
  const id = await connect('revoked-mid');
  await waitFor('the sync to be part-way', async () => (await syncedCounts(system.db, id)).events >= 3_000, 60_000);
  const partial = await syncedCounts(system.db, id);
  ws.revokeAllGrants();
  const requestsAtRevocation = ws.stats().requests;
  const run = await waitForSync(system, id, { timeoutMs: 60_000 });
  assert.equal(run.status, 'failed');
  assert.ok(partial.events < 30_000 || partial.users < 4_000, 'revoked before the end');
  await assertNeedsReauth(id, ws, requestsAtRevocation);
  assert.equal(watch.spent, 0);

  // The admin reconnects: the sync resumes and ends exact.
  const reconnect = await api(system, 'POST', `/v1/integrations/${id}/reconnect`, { key: tenant.apiKey });
  assert.equal(reconnect.status, 200, reconnect.text);
  assert.equal((await followConsent(reconnect.json.authorizeUrl)).status, 200);
  const resumed = await waitForSync(system, id, { notIds: [run.id], timeoutMs: 120_000 });
  assert.equal(resumed.status, 'succeeded', resumed.error ?? '');
  assert.deepEqual(await differences(system.db, id, ws), []);
  assert.equal((await integration(id)).status, 'connected');
  assert.equal(watch.spent, 0);
  counts.revocationsSurvived = (counts.revocationsSurvived ?? 0) + 1;
});

test('the consenting admin deleted mid-sync, or the refresh token expired: needs_reauth', { timeout: 120_000 }, async () => {
  // Admin deleted: every token of the grant answers 401 and the refresh is refused.
  const ws = system.sandbox.createWorkspace({
    subdomain: 'admin-gone',
    users: 3_000,
    ticketEvents: 20_000,
    seed: 93,
    consentMode: 'allow',
    usersCursorLimit: 1,
    incrementalLimit: 3,
  });
  const id = await connect('admin-gone');
  await waitFor('the sync to be part-way', async () => (await syncedCounts(system.db, id)).events >= 2_000, 60_000);
  ws.deleteUser(ws.ownerId);
  const before = ws.stats().requests;
  assert.equal((await waitForSync(system, id, { timeoutMs: 60_000 })).status, 'failed');
  await assertNeedsReauth(id, ws, before);

  // Refresh token expired while idle: the next sync cannot renew the access token.
  const idle = system.sandbox.createWorkspace({
    subdomain: 'idle-expiry',
    users: 50,
    ticketEvents: 100,
    seed: 94,
    consentMode: 'allow',
    accessTokenTtlSeconds: 1,
    refreshTokenTtlSeconds: 2,
  });
  const watch = watchRefreshes(idle);
  const idleId = await connect('idle-expiry');
  const first = await waitForSync(system, idleId);
  assert.equal(first.status, 'succeeded', first.error ?? '');
  await sleep(3_000);
  const idleBefore = idle.stats().requests;
  const second = await syncNow(idleId);
  assert.equal(second.status, 'failed');
  await assertNeedsReauth(idleId, idle, idleBefore);
  assert.equal(watch.spent, 0);
  assert.ok(watch.expired >= 1, `the expired refresh token was presented: ${JSON.stringify(watch)}`);
  counts.grantsLostDetected = 2 + (counts.revocationsSurvived ?? 0);
});

test("no token or authorization code in the worker processes' output", () => {
  const output = workers.map((w) => w.output()).join('\n');
  assert.ok(output.length > 1_000, 'the workers wrote next to nothing: is their output captured?');
  let secrets = 0;
  for (const ws of system.sandbox.workspaces()) {
    for (const secret of [...ws.issuedTokens(), ...ws.issuedAuthorizationCodes()]) {
      secrets++;
      assert.ok(!output.includes(secret), `a secret of ${ws.subdomain} is in a worker's output`);
    }
  }
  counts.secretsCheckedInWorkerOutput = secrets;
});
