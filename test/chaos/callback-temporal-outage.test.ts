import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../scripts/test';
import { startDevServer, type DevServer } from '../../src/temporal/devServer';
import { api, createTenant, startSystem, waitFor, waitForSync, type System } from '../helpers/system';
import { acceptedConsentUpdateIds, consentRedirect, loadCallback, SELF_RELOADING } from '../helpers/consentUpdates';
import { startWorkerProcess, type WorkerProcess } from '../helpers/workerProcess';

/**
 * The admin approves while Temporal is down (issue 13 §4). The callback cannot deliver the consent: it keeps
 * the state spent and the code stored, and answers a page that reloads itself. Once Temporal is back a reload
 * delivers the same update (the flow id) and shows the real outcome.
 */
let dir: string;
let server: DevServer | undefined;
let port: number;
let system: System;
let worker: WorkerProcess | undefined;

const startServer = () => startDevServer({ port, dbFilename: path.join(dir, 'temporal.db') });

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'zw-chaos-callback-'));
  port = await freePort();
  server = await startServer();
  system = await startSystem({ inProcessWorker: false, env: { TEMPORAL_ADDRESS: server.address, OAUTH_CALLBACK_WAIT: '2s' } });
  worker = await startWorkerProcess(system);
});

after(async () => {
  await worker?.kill();
  await system?.stop();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('consent while Temporal is down: a self-reloading page; once it is back a reload connects', { timeout: 180_000 }, async () => {
  const tenant = await createTenant(system, 'Callback outage tenant');
  system.sandbox.createWorkspace({ subdomain: 'outage-co', users: 20, ticketEvents: 20, seed: 51, consentMode: 'allow' });
  const created = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body: { workspace: 'outage-co' } });
  assert.equal(created.status, 201, created.text);
  const id: string = created.json.id;
  const callbackUrl = await consentRedirect(created.json.authorizeUrl);

  await server!.stop();
  server = undefined;
  const down = await loadCallback(callbackUrl);
  assert.equal(down.status, 503, down.html);
  assert.match(down.html, SELF_RELOADING);
  assert.match(down.html, /still being completed/i);
  const flow = await system.db.selectFrom('oauth_flows').selectAll().where('integration_id', '=', id).executeTakeFirstOrThrow();
  assert.ok(flow.used_at, 'the state is still spent: only a reload of this page may deliver it');
  assert.ok(flow.code_enc, 'the authorization code is kept for the workflow');
  assert.equal((await api(system, 'GET', `/v1/integrations/${id}`, { key: tenant.apiKey })).json.status, 'connecting');
  // A reload while Temporal is still down: the same page again.
  const stillDown = await loadCallback(callbackUrl);
  assert.equal(stillDown.status, 503);
  assert.match(stillDown.html, SELF_RELOADING);

  server = await startServer();
  const final = await waitFor(
    'the real outcome after Temporal is back',
    async () => {
      const page = await loadCallback(callbackUrl);
      if (page.status === 202 || page.status === 503) {
        assert.match(page.html, SELF_RELOADING);
        return undefined;
      }
      return page;
    },
    90_000,
  );
  assert.equal(final.status, 200, final.html);
  assert.match(final.html, /Zendesk is connected/);
  assert.deepEqual(await acceptedConsentUpdateIds(system.temporal, id), [flow.id]);
  assert.equal((await api(system, 'GET', `/v1/integrations/${id}`, { key: tenant.apiKey })).json.status, 'connected');
  const run = await waitForSync(system, id);
  assert.equal(run.status, 'succeeded', run.error ?? '');
});
