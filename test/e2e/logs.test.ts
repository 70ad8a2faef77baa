import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, CLIENT_SECRET, createTenant, followConsent, startSystem, waitForSync, type System } from '../helpers/system';
import { openVerifier } from '../../src/db/repositories/oauthFlows';

/**
 * The logs of a whole connect-and-sync (API, worker, activities and the Temporal SDK, captured in
 * `system.logs`): every line JSON, every line about the integration carrying its tenant, integration and
 * (worker side) workflow, and no secret anywhere. Also the worker's metrics after the sync.
 */
let system: System;

before(async () => {
  system = await startSystem({ sdkLogs: true });
});
after(() => system?.stop());

type Line = Record<string, unknown> & { msg?: string; level: number };

function parseLines(): Line[] {
  const text = system.logs.join('');
  const raw = text.split('\n').filter((l) => l.trim() !== '');
  return raw.map((line, i) => {
    try {
      return JSON.parse(line) as Line;
    } catch {
      assert.fail(`log line ${i} is not JSON: ${line.slice(0, 300)}`);
    }
  });
}

test('a connect and sync logs structured lines with their ids, and no secret', async () => {
  const ws = system.sandbox.createWorkspace({
    subdomain: 'logged',
    users: 1_200,
    ticketEvents: 4_000,
    seed: 71,
    consentMode: 'allow',
    accessTokenTtlSeconds: 2,
  });
  const tenant = await createTenant(system);
  const created = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body: { workspace: 'logged' } });
  assert.equal(created.status, 201, created.text);
  const integrationId: string = created.json.id;
  const authorizeUrl = new URL(created.json.authorizeUrl);
  // The PKCE verifier is deleted once spent: read it while the consent is pending.
  const flows = await system.db.selectFrom('oauth_flows').selectAll().where('integration_id', '=', integrationId).execute();
  const verifiers = flows.filter((f) => f.pkce_verifier_enc).map((f) => openVerifier(system.box, { id: f.id, pkce_verifier_enc: f.pkce_verifier_enc! }));
  assert.equal(verifiers.length, 1);
  const consent = await followConsent(created.json.authorizeUrl);
  assert.equal(consent.status, 200, consent.html);
  const first = await waitForSync(system, integrationId);
  assert.equal(first.status, 'succeeded', first.error ?? '');
  // A second sync after the 2-second access token expired: a refresh happens, and is logged around.
  await new Promise((r) => setTimeout(r, 2_100));
  const previous = (await system.db.selectFrom('sync_runs').select('id').where('integration_id', '=', integrationId).execute()).map((r) => r.id);
  assert.equal((await api(system, 'POST', `/v1/integrations/${integrationId}/sync`, { key: tenant.apiKey })).status, 202);
  const second = await waitForSync(system, integrationId, { notIds: previous });
  assert.equal(second.status, 'succeeded', second.error ?? '');
  await api(system, 'GET', `/v1/integrations/${integrationId}/users?limit=5`, { key: tenant.apiKey });
  await new Promise((r) => setTimeout(r, 300)); // the SDK forwards its core's logs with a short buffer

  const lines = parseLines();
  assert.ok(lines.length > 20, `only ${lines.length} lines`);

  // Lines about the integration carry its ids.
  const about = lines.filter((l) => JSON.stringify(l).includes(integrationId));
  assert.ok(about.length >= 10, `only ${about.length} lines mention the integration`);
  for (const line of about) {
    const where = JSON.stringify(line).slice(0, 400);
    assert.equal(line.integrationId, integrationId, `integrationId on ${where}`);
    if (line.sdk !== true) assert.equal(line.tenantId, tenant.id, `tenantId on ${where}`);
    if (line.activityType !== undefined || line.sdk === true)
      assert.match(String(line.workflowId), new RegExp(`^zendesk-(connect|sync)-${integrationId}`), `workflowId on ${where}`);
  }
  // Activity lines (ours and the SDK's) name the workflow, and ours the tenant.
  const activityLines = about.filter((l) => l.activityType !== undefined && l.sdk !== true);
  assert.ok(
    activityLines.some((l) => l.activityType === 'exchangeCodeForStagedTokens' && l.msg === 'authorization code exchanged'),
    'the code exchange is logged',
  );
  assert.ok(
    activityLines.some((l) => l.activityType === 'promoteStagedCredentials' && l.msg === 'new Zendesk grant swapped in'),
    'the swap is logged',
  );
  assert.ok(
    lines.some((l) => l.sdk === true && l.workflowId !== undefined),
    'the SDK logs through pino with workflow ids',
  );
  // Every line the SDK writes for a connect or sync workflow of the integration (its own "Workflow started",
  // "Workflow completed"… and the workflows' log calls) carries the tenant and integration, from the first.
  const workflowIds = new RegExp(`^zendesk-(connect|sync)-${integrationId}`);
  const workflowLines = lines.filter(
    (l) => l.sdk === true && typeof l.workflowId === 'string' && workflowIds.test(l.workflowId) && l.activityType === undefined,
  );
  for (const kind of ['connect', 'sync']) {
    assert.ok(
      workflowLines.some((l) => l.msg === 'Workflow started' && String(l.workflowId).startsWith(`zendesk-${kind}-`)),
      `"Workflow started" of the ${kind} workflow is logged`,
    );
    assert.ok(
      workflowLines.some((l) => l.msg === 'Workflow completed' && String(l.workflowId).startsWith(`zendesk-${kind}-`)),
      `"Workflow completed" of the ${kind} workflow is logged`,
    );
  }
  for (const line of workflowLines) {
    const where = JSON.stringify(line).slice(0, 400);
    assert.equal(line.tenantId, tenant.id, `tenantId on ${where}`);
    assert.equal(line.integrationId, integrationId, `integrationId on ${where}`);
    assert.equal(line.workspace, 'logged', `workspace on ${where}`);
  }
  // The SDK's activity lines carry the tenant as well.
  const sdkActivityLines = about.filter((l) => l.sdk === true && l.activityType !== undefined);
  assert.ok(sdkActivityLines.length > 0, 'the SDK logs activities');
  for (const line of sdkActivityLines) assert.equal(line.tenantId, tenant.id, `tenantId on ${JSON.stringify(line).slice(0, 400)}`);

  // One request line per API request: method, route, status, duration, tenant when known; never a query string.
  const requests = lines.filter((l) => l.msg === 'http request');
  const create = requests.find((l) => l.method === 'POST' && l.route === '/v1/integrations/zendesk');
  assert.ok(create, 'POST /v1/integrations/zendesk is logged');
  assert.equal(create.status, 201);
  assert.equal(create.tenantId, tenant.id);
  assert.equal(typeof create.durationMs, 'number');
  const users = requests.find((l) => l.route === '/v1/integrations/:id/users');
  assert.equal(users?.integrationId, integrationId);
  const callback = requests.find((l) => l.route === '/v1/oauth/zendesk/callback');
  assert.ok(callback, 'the OAuth callback is logged');
  assert.equal(callback.path, '/v1/oauth/zendesk/callback');
  assert.equal(callback.status, 200);
  // Unauthenticated and without an id in its path, it still names the tenant and integration (from the state).
  assert.equal(callback.tenantId, tenant.id);
  assert.equal(callback.integrationId, integrationId);

  // No secret, anywhere: tokens (issued and refreshed), codes, the client secret, PKCE verifier, OAuth state, keys.
  const tokens = ws.issuedTokens();
  assert.ok(tokens.length >= 4, 'the second sync refreshed the token');
  const secrets: Array<[string, string]> = [
    ...tokens.map((t) => ['token', t] as [string, string]),
    ...ws.issuedAuthorizationCodes().map((c) => ['authorization code', c] as [string, string]),
    ...verifiers.map((v) => ['PKCE verifier', v] as [string, string]),
    ['client secret', CLIENT_SECRET],
    ['OAuth state', authorizeUrl.searchParams.get('state')!],
    ['tenant API key', tenant.apiKey],
    ['admin API key', system.adminKey],
    ['encryption key', system.env.ENCRYPTION_KEY!],
  ];
  const all = system.logs.join('');
  for (const [what, secret] of secrets) {
    assert.ok(secret && secret.length >= 8, `${what} is a real value`);
    assert.ok(!all.includes(secret), `a ${what} appears in the logs`);
  }

  // The worker's registry saw the sync.
  const succeeded = (await system.metrics.syncsSucceeded.get()).values.reduce((sum, v) => sum + v.value, 0);
  assert.ok(succeeded >= 2, `zendesk_syncs_succeeded_total = ${succeeded}`);
  const zendeskRequests = (await system.metrics.zendeskRequests.get()).values.reduce((sum, v) => sum + v.value, 0);
  assert.ok(zendeskRequests > 0, `zendesk_api_requests_total = ${zendeskRequests}`);
  const text = await system.metrics.registry.metrics();
  assert.match(text, /^zendesk_syncs_succeeded_total \d+/m);
  assert.match(text, /^zendesk_token_refreshes_total\{outcome="success"\} [1-9]/m);
});
