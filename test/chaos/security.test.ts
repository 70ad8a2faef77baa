import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { SandboxWorkspace } from '../../src/sandbox';
import { parseWorkspaceInput, workspaceBaseUrl } from '../../src/zendesk/workspace';
import { api, CLIENT_SECRET, connectAndSync, createTenant, followConsent, startSystem, waitFor, type System } from '../helpers/system';
import { chaosSeed, monitorOutbound, reportCount, RUNS, sandboxRequests, type OutboundMonitor } from './helpers';
import { databaseDump, decodedJson } from '../helpers/secretScan';

/**
 * Security properties over a whole life cycle (connect, syncs with token refreshes, reports, disconnect):
 * tenant isolation on every endpoint, no secret in logs, Temporal histories, schedules, metrics or the plain
 * database, the body size limit, and no outbound connection to any host but the configured Zendesk
 * template's (plus PostgreSQL).
 */

const SEED = chaosSeed('security', 7_331);
let system: System;
let monitor: OutboundMonitor;
let tenantA: { id: string; apiKey: string };
let tenantB: { id: string; apiKey: string };
let wsA: SandboxWorkspace;
let wsB: SandboxWorkspace;
let idA: string;
let idB: string;
const counts: Record<string, number> = {};

before(async () => {
  monitor = monitorOutbound();
  system = await startSystem({ sdkLogs: true });
  tenantA = await createTenant(system, 'Security tenant A');
  tenantB = await createTenant(system, 'Security tenant B');
  // One-second access tokens: the syncs refresh (and rotate) several times, so there are many secrets to look for.
  // Accounts that let a read-scoped token revoke itself, so the deletes below do revoke (and add secrets to hunt for).
  const revocable = { oauth: { revokeNeedsWrite: false } };
  wsA = system.sandbox.createWorkspace({
    subdomain: 'sec-a',
    users: 1_500,
    ticketEvents: 6_000,
    seed: 71,
    consentMode: 'allow',
    accessTokenTtlSeconds: 1,
    incrementalLimit: 3,
    usersCursorLimit: 1,
    ...revocable,
  });
  wsB = system.sandbox.createWorkspace({ subdomain: 'sec-b', users: 40, ticketEvents: 100, seed: 72, consentMode: 'allow', ...revocable });
  idA = (await connectAndSync(system, tenantA.apiKey, 'sec-a')).integrationId;
  idB = (await connectAndSync(system, tenantB.apiKey, 'sec-b')).integrationId;
});

after(async () => {
  monitor?.stop();
  reportCount('security', { seed: SEED, ...counts });
  await system?.stop();
});

