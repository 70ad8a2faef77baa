import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCredentials } from '../../src/db/repositories/credentials';
import type { SandboxWorkspace } from '../../src/sandbox';
import { syncScheduleId } from '../../src/temporal/syncSchedule';
import { api, connectAndSync, createTenant, followConsent, startSystem, waitFor, waitForSync, type System } from '../helpers/system';

/**
 * Reconnect over HTTP (issue 13 §2). A connected integration stays connected and keeps syncing while a
 * reconnect is pending; the new grant replaces the old one only once its user is verified as an admin,
 * and the old grant is then revoked at Zendesk. A denied or non-admin reconnect leaves the old grant and
 * the schedule exactly as they were and says why on the attempt. (Expiry: reconnect-expiry.test.ts.)
 */
let system: System;
let tenant: { id: string; apiKey: string };

before(async () => {
  system = await startSystem();
  tenant = await createTenant(system, 'Reconnect tenant');
});

after(() => system?.stop());

const view = async (id: string) => {
  const res = await api(system, 'GET', `/v1/integrations/${id}`, { key: tenant.apiKey });
  assert.equal(res.status, 200, res.text);
  return res.json;
};

const reconnect = async (id: string): Promise<string> => {
  const res = await api(system, 'POST', `/v1/integrations/${id}/reconnect`, { key: tenant.apiKey });
  assert.equal(res.status, 200, res.text);
  return res.json.authorizeUrl;
};

const stored = (id: string) => loadCredentials(system.db, system.box, id);
const schedulePaused = async (id: string) => (await system.temporal.schedule.getHandle(syncScheduleId(id)).describe()).state.paused;
const liveGrants = (ws: SandboxWorkspace) =>
  ws
    .grants()
    .filter((g) => !g.revoked)
    .map((g) => g.id);

/** A sync now (or the one already running, which POST /sync joins), once finished. */
async function syncNow(id: string) {
  const previous = (await system.db.selectFrom('sync_runs').select('id').where('integration_id', '=', id).where('status', '<>', 'running').execute()).map(
    (r) => r.id,
  );
  const res = await api(system, 'POST', `/v1/integrations/${id}/sync`, { key: tenant.apiKey });
  assert.equal(res.status, 202, res.text);
  return waitForSync(system, id, { notIds: previous });
}

/** The integration keeps what it had: same tokens, same grant alive, schedule running, a sync succeeds. */
async function assertUntouched(id: string, ws: SandboxWorkspace, before: { accessToken: string; version: number; grants: number[] }) {
  const now = await stored(id);
  assert.equal(now?.accessToken, before.accessToken, 'the working tokens were replaced');
  assert.deepEqual(liveGrants(ws), before.grants, 'the set of live grants changed');
  assert.equal(await schedulePaused(id), false, 'the schedule was paused');
  const run = await syncNow(id);
  assert.equal(run.status, 'succeeded', run.error ?? '');
  assert.equal((await view(id)).status, 'connected');
}

async function snapshot(id: string, ws: SandboxWorkspace) {
  const credentials = await stored(id);
  assert.ok(credentials);
  return { accessToken: credentials.accessToken, version: credentials.version, grants: liveGrants(ws) };
}

