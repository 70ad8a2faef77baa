import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, get as httpGet, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import pino from 'pino';
import { createApp } from '../../src/api/app';
import type { ApiCache } from '../../src/api/cache/apiCache';
import { CHANGE_FEED_APPLICATION_NAME } from '../../src/db/changeFeed';
import { loadConfig } from '../../src/config';
import { createMetrics, type Metrics } from '../../src/observability/metrics';
import { api, connectAndSync, createTenant, startSystem, waitFor, waitForSync, type System } from '../helpers/system';

/**
 * The API's report cache (src/api/cache) on the real system: served from the cache when nothing changed,
 * never stale after a sync or a direct write, 404 at once after a disconnect, never across tenants,
 * correct while its change feed is down, and expired after its TTL.
 */
let system: System;
let tenantA: { id: string; apiKey: string };
let tenantB: { id: string; apiKey: string };
let integrationId: string;
const SUBDOMAIN = 'cache-acme';

async function lookups(metrics: Metrics, cache: string, outcome: string): Promise<number> {
  const metric = await metrics.apiCacheRequests.get();
  return metric.values.find((v) => v.labels.cache === cache && v.labels.outcome === outcome)?.value ?? 0;
}
const enabled = async (metrics: Metrics) => (await metrics.apiCacheEnabled.get()).values[0]?.value === 1;
const get = (path: string, key = tenantA.apiKey, headers?: Record<string, string>) => api(system, 'GET', path, { key, headers });

before(async () => {
  system = await startSystem();
  tenantA = await createTenant(system, 'Cache tenant A');
  tenantB = await createTenant(system, 'Cache tenant B');
  system.sandbox.createWorkspace({ subdomain: SUBDOMAIN, users: 600, ticketEvents: 4_000, seed: 61, consentMode: 'allow' });
  ({ integrationId } = await connectAndSync(system, tenantA.apiKey, SUBDOMAIN));
  await waitFor('the report cache to be enabled', () => enabled(system.metrics));
});
after(() => system?.stop());

async function syncNow(id: string) {
  const previous = (await system.db.selectFrom('sync_runs').select('id').where('integration_id', '=', id).execute()).map((r) => r.id);
  const res = await api(system, 'POST', `/v1/integrations/${id}/sync`, { key: tenantA.apiKey });
  assert.equal(res.status, 202, res.text);
  const run = await waitForSync(system, id, { notIds: previous });
  assert.equal(run.status, 'succeeded', run.error ?? '');
}