describe('tenant isolation', () => {
  const ENDPOINTS = (id: string): Array<[string, string]> => [
    ['GET', `/v1/integrations/${id}`],
    ['GET', `/v1/integrations/${id}/users`],
    ['GET', `/v1/integrations/${id}/users?role=agent&sort=-lastActivityAt&limit=5`],
    ['GET', `/v1/integrations/${id}/users.csv`],
    ['GET', `/v1/integrations/${id}/utilization`],
    ['GET', `/v1/integrations/${id}/utilization?inactiveDays=7`],
    ['POST', `/v1/integrations/${id}/sync`],
    ['POST', `/v1/integrations/${id}/reconnect`],
    ['DELETE', `/v1/integrations/${id}`],
    ['DELETE', `/v1/integrations/${id}?purge=true`],
  ];
  const UNKNOWN = '00000000-0000-4000-8000-000000000000';

  test("another tenant's integration answers 404 on every endpoint, exactly like an unknown id, and nothing changes", async () => {
    const before = await stateOf(idA);
    const requests = sandboxRequests(system.sandbox);
    let probes = 0;
    for (const [[method, path], [, unknownPath]] of ENDPOINTS(idA).map((e, i) => [e, ENDPOINTS(UNKNOWN)[i]!] as const)) {
      for (const [key, target] of [
        [tenantB.apiKey, idA],
        [tenantA.apiKey, idB],
      ] as const) {
        const res = await api(system, method, path.replace(idA, target), { key });
        const unknown = await api(system, method, unknownPath, { key });
        probes += 2;
        assert.equal(res.status, 404, `${method} ${path} with the other tenant's key: ${res.status} ${res.text}`);
        assert.equal(unknown.status, 404);
        assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
        assert.equal(res.json.detail.replace(target, 'X'), unknown.json.detail.replace(UNKNOWN, 'X'), 'the answer differs from an unknown id');
        assert.deepEqual({ ...res.json, detail: '' }, { ...unknown.json, detail: '' });
      }
    }
    counts.isolationProbes = probes;
    assert.deepEqual(await stateOf(idA), before, "tenant A's integration changed");
    assert.equal(sandboxRequests(system.sandbox), requests, 'a foreign request reached Zendesk');
    for (const id of [idA, idB])
      assert.equal((await api(system, 'GET', `/v1/integrations/${id}`, { key: id === idA ? tenantA.apiKey : tenantB.apiKey })).json.status, 'connected');
  });

  test('each tenant lists and reads only its own integrations and users', async () => {
    const listA = (await api(system, 'GET', '/v1/integrations', { key: tenantA.apiKey })).json.integrations.map((i: { id: string }) => i.id);
    const listB = (await api(system, 'GET', '/v1/integrations', { key: tenantB.apiKey })).json.integrations.map((i: { id: string }) => i.id);
    assert.deepEqual(listA, [idA]);
    assert.deepEqual(listB, [idB]);
    const idsOf = (ws: SandboxWorkspace) =>
      new Set(
        ws
          .users()
          .filter((u) => u.active)
          .map((u) => u.id),
      );
    for (const [key, id, ws] of [
      [tenantA.apiKey, idA, wsA],
      [tenantB.apiKey, idB, wsB],
    ] as const) {
      const seen = new Set<number>();
      let cursor: string | null = null;
      do {
        const page = await api(system, 'GET', `/v1/integrations/${id}/users?limit=500${cursor ? `&cursor=${cursor}` : ''}`, { key });
        assert.equal(page.status, 200, page.text);
        for (const u of page.json.users) seen.add(u.id);
        cursor = page.json.nextCursor;
      } while (cursor);
      assert.deepEqual(seen, idsOf(ws));
      // A cursor issued for one tenant's listing does not open the other's.
      const first = await api(system, 'GET', `/v1/integrations/${id}/users?limit=1`, { key });
      const otherId = id === idA ? idB : idA;
      const otherKey = id === idA ? tenantB.apiKey : tenantA.apiKey;
      const stolen = await api(system, 'GET', `/v1/integrations/${otherId}/users?limit=1&cursor=${first.json.nextCursor}`, { key: otherKey });
      assert.equal(stolen.status, 400, stolen.text);
    }
  });

  test('tenant keys cannot create tenants and the admin key cannot read integrations', async () => {
    for (const key of [tenantA.apiKey, tenantB.apiKey]) assert.equal((await api(system, 'POST', '/v1/tenants', { key, body: { name: 'x' } })).status, 401);
    assert.equal((await api(system, 'GET', '/v1/integrations', { key: system.adminKey })).status, 401);
    assert.equal((await api(system, 'GET', `/v1/integrations/${idA}/users`, { key: system.adminKey })).status, 401);
  });
});

describe('body size limit', () => {
  test('a body over 64 KiB is 413 on every JSON endpoint, before authentication matters', async () => {
    for (const [path, key] of [
      ['/v1/integrations/zendesk', tenantA.apiKey],
      ['/v1/tenants', system.adminKey],
      ['/v1/integrations/zendesk', 'wrong'],
    ] as const) {
      const res = await api(system, 'POST', path, { key, body: JSON.stringify({ name: 'n'.repeat(64 * 1024), workspace: 'w' }) });
      // With a wrong key the answer may be 401 (auth first) or 413: both refuse without reading it all.
      if (key === 'wrong') assert.ok([401, 413].includes(res.status), String(res.status));
      else assert.equal(res.status, 413, res.text);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    }
  });
});

