import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/api/app';
import type { ApiCache } from '../../src/api/cache/apiCache';
import { createLogger } from '../../src/logger';
import { createMetrics, type Metrics } from '../../src/observability/metrics';
import { databaseDump } from '../helpers/secretScan';
import { api, createTenant, startSystem, waitFor, type System } from '../helpers/system';

/**
 * Tenant API keys over HTTP: rotation with a grace period and revocation, by the admin and by the tenant, with
 * the key → tenant cache on in two API processes: a revoked key is refused at once by both, a replaced one
 * when its grace period ends (even from the cache).
 */
let system: System;
let second: { url: string; server: Server; cache: ApiCache; metrics: Metrics };

const enabled = async (metrics: Metrics) => (await metrics.apiCacheEnabled.get()).values[0]?.value === 1;
const hits = async (metrics: Metrics) =>
  (await metrics.apiCacheRequests.get()).values.find((v) => v.labels.cache === 'tenants' && v.labels.outcome === 'hit')?.value ?? 0;

before(async () => {
  system = await startSystem();
  // A second API process on the same database, with its own key cache and change feed.
  const metrics = createMetrics();
  const app = createApp({ db: system.db, box: system.box, config: system.config, temporal: system.temporal, logger: createLogger('error'), metrics });
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  second = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, cache: app.locals.cache as ApiCache, metrics };
  await waitFor('both key caches on', async () => (await enabled(system.metrics)) && (await enabled(second.metrics)));
});
after(async () => {
  second?.server.closeAllConnections();
  await new Promise<void>((resolve) => (second ? second.server.close(() => resolve()) : resolve()));
  await second?.cache.close();
  await system?.stop();
});

/** The status of `GET /v1/integrations` with `key` on the first API (`main`) or the second. */
async function status(key: string, on: 'main' | 'second' = 'main'): Promise<number> {
  if (on === 'main') return (await api(system, 'GET', '/v1/integrations', { key })).status;
  return (await fetch(`${second.url}/v1/integrations`, { headers: { authorization: `Bearer ${key}` } })).status;
}

/** Uses the key on both APIs until both answer it from their caches. */
async function warm(key: string): Promise<void> {
  const before = [await hits(system.metrics), await hits(second.metrics)];
  for (let i = 0; i < 3; i++) {
    assert.equal(await status(key, 'main'), 200);
    assert.equal(await status(key, 'second'), 200);
  }
  assert.ok((await hits(system.metrics)) > before[0]! && (await hits(second.metrics)) > before[1]!, 'the key was served from both caches');
}

/** Refused by both APIs, within the time a notification takes (well under a second; 2 s of slack). */
async function refusedEverywhere(key: string, what: string): Promise<void> {
  await waitFor(`${what} refused by both APIs`, async () => (await status(key, 'main')) === 401 && (await status(key, 'second')) === 401, 2_000);
}