describe('reconnect of a connected integration', () => {
  test('approved by an admin: stays connected and syncing throughout, tokens swapped, old grant revoked', { timeout: 240_000 }, async () => {
    // Slow enough that a sync is still running when the new grant is swapped in and the old one revoked. A
    // `read` token may revoke itself here (real Zendesk may refuse: see the test below).
    const ws = system.sandbox.createWorkspace({
      subdomain: 'swap-co',
      users: 1_500,
      ticketEvents: 12_000,
      seed: 21,
      consentMode: 'allow',
      incrementalLimit: 3,
      oauth: { revokeNeedsWrite: false },
    });
    const { integrationId: id } = await connectAndSync(system, tenant.apiKey, 'swap-co');
    const [oldGrant] = liveGrants(ws);
    const old = await snapshot(id, ws);

    const authorizeUrl = await reconnect(id);
    const pending = await view(id);
    assert.equal(pending.status, 'connected', 'a pending reconnect must not take a working integration offline');
    assert.equal(pending.error, null);
    assert.equal(pending.reconnect?.status, 'pending');
    assert.ok(Date.parse(pending.reconnect.expiresAt) > Date.now());
    assert.equal(await schedulePaused(id), false, 'the schedule keeps running');

    // While the link waits, syncing goes on with the old grant.
    const whilePending = await syncNow(id);
    assert.equal(whilePending.status, 'succeeded', whilePending.error ?? '');
    assert.equal((await stored(id))?.accessToken, old.accessToken);

    // A sync in flight when the admin approves carries on across the swap and the revocation.
    const runsBefore = (await system.db.selectFrom('sync_runs').select('id').where('integration_id', '=', id).execute()).map((r) => r.id);
    ws.addTicketEvents(9_000);
    assert.equal((await api(system, 'POST', `/v1/integrations/${id}/sync`, { key: tenant.apiKey })).status, 202);
    await waitFor(
      'the sync to be running',
      async () => (await system.db.selectFrom('sync_runs').select('id').where('integration_id', '=', id).where('status', '=', 'running').execute()).length > 0,
    );
    const consent = await followConsent(authorizeUrl);
    assert.equal(consent.status, 200, consent.html);
    assert.match(consent.html, /connected/i);

    const done = await view(id);
    assert.equal(done.status, 'connected');
    assert.equal(done.reconnect?.status, 'completed');
    assert.equal(done.reconnect.error, null);
    const swapped = await stored(id);
    assert.ok(swapped && swapped.accessToken !== old.accessToken, 'the new tokens are in use');
    await waitFor('the old grant to be revoked', async () => ws.grants().find((g) => g.id === oldGrant)?.revoked === true);
    assert.equal(liveGrants(ws).length, 1, 'exactly the new grant is alive');
    const revoked = await waitFor('the revocation to be recorded', async () => (await view(id)).reconnect?.revocation);
    assert.equal(revoked.outcome, 'revoked');
    assert.equal(revoked.grantMayBeLive, false);
    assert.equal(await schedulePaused(id), false);

    // Every run since the reconnect succeeded: the one in flight, and any the completed reconnect started.
    await waitFor(
      'the runs to finish',
      async () =>
        (await system.db.selectFrom('sync_runs').select('id').where('integration_id', '=', id).where('status', '=', 'running').execute()).length === 0,
      120_000,
    );
    const runs = await system.db.selectFrom('sync_runs').selectAll().where('integration_id', '=', id).where('id', 'not in', runsBefore).execute();
    assert.ok(runs.length >= 1);
    for (const run of runs) assert.equal(run.status, 'succeeded', `a sync failed during the reconnect: ${run.error}`);
    const after = await syncNow(id);
    assert.equal(after.status, 'succeeded', after.error ?? '');
    // Nothing staged is left behind once the old grant is revoked.
    assert.equal((await system.db.selectFrom('oauth_staged_credentials').selectAll().where('integration_id', '=', id).execute()).length, 0);
  });

  test('denied: the old grant and the schedule stay as they were, and the attempt says why', async () => {
    const ws = system.sandbox.createWorkspace({ subdomain: 'deny-co', users: 30, ticketEvents: 50, seed: 22, consentMode: 'allow' });
    const { integrationId: id } = await connectAndSync(system, tenant.apiKey, 'deny-co');
    const old = await snapshot(id, ws);
    const authorizeUrl = await reconnect(id);
    ws.setConsentMode('deny');
    const consent = await followConsent(authorizeUrl);
    assert.equal(consent.status, 400);
    assert.match(consent.html, /denied/i);
    const after = await view(id);
    assert.equal(after.status, 'connected');
    assert.equal(after.error, null);
    assert.equal(after.reconnect?.status, 'denied');
    assert.match(after.reconnect.error, /denied/i);
    await assertUntouched(id, ws, old);
  });

  test('approved by a non-admin: the new grant is revoked, the old one stays, the attempt says why', async () => {
    const ws = system.sandbox.createWorkspace({
      subdomain: 'agent-co',
      users: 30,
      ticketEvents: 50,
      seed: 23,
      consentMode: 'allow',
      oauth: { revokeNeedsWrite: false },
    });
    const { integrationId: id } = await connectAndSync(system, tenant.apiKey, 'agent-co');
    const old = await snapshot(id, ws);
    const authorizeUrl = await reconnect(id);
    const agent = ws.users().find((u: any) => u.role === 'agent' && u.active && !u.suspended)!;
    ws.setConsentingUser(agent.id);
    const consent = await followConsent(authorizeUrl);
    assert.equal(consent.status, 400);
    assert.match(consent.html, /not an admin/i);
    const after = await view(id);
    assert.equal(after.status, 'connected');
    assert.equal(after.error, null);
    assert.equal(after.reconnect?.status, 'not_admin');
    assert.match(after.reconnect.error, /not an admin/);
    const agentGrants = ws.grants().filter((g) => g.userId === agent.id);
    assert.equal(agentGrants.length, 1);
    assert.equal(agentGrants[0]!.revoked, true, "the non-admin's grant is still alive at Zendesk");
    assert.equal(after.reconnect.revocation?.outcome, 'revoked');
    await assertUntouched(id, ws, old);
  });

  test('approved where Zendesk refuses to revoke a read grant: swapped anyway, and the old grant is reported live', async () => {
    // The sandbox's default, as Zendesk documents it: revoking is a DELETE, which needs the `write` scope.
    const ws = system.sandbox.createWorkspace({ subdomain: 'refuse-co', users: 20, ticketEvents: 20, seed: 26, consentMode: 'allow' });
    const { integrationId: id } = await connectAndSync(system, tenant.apiKey, 'refuse-co');
    const [oldGrant] = liveGrants(ws);
    const old = await snapshot(id, ws);
    assert.equal((await followConsent(await reconnect(id))).status, 200);
    const done = await waitFor('the revocation to be recorded', async () => {
      const v = await view(id);
      return v.reconnect?.revocation ? v : undefined;
    });
    assert.equal(done.status, 'connected');
    assert.equal(done.reconnect.status, 'completed');
    assert.equal(done.reconnect.revocation.outcome, 'refused');
    assert.equal(done.reconnect.revocation.grantMayBeLive, true);
    assert.match(done.reconnect.revocation.message, /Admin Center/);
    assert.notEqual((await stored(id))?.accessToken, old.accessToken);
    assert.ok(liveGrants(ws).includes(oldGrant!), 'the sandbox refused, so the old grant lives on (the worker forgot it)');
    assert.equal((await system.db.selectFrom('oauth_staged_credentials').selectAll().where('integration_id', '=', id).execute()).length, 0);
    const run = await syncNow(id);
    assert.equal(run.status, 'succeeded', run.error ?? '');
  });

  test('a second reconnect replaces a pending one; the view shows the newest attempt', async () => {
    const ws = system.sandbox.createWorkspace({ subdomain: 'twice-co', users: 20, ticketEvents: 20, seed: 24, consentMode: 'allow' });
    const { integrationId: id } = await connectAndSync(system, tenant.apiKey, 'twice-co');
    const old = await snapshot(id, ws);
    const first = await reconnect(id);
    const second = await reconnect(id);
    // The first link is dead: its callback is refused and changes nothing.
    const stale = await followConsent(first);
    assert.equal(stale.status, 400);
    assert.equal((await view(id)).reconnect?.status, 'pending');
    assert.equal((await stored(id))?.accessToken, old.accessToken);
    assert.equal((await followConsent(second)).status, 200);
    assert.equal((await view(id)).reconnect?.status, 'completed');
  });
});

