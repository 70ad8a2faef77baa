import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCredentials } from '../../src/db/repositories/credentials';
import { api, connectAndSync, createTenant, startSystem, waitFor, waitForSync, type System } from '../helpers/system';
import { acceptedConsentUpdateIds, consentRedirect, loadCallback, SELF_RELOADING } from '../helpers/consentUpdates';

/**
 * The OAuth callback gives up waiting before the workflow is done (issue 13 §4): Zendesk's token endpoint
 * is slowed past the callback's deadline (OAUTH_CALLBACK_WAIT, shortened here). The page says the connection
 * is still being completed and reloads itself; nothing the workflow needs is undone; a reload re-attaches to
 * the same update and shows the real outcome.
 */
let system: System;

before(async () => {
  system = await startSystem({ env: { OAUTH_CALLBACK_WAIT: '1s' } });
});

after(() => system?.stop());

test('an exchange slower than the callback deadline: a self-reloading page, then the real outcome', async () => {
  const tenant = await createTenant(system);
  const ws = system.sandbox.createWorkspace({ subdomain: 'slow-token', users: 20, ticketEvents: 20, seed: 41, consentMode: 'allow' });
  const created = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body: { workspace: 'slow-token' } });
  assert.equal(created.status, 201, created.text);
  const id: string = created.json.id;
  const callbackUrl = await consentRedirect(created.json.authorizeUrl);
  ws.injectFaults([{ kind: 'slow', path: '/oauth/tokens', slowMs: 4_000 }]);

  const first = await loadCallback(callbackUrl);
  assert.equal(first.status, 202, first.html);
  assert.match(first.html, SELF_RELOADING);
  assert.match(first.html, /still being completed/i);

  // The workflow is still exchanging the code: the callback must not have taken it back.
  const flow = await system.db.selectFrom('oauth_flows').selectAll().where('integration_id', '=', id).executeTakeFirstOrThrow();
  assert.ok(flow.used_at, 'the state was released for reuse');
  assert.ok(flow.code_enc, 'the authorization code was dropped while the workflow still needs it');
  assert.equal((await api(system, 'GET', `/v1/integrations/${id}`, { key: tenant.apiKey })).json.status, 'connecting');
  // A new attempt now would terminate the workflow while it spends the code.
  assert.equal((await api(system, 'POST', `/v1/integrations/${id}/reconnect`, { key: tenant.apiKey })).status, 409);

  // The browser reloads until the outcome is known; every reload attaches to the same update.
  const final = await waitFor('the real outcome', async () => {
    const page = await loadCallback(callbackUrl);
    if (page.status === 202) {
      assert.match(page.html, SELF_RELOADING);
      return undefined;
    }
    return page;
  });
  assert.equal(final.status, 200, final.html);
  assert.match(final.html, /Zendesk is connected/);
  assert.deepEqual(await acceptedConsentUpdateIds(system.temporal, id), [flow.id], 'one update, under the flow id');
  assert.equal(ws.pendingFaults(), 0, 'the slowed token request was sent');

  const integration = (await api(system, 'GET', `/v1/integrations/${id}`, { key: tenant.apiKey })).json;
  assert.equal(integration.status, 'connected');
  const run = await waitForSync(system, id);
  assert.equal(run.status, 'succeeded', run.error ?? '');

  // Later reloads keep showing the outcome and change nothing; the code is gone once exchanged.
  const again = await loadCallback(callbackUrl);
  assert.equal(again.status, 200);
  assert.match(again.html, /Zendesk is connected/);
  const after = await system.db.selectFrom('oauth_flows').selectAll().where('id', '=', flow.id).executeTakeFirstOrThrow();
  assert.equal(after.code_enc, null);
  assert.equal(after.pkce_verifier_enc, null);
  assert.deepEqual(await acceptedConsentUpdateIds(system.temporal, id), [flow.id]);
});

test('a reconnect of a connected integration whose exchange is slow: connected throughout, the reload shows it completed', async () => {
  const tenant = await createTenant(system, 'Slow reconnect tenant');
  const ws = system.sandbox.createWorkspace({
    subdomain: 'slow-again',
    users: 20,
    ticketEvents: 20,
    seed: 42,
    consentMode: 'allow',
    oauth: { revokeNeedsWrite: false },
  });
  const { integrationId: id } = await connectAndSync(system, tenant.apiKey, 'slow-again');
  const before = await loadCredentials(system.db, system.box, id);
  const reconnect = await api(system, 'POST', `/v1/integrations/${id}/reconnect`, { key: tenant.apiKey });
  assert.equal(reconnect.status, 200, reconnect.text);
  const callbackUrl = await consentRedirect(reconnect.json.authorizeUrl);
  ws.injectFaults([{ kind: 'slow', path: '/oauth/tokens', slowMs: 4_000 }]);

  const first = await loadCallback(callbackUrl);
  assert.equal(first.status, 202, first.html);
  assert.match(first.html, SELF_RELOADING);
  const during = (await api(system, 'GET', `/v1/integrations/${id}`, { key: tenant.apiKey })).json;
  assert.equal(during.status, 'connected');
  assert.equal(during.reconnect.status, 'pending');
  assert.equal((await loadCredentials(system.db, system.box, id))?.accessToken, before?.accessToken);
  // The integration shows no `connecting`, yet a second reconnect must not cut this one off.
  assert.equal((await api(system, 'POST', `/v1/integrations/${id}/reconnect`, { key: tenant.apiKey })).status, 409);

  const final = await waitFor('the real outcome', async () => {
    const page = await loadCallback(callbackUrl);
    return page.status === 202 ? undefined : page;
  });
  assert.equal(final.status, 200, final.html);
  assert.match(final.html, /connected with the new authorization/);
  const done = (await api(system, 'GET', `/v1/integrations/${id}`, { key: tenant.apiKey })).json;
  assert.equal(done.status, 'connected');
  assert.equal(done.reconnect.status, 'completed');
  assert.notEqual((await loadCredentials(system.db, system.box, id))?.accessToken, before?.accessToken);
  const flow = await system.db.selectFrom('oauth_flows').select('id').where('integration_id', '=', id).orderBy('created_at', 'desc').executeTakeFirstOrThrow();
  assert.deepEqual(await acceptedConsentUpdateIds(system.temporal, id), [flow.id]);
});
