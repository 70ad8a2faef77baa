import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { api, CLIENT_ID, CLIENT_SECRET, connectAndSync, createTenant, startSystem, waitForSync, type System } from '../helpers/system';

/**
 * `npm run dev`'s sandbox keeps its state in a file: after the sandbox restarts (same port, same file),
 * the connected integration keeps syncing, its expired access token refreshed with the refresh token
 * issued before the restart — it does not turn needs_reauth.
 */
const dir = mkdtempSync(path.join(tmpdir(), 'sandbox-restart-'));
const statePath = path.join(dir, 'zendesk-sandbox.json');
let system: System;
let restarted: Sandbox | undefined;

before(async () => {
  system = await startSystem({ sandbox: { statePath, accessTokenTtlSeconds: 2 } });
});
after(async () => {
  await system?.stop(); // closes the first sandbox (already closed: a no-op)
  await restarted?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a connected integration keeps syncing after the sandbox restarts from its state file', async () => {
  system.sandbox.createWorkspace({ subdomain: 'persisted', users: 120, ticketEvents: 400, seed: 5, consentMode: 'allow' });
  const tenant = await createTenant(system);
  const { integrationId } = await connectAndSync(system, tenant.apiKey, 'persisted');

  await system.sandbox.close();
  await new Promise((r) => setTimeout(r, 2_100)); // the access token has expired: the next sync must refresh
  restarted = await startSandbox({
    port: system.sandbox.port,
    exclusionSeconds: 0,
    rateLimitWindowMs: 1_000,
    accessTokenTtlSeconds: 2,
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [`${system.apiUrl}/v1/oauth/zendesk/callback`] }],
    statePath,
  });
  assert.ok(restarted.hasWorkspace('persisted'));

  const previous = (await system.db.selectFrom('sync_runs').select('id').where('integration_id', '=', integrationId).execute()).map((r) => r.id);
  assert.equal((await api(system, 'POST', `/v1/integrations/${integrationId}/sync`, { key: tenant.apiKey })).status, 202);
  const run = await waitForSync(system, integrationId, { notIds: previous });
  assert.equal(run.status, 'succeeded', run.error ?? '');
  const view = await api(system, 'GET', `/v1/integrations/${integrationId}`, { key: tenant.apiKey });
  assert.equal(view.json.status, 'connected', view.text);
  assert.ok(restarted.workspace('persisted').stats().refreshes >= 1, 'the token issued before the restart was refreshed');
});