describe('secrets', () => {
  test('no token, code, client secret or API key in logs, histories, schedules, metrics or the plain database', { timeout: 120_000 }, async () => {
    assert.ok(wsA.stats().refreshes >= 2, `the sync refreshed ${wsA.stats().refreshes} times`);
    // A reconnect (a second consent, a second grant) and a delete (revocation) add more secrets to hunt for.
    const reconnect = await api(system, 'POST', `/v1/integrations/${idA}/reconnect`, { key: tenantA.apiKey });
    assert.equal(reconnect.status, 200, reconnect.text);
    assert.equal((await followConsent(reconnect.json.authorizeUrl)).status, 200);
    await waitFor(
      'the reconnect to complete',
      async () => (await api(system, 'GET', `/v1/integrations/${idA}`, { key: tenantA.apiKey })).json.reconnect?.status === 'completed',
    );
    const deleted = await api(system, 'DELETE', `/v1/integrations/${idA}`, { key: tenantA.apiKey });
    assert.equal(deleted.status, 200);
    assert.equal(deleted.json.revocation.outcome, 'revoked');
    await waitFor('the revocation', async () => wsA.stats().revocations >= 1);

    const secrets = new Map<string, string>();
    for (const ws of [wsA, wsB]) {
      for (const t of ws.issuedTokens()) secrets.set(t, `token of ${ws.subdomain}`);
      for (const c of ws.issuedAuthorizationCodes()) secrets.set(c, `authorization code of ${ws.subdomain}`);
    }
    secrets.set(CLIENT_SECRET, 'client secret');
    for (const { label, key } of system.config.encryptionKeys) secrets.set(key.toString('base64'), `encryption key ${label}`);
    for (const [name, key] of [
      ['tenant A', tenantA.apiKey],
      ['tenant B', tenantB.apiKey],
      ['admin', system.adminKey],
    ])
      secrets.set(key!, `API key of ${name}`);
    assert.ok(secrets.size >= 12, `only ${secrets.size} secrets to look for`);

    const haystacks: Record<string, string> = {
      logs: system.logs.join(''),
      histories: await histories(),
      schedules: await schedules(),
      database: await databaseDump(system.db),
      metrics: await (await fetch(`${system.internalUrl}/metrics`)).text(),
    };
    assert.ok(haystacks.histories!.length > 10_000 && haystacks.logs!.length > 10_000, 'too little history or logs to be a meaningful scan');
    const found: string[] = [];
    for (const [secret, what] of secrets) {
      for (const [where, text] of Object.entries(haystacks)) if (text.includes(secret)) found.push(`${what} in the ${where}`);
    }
    assert.deepEqual(found, []);
    counts.secretsSearched = secrets.size;
    counts.haystackBytes = Object.values(haystacks).reduce((n, t) => n + t.length, 0);
  });
});

