import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { createApp } from '../../src/api/app';
import { LOCK_SPACE, slotKey } from '../../src/api/limits/csvSlots';
import type { TenantLimits } from '../../src/api/limits/tenantLimits';
import { loadConfig } from '../../src/config';
import { apiKeyHint, generateApiKey, hashApiKey } from '../../src/crypto/apiKeys';
import { insertApiKey } from '../../src/db/repositories/apiKeys';
import { createLogger } from '../../src/logger';
import { api, connectAndSync, createTenant, startSystem, waitFor, type System } from '../helpers/system';

/**
 * Per-tenant budgets (src/api/limits) with tiny values: the tenant over its budget gets a 429 problem with
 * Retry-After and the RateLimit headers, another tenant is untouched, a new key of the same tenant does not
 * get a new budget, cache hits spend no report budget, CSV exports are limited in number and in concurrency
 * (across processes), integration creation has its own budget, and two API processes share one budget.
 * (Before: no limit at all — every request below was a 200.)
 */

const UNKNOWN = '00000000-0000-4000-8000-000000000000';
let system: System;
let tenant: { id: string; apiKey: string };
let integrationId: string;

before(async () => {
  system = await startSystem({
    env: {
      API_RATE_LIMIT_REQUESTS: '30/1m',
      API_RATE_LIMIT_REPORTS: '3/1h',
      API_RATE_LIMIT_CSV: '3/1h',
      API_CSV_CONCURRENCY: '1',
      API_RATE_LIMIT_INTEGRATIONS: '2/1h',
      API_RATE_LIMIT_SYNC: '200ms',
      API_RATE_LIMIT_TARPIT: '300ms',
    },
  });
  tenant = await createTenant(system, 'Limited tenant');
  system.sandbox.createWorkspace({ subdomain: 'limited-acme', users: 30, ticketEvents: 30, seed: 5, consentMode: 'allow' });
  ({ integrationId } = await connectAndSync(system, tenant.apiKey, 'limited-acme'));
});

after(() => system?.stop());