describe('tenant API keys', () => {
  test('the tenant rotates its key: both work during the grace period, then the old one is refused, even from the cache', async () => {
    const tenant = await createTenant(system, 'Keys tenant A');
    const own = await api(system, 'GET', '/v1/tenant', { key: tenant.apiKey });
    assert.equal(own.status, 200, own.text);
    assert.deepEqual({ id: own.json.id, status: own.json.status }, { id: tenant.id, status: 'active' });
    const listed = await api(system, 'GET', '/v1/tenant/keys', { key: tenant.apiKey });
    assert.equal(listed.json.keys.length, 1);
    assert.deepEqual(
      { ...listed.json.keys[0], id: undefined, createdAt: undefined },
      {
        id: undefined,
        createdAt: undefined,
        hint: tenant.apiKey.slice(-4),
        status: 'active',
        createdBy: 'admin',
        expiresAt: null,
        revokedAt: null,
        current: true,
      },
    );

    await warm(tenant.apiKey);
    const rotated = await api(system, 'POST', '/v1/tenant/keys/rotate', { key: tenant.apiKey, body: { graceSeconds: 3 } });
    assert.equal(rotated.status, 201, rotated.text);
    const newKey: string = rotated.json.apiKey;
    assert.match(newKey, /^zk_[A-Za-z0-9_-]{43}$/);
    assert.equal(rotated.json.key.createdBy, 'tenant');
    assert.equal(rotated.json.replaced.length, 1);
    assert.equal(rotated.json.replaced[0].status, 'expiring');
    const graceEnd = Date.parse(rotated.json.replaced[0].expiresAt);
    assert.ok(Math.abs(graceEnd - (Date.now() + 3_000)) < 2_000, rotated.json.replaced[0].expiresAt);
    // Both work during the grace period; the old one keeps being answered from the caches.
    await warm(tenant.apiKey);
    await warm(newKey);
    const keys = await api(system, 'GET', '/v1/tenant/keys', { key: newKey });
    assert.deepEqual(
      keys.json.keys.map((k: { status: string; current: boolean }) => [k.status, k.current]),
      [
        ['active', true],
        ['expiring', false],
      ],
    );
    // Then it is refused by both, though nothing was written.
    await waitFor('the grace period to end', async () => Date.now() > graceEnd + 50, 10_000);
    assert.equal(await status(tenant.apiKey, 'main'), 401);
    assert.equal(await status(tenant.apiKey, 'second'), 401);
    assert.equal(await status(newKey, 'main'), 200);
    assert.equal((await api(system, 'GET', '/v1/tenant/keys', { key: newKey })).json.keys[1].status, 'expired');
  });

  test('the admin rotates with no grace (a leak): the old key is refused at once by every API process', async () => {
    const tenant = await createTenant(system, 'Keys tenant B');
    await warm(tenant.apiKey);
    const rotated = await api(system, 'POST', `/v1/tenants/${tenant.id}/keys/rotate`, { key: system.adminKey, body: { graceSeconds: 0 } });
    assert.equal(rotated.status, 201, rotated.text);
    assert.equal(rotated.json.key.createdBy, 'admin');
    assert.equal(rotated.json.replaced[0].status, 'revoked');
    await refusedEverywhere(tenant.apiKey, 'the replaced key');
    assert.equal(await status(rotated.json.apiKey, 'second'), 200);
  });

  test("revocation: by the tenant and by the admin, at once everywhere; never the last usable key; never another tenant's", async () => {
    const tenant = await createTenant(system, 'Keys tenant C');
    const other = await createTenant(system, 'Keys tenant D');
    const first = (await api(system, 'GET', '/v1/tenant/keys', { key: tenant.apiKey })).json.keys[0].id as string;
    // The only usable key: revoking it would lock the tenant out.
    const last = await api(system, 'DELETE', `/v1/tenant/keys/${first}`, { key: tenant.apiKey });
    assert.equal(last.status, 409, last.text);
    assert.match(last.json.detail, /last usable key/);
    assert.equal((await api(system, 'DELETE', `/v1/tenants/${tenant.id}/keys/${first}`, { key: system.adminKey })).status, 409);

    const rotated = await api(system, 'POST', '/v1/tenant/keys/rotate', { key: tenant.apiKey, body: {} });
    assert.equal(rotated.status, 201);
    assert.ok(Math.abs(Date.parse(rotated.json.replaced[0].expiresAt) - (Date.now() + 86_400_000)) < 60_000, 'a day of grace by default');
    const second1: string = rotated.json.apiKey;
    // Another tenant's key id answers like an unknown one, and changes nothing.
    assert.equal((await api(system, 'DELETE', `/v1/tenant/keys/${first}`, { key: other.apiKey })).status, 404);
    assert.equal((await api(system, 'DELETE', `/v1/tenant/keys/00000000-0000-4000-8000-000000000000`, { key: other.apiKey })).status, 404);
    assert.equal(await status(tenant.apiKey), 200);

    // The tenant revokes the replaced key (still in its grace period) with the new one: refused at once everywhere.
    await warm(tenant.apiKey);
    const revoked = await api(system, 'DELETE', `/v1/tenant/keys/${first}`, { key: second1 });
    assert.equal(revoked.status, 200, revoked.text);
    assert.equal(revoked.json.status, 'revoked');
    await refusedEverywhere(tenant.apiKey, 'the revoked key');
    // Revoking it again changes nothing.
    const again = await api(system, 'DELETE', `/v1/tenants/${tenant.id}/keys/${first}`, { key: system.adminKey });
    assert.equal(again.status, 200);
    assert.equal(again.json.revokedAt, revoked.json.revokedAt);

    // The admin revokes a key the tenant made.
    const third = await api(system, 'POST', `/v1/tenants/${tenant.id}/keys/rotate`, { key: system.adminKey, body: { graceSeconds: 600 } });
    await warm(second1);
    const byAdmin = await api(system, 'DELETE', `/v1/tenants/${tenant.id}/keys/${rotated.json.key.id}`, { key: system.adminKey });
    assert.equal(byAdmin.status, 200, byAdmin.text);
    await refusedEverywhere(second1, 'the key revoked by the admin');
    assert.equal(await status(third.json.apiKey, 'second'), 200);
    const all = await api(system, 'GET', `/v1/tenants/${tenant.id}/keys`, { key: system.adminKey });
    assert.deepEqual(
      all.json.keys.map((k: { status: string }) => k.status),
      ['active', 'revoked', 'revoked'],
    );
    assert.ok(all.json.keys.every((k: Record<string, unknown>) => !('current' in k)));
  });

  test('who may call what, and bad input', async () => {
    const tenant = await createTenant(system, 'Keys tenant E');
    // A tenant key is no admin key, and the admin key is no tenant key.
    assert.equal((await api(system, 'GET', `/v1/tenants/${tenant.id}/keys`, { key: tenant.apiKey })).status, 401);
    assert.equal((await api(system, 'POST', `/v1/tenants/${tenant.id}/keys/rotate`, { key: tenant.apiKey, body: {} })).status, 401);
    assert.equal((await api(system, 'GET', '/v1/tenants', { key: tenant.apiKey })).status, 401);
    assert.equal((await api(system, 'GET', '/v1/tenant/keys', { key: system.adminKey })).status, 401);
    assert.equal((await api(system, 'GET', '/v1/tenant/keys')).status, 401);
    assert.equal((await api(system, 'GET', '/v1/tenants/00000000-0000-4000-8000-000000000000/keys', { key: system.adminKey })).status, 404);
    assert.equal((await api(system, 'GET', '/v1/tenants/not-a-uuid', { key: system.adminKey })).status, 400);
    for (const body of [{ graceSeconds: -1 }, { graceSeconds: 1.5 }, { graceSeconds: '60' }, { graceSeconds: 30 * 86_400 + 1 }, { grace: 60 }]) {
      const res = await api(system, 'POST', '/v1/tenant/keys/rotate', { key: tenant.apiKey, body });
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
    }
    assert.equal(await status(tenant.apiKey), 200, 'a refused rotation changes nothing');
    assert.equal((await api(system, 'GET', '/v1/tenant/keys', { key: tenant.apiKey })).json.keys.length, 1);
  });

  test('keys are stored hashed: no key is in the database', async () => {
    const tenant = await createTenant(system, 'Keys tenant F');
    const rotated = await api(system, 'POST', '/v1/tenant/keys/rotate', { key: tenant.apiKey, body: { graceSeconds: 60 } });
    const dump = await databaseDump(system.db);
    for (const key of [tenant.apiKey, rotated.json.apiKey, system.adminKey])
      assert.ok(!dump.includes(key) && !dump.includes(key.slice(3)), 'a key in the database');
    assert.ok(!system.logs.join('').includes(rotated.json.apiKey), 'a key in the logs');
  });
});

