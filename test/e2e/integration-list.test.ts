import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { Client, Connection, ScheduleOverlapPolicy } from '@temporalio/client';
import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import { sql } from 'kysely';
import { createApp } from '../../src/api/app';
import type { ApiCache } from '../../src/api/cache/apiCache';
import { createLogger } from '../../src/logger';
import { createMetrics } from '../../src/observability/metrics';
import type { IntegrationStatus } from '../../src/db/tables';
import { searchAttributesFor } from '../../src/temporal/searchAttributes';
import { syncScheduleId } from '../../src/temporal/syncSchedule';
import { api, createTenant, startSystem, waitFor, type System } from '../helpers/system';

/**
 * `GET /v1/integrations` over HTTP: bounded pages, keyset cursor, status filter in SQL, tenant isolation,
 * 400s naming the parameter, and `nextSyncAt` of a whole page from one Temporal call (counted on the wire).
 * The integrations are rows written here (a tenant with hundreds of connected integrations would take
 * minutes to connect through the sandbox); the schedules of some are real Temporal schedules.
 */

let system: System;
let tenantA: { id: string; apiKey: string };
let tenantB: { id: string; apiKey: string };

interface Row {
  id: string;
  status: IntegrationStatus;
  created_at: string;
}
let rowsA: Row[] = [];
let rowsB: Row[] = [];
/** Tenant A's connected integrations, each with a real schedule (the last ones paused); tenant B's have none. */
let scheduled: string[] = [];
const PAUSED = 3;

const STATUSES: IntegrationStatus[] = ['connected', 'connected', 'connected', 'needs_reauth', 'awaiting_consent', 'failed', 'disconnected', 'expired'];

/** Rows with chosen creation times: many share a millisecond (and some a microsecond) to test the keyset's tiebreak. */
async function insertIntegrations(tenantId: string, count: number, prefix: string): Promise<Row[]> {
  const values = Array.from({ length: count }, (_, i) => ({
    tenant_id: tenantId,
    workspace: `${prefix}-${String(i).padStart(4, '0')}`,
    status: STATUSES[i % STATUSES.length]!,
    error: null,
    zendesk_user_id: null,
    // Groups of 5 in the same millisecond, two of each group in the same microsecond.
    created_at: `2026-01-01T00:00:${String(Math.floor(i / 50)).padStart(2, '0')}.${String(Math.floor(i / 5) % 10).padStart(3, '0')}${i % 5 < 2 ? '001' : String(i % 5).padStart(3, '0')}Z`,
  }));
  const inserted = await system.db.insertInto('integrations').values(values).returning(['id', 'status']).execute();
  const rows = await system.db
    .selectFrom('integrations')
    .select(['id', 'status'])
    .select(sql<string>`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')`.as('created_at'))
    .where(
      'id',
      'in',
      inserted.map((r) => r.id),
    )
    .execute();
  return rows;
}

/** The contract's order: newest first, then by id (descending). */
const newestFirst = (a: Row, b: Row) => (a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1);
const live = (rows: Row[]) => rows.filter((r) => r.status !== 'disconnected');

async function walk(key: string, params: Record<string, string> = {}, between?: (page: number) => Promise<void>) {
  const ids: string[] = [];
  const pages: any[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ ...params, ...(cursor ? { cursor } : {}) });
    const res = await api(system, 'GET', `/v1/integrations?${query}`, { key });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.json), ['integrations', 'nextCursor']);
    assert.ok(res.json.integrations.length <= Number(params.limit ?? 50));
    pages.push(res.json);
    ids.push(...res.json.integrations.map((i: { id: string }) => i.id));
    cursor = res.json.nextCursor;
    if (cursor && between) await between(pages.length);
  } while (cursor);
  return { ids, pages, views: pages.flatMap((p) => p.integrations) };
}