function assertTooMany(res: Awaited<ReturnType<typeof api>>, budget: string) {
  assert.equal(res.status, 429, res.text);
  assert.match(res.headers.get('content-type')!, /^application\/problem\+json/);
  assert.equal(res.json.status, 429);
  assert.equal(res.json.budget, budget);
  assert.match(res.json.type, /rate-limited$/);
  const retryAfter = Number(res.headers.get('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After ${res.headers.get('retry-after')}`);
  assert.equal(res.json.retryAfterSeconds, retryAfter);
  return retryAfter;
}

describe('per-tenant budgets', () => {
  test('reports: a computation spends the budget, a cache hit does not; then 429 with Retry-After and RateLimit headers', async () => {
    const path = (q: string) => `/v1/integrations/${integrationId}/users?q=${q}`;
    const first = await api(system, 'GET', path('a'), { key: tenant.apiKey });
    assert.equal(first.status, 200);
    assert.match(first.headers.get('ratelimit-policy')!, /"requests";q=30;w=60/);
    assert.match(first.headers.get('ratelimit-policy')!, /"reports";q=3;w=3600/);
    assert.match(first.headers.get('ratelimit')!, /"reports";r=\d+;t=\d+/);
    await waitFor('the report cache', async () =>
      /^api_cache_enabled(\{[^}]*\})? 1$/m.test(await fetch(`${system.internalUrl}/metrics`).then((r) => r.text())),
    );
    // Three units an hour; a computation costs one, plus one per further 100 ms it took (more on a busy
    // machine): so at most two more computations are answered, and the next one is refused.
    const computed = ['a'];
    let refused: Awaited<ReturnType<typeof api>> | undefined;
    for (const q of ['b', 'c', 'd']) {
      const res = await api(system, 'GET', path(q), { key: tenant.apiKey });
      if (res.status === 429) {
        refused = res;
        break;
      }
      assert.equal(res.status, 200, res.text);
      computed.push(q);
    }
    assert.ok(refused && computed.length <= 3, `refused after at most 3 units of computations (${computed.length} answered)`);
    const retryAfter = assertTooMany(refused, 'reports');
    assert.ok(retryAfter > 60 && retryAfter <= 3600, `a unit per 20 minutes: ${retryAfter}`);
    assert.match(refused.headers.get('ratelimit')!, /"reports";r=0;t=\d+/);
    // Cached reports are still served: the budget counts what PostgreSQL computes.
    const again = await api(system, 'GET', path(computed.at(-1)!), { key: tenant.apiKey });
    assert.equal(again.status, 200, 'a hit of a report computed before');
  });

  test('the requests budget is per tenant, not per key, and not shared with other tenants', async () => {
    const other = await createTenant(system, 'Quiet tenant');
    const statuses: number[] = [];
    for (let i = 0; i < 40 && !statuses.includes(429); i++)
      statuses.push((await api(system, 'GET', `/v1/integrations/${UNKNOWN}`, { key: tenant.apiKey })).status);
    assert.ok(statuses.includes(429), `no 429 in ${statuses.length} requests`);
    // Asking again at once: the next 429 comes after the tarpit's pause (API_RATE_LIMIT_TARPIT).
    // (A token refills every 2 s: on a busy machine one may have by now, answered at once; the next is refused.)
    let held = 0;
    let refusedAgain: Awaited<ReturnType<typeof api>> | undefined;
    for (let i = 0; i < 3 && refusedAgain?.status !== 429; i++) {
      const t0 = performance.now();
      refusedAgain = await api(system, 'GET', `/v1/integrations/${UNKNOWN}`, { key: tenant.apiKey });
      held = performance.now() - t0;
    }
    assertTooMany(refusedAgain!, 'requests');
    assert.ok(held >= 250, `held ${Math.round(held)} ms`);
    assert.equal((await api(system, 'GET', `/v1/integrations/${UNKNOWN}`, { key: other.apiKey })).status, 404, 'another tenant is not limited');
    // A new key for the same tenant (as a rotation gives it) finds the budget spent.
    const newKey = generateApiKey();
    await insertApiKey(system.db, { tenantId: tenant.id, keyHash: hashApiKey(newKey), hint: apiKeyHint(newKey), createdBy: 'admin' });
    await waitFor('the new key', async () => (await api(system, 'GET', `/v1/integrations/${UNKNOWN}`, { key: newKey })).status !== 401);
    // A key of its own would have the whole budget (30); the tenant's has at most the token or two refilled
    // meanwhile (one per 2 s, more on a busy machine): a 429 within three requests.
    const withNewKey: number[] = [];
    for (let i = 0; i < 3 && !withNewKey.includes(429); i++) withNewKey.push((await api(system, 'GET', `/v1/integrations/${UNKNOWN}`, { key: newKey })).status);
    assert.ok(withNewKey.includes(429), `the new key was not limited: ${withNewKey.join(', ')}`);
    tenant.apiKey = newKey;
    // The tenant's own routes spend the same budget (every authenticated request does).
    // (Within three: a token may have refilled meanwhile.)
    let own: Awaited<ReturnType<typeof api>> | undefined;
    for (let i = 0; i < 3 && own?.status !== 429; i++) own = await api(system, 'GET', '/v1/tenant', { key: newKey });
    assertTooMany(own!, 'requests');
    assert.equal((await api(system, 'GET', '/v1/tenant', { key: other.apiKey })).status, 200, 'another tenant is not limited');
  });
});

describe('CSV exports and integration creation', () => {
  let fresh: { id: string; apiKey: string };
  before(async () => {
    // A tenant whose requests budget is untouched, owning the same workspace's data through its own integration row.
    fresh = await createTenant(system, 'Exporting tenant');
    const row = await system.db
      .insertInto('integrations')
      .values({ tenant_id: fresh.id, workspace: 'export-acme', status: 'connected', error: null, zendesk_user_id: null, connected_at: new Date() })
      .returning('id')
      .executeTakeFirstOrThrow();
    integrationId = row.id;
  });

  test('a second export while one runs (in any API process) is 429; the number of exports is budgeted', async () => {
    const csv = () => api(system, 'GET', `/v1/integrations/${integrationId}/users.csv`, { key: fresh.apiKey });
    // Another API process running this tenant's one export: it holds the slot's advisory lock.
    const holder = await system.db.connection().execute(async (conn) => {
      await sql`BEGIN`.execute(conn);
      const { rows } = await sql<{ ok: boolean }>`SELECT pg_try_advisory_xact_lock(${LOCK_SPACE}::int4, ${slotKey(fresh.id, 0)}::int4) AS ok`.execute(conn);
      assert.equal(rows[0]!.ok, true);
      const busy = await csv();
      await sql`ROLLBACK`.execute(conn);
      return busy;
    });
    assertTooMany(holder, 'csv-concurrency');
    // Refused for lack of a slot: no export budget spent.
    for (let i = 0; i < 3; i++) assert.equal((await csv()).status, 200, `export ${i + 1} of 3`);
    const refused = await csv();
    assertTooMany(refused, 'csv');
    assert.match(refused.headers.get('ratelimit-policy')!, /"csv";q=3;w=3600/);
  });

  test('integration creation has its own budget', async () => {
    for (const ws of ['created-1', 'created-2']) {
      system.sandbox.createWorkspace({ subdomain: ws, users: 1, ticketEvents: 1, seed: 1, consentMode: 'manual' });
      assert.equal((await api(system, 'POST', '/v1/integrations/zendesk', { key: fresh.apiKey, body: { workspace: ws } })).status, 201);
    }
    assertTooMany(await api(system, 'POST', '/v1/integrations/zendesk', { key: fresh.apiKey, body: { workspace: 'created-3' } }), 'integrations');
  });
});

describe('two API processes', () => {
  let second: Server;
  let secondUrl: string;
  let limits: TenantLimits[];

  before(async () => {
    const config = loadConfig({ ...system.env, API_RATE_LIMIT_REQUESTS: '20/1h', API_RATE_LIMIT_SYNC: '200ms' }, 'api');
    const quiet = createLogger('warn', new Writable({ write: (_c, _e, cb) => cb() }));
    const appA = createApp({ db: system.db, box: system.box, config, temporal: system.temporal, logger: quiet });
    const appB = createApp({ db: system.db, box: system.box, config, temporal: system.temporal, logger: quiet });
    limits = [appA.locals.limits, appB.locals.limits];
    const listen = (app: ReturnType<typeof createApp>) =>
      new Promise<Server>((resolve) => {
        const server = createServer(app);
        server.listen(0, '127.0.0.1', () => resolve(server));
      });
    const [a, b] = await Promise.all([listen(appA), listen(appB)]);
    second = b;
    secondUrl = `http://127.0.0.1:${(b.address() as AddressInfo).port}`;
    (second as Server & { other?: Server }).other = a;
    (globalThis as { firstUrl?: string }).firstUrl = `http://127.0.0.1:${(a.address() as AddressInfo).port}`;
  });

  after(async () => {
    for (const l of limits) await l.close();
    for (const s of [second, (second as Server & { other?: Server }).other!]) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  });

  test('share one budget: together they allow what one bucket would', async () => {
    const shared = await createTenant(system, 'Tenant behind two API processes');
    const urls = [(globalThis as { firstUrl?: string }).firstUrl!, secondUrl];
    // The tenant is new to both: each starts with the whole quota locally (no query before a first request),
    // and their reconciliations (every tenth request here) share what is left between the two.
    let allowed = 0;
    for (let i = 0; i < 60; i++) {
      const res = await fetch(`${urls[i % 2]}/v1/integrations/${UNKNOWN}`, { headers: { authorization: `Bearer ${shared.apiKey}` } });
      await res.arrayBuffer();
      if (res.status === 404) allowed++;
      else assert.equal(res.status, 429);
      if (i % 10 === 9) await Promise.all(limits.map((l) => l.reconcile()));
    }
    // One bucket of 20 (20 per hour: no refill to speak of), not 20 each. Approximately: a process's share is
    // taken before it sees what the other spent since its own last reconciliation, so the overshoot is at most
    // what was spent in one interval — and is a debt of the shared bucket afterwards.
    assert.ok(allowed >= 18 && allowed <= 25, `allowed ${allowed} of 60 across two processes with one budget of 20`);
    await Promise.all(limits.map((l) => l.reconcile()));
    const { rows } = await sql<{
      tokens: number;
    }>`SELECT tokens FROM api_rate_limit_buckets WHERE tenant_id = ${shared.id}::uuid AND budget = 'requests'`.execute(system.db);
    assert.ok(rows[0]!.tokens <= 20 - allowed + 0.5, `shared bucket at ${rows[0]!.tokens} after ${allowed} allowed: an overshoot is owed`);
    const { rows: users } = await sql<{ n: number }>`SELECT count(*) AS n FROM api_rate_limit_bucket_processes WHERE tenant_id = ${shared.id}::uuid`.execute(
      system.db,
    );
    assert.equal(Number(users[0]!.n), 2, "the two processes share that bucket (the system's own API never saw the tenant)");
  });
});
