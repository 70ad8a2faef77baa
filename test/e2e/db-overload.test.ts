import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { sql, type Kysely } from 'kysely';
import { createApp } from '../../src/api/app';
import { ApiCache } from '../../src/api/cache/apiCache';
import { loadConfig } from '../../src/config';
import { apiPoolSettings } from '../../src/db/apiPool';
import { createDb } from '../../src/db/database';
import type { Database } from '../../src/db/tables';
import { createLogger } from '../../src/logger';
import { createTenant, startSystem, type System } from '../helpers/system';

/**
 * A database too busy to answer: the API's statements are cut at API_STATEMENT_TIMEOUT (users.csv's at
 * API_CSV_STATEMENT_TIMEOUT) and a request waits at most API_DATABASE_POOL_WAIT for a connection; either
 * way the client gets a 503 problem with Retry-After within about that time. (Before: no timeout at all —
 * each request below hung for as long as the lock or the held connections lasted.)
 */

let system: System;
let apiDb: Kysely<Database>;
let server: Server;
let url: string;
let tenant: { id: string; apiKey: string };
let integrationId: string;

before(async () => {
  system = await startSystem({ inProcessWorker: false });
  const config = loadConfig({ ...system.env, API_STATEMENT_TIMEOUT: '300ms', API_CSV_STATEMENT_TIMEOUT: '400ms', API_DATABASE_POOL_WAIT: '250ms' }, 'api');
  // The API's pool as src/api-server.ts makes it, with a single connection.
  apiDb = createDb(config.databaseUrl, 1, { ...apiPoolSettings(config), allowExitOnIdle: true });
  const quiet = createLogger('warn', new Writable({ write: (_c, _e, cb) => cb() }));
  // No cache (never enabled): every report reads the database.
  const app = createApp({ db: apiDb, box: system.box, config, temporal: system.temporal, logger: quiet, cache: new ApiCache({ ttlMs: 0, maxBytes: 1 }) });
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  tenant = await createTenant(system, 'Overload tenant');
  const row = await system.db
    .insertInto('integrations')
    .values({ tenant_id: tenant.id, workspace: 'busy-acme', status: 'connected', error: null, zendesk_user_id: null, connected_at: new Date() })
    .returning('id')
    .executeTakeFirstOrThrow();
  integrationId = row.id;
  await sql`INSERT INTO zendesk_users (integration_id, id, name, email, updated_at) SELECT ${integrationId}::uuid, g, 'User ' || g, 'u' || g || '@example.com', now() FROM generate_series(1, 50) g`.execute(
    system.db,
  );
});

after(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await apiDb?.destroy();
  await system?.stop();
});

async function get(path: string) {
  const t0 = performance.now();
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${tenant.apiKey}` } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text.startsWith('{') ? JSON.parse(text) : undefined, text, ms: performance.now() - t0 };
}

function assertUnavailable(res: Awaited<ReturnType<typeof get>>, withinMs: number) {
  assert.equal(res.status, 503, res.text);
  assert.equal(res.json.status, 503);
  assert.match(res.json.detail, /too busy/);
  assert.equal(res.headers.get('retry-after'), '2');
  assert.ok(res.ms < withinMs, `answered in ${Math.round(res.ms)} ms`);
}

/** Runs `fn` while another session holds an exclusive lock on zendesk_users (as a long migration or a stuck statement would). */
async function whileLocked<T>(fn: () => Promise<T>): Promise<T> {
  return system.db.connection().execute(async (conn) => {
    await sql`BEGIN`.execute(conn);
    await sql`LOCK TABLE zendesk_users IN ACCESS EXCLUSIVE MODE`.execute(conn);
    try {
      return await fn();
    } finally {
      await sql`ROLLBACK`.execute(conn);
    }
  });
}

test('a report query stuck behind a lock is cut at API_STATEMENT_TIMEOUT: 503 with Retry-After', async () => {
  assert.equal((await get(`/v1/integrations/${integrationId}/users`)).status, 200, 'answers when the database does');
  const res = await whileLocked(() => get(`/v1/integrations/${integrationId}/users?q=stuck`));
  assertUnavailable(res, 3_000);
  assert.equal((await get(`/v1/integrations/${integrationId}/users`)).status, 200, 'and answers again after');
});

test('users.csv stuck behind a lock is cut at API_CSV_STATEMENT_TIMEOUT before any byte: 503', async () => {
  const res = await whileLocked(() => get(`/v1/integrations/${integrationId}/users.csv`));
  assertUnavailable(res, 3_000);
  const ok = await get(`/v1/integrations/${integrationId}/users.csv`);
  assert.equal(ok.status, 200);
  assert.equal(ok.text.split('\r\n').length, 52);
});

test('no free connection within API_DATABASE_POOL_WAIT: 503, and the request does not wait for the pool to free up', async () => {
  // Every connection of the API's pool (one) is taken, as by a flood of slow requests.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const holding = apiDb.connection().execute(async () => held);
  try {
    const res = await get(`/v1/integrations/${integrationId}/utilization`);
    assertUnavailable(res, 3_000);
  } finally {
    release();
    await holding;
  }
  assert.equal((await get(`/v1/integrations/${integrationId}/utilization`)).status, 200);
});

test("a tenant's computations wait their turn (one at a time here), ten at most; beyond that 429 at once", async () => {
  // An API whose pool has room for every request, and one report computation per tenant at a time.
  const config = loadConfig({ ...system.env, API_STATEMENT_TIMEOUT: '300ms', API_REPORT_CONCURRENCY: '1' }, 'api');
  const db = createDb(config.databaseUrl, 15, { ...apiPoolSettings(config), allowExitOnIdle: true });
  const quiet = createLogger('warn', new Writable({ write: (_c, _e, cb) => cb() }));
  const gated = createServer(
    createApp({ db, box: system.box, config, temporal: system.temporal, logger: quiet, cache: new ApiCache({ ttlMs: 0, maxBytes: 1 }) }),
  );
  await new Promise<void>((resolve) => gated.listen(0, '127.0.0.1', resolve));
  const gatedUrl = `http://127.0.0.1:${(gated.address() as AddressInfo).port}`;
  const results = await whileLocked(() =>
    Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const t0 = performance.now();
        const res = await fetch(`${gatedUrl}/v1/integrations/${integrationId}/users?q=queued${i}`, { headers: { authorization: `Bearer ${tenant.apiKey}` } });
        const text = await res.text();
        return { status: res.status, headers: res.headers, json: JSON.parse(text), ms: performance.now() - t0 };
      }),
    ),
  ).finally(async () => {
    gated.closeAllConnections();
    await new Promise<void>((resolve) => gated.close(() => resolve()));
    await db.destroy();
  });
  const refused = results.filter((r) => r.status === 429);
  assert.equal(refused.length, 1, results.map((r) => r.status).join(','));
  assert.equal(refused[0]!.json.budget, 'reports-concurrency');
  assert.equal(refused[0]!.headers.get('retry-after'), '1');
  assert.ok(refused[0]!.ms < 1_000, `refused at once (${Math.round(refused[0]!.ms)} ms)`);
  // The others ran one after another, each cut by the statement timeout while the lock was held.
  assert.ok(results.filter((r) => r.status === 503).length === 11);
});
