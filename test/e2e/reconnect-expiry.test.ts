import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCredentials } from '../../src/db/repositories/credentials';
import { syncScheduleId } from '../../src/temporal/syncSchedule';
import { api, connectAndSync, createTenant, startSystem, waitFor, waitForSync, type System } from '../helpers/system';

/**
 * A reconnect of a connected integration that nobody answers (issue 13 §2): the attempt ends `expired` and
 * the integration stays connected with its grant and schedule as they were. CONSENT_TIMEOUT is shortened.
 */
let system: System;

before(async () => {
  system = await startSystem({ env: { CONSENT_TIMEOUT: '3s' } });
});

after(() => system?.stop());

test('an unanswered reconnect expires and leaves the connected integration as it was', async () => {
  const tenant = await createTenant(system);
  const ws = system.sandbox.createWorkspace({ subdomain: 'idle-co', users: 20, ticketEvents: 30, seed: 31, consentMode: 'allow' });
  const { integrationId: id, run: first } = await connectAndSync(system, tenant.apiKey, 'idle-co');
  const before = await loadCredentials(system.db, system.box, id);
  const grantsBefore = ws
    .grants()
    .filter((g) => !g.revoked)
    .map((g) => g.id);

  const res = await api(system, 'POST', `/v1/integrations/${id}/reconnect`, { key: tenant.apiKey });
  assert.equal(res.status, 200, res.text);
  const expired = await waitFor('the reconnect to expire', async () => {
    const integration = (await api(system, 'GET', `/v1/integrations/${id}`, { key: tenant.apiKey })).json;
    return integration.reconnect?.status === 'expired' ? integration : undefined;
  });
  assert.equal(expired.status, 'connected');
  assert.equal(expired.error, null);
  assert.match(expired.reconnect.error, /Reconnect/);

  // The late click is refused and changes nothing.
  const consent = await fetch(res.json.authorizeUrl, { redirect: 'manual' });
  assert.equal((await fetch(consent.headers.get('location')!, { redirect: 'manual' })).status, 400);

  const after = await loadCredentials(system.db, system.box, id);
  assert.equal(after?.accessToken, before?.accessToken);
  assert.equal(after?.version, before?.version);
  assert.deepEqual(
    ws
      .grants()
      .filter((g) => !g.revoked)
      .map((g) => g.id),
    grantsBefore,
  );
  assert.equal((await system.temporal.schedule.getHandle(syncScheduleId(id)).describe()).state.paused, false);
  const sync = await api(system, 'POST', `/v1/integrations/${id}/sync`, { key: tenant.apiKey });
  assert.equal(sync.status, 202, sync.text);
  const run = await waitForSync(system, id, { notIds: [first.id] });
  assert.equal(run.status, 'succeeded', run.error ?? '');
});
