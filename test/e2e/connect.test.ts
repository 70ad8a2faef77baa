import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { api, createTenant, followConsent, startSystem, type System } from '../helpers/system';
import { databaseDump, decodedJson } from '../helpers/secretScan';

/** The connect flow end to end over HTTP: real PostgreSQL, real Temporal, the Zendesk sandbox. */
let system: System;
let tenant: { id: string; apiKey: string };
let other: { id: string; apiKey: string };

before(async () => {
  system = await startSystem();
  tenant = await createTenant(system, 'Tenant A');
  other = await createTenant(system, 'Tenant B');
});

after(() => system?.stop());

async function createIntegration(key: string, workspace: string) {
  const res = await api(system, 'POST', '/v1/integrations/zendesk', { key, body: { workspace } });
  assert.equal(res.status, 201, res.text);
  return res.json as { id: string; workspace: string; status: string; authorizeUrl: string };
}

const getIntegration = async (key: string, id: string) => (await api(system, 'GET', `/v1/integrations/${id}`, { key })).json;

describe('connect flow', () => {
  test('consent by an admin connects the workspace and stores the tokens encrypted', async () => {
    system.sandbox.createWorkspace({ subdomain: 'acme', users: 50, ticketEvents: 100, seed: 1, consentMode: 'allow' });
    const created = await createIntegration(tenant.apiKey, 'https://acme.zendesk.com/agent/tickets/5');
    assert.equal(created.workspace, 'acme');
    assert.equal(created.status, 'awaiting_consent');
    const url = new URL(created.authorizeUrl);
    assert.equal(url.origin + url.pathname, `${system.sandbox.url}/acme/oauth/authorizations/new`);
    assert.equal(url.searchParams.get('response_type'), 'code');
    assert.equal(url.searchParams.get('scope'), 'read');
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(url.searchParams.get('redirect_uri'), system.config.redirectUri);
    assert.ok(url.searchParams.get('state'));

    const callback = await followConsent(created.authorizeUrl);
    assert.equal(callback.status, 200, callback.html);
    assert.match(callback.html, /connected/i);

    const integration = await getIntegration(tenant.apiKey, created.id);
    assert.equal(integration.status, 'connected');
    assert.equal(integration.error, null);
    assert.ok(integration.connectedAt);

    const stored = await system.db.selectFrom('oauth_credentials').selectAll().where('integration_id', '=', created.id).executeTakeFirstOrThrow();
    const issued = system.sandbox.workspace('acme').issuedTokens();
    assert.ok(issued.length >= 2);
    for (const token of issued) assert.ok(!JSON.stringify(stored).includes(token), 'a token is stored in plain text');

    // The state is single-use: a reload (or replay) of the callback starts nothing new. It shows the attempt's
    // recorded outcome (issue 13 §4: the admin's reload after a "still being completed" page shows the real
    // result), changes nothing and keeps no code.
    const replay = await fetch(callback.callbackUrl, { redirect: 'manual' });
    assert.equal(replay.status, 200);
    assert.match(await replay.text(), /Zendesk is connected/);
    const codes = await system.db.selectFrom('oauth_flows').select(['code_enc', 'pkce_verifier_enc']).where('integration_id', '=', created.id).execute();
    assert.ok(
      codes.every((f) => f.code_enc === null && f.pkce_verifier_enc === null),
      'an authorization code or verifier is still stored',
    );
    assert.equal((await getIntegration(tenant.apiKey, created.id)).status, 'connected');
  });

  test('the same workspace twice is a conflict naming the existing integration', async () => {
    const first = (await api(system, 'GET', '/v1/integrations', { key: tenant.apiKey })).json.integrations.find((i: any) => i.workspace === 'acme');
    const res = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body: { workspace: 'ACME.zendesk.com' } });
    assert.equal(res.status, 409);
    assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.ok(res.json.detail.includes(first.id));
  });

  test('denying consent gives consent_denied, and reconnect then connects', async () => {
    system.sandbox.createWorkspace({ subdomain: 'denied-co', users: 20, ticketEvents: 20, seed: 2, consentMode: 'deny' });
    const created = await createIntegration(tenant.apiKey, 'denied-co');
    const callback = await followConsent(created.authorizeUrl);
    assert.equal(callback.status, 400);
    assert.match(callback.html, /denied/i);
    const denied = await getIntegration(tenant.apiKey, created.id);
    assert.equal(denied.status, 'consent_denied');
    assert.match(denied.error, /denied/i);

    system.sandbox.workspace('denied-co').setConsentMode('allow');
    const reconnect = await api(system, 'POST', `/v1/integrations/${created.id}/reconnect`, { key: tenant.apiKey });
    assert.equal(reconnect.status, 200, reconnect.text);
    const again = await followConsent(reconnect.json.authorizeUrl);
    assert.equal(again.status, 200, again.html);
    assert.equal((await getIntegration(tenant.apiKey, created.id)).status, 'connected');
  });

  test('consent by a non-admin gives needs_reauth and keeps no token', async () => {
    const ws = system.sandbox.createWorkspace({ subdomain: 'agents-only', users: 30, ticketEvents: 10, seed: 3, consentMode: 'allow' });
    const agent = ws.users().find((u: any) => u.role === 'agent' && u.active && !u.suspended)!;
    ws.setConsentingUser(agent.id);
    const created = await createIntegration(tenant.apiKey, 'agents-only');
    const callback = await followConsent(created.authorizeUrl);
    assert.equal(callback.status, 400);
    const integration = await getIntegration(tenant.apiKey, created.id);
    assert.equal(integration.status, 'needs_reauth');
    assert.match(integration.error, /not an admin/);
    const stored = await system.db.selectFrom('oauth_credentials').selectAll().where('integration_id', '=', created.id).execute();
    assert.equal(stored.length, 0);
  });

  test('a forged state is rejected and changes nothing', async () => {
    system.sandbox.createWorkspace({ subdomain: 'forgery', users: 10, ticketEvents: 10, seed: 4, consentMode: 'manual' });
    const created = await createIntegration(tenant.apiKey, 'forgery');
    const state = new URL(created.authorizeUrl).searchParams.get('state')!;
    const [flowId, integrationId, exp] = state.split('.');
    const forgeries = [
      'not-a-state',
      `${flowId}.${integrationId}.${exp}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`,
      `${flowId}.${integrationId}.${Number(exp) + 3600}.${state.split('.')[3]}`,
      '',
    ];
    for (const forged of forgeries) {
      const res = await fetch(`${system.apiUrl}/v1/oauth/zendesk/callback?code=abc&state=${encodeURIComponent(forged)}`, { redirect: 'manual' });
      assert.equal(res.status, 400, `state ${forged}`);
    }
    const res = await fetch(`${system.apiUrl}/v1/oauth/zendesk/callback?code=abc`, { redirect: 'manual' });
    assert.equal(res.status, 400);
    assert.equal((await getIntegration(tenant.apiKey, created.id)).status, 'awaiting_consent');
    const flow = await system.db.selectFrom('oauth_flows').select(['used_at']).where('id', '=', flowId!).executeTakeFirstOrThrow();
    assert.equal(flow.used_at, null);
  });

  test("another tenant's integration answers 404, exactly like an unknown id", async () => {
    const mine = (await api(system, 'GET', '/v1/integrations', { key: tenant.apiKey })).json.integrations[0];
    const theirs = await api(system, 'GET', '/v1/integrations', { key: other.apiKey });
    assert.deepEqual(theirs.json.integrations, []);
    for (const [method, path] of [
      ['GET', `/v1/integrations/${mine.id}`],
      ['POST', `/v1/integrations/${mine.id}/reconnect`],
      ['POST', `/v1/integrations/${mine.id}/sync`],
      ['DELETE', `/v1/integrations/${mine.id}`],
    ] as const) {
      const res = await api(system, method, path, { key: other.apiKey });
      assert.equal(res.status, 404, `${method} ${path}`);
      const unknown = await api(system, method, path.replace(mine.id, '00000000-0000-4000-8000-000000000000'), { key: other.apiKey });
      assert.equal(unknown.status, 404);
      assert.equal(res.json.detail.replace(mine.id, 'X'), unknown.json.detail.replace('00000000-0000-4000-8000-000000000000', 'X'));
    }
    assert.equal((await getIntegration(tenant.apiKey, mine.id)).status, mine.status);
  });

  test('missing or wrong keys are 401', async () => {
    for (const key of [undefined, 'wrong-key', tenant.apiKey + 'x']) {
      const res = await api(system, 'GET', '/v1/integrations', { key });
      assert.equal(res.status, 401);
      assert.equal(res.json.status, 401);
    }
    assert.equal((await api(system, 'POST', '/v1/tenants', { key: tenant.apiKey, body: { name: 'x' } })).status, 401);
    assert.equal((await api(system, 'POST', '/v1/tenants', { body: { name: 'x' } })).status, 401);
    assert.equal((await api(system, 'GET', '/v1/integrations', { headers: { authorization: 'Basic abc' } })).status, 401);
  });

  test('bad workspace inputs are 400 with the reason, and nothing is created', async () => {
    const before = await system.db
      .selectFrom('integrations')
      .select(sql<number>`count(*)`.as('n'))
      .executeTakeFirstOrThrow();
    const requestsBefore = system.sandbox.url ? await countSandboxRequests(system) : 0;
    const bad: unknown[] = [
      '',
      '   ',
      'acme.example.com',
      'acme.zendesk.com.evil.io',
      '127.0.0.1',
      'http://10.0.0.1/',
      'acme.zendesk.com:8443',
      'user@acme.zendesk.com',
      'https://user:pw@acme.zendesk.com',
      'ünïcode',
      'xn--nicode-cua',
      'a'.repeat(64),
      'acme\u0000',
      'ac\nme',
      '-acme',
      'acme-',
      'ac_me',
      'ac.me',
      'ftp://acme.zendesk.com',
      'javascript:alert(1)',
      '?workspace=acme',
      'acme/../evil',
      42,
      null,
      ['acme'],
      { workspace: 'acme' },
    ];
    for (const workspace of bad) {
      const res = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body: { workspace } });
      assert.equal(res.status, 400, `workspace ${JSON.stringify(workspace)}: ${res.text}`);
      assert.equal(res.json.errors[0].name, 'workspace');
      assert.ok(res.json.errors[0].reason.length > 5);
    }
    for (const body of ['{', '[]', '{"workspace":"acme","extra":1}', '{}']) {
      const res = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body });
      assert.equal(res.status, 400, body);
    }
    const afterCount = await system.db
      .selectFrom('integrations')
      .select(sql<number>`count(*)`.as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(afterCount.n, before.n);
    assert.equal(await countSandboxRequests(system), requestsBefore);
  });

  test('DELETE revokes the token at Zendesk (where a read token may revoke itself) and deletes the stored tokens', async () => {
    const ws = system.sandbox.createWorkspace({
      subdomain: 'leaving',
      users: 10,
      ticketEvents: 10,
      seed: 5,
      consentMode: 'allow',
      oauth: { revokeNeedsWrite: false },
    });
    const created = await createIntegration(tenant.apiKey, 'leaving');
    assert.equal((await followConsent(created.authorizeUrl)).status, 200);
    const [accessToken] = ws.issuedTokens();
    const res = await api(system, 'DELETE', `/v1/integrations/${created.id}`, { key: tenant.apiKey });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.status, 'disconnected');
    assert.deepEqual(res.json.revocation, {
      outcome: 'revoked',
      revokedAtZendesk: true,
      grantMayBeLive: false,
      message: 'Access was revoked at Zendesk and the stored tokens were deleted.',
    });
    assert.equal(res.json.error, null);
    assert.equal(res.json.refreshExpiresAt, null);
    assert.equal((await api(system, 'GET', `/v1/integrations/${created.id}`, { key: tenant.apiKey })).status, 404);
    const stored = await system.db.selectFrom('oauth_credentials').selectAll().where('integration_id', '=', created.id).execute();
    assert.equal(stored.length, 0);
    const probe = await fetch(`${system.sandbox.url}/leaving/api/v2/incremental/users/cursor?start_time=0`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    assert.equal(probe.status, 401);
    // The workspace can be connected afresh afterwards.
    const again = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body: { workspace: 'leaving' } });
    assert.equal(again.status, 201);
  });

  test('no issued token appears in any workflow history, the database or the logs', async () => {
    const tokens = ['acme', 'denied-co', 'agents-only', 'leaving'].flatMap((s) => system.sandbox.workspace(s).issuedTokens());
    assert.ok(tokens.length >= 8);
    const histories: string[] = [];
    for await (const execution of system.temporal.workflow.list({ query: `TenantId = "${tenant.id}"` })) {
      const history = await system.temporal.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      histories.push(decodedJson(history));
    }
    assert.ok(histories.length >= 4, `found ${histories.length} workflow histories`);
    const haystacks = { histories: histories.join('\n'), database: await databaseDump(system.db), logs: system.logs.join('') };
    // The scan can see payloads: the workflows' own (non-secret) inputs are readable in it.
    assert.ok(haystacks.histories.includes('agents-only'), 'decoded histories show workflow inputs');
    for (const token of tokens) {
      for (const [where, text] of Object.entries(haystacks)) assert.ok(!text.includes(token), `a token was found in the ${where}`);
    }
  });
});

async function countSandboxRequests(system: System): Promise<number> {
  let total = 0;
  for (const sub of ['acme', 'denied-co', 'agents-only', 'forgery']) {
    try {
      total += system.sandbox.workspace(sub).stats().requests;
    } catch {
      /* not created yet */
    }
  }
  return total;
}