before(async () => {
  system = await startSystem();
  tenantA = await createTenant(system, 'Lists many integrations');
  tenantB = await createTenant(system, 'Lists a few');
  rowsA = await insertIntegrations(tenantA.id, 600, 'a');
  rowsB = await insertIntegrations(tenantB.id, 25, 'b');
  // Real schedules for some connected integrations, as ensureSyncSchedule makes them, on a task queue
  // nobody polls (their first action is hours away; nothing runs).
  scheduled = rowsA.filter((r) => r.status === 'connected').map((r) => r.id);
  const create = (id: string, i: number) =>
    system.temporal.schedule.create({
      scheduleId: syncScheduleId(id),
      spec: { intervals: [{ every: '6h' }], jitter: '10m' },
      action: {
        type: 'startWorkflow',
        workflowType: 'zendeskSync',
        args: [{ integrationId: id }],
        taskQueue: 'integration-list-idle',
        workflowId: syncScheduleId(id),
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
      typedSearchAttributes: searchAttributesFor({ tenantId: tenantA.id, integrationId: id, workspace: 'w' }),
      state: i >= scheduled.length - PAUSED ? { paused: true, note: 'Paused by the test' } : {},
    });
  for (let i = 0; i < scheduled.length; i += 25) await Promise.all(scheduled.slice(i, i + 25).map((id, j) => create(id, i + j)));
});

after(async () => {
  await Promise.all(
    scheduled.map((id) =>
      system.temporal.schedule
        .getHandle(syncScheduleId(id))
        .delete()
        .catch(() => undefined),
    ),
  );
  await system?.stop();
});

describe('GET /v1/integrations pages', () => {
  test('a walk lists every live integration of the tenant exactly once, newest first, and never a disconnected one', async () => {
    const { ids, pages } = await walk(tenantA.apiKey, { limit: '7' });
    const expected = live(rowsA)
      .sort(newestFirst)
      .map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length, 'no integration twice');
    assert.deepEqual(ids, expected);
    assert.equal(pages.length, Math.ceil(expected.length / 7));
    assert.equal(pages.at(-1).nextCursor, null);
  });

  test('the default page is 50, the largest 200', async () => {
    const first = await api(system, 'GET', '/v1/integrations', { key: tenantA.apiKey });
    assert.equal(first.json.integrations.length, 50);
    assert.ok(first.json.nextCursor);
    const big = await api(system, 'GET', '/v1/integrations?limit=200', { key: tenantA.apiKey });
    assert.equal(big.json.integrations.length, 200);
    const all = await walk(tenantA.apiKey, { limit: '200' });
    assert.equal(all.ids.length, live(rowsA).length);
    assert.equal(all.pages.length, Math.ceil(live(rowsA).length / 200));
  });

  test('integrations created or disconnected during a walk make no other one skip or repeat', async () => {
    const added: string[] = [];
    let removed: Row | undefined;
    const { ids } = await walk(tenantA.apiKey, { limit: '40' }, async (page) => {
      if (page === 1) {
        // A newer integration (before the cursor: not in this walk) and one disconnected further down.
        const [row] = await system.db
          .insertInto('integrations')
          .values({ tenant_id: tenantA.id, workspace: 'a-during-walk', status: 'connected', error: null, zendesk_user_id: null })
          .returning('id')
          .execute();
        added.push(row!.id);
        removed = live(rowsA).sort(newestFirst).at(-1)!;
        await system.db.updateTable('integrations').set({ status: 'disconnected' }).where('id', '=', removed.id).execute();
      }
    });
    try {
      const expected = live(rowsA)
        .sort(newestFirst)
        .map((r) => r.id)
        .filter((id) => id !== removed?.id);
      assert.deepEqual(ids, expected);
    } finally {
      await system.db.deleteFrom('integrations').where('id', 'in', added).execute();
      if (removed) await system.db.updateTable('integrations').set({ status: removed.status }).where('id', '=', removed.id).execute();
    }
  });

  test('status filters in SQL, and pages through the filtered list', async () => {
    const { ids, views } = await walk(tenantA.apiKey, { status: 'needs_reauth,failed', limit: '9' });
    assert.deepEqual(
      ids,
      rowsA
        .filter((r) => r.status === 'needs_reauth' || r.status === 'failed')
        .sort(newestFirst)
        .map((r) => r.id),
    );
    assert.ok(views.every((v) => v.status === 'needs_reauth' || v.status === 'failed'));
    const one = await walk(tenantA.apiKey, { status: 'expired,expired' });
    assert.deepEqual(new Set(one.views.map((v) => v.status)), new Set(['expired']));
    assert.equal(one.ids.length, rowsA.filter((r) => r.status === 'expired').length);
  });

  test("another tenant's integrations never appear, and each tenant sees all of its own", async () => {
    const a = new Set((await walk(tenantA.apiKey, { limit: '200' })).ids);
    const b = await walk(tenantB.apiKey, { limit: '3' });
    assert.deepEqual(
      b.ids,
      live(rowsB)
        .sort(newestFirst)
        .map((r) => r.id),
    );
    for (const id of b.ids) assert.ok(!a.has(id));
    for (const row of rowsB) assert.ok(!a.has(row.id));
    // Tenant A's cursor given to tenant B continues B's own listing from that position: nothing of A's.
    const aCursor = (await api(system, 'GET', '/v1/integrations?limit=1', { key: tenantA.apiKey })).json.nextCursor;
    const crossed = await api(system, 'GET', `/v1/integrations?cursor=${aCursor}`, { key: tenantB.apiKey });
    assert.equal(crossed.status, 200);
    for (const i of crossed.json.integrations) assert.ok(!a.has(i.id));
  });

  test("nextSyncAt is the schedule's next run (null when paused, absent or not connected)", async () => {
    const { views } = await walk(tenantA.apiKey, { limit: '200', status: 'connected' });
    const byId = new Map(views.map((v) => [v.id, v]));
    for (const [i, id] of scheduled.entries()) {
      if (i % 10 !== 0 && i < scheduled.length - PAUSED) continue; // a sample, and every paused one
      const description = await system.temporal.schedule.getHandle(syncScheduleId(id)).describe();
      const expected = i >= scheduled.length - PAUSED ? null : description.info.nextActionTimes[0]!.toISOString();
      assert.equal(byId.get(id)!.nextSyncAt, expected, `integration ${i}`);
      // The single view (one describe) agrees with the page (one visibility query).
      assert.equal((await api(system, 'GET', `/v1/integrations/${id}`, { key: tenantA.apiKey })).json.nextSyncAt, expected);
    }
    const unscheduled = (await walk(tenantB.apiKey, { status: 'connected' })).views;
    assert.ok(unscheduled.length > 0);
    for (const v of unscheduled) assert.equal(v.nextSyncAt, null, 'a connected integration without a schedule');
    const others = await walk(tenantA.apiKey, { status: 'needs_reauth,awaiting_consent' });
    for (const v of others.views) assert.equal(v.nextSyncAt, null);
  });
});