describe('reconnect of an integration that is not connected', () => {
  test('needs_reauth: as before, awaiting consent, then connected with the schedule resumed', async () => {
    const ws = system.sandbox.createWorkspace({ subdomain: 'lost-co', users: 30, ticketEvents: 50, seed: 25, consentMode: 'allow' });
    const { integrationId: id } = await connectAndSync(system, tenant.apiKey, 'lost-co');
    ws.revokeAllGrants();
    const failed = await syncNow(id);
    assert.equal(failed.status, 'failed');
    await waitFor('needs_reauth', async () => (await view(id)).status === 'needs_reauth');
    assert.equal(await schedulePaused(id), true);

    const authorizeUrl = await reconnect(id);
    const awaiting = await view(id);
    assert.equal(awaiting.status, 'awaiting_consent');
    assert.equal(awaiting.reconnect ?? null, null, 'an integration that is not connected shows its consent in `status`');
    const consent = await followConsent(authorizeUrl);
    assert.equal(consent.status, 200, consent.html);
    const connected = await view(id);
    assert.equal(connected.status, 'connected');
    assert.equal(connected.error, null);
    assert.equal(await schedulePaused(id), false);
    const run = await waitForSync(system, id, { notIds: [failed.id] });
    assert.equal(run.status, 'succeeded', run.error ?? '');
  });
});
