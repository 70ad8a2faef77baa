import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ScheduleNotFoundError } from '@temporalio/client';
import type { SandboxWorkspace } from '../../src/sandbox';
import { disconnectWorkflowId, type DisconnectResult } from '../../src/workflows/disconnect';
import { differences } from '../helpers/expectations';
import { api, connectAndSync, createTenant, startSystem, waitForSync, type System } from '../helpers/system';
import { watchAccessTokens } from '../zendesk/tokenWatch';

/**
 * Issue 12 §3 and §4 over the whole system (HTTP API, PostgreSQL, Temporal, worker, sandbox):
 * - expiring JWT access tokens whose responses carry no `expires_in`, the sync's two streams side by side,
 *   rate-limit waits longer than a token lives: refreshed ahead from the JWT's `exp`, never a token sent
 *   expired, the integration stays connected, the data exact;
 * - the grant's refresh token shown (`refreshExpiresAt`), renewed ahead at the start of a sync, and a warning
 *   when it is about to lapse and cannot be renewed;
 * - a disconnect whose revocation Zendesk refuses (403 for a `read` token): it completes and says so.
 */

let system: System;
let tenant: { id: string; apiKey: string };

before(async () => {
  // One request per 3-second window on a stream's bucket: every wait outlives a 2-second token.
  system = await startSystem({ sandbox: { rateLimitWindowMs: 3_000 } });
  tenant = await createTenant(system, 'Token lifecycle tenant');
});
after(() => system?.stop());

const view = async (id: string) => (await api(system, 'GET', `/v1/integrations/${id}`, { key: tenant.apiKey })).json;
const DAY = 86_400_000;

async function syncNow(id: string) {
  const previous = (await system.db.selectFrom('sync_runs').select('id').where('integration_id', '=', id).execute()).map((r) => r.id);
  const res = await api(system, 'POST', `/v1/integrations/${id}/sync`, { key: tenant.apiKey });
  assert.equal(res.status, 202, res.text);
  return waitForSync(system, id, { notIds: previous, timeoutMs: 120_000 });
}

const logLines = () =>
  system.logs
    .flatMap((l) => l.split('\n'))
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** The access token the sandbox issued last (its pairs are recorded access first, then refresh). */
const latestAccessToken = (ws: SandboxWorkspace) => ws.issuedTokens().at(-2)!;

test(
  'JWT tokens without expires_in, two streams, waits longer than a token lives: ≥3 refreshes, no expired token sent, connected, exact',
  { timeout: 150_000 },
  async () => {
    const ws = system.sandbox.createWorkspace({
      subdomain: 'short-jwt',
      users: 2_500,
      ticketEvents: 5_000,
      seed: 121,
      consentMode: 'allow',
      accessTokenTtlSeconds: 2,
      usersCursorLimit: 1,
      incrementalLimit: 1,
      // Not even the expires_in the worker asks for: the JWT's exp is all there is.
      oauth: { expiresIn: 'never', accessTokenFormat: 'jwt' },
    });
    const watch = watchAccessTokens(ws);
    const { integrationId, run } = await connectAndSync(system, tenant.apiKey, 'short-jwt');
    assert.equal(run.status, 'succeeded', run.error ?? '');
    assert.deepEqual(await differences(system.db, integrationId, ws), []);
    const stats = ws.stats();
    assert.ok(stats.refreshes >= 3, `only ${stats.refreshes} refreshes`);
    assert.equal(watch.expired, 0, `requests with an expired token: ${JSON.stringify(watch)}`);
    const integration = await view(integrationId);
    assert.equal(integration.status, 'connected');
    assert.equal(integration.error, null);
    assert.equal(ws.grants().filter((g) => !g.revoked).length, 1);
  },
);

