import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import net from 'node:net';
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

/** A bare wire-protocol connection, so a test can send one message per TCP write. */
async function rawConnection(url: string) {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let received = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
  const message = (type: string, body: Buffer) => {
    const head = Buffer.alloc(5);
    head.write(type, 0, 'latin1');
    head.writeInt32BE(body.length + 4, 1);
    return Buffer.concat([head, body]);
  };
  const cstr = (text: string) => Buffer.from(`${text}\0`, 'utf8');
  const int16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
  /** Resolves once the server's answers so far end with ReadyForQuery; returns them as text and clears them. */
  const ready = async () => {
    for (let i = 0; i < 500 && !(received.length >= 6 && received[received.length - 6] === 0x5a); i++) await new Promise((r) => setTimeout(r, 10));
    const text = received.toString('latin1');
    received = Buffer.alloc(0);
    return text;
  };
  const startup = Buffer.concat([Buffer.from([0, 3, 0, 0]), cstr('user'), cstr('postgres'), cstr('database'), cstr('postgres'), Buffer.from([0])]);
  const length = Buffer.alloc(4);
  length.writeInt32BE(startup.length + 4);
  socket.write(Buffer.concat([length, startup]));
  await ready();
  const write = (b: Buffer) => new Promise<void>((resolve) => socket.write(b, () => resolve()));
  return {
    parse: (text: string) => write(message('P', Buffer.concat([cstr(''), cstr(text), int16(0)]))),
    bindExecuteSync: (params: string[]) =>
      write(
        Buffer.concat([
          message(
            'B',
            Buffer.concat([
              cstr(''),
              cstr(''),
              int16(0),
              int16(params.length),
              ...params.flatMap((p) => {
                const v = Buffer.from(p);
                const l = Buffer.alloc(4);
                l.writeInt32BE(v.length);
                return [l, v];
              }),
              int16(0),
            ]),
          ),
          message('E', Buffer.concat([cstr(''), Buffer.alloc(4)])),
          message('S', Buffer.alloc(0)),
        ]),
      ),
    ready,
    close: () => socket.end(),
  };
}

test("two connections' extended-protocol batches never interleave, even when split across writes (pglite#1046)", async () => {
  const a = await rawConnection(embedded.url);
  const b = await rawConnection(embedded.url);
  try {
    // A parses a one-parameter statement; before it binds, B runs a whole two-parameter batch.
    await a.parse('SELECT $1::int AS v');
    await new Promise((r) => setTimeout(r, 50));
    await b.parse('SELECT $1::int + $2::int AS v');
    await b.bindExecuteSync(['40', '2']);
    await a.bindExecuteSync(['7']);
    const [answerA, answerB] = await Promise.all([a.ready(), b.ready()]);
    assert.doesNotMatch(answerA, /bind message supplies|prepared statement/, 'A binds its own statement');
    assert.doesNotMatch(answerB, /bind message supplies|prepared statement/, 'B binds its own statement');
    // A DataRow's column is a 4-byte length then the text value.
    assert.ok(answerA.includes('\u0000\u0000\u0000\u00017'), 'A gets 7');
    assert.ok(answerB.includes('\u0000\u0000\u0000\u000242'), 'B gets 42');
  } finally {
    a.close();
    b.close();
  }
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
  await db
    .insertInto('integrations')
    .values({ ...live, status: 'disconnected' })
    .execute();
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