describe('bad query values are 400 naming the parameter', () => {
  const BAD: Array<[string, string[]]> = [
    ['limit=0', ['limit']],
    ['limit=201', ['limit']],
    ['limit=ten', ['limit']],
    ['limit=1.5', ['limit']],
    ['limit=5&limit=6', ['limit']],
    ['status=disconnected', ['status']],
    ['status=connected,sleeping', ['status']],
    ['status=', ['status']],
    ['cursor=', ['cursor']],
    ['cursor=not-a-cursor', ['cursor']],
    [`cursor=${Buffer.from('{"v":1,"c":"2026-02-30T00:00:00.000000Z","i":"00000000-0000-4000-8000-000000000000","s":""}').toString('base64url')}`, ['cursor']],
    [`cursor=${Buffer.from('{"v":1,"c":"2026-01-01T00:00:00.000000Z","i":"x\'; drop table integrations","s":""}').toString('base64url')}`, ['cursor']],
    ['sort=name', ['sort']],
    ['limit=0&status=nope&page=2', ['limit', 'status', 'page']],
  ];
  for (const [query, names] of BAD) {
    test(`?${query.length > 60 ? `${query.slice(0, 60)}…` : query} → 400 naming ${names.join(', ')}`, async () => {
      const res = await api(system, 'GET', `/v1/integrations?${query}`, { key: tenantA.apiKey });
      assert.equal(res.status, 400, res.text);
      assert.match(res.headers.get('content-type')!, /^application\/problem\+json/);
      assert.deepEqual(res.json.errors.map((e: { name: string }) => e.name).sort(), [...names].sort());
      for (const e of res.json.errors) assert.ok(e.reason.length > 5, `a reason for ${e.name}`);
    });
  }

  test('a cursor of another status filter is 400 naming cursor', async () => {
    const first = await api(system, 'GET', '/v1/integrations?status=connected&limit=2', { key: tenantA.apiKey });
    const res = await api(system, 'GET', `/v1/integrations?status=failed&cursor=${first.json.nextCursor}`, { key: tenantA.apiKey });
    assert.equal(res.status, 400);
    assert.deepEqual(
      res.json.errors.map((e: { name: string }) => e.name),
      ['cursor'],
    );
    assert.match(res.json.errors[0].reason, /status/);
    // The same filter in another order is the same filter.
    const same = await api(
      system,
      'GET',
      `/v1/integrations?status=failed,connected&cursor=${(await api(system, 'GET', '/v1/integrations?status=connected,failed&limit=2', { key: tenantA.apiKey })).json.nextCursor}`,
      { key: tenantA.apiKey },
    );
    assert.equal(same.status, 200, same.text);
  });
});