test('refreshExpiresAt is shown, renewed ahead at the start of a sync, and a warning comes days before it lapses', { timeout: 120_000 }, async () => {
  const ws = system.sandbox.createWorkspace({ subdomain: 'long-lived', users: 30, ticketEvents: 60, seed: 122, consentMode: 'allow' });
  const { integrationId } = await connectAndSync(system, tenant.apiKey, 'long-lived');
  // The worker asked for a 30-day refresh token (ZENDESK_REFRESH_TOKEN_EXPIRES_IN) and shows when it lapses.
  const shown = Date.parse((await view(integrationId)).refreshExpiresAt);
  assert.ok(Math.abs(shown - (Date.now() + 30 * DAY)) < 5 * 60_000, `refreshExpiresAt ${new Date(shown).toISOString()}`);

  // 28 days later (as far as the worker knows): the next sync renews the grant before it does anything else.
  const setExpiry = (at: Date) =>
    system.db
      .updateTable('oauth_credentials')
      .set({ refresh_expires_at: at, updated_at: new Date(at.getTime() - 30 * DAY) })
      .where('integration_id', '=', integrationId)
      .execute();
  await setExpiry(new Date(Date.now() + 2 * DAY));
  const refreshesBefore = ws.stats().refreshes;
  assert.equal((await syncNow(integrationId)).status, 'succeeded');
  assert.equal(ws.stats().refreshes, refreshesBefore + 1, 'renewed once, although the access token was fresh');
  const renewed = Date.parse((await view(integrationId)).refreshExpiresAt);
  assert.ok(renewed > Date.now() + 29 * DAY, `renewed to ${new Date(renewed).toISOString()}`);
  assert.ok(logLines().some((l) => l.integrationId === integrationId && l.msg === 'Zendesk grant renewed ahead of its expiry'));

  // A day before it lapses, and Zendesk's token endpoint fails: the sync still runs, and a warning says when.
  await setExpiry(new Date(Date.now() + DAY));
  ws.injectFaults([{ kind: '503', path: '/oauth/tokens', retryAfterSeconds: null }]);
  assert.equal((await syncNow(integrationId)).status, 'succeeded');
  const warning = logLines().find((l) => l.integrationId === integrationId && l.level === 40 && String(l.msg).startsWith('Zendesk grant expires at'));
  assert.ok(warning, 'no warning about the lapsing grant');
  assert.equal(warning.daysLeft, 0);
  assert.match(String(warning.msg), /re-authorization by a Zendesk admin/);
  assert.equal((await view(integrationId)).status, 'connected');
});

test(
  'revocation refused (a read token, 403): the disconnect completes locally and says the grant is still live and how to remove it',
  { timeout: 60_000 },
  async () => {
    const ws = system.sandbox.createWorkspace({ subdomain: 'keeps-grant', users: 20, ticketEvents: 40, seed: 123, consentMode: 'allow' });
    const { integrationId } = await connectAndSync(system, tenant.apiKey, 'keeps-grant');
    const res = await api(system, 'DELETE', `/v1/integrations/${integrationId}`, { key: tenant.apiKey });
    assert.equal(res.status, 200, res.text);

    // What the API answers: disconnected, not revoked, and what to do about it.
    assert.equal(res.json.status, 'disconnected');
    const revocation = res.json.revocation;
    assert.equal(revocation.outcome, 'refused');
    assert.equal(revocation.revokedAtZendesk, false);
    assert.equal(revocation.grantMayBeLive, true);
    assert.match(revocation.message, /Zendesk refused to revoke/);
    assert.match(revocation.message, /Admin Center > Apps and integrations > APIs > External OAuth clients/);
    assert.match(revocation.message, /Security Settings > Devices & Apps/);
    assert.equal(res.json.error, revocation.message, 'recorded on the integration too');
    assert.equal((await api(system, 'GET', `/v1/integrations/${integrationId}`, { key: tenant.apiKey })).status, 404);
    const row = await system.db.selectFrom('integrations').select(['status', 'error']).where('id', '=', integrationId).executeTakeFirstOrThrow();
    assert.deepEqual(row, { status: 'disconnected', error: revocation.message });

    // What really happened: Zendesk kept the grant (nothing claims otherwise) …
    assert.equal(ws.stats().revocations, 0);
    assert.equal(ws.grants()[0]!.revoked, false);
    const probe = await fetch(`${system.sandbox.url}/keeps-grant/api/v2/users/me.json`, { headers: { authorization: `Bearer ${latestAccessToken(ws)}` } });
    assert.equal(((await probe.json()) as { user: { id: number | null } }).user.id, ws.ownerId);
    // … and locally everything is gone: tokens, schedule.
    assert.equal((await system.db.selectFrom('oauth_credentials').select('integration_id').where('integration_id', '=', integrationId).execute()).length, 0);
    await assert.rejects(system.temporal.schedule.getHandle(`zendesk-sync-${integrationId}`).describe(), ScheduleNotFoundError);

    // The workflow's result and the worker's log say the same.
    const result = (await system.temporal.workflow.getHandle(disconnectWorkflowId(integrationId)).result()) as DisconnectResult;
    assert.equal(result.revocation?.outcome, 'refused');
    assert.equal(result.purged, false);
    const warned = logLines().find((l) => l.integrationId === integrationId && l.level === 40 && l.revocation === 'refused');
    assert.ok(warned, 'no warning line about the refused revocation');
    assert.match(String(warned.msg), /not revoked/);
  },
);
