import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, createTenant, startSystem, waitFor, type System } from '../helpers/system';

/** No consent in time: the flow ends `expired`, and the late link is refused. CONSENT_TIMEOUT is shortened. */
let system: System;

before(async () => {
  system = await startSystem({ env: { CONSENT_TIMEOUT: '2s' } });
});

after(() => system?.stop());

test('without consent the integration expires and the late callback is a 400 that changes nothing', async () => {
  const tenant = await createTenant(system);
  system.sandbox.createWorkspace({ subdomain: 'slowpoke', users: 10, ticketEvents: 10, seed: 9, consentMode: 'allow' });
  const created = (await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body: { workspace: 'slowpoke' } })).json;
  const expired = await waitFor('expiry', async () => {
    const integration = (await api(system, 'GET', `/v1/integrations/${created.id}`, { key: tenant.apiKey })).json;
    return integration.status === 'expired' ? integration : undefined;
  });
  assert.match(expired.error, /Reconnect/);

  // The admin finally clicks Allow: Zendesk redirects with a real code, but the state is stale.
  const consent = await fetch(created.authorizeUrl, { redirect: 'manual' });
  const location = consent.headers.get('location')!;
  const late = await fetch(location, { redirect: 'manual' });
  assert.equal(late.status, 400);
  const after = (await api(system, 'GET', `/v1/integrations/${created.id}`, { key: tenant.apiKey })).json;
  assert.equal(after.status, 'expired');
  const credentials = await system.db.selectFrom('oauth_credentials').selectAll().where('integration_id', '=', created.id).execute();
  assert.equal(credentials.length, 0);
});