describe('Temporal calls', () => {
  /** An API of this system whose Temporal client counts every gRPC call it makes, by method. */
  async function countingApi(): Promise<{
    url: string;
    calls: Map<string, number>;
    metricsText(): Promise<string>;
    resetCache(): void;
    stop(): Promise<void>;
  }> {
    const calls = new Map<string, number>();
    const counter: Interceptor = (options, next) => {
      const method = String(options.method_definition.path).split('/').pop()!;
      calls.set(method, (calls.get(method) ?? 0) + 1);
      return new InterceptingCall(next(options));
    };
    const connection = await Connection.connect({ address: system.config.temporal.address, interceptors: [counter] });
    const temporal = new Client({ connection, namespace: system.config.temporal.namespace });
    const logger = createLogger('error', new Writable({ write: (_chunk, _enc, cb) => cb() }));
    const metrics = createMetrics();
    const app = createApp({ db: system.db, box: system.box, config: system.config, temporal, logger, metrics });
    const server: Server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      calls,
      // What its internal port's /metrics would show (this test serves only the public app).
      metricsText: () => metrics.registry.metrics(),
      resetCache: () => (app.locals.cache as ApiCache).invalidate('all'),
      stop: async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await (app.locals.cache as ApiCache).close();
        await connection.close();
      },
    };
  }

  test('a page of 200 connected integrations (and every other page) costs at most one Temporal call, not one per row', async () => {
    const counting = await countingApi();
    try {
      const connected = live(rowsA).filter((r) => r.status === 'connected').length;
      assert.ok(connected > 200, `${connected} connected integrations`);
      let cursor: string | null = null;
      let pages = 0;
      let listed = 0;
      let withNext = 0;
      do {
        counting.calls.clear();
        const res = await fetch(`${counting.url}/v1/integrations?status=connected&limit=200${cursor ? `&cursor=${cursor}` : ''}`, {
          headers: { authorization: `Bearer ${tenantA.apiKey}` },
        });
        assert.equal(res.status, 200);
        const body = (await res.json()) as any;
        listed += body.integrations.length;
        assert.deepEqual(Object.fromEntries(counting.calls), { ListSchedules: 1 }, `page ${pages + 1} of ${body.integrations.length} integrations`);
        withNext += body.integrations.filter((i: { nextSyncAt: string | null }) => i.nextSyncAt !== null).length;
        cursor = body.nextCursor;
        pages++;
      } while (cursor);
      assert.equal(listed, connected);
      assert.equal(withNext, scheduled.length - PAUSED);
      // Listed again: every schedule's next times come from the API's cache, no Temporal call at all.
      await waitFor('the API caches to turn on', async () => /^api_cache_enabled(\{[^}]*\})? 1$/m.test(await counting.metricsText()), 10_000);
      // From empty: the caches may have turned on while the pages above were listed, and kept their times.
      counting.resetCache();
      const page = async (query: string) => {
        counting.calls.clear();
        const res = await fetch(`${counting.url}/v1/integrations?${query}`, { headers: { authorization: `Bearer ${tenantA.apiKey}` } });
        assert.equal(res.status, 200);
        return { body: (await res.json()) as any, calls: Object.fromEntries(counting.calls) };
      };
      const first = await page('status=connected&limit=200');
      assert.deepEqual(first.calls, { ListSchedules: 1 }, 'filled once the cache is on');
      const again = await page('status=connected&limit=200');
      assert.deepEqual(again.calls, {}, 'a second listing is answered from the cache');
      assert.deepEqual(
        again.body.integrations.map((i: any) => i.nextSyncAt),
        first.body.integrations.map((i: any) => i.nextSyncAt),
      );
      // A change of one integration (here: a sync run of it starting) drops its entry: its page asks Temporal again, once.
      const changed = scheduled[scheduled.length - 1 - PAUSED]; // on the first page (newest first)
      await system.db
        .insertInto('sync_runs')
        .values({ integration_id: changed!, workflow_id: `zendesk-sync-${changed}-x`, run_id: 'r', status: 'succeeded', error: null })
        .execute();
      await waitFor('the change to reach the API', async () => Object.keys((await page('status=connected&limit=200')).calls).length > 0, 5_000);
      assert.deepEqual((await page('status=connected&limit=200')).calls, {});
      await system.db.deleteFrom('sync_runs').where('integration_id', '=', changed!).execute();
      // A page without a connected integration asks Temporal nothing.
      counting.calls.clear();
      const none = await fetch(`${counting.url}/v1/integrations?status=failed&limit=200`, { headers: { authorization: `Bearer ${tenantA.apiKey}` } });
      assert.equal(none.status, 200);
      assert.equal(counting.calls.size, 0);
    } finally {
      await counting.stop();
    }
  });
});