describe('report cache', () => {
  test('an identical request (in any parameter or list order) is a hit with the same body and as-of', async () => {
    const base = `/v1/integrations/${integrationId}`;
    const hits0 = await lookups(system.metrics, 'reports', 'hit');
    const misses0 = await lookups(system.metrics, 'reports', 'miss');
    const first = await get(`${base}/users?role=agent,admin&sort=-lastActivityAt&limit=50`);
    assert.equal(first.status, 200, first.text);
    const second = await get(`${base}/users?limit=50&sort=-lastActivityAt&role=admin,agent`);
    assert.equal(second.status, 200);
    assert.equal(await lookups(system.metrics, 'reports', 'miss'), misses0 + 1);
    assert.equal(await lookups(system.metrics, 'reports', 'hit'), hits0 + 1);
    assert.equal(second.text, first.text);
    assert.equal(second.headers.get('report-as-of'), first.headers.get('report-as-of'));
    assert.equal(second.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(second.headers.get('cache-control'), 'private, no-cache');
    // The ETag makes a revalidation cheap for the client.
    const etag = first.headers.get('etag')!;
    assert.match(etag, /^W\/"/);
    const revalidated = await get(`${base}/users?role=agent,admin&sort=-lastActivityAt&limit=50`, tenantA.apiKey, {
      'if-none-match': etag,
      'cache-control': 'max-age=0',
    });
    assert.equal(revalidated.status, 304);
    // The second page by cursor is a key of its own, and cached too.
    const cursor = encodeURIComponent(first.json.nextCursor);
    const page2 = await get(`${base}/users?role=agent,admin&sort=-lastActivityAt&limit=50&cursor=${cursor}`);
    const page2again = await get(`${base}/users?role=agent,admin&sort=-lastActivityAt&limit=50&cursor=${cursor}`);
    assert.equal(page2.status, 200);
    assert.equal(page2again.text, page2.text);
    assert.notDeepEqual(page2.json.users[0].id, first.json.users[0].id);

    const u1 = await get(`${base}/utilization`);
    const u2 = await get(`${base}/utilization?inactiveDays=${system.config.inactiveAfterDays}`);
    assert.equal(u1.status, 200);
    assert.equal(u2.text, u1.text, 'the default inactiveDays and the same value given are one entry');
    assert.equal(u2.json.asOf, u1.json.asOf);
    // Key and integration lookups are cached as well.
    assert.ok((await lookups(system.metrics, 'tenants', 'hit')) > 0);
    assert.ok((await lookups(system.metrics, 'integrations', 'hit')) > 0);
    // Bad requests are still judged on every request.
    assert.equal((await get(`${base}/users?role=agent,admin&sort=-lastActivityAt&limit=50&bogus=1`)).status, 400);
  });

  test('concurrent identical misses share one computation', async () => {
    const path = `/v1/integrations/${integrationId}/users?q=a&sort=-ticketInteractions&limit=120`;
    const misses0 = await lookups(system.metrics, 'reports', 'miss');
    const shared0 = (await lookups(system.metrics, 'reports', 'coalesced')) + (await lookups(system.metrics, 'reports', 'hit'));
    const answers = await Promise.all(Array.from({ length: 8 }, () => get(path)));
    for (const a of answers) assert.equal(a.text, answers[0]!.text);
    assert.equal(await lookups(system.metrics, 'reports', 'miss'), misses0 + 1);
    const shared = (await lookups(system.metrics, 'reports', 'coalesced')) + (await lookups(system.metrics, 'reports', 'hit'));
    assert.equal(shared - shared0, 7);
  });

  test('a large report is compressed once and sent gzip to clients that accept it, plain to others', async () => {
    const url = `${system.apiUrl}/v1/integrations/${integrationId}/users?limit=200&sort=name`;
    const raw = (encoding: string) =>
      new Promise<{ headers: import('node:http').IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
        httpGet(url, { headers: { authorization: `Bearer ${tenantA.apiKey}`, 'accept-encoding': encoding } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        }).on('error', reject);
      });
    const plain = await raw('identity');
    const zipped = await raw('gzip, deflate');
    const zippedAgain = await raw('gzip');
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.match(String(zipped.headers.vary), /Accept-Encoding/);
    assert.ok(zipped.body.length < plain.body.length / 2, `gzip ${zipped.body.length} B vs plain ${plain.body.length} B`);
    assert.deepEqual(JSON.parse(gunzipSync(zipped.body).toString('utf8')), JSON.parse(plain.body.toString('utf8')));
    assert.ok(zippedAgain.body.equals(zipped.body), 'the cached compressed body is sent as is');
    assert.equal(JSON.parse(plain.body.toString('utf8')).users.length, 200);
  });

  test('after a sync that changed data, the next report reflects it', async () => {
    const base = `/v1/integrations/${integrationId}`;
    const ws = system.sandbox.workspace(SUBDOMAIN);
    const before = await get(`${base}/utilization`);
    const suspendedBefore = await get(`${base}/users?suspended=true&limit=500`);
    assert.equal((await get(`${base}/utilization`)).text, before.text, 'cached');
    const agent = ws.users().find((u) => u.active && u.role === 'agent' && !u.suspended && u.role_type !== 1 && u.role_type !== 3)!;
    ws.suspendUser(agent.id);
    await syncNow(integrationId);
    // The run's end notifies the API as it commits; waitForSync may see the commit first.
    const after = await waitFor(
      'the synced change in the report',
      async () => {
        const res = await get(`${base}/utilization`);
        return res.json.paidSeats.suspended !== before.json.paidSeats.suspended && res;
      },
      2_000,
    );
    assert.equal(after.json.paidSeats.suspended, before.json.paidSeats.suspended + 1);
    assert.notEqual(after.json.asOf, before.json.asOf);
    assert.notEqual(after.json.lastSyncedAt, before.json.lastSyncedAt);
    const suspendedAfter = await get(`${base}/users?suspended=true&limit=500`);
    assert.equal(suspendedAfter.json.total, suspendedBefore.json.total + 1);
    assert.ok(suspendedAfter.json.users.some((u: { id: number }) => u.id === agent.id));
  });

  test('a write outside any sync (e.g. a purge or a repair) invalidates too', async () => {
    const base = `/v1/integrations/${integrationId}`;
    const before = await get(`${base}/users?sort=name&limit=5`);
    assert.equal((await get(`${base}/users?sort=name&limit=5`)).text, before.text);
    await system.db
      .updateTable('zendesk_users')
      .set({ name: '  !first by name' })
      .where('integration_id', '=', integrationId)
      .where('id', '=', before.json.users[4].id)
      .execute();
    // Visible once the commit's notification arrived (a few milliseconds; a request can beat it).
    await waitFor(
      'the changed name in the report',
      async () => (await get(`${base}/users?sort=name&limit=5`)).json.users[0].name === '  !first by name',
      2_000,
    );
  });

  test('while a sync runs, its pages mark reports stale: served at once, recomputed behind; its end is visible at once', async () => {
    const base = `/v1/integrations/${integrationId}`;
    const path = `${base}/users?sort=name&limit=5`;
    const invalidations = async (kind: string) => (await system.metrics.apiCacheInvalidations.get()).values.find((v) => v.labels.kind === kind)?.value ?? 0;
    const progressed = () => invalidations('progress');
    const dropped = () => invalidations('integration');
    // A run in progress, as the sync workflow's first activity records it.
    const run = await system.db
      .insertInto('sync_runs')
      .values({ integration_id: integrationId, workflow_id: 'test-progress', run_id: 'test-progress-run', status: 'running' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const before = await get(path);
    assert.equal((await get(path)).text, before.text, 'cached');
    const [third, fourth] = [before.json.users[3].id, before.json.users[4].id];
    const originalNames = [before.json.users[3].name, before.json.users[4].name];
    // One page of the sync: rows and the run's counters in one transaction.
    const page = (userId: number, name: string) =>
      system.db.transaction().execute(async (trx) => {
        await trx.updateTable('zendesk_users').set({ name }).where('integration_id', '=', integrationId).where('id', '=', userId).execute();
        await trx
          .updateTable('sync_runs')
          .set((eb) => ({ users_synced: eb('users_synced', '+', 1) }))
          .where('id', '=', run.id)
          .execute();
      });
    try {
      const seen = await progressed();
      await page(fourth, '  !!progress first');
      await waitFor('the progress notification', async () => (await progressed()) > seen);
      // Served as it was, at once; recomputed in the background.
      assert.equal((await get(path)).text, before.text, 'a page of a running sync does not make the reader wait');
      await waitFor('the recomputed report', async () => (await get(path)).json.users[0].name === '  !!progress first');

      // The last page, then the run's end: the end drops the reports, so the next request reads everything.
      await page(third, '  !!!progress last');
      const ended = await dropped();
      await system.db.updateTable('sync_runs').set({ status: 'succeeded', finished_at: new Date() }).where('id', '=', run.id).execute();
      await waitFor('the end-of-run notification', async () => (await dropped()) > ended);
      const after = await get(path);
      assert.deepEqual(
        after.json.users.slice(0, 2).map((u: { name: string }) => u.name),
        ['  !!!progress last', '  !!progress first'],
      );
    } finally {
      await system.db
        .updateTable('zendesk_users')
        .set({ name: originalNames[0] })
        .where('integration_id', '=', integrationId)
        .where('id', '=', third)
        .execute();
      await system.db
        .updateTable('zendesk_users')
        .set({ name: originalNames[1] })
        .where('integration_id', '=', integrationId)
        .where('id', '=', fourth)
        .execute();
      await system.db.deleteFrom('sync_runs').where('id', '=', run.id).execute();
    }
  });

  test('another tenant never gets a cached report: 404 as for an unknown id', async () => {
    const base = `/v1/integrations/${integrationId}`;
    assert.equal((await get(`${base}/users?sort=name&limit=5`)).status, 200);
    assert.equal((await get(`${base}/utilization`)).status, 200);
    for (const path of [`${base}/users?sort=name&limit=5`, `${base}/utilization`, `${base}/users?role=admin,agent&sort=-lastActivityAt&limit=50`]) {
      const res = await get(path, tenantB.apiKey);
      assert.equal(res.status, 404, path);
      assert.ok(!res.text.includes('"users"'));
    }
    assert.equal((await get(`${base}/utilization`, 'not-a-key')).status, 401);
  });

  test('one query string sent for two integrations of two tenants gives each its own report', async () => {
    system.sandbox.createWorkspace({ subdomain: 'cache-other', users: 40, ticketEvents: 100, seed: 62, consentMode: 'allow' });
    const { integrationId: otherId } = await connectAndSync(system, tenantB.apiKey, 'cache-other');
    const query = '?sort=name&limit=3&usage=active,inactive';
    for (let i = 0; i < 2; i++) {
      const mine = await get(`/v1/integrations/${integrationId}/users${query}`);
      const theirs = await get(`/v1/integrations/${otherId}/users${query}`, tenantB.apiKey);
      assert.equal(mine.status, 200);
      assert.equal(theirs.status, 200);
      const ids = (res: typeof mine) => res.json.users.map((u: { id: number }) => u.id);
      const names = (subdomain: string) =>
        new Set(
          system.sandbox
            .workspace(subdomain)
            .users()
            .map((u) => u.id),
        );
      assert.ok(
        ids(mine).every((id: number) => names(SUBDOMAIN).has(id)),
        'tenant A sees its workspace',
      );
      assert.ok(
        ids(theirs).every((id: number) => names('cache-other').has(id)),
        'tenant B sees its workspace',
      );
      assert.notDeepEqual(ids(mine), ids(theirs));
      assert.ok(theirs.json.total <= 40 && mine.json.total > 40);
      // The same query string for the other tenant's integration is theirs alone.
      assert.equal((await get(`/v1/integrations/${otherId}/users${query}`)).status, 404);
    }
  });

  test('a tenant whose key changes is refused at once', async () => {
    const tenant = await createTenant(system, 'Cache tenant C');
    assert.equal((await get('/v1/integrations', tenant.apiKey)).status, 200);
    assert.equal((await get('/v1/integrations', tenant.apiKey)).status, 200);
    await system.db.updateTable('tenant_api_keys').set({ key_hash: 'rotated' }).where('tenant_id', '=', tenant.id).execute();
    await waitFor('the key to be refused', async () => (await get('/v1/integrations', tenant.apiKey)).status === 401, 2_000);
  });

  test('deleting the integration answers 404 at once, even for cached reports', async () => {
    system.sandbox.createWorkspace({ subdomain: 'cache-gone', users: 200, ticketEvents: 500, seed: 62, consentMode: 'allow' });
    const { integrationId: id } = await connectAndSync(system, tenantA.apiKey, 'cache-gone');
    const paths = [`/v1/integrations/${id}/users?limit=10`, `/v1/integrations/${id}/utilization`];
    for (const p of paths) {
      assert.equal((await get(p)).status, 200);
      assert.equal((await get(p)).status, 200);
    }
    const hits = await lookups(system.metrics, 'reports', 'hit');
    assert.ok(hits > 0);
    const deleted = await api(system, 'DELETE', `/v1/integrations/${id}`, { key: tenantA.apiKey });
    assert.equal(deleted.status, 200, deleted.text);
    for (const p of paths) assert.equal((await get(p)).status, 404, p);
  });

  test('while the change feed is down, answers come from the database; it reconnects by itself', async () => {
    const base = `/v1/integrations/${integrationId}`;
    const path = `${base}/users?sort=name&limit=3`;
    const cached = await get(path);
    assert.equal((await get(path)).text, cached.text);
    const killed = await sql<{ n: number }>`
      SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
       WHERE application_name = ${CHANGE_FEED_APPLICATION_NAME} AND datname = current_database()`.execute(system.db);
    assert.ok(killed.rows[0]!.n >= 1, 'the listener was found by its application_name');
    await waitFor('the cache to be disabled', async () => !(await enabled(system.metrics)), 5_000).catch(() => undefined);
    // A change no listener hears of (the feed is down or reconnecting): still never a stale answer.
    await system.db
      .updateTable('zendesk_users')
      .set({ name: '  !!renamed while deaf' })
      .where('integration_id', '=', integrationId)
      .where('id', '=', cached.json.users[2].id)
      .execute();
    const during = await get(path);
    assert.equal(during.json.users[0].name, '  !!renamed while deaf');
    await waitFor('the cache to be enabled again', () => enabled(system.metrics), 15_000);
    const misses = await lookups(system.metrics, 'reports', 'miss');
    const again = await get(path);
    assert.equal(again.json.users[0].name, '  !!renamed while deaf');
    assert.equal((await get(path)).text, again.text);
    assert.ok((await lookups(system.metrics, 'reports', 'miss')) <= misses + 1);
    assert.ok(!system.logs.some((l) => l.includes('"level":50') && l.includes('cache')), 'no error logged');
  });
});

describe('report cache TTL', () => {
  const servers: Server[] = [];
  const caches: ApiCache[] = [];
  after(async () => {
    for (const c of caches) await c.close();
    for (const s of servers) await new Promise<void>((resolve) => s.close(() => resolve()));
  });

  async function apiWithTtl(seconds: string) {
    const config = loadConfig({ ...system.env, REPORT_CACHE_TTL_SECONDS: seconds }, 'api');
    const metrics = createMetrics({ defaultMetrics: false });
    const app = createApp({ db: system.db, box: system.box, config, temporal: system.temporal, logger: pino({ level: 'silent' }), metrics });
    caches.push(app.locals.cache as ApiCache);
    const server = createServer(app);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const fetchJson = async (path: string) => {
      const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${tenantA.apiKey}` } });
      return { status: res.status, json: (await res.json()) as { asOf: string } };
    };
    return { metrics, fetchJson };
  }

  test('an entry is served for at most REPORT_CACHE_TTL_SECONDS', async () => {
    const { metrics, fetchJson } = await apiWithTtl('1');
    await waitFor('the cache to be enabled', () => enabled(metrics), 10_000);
    const path = `/v1/integrations/${integrationId}/utilization?inactiveDays=45`;
    const a = await fetchJson(path);
    const b = await fetchJson(path);
    assert.equal(b.json.asOf, a.json.asOf);
    assert.equal(await lookups(metrics, 'reports', 'hit'), 1);
    await new Promise((r) => setTimeout(r, 1_100));
    const c = await fetchJson(path);
    assert.notEqual(c.json.asOf, a.json.asOf);
    assert.ok(Date.parse(c.json.asOf) - Date.parse(a.json.asOf) >= 1_000);
    assert.equal(await lookups(metrics, 'reports', 'miss'), 2);
  });

  test('REPORT_CACHE_TTL_SECONDS=0 turns the caches off', async () => {
    const { metrics, fetchJson } = await apiWithTtl('0');
    // Not the default inactiveDays: that one is the stored snapshot, the same instant however often computed.
    const path = `/v1/integrations/${integrationId}/utilization?inactiveDays=7`;
    const a = await fetchJson(path);
    await new Promise((r) => setTimeout(r, 5));
    const b = await fetchJson(path);
    assert.equal(a.status, 200);
    assert.notEqual(b.json.asOf, a.json.asOf);
    assert.equal(await lookups(metrics, 'reports', 'bypass'), 2);
    assert.equal(await lookups(metrics, 'reports', 'hit'), 0);
    assert.equal(await enabled(metrics), false);
  });
});
