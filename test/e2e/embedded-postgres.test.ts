import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { api, connectAndSync, createTenant, startSystem, waitForSync, type System } from '../helpers/system';
import { startEmbeddedTestDb } from '../helpers/db';
import { differences } from '../helpers/expectations';

/**
 * The embedded PostgreSQL `npm run dev` falls back to (PGlite over the wire protocol): the same
 * migrations and the same queries as on a real server, through the whole connect-and-sync flow.
 */
let embedded: Awaited<ReturnType<typeof startEmbeddedTestDb>>;
let system: System;

before(async () => {
  embedded = await startEmbeddedTestDb();
  system = await startSystem({ databaseUrl: embedded.url });
});
after(async () => {
  await system?.stop();
  await embedded?.stop();
});

test('the schema features the product relies on work on the embedded PostgreSQL', async () => {
  const db = system.db;
  const version = await sql<{ v: string }>`select version() as v`.execute(db);
  assert.match(version.rows[0]!.v, /PostgreSQL/);
  // gen_random_uuid() defaults, partial unique index (one live integration per workspace).
  const tenant = await db.insertInto('tenants').values({ name: 'features' }).returning('id').executeTakeFirstOrThrow();
  assert.match(tenant.id, /^[0-9a-f-]{36}$/);
  const live = { tenant_id: tenant.id, workspace: 'twice', status: 'connected' as const, error: null, zendesk_user_id: null };
  await db.insertInto('integrations').values(live).execute();
  await assert.rejects(db.insertInto('integrations').values(live).execute(), (err: { code?: string }) => err.code === '23505');
  await db.insertInto('integrations').values({ ...live, status: 'disconnected' }).execute();
  // SELECT … FOR UPDATE in a transaction, ON CONFLICT … DO UPDATE … WHERE, DISTINCT ON.
  await db.transaction().execute(async (trx) => {
    const rows = await trx.selectFrom('integrations').select('id').where('tenant_id', '=', tenant.id).forUpdate().execute();
    assert.equal(rows.length, 2);
  });
  const upsert = (until: Date) =>
    sql<{ blocked_until: Date }>`
      insert into zendesk_rate_limits (workspace, bucket, blocked_until) values ('twice', 'users', ${until})
      on conflict (workspace, bucket) do update set blocked_until = excluded.blocked_until
      where zendesk_rate_limits.blocked_until < excluded.blocked_until
      returning blocked_until`.execute(db);
  const later = new Date(Date.now() + 60_000);
  await upsert(later);
  assert.equal((await upsert(new Date(Date.now() - 60_000))).rows.length, 0, 'an earlier block does not replace a later one');
  const newest = await sql<{ status: string }>`
    select distinct on (tenant_id) tenant_id, status from integrations where tenant_id = ${tenant.id} order by tenant_id, created_at desc, status`.execute(db);
  assert.equal(newest.rows.length, 1);
  // pg_trgm (the `q` filter's indexes) is there.
  const similarity = await sql<{ s: number }>`select similarity('zendesk', 'zendesc') as s`.execute(db);
  assert.ok(similarity.rows[0]!.s > 0.3);
});

test('connect and sync on the embedded PostgreSQL: exact data, reports answer', async () => {
  const ws = system.sandbox.createWorkspace({ subdomain: 'embedded', users: 800, ticketEvents: 6_000, seed: 51, consentMode: 'allow' });
  const tenant = await createTenant(system);
  const { integrationId, run } = await connectAndSync(system, tenant.apiKey, 'embedded');
  assert.equal(run.users_synced, 800);
  assert.deepEqual(await differences(system.db, integrationId, ws), []);

  const view = await api(system, 'GET', `/v1/integrations/${integrationId}`, { key: tenant.apiKey });
  assert.equal(view.json.status, 'connected');
  assert.equal(view.json.lastSync.status, 'succeeded');

  const users = await api(system, 'GET', `/v1/integrations/${integrationId}/users?role=agent,admin&sort=-lastActivityAt&limit=50&q=a`, { key: tenant.apiKey });
  assert.equal(users.status, 200, users.text);
  assert.ok(users.json.users.length > 0);
  const utilization = await api(system, 'GET', `/v1/integrations/${integrationId}/utilization`, { key: tenant.apiKey });
  assert.equal(utilization.status, 200, utilization.text);
  const paid = utilization.json.paidSeats;
  assert.equal(paid.total, paid.active + paid.inactive + paid.suspended);
  assert.ok(paid.total > 0);

  // A second sync on top (incremental path: checkpoints, upserts, ON CONFLICT on events).
  ws.suspendUser(ws.users().find((u) => u.active && u.role === 'agent' && !u.suspended)!.id);
  const before = (await system.db.selectFrom('sync_runs').select('id').where('integration_id', '=', integrationId).execute()).map((r) => r.id);
  const again = await api(system, 'POST', `/v1/integrations/${integrationId}/sync`, { key: tenant.apiKey });
  assert.equal(again.status, 202, again.text);
  const second = await waitForSync(system, integrationId, { notIds: before });
  assert.equal(second.status, 'succeeded', second.error ?? '');
  assert.deepEqual(await differences(system.db, integrationId, ws), []);
});