describe('outbound requests', () => {
  test('every parsed workspace builds a URL on the template host only (generated strings)', () => {
    let tried = 0;
    let accepted = 0;
    const templates = ['https://{subdomain}.zendesk.com', system.sandbox.baseUrlTemplate];
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 80 }),
          fc
            .tuple(
              fc.constantFrom('', 'https://', 'http://', '//', 'https://user:pw@'),
              fc.stringMatching(/^[a-z0-9.@:%\-[\]]{0,30}$/),
              fc.constantFrom('', '.zendesk.com', '.zendesk.com.evil.io', '.zendesk.com@evil.io', '.evil.io#.zendesk.com', '.zendesk.com:1'),
              fc.constantFrom('', '/agent', '/../x', '?@evil.io'),
            )
            .map((p) => p.join('')),
        ),
        (input) => {
          tried++;
          const parsed = parseWorkspaceInput(input);
          if (!parsed.ok) return;
          accepted++;
          for (const template of templates) {
            const url: URL = new URL(workspaceBaseUrl(template, parsed.subdomain));
            const expected = new URL(template.replace('{subdomain}', 'x'));
            if (template.startsWith('https://{subdomain}')) assert.equal(url.host, `${parsed.subdomain}.zendesk.com`);
            else assert.equal(url.host, expected.host);
            assert.equal(url.protocol, expected.protocol);
            assert.ok(!url.username && !url.password && !url.search && !url.hash);
          }
        },
      ),
      { seed: SEED, numRuns: RUNS * 10 },
    );
    counts.workspaceUrlInputs = tried;
    counts.workspaceUrlAccepted = accepted;
  });

  test('during the whole life cycle, the process only talked to PostgreSQL, Temporal, the sandbox and its own API', { timeout: 60_000 }, async () => {
    // A delete with purge revokes the token at Zendesk: one more outbound call to check.
    const removed = await api(system, 'DELETE', `/v1/integrations/${idB}?purge=true`, { key: tenantB.apiKey });
    assert.equal(removed.status, 200, removed.text);
    await waitFor('the revocation', async () => wsB.stats().revocations >= 1);
    const allowedOrigins = new Set([system.sandbox.url, system.apiUrl, system.internalUrl]);
    const strangers = monitor.requests.filter((r) => !allowedOrigins.has(r.origin));
    assert.deepEqual(strangers, [], 'requests to other hosts');
    const pgPort = Number(new URL(process.env.DATABASE_URL!).port || 5432);
    // The Temporal client (gRPC over Node's net) is the only other peer: the run's Temporal server.
    const temporalPort = Number(system.config.temporal.address.split(':').pop());
    const allowedPorts = new Set([pgPort, system.sandbox.port, Number(new URL(system.apiUrl).port), Number(new URL(system.internalUrl).port), temporalPort]);
    const sockets = monitor.sockets.filter((s) => !allowedPorts.has(s.port) || !['127.0.0.1', '::ffff:127.0.0.1', '::1'].includes(s.host));
    assert.deepEqual(sockets, [], 'connections to other hosts or ports');
    const toZendesk = monitor.requests.filter((r) => r.origin === system.sandbox.url);
    assert.ok(toZendesk.length > 20, `only ${toZendesk.length} requests to the sandbox were seen: is the monitor working?`);
    // Every request to the sandbox stays under a workspace path.
    assert.ok(
      toZendesk.every((r) => /^\/(sec-a|sec-b)\//.test(r.path)),
      'a request outside the workspaces',
    );
    counts.outboundRequestsChecked = monitor.requests.length;
    counts.connectionsChecked = monitor.sockets.length;
  });
});

/** Every workflow history of both tenants, with payloads decoded to text (JSON.stringify alone would show bytes as numbers). */
async function histories(): Promise<string> {
  const out: string[] = [];
  for (const tenant of [tenantA, tenantB]) {
    for await (const execution of system.temporal.workflow.list({ query: `TenantId = "${tenant.id}"` })) {
      const history = await system.temporal.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      out.push(decodedJson(history));
    }
  }
  return out.join('\n');
}

async function schedules(): Promise<string> {
  const out: string[] = [];
  for await (const s of system.temporal.schedule.list()) {
    if (!s.scheduleId.includes(idA) && !s.scheduleId.includes(idB)) continue;
    out.push(
      decodedJson(
        await system.temporal.schedule
          .getHandle(s.scheduleId)
          .describe()
          .catch(() => ({})),
      ),
    );
  }
  return out.join('\n');
}

async function stateOf(id: string) {
  const integration = await system.db.selectFrom('integrations').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const credentials = await system.db.selectFrom('oauth_credentials').select(['version', 'access_token_enc']).where('integration_id', '=', id).execute();
  const flows = await system.db.selectFrom('oauth_flows').select(['id', 'used_at']).where('integration_id', '=', id).execute();
  const runs = await system.db.selectFrom('sync_runs').select(['id', 'status']).where('integration_id', '=', id).execute();
  const users = await system.db
    .selectFrom('zendesk_users')
    .select(system.db.fn.countAll<number>().as('n'))
    .where('integration_id', '=', id)
    .executeTakeFirstOrThrow();
  return { integration, credentials, flows, runs, users: Number(users.n) };
}