describe('tenants for the admin', () => {
  test('listed newest first, a page at a time, filtered by status', async () => {
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await createTenant(system, `Listed tenant ${i}`)).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await api(system, 'GET', `/v1/tenants?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { key: system.adminKey });
      assert.equal(res.status, 200, res.text);
      assert.ok(res.json.tenants.length <= 2);
      seen.push(...res.json.tenants.map((t: { id: string }) => t.id));
      cursor = res.json.nextCursor;
      pages++;
    } while (cursor && pages < 100);
    assert.equal(new Set(seen).size, seen.length, 'no tenant twice');
    assert.deepEqual(seen.slice(0, 5), [...made].reverse(), 'newest first');
    const active = await api(system, 'GET', '/v1/tenants?status=active&limit=200', { key: system.adminKey });
    assert.ok(active.json.tenants.every((t: { status: string }) => t.status === 'active'));
    assert.equal((await api(system, 'GET', '/v1/tenants?status=gone', { key: system.adminKey })).status, 400);
    const first = await api(system, 'GET', '/v1/tenants?limit=1', { key: system.adminKey });
    assert.equal(
      (await api(system, 'GET', `/v1/tenants?limit=1&status=offboarded&cursor=${first.json.nextCursor}`, { key: system.adminKey })).status,
      400,
      'a cursor of another filter',
    );
    const one = await api(system, 'GET', `/v1/tenants/${made[0]}`, { key: system.adminKey });
    assert.deepEqual(
      { id: one.json.id, name: one.json.name, status: one.json.status, offboardedAt: one.json.offboardedAt },
      { id: made[0], name: 'Listed tenant 0', status: 'active', offboardedAt: null },
    );
  });
});
