import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { sql } from 'kysely';
import { decodeCursor, queryFingerprint } from '../../src/reports/cursor';
import { parseSort, type UserFilters } from '../../src/reports/model';
import { findUserPage } from '../../src/reports/userQuery';
import { api, createTenant, startSystem, type System } from '../helpers/system';

/**
 * A 100,000-user workspace (with 300,000 ticket events), written straight into PostgreSQL: the report
 * queries must use the indexes of migration 20261125T160000 (keyset pages never sort the whole set) and
 * users.csv must stream it in bounded memory. Timings are reported as diagnostics, not asserted (the
 * benchmark suite measures them under load).
 */

const USERS = 100_000;
const EVENTS = 300_000;

let system: System;
let tenant: { id: string; apiKey: string };
let integrationId: string;

before(async () => {
  system = await startSystem();
  tenant = await createTenant(system, 'Scale tenant');
  const { db } = system;
  const row = await db
    .insertInto('integrations')
    .values({ tenant_id: tenant.id, workspace: 'scale-acme', status: 'connected', error: null, zendesk_user_id: null, connected_at: new Date() })
    .returning('id')
    .executeTakeFirstOrThrow();
  integrationId = row.id;
  await sql`
    INSERT INTO zendesk_users (integration_id, id, name, email, created_at, updated_at, last_login_at, role, role_type, report_csv, chat_only,
                               moderator, restricted_agent, shared, shared_agent, suspended, ticket_restriction, two_factor_auth_enabled, verified, deleted)
    SELECT ${integrationId}::uuid, 360000000000 + g * 7919,
           (ARRAY['Ada','Ben','Chloé','Dmitri','Eve','Fatima','Grace','Hiro','Анна','太郎'])[1 + g % 10] || ' ' ||
           (ARRAY['Smith','O''Brien','García','Müller','Kim','Patel','Nguyễn','Johnson'])[1 + (g / 10) % 8] || ' ' || g,
           'user.' || g || '@example.com',
           now() - (${USERS} - g) * interval '30 minutes', now(),
           CASE WHEN g % 11 = 0 THEN NULL ELSE now() - ((g * 7) % 400) * interval '1 day' - (g % 1440) * interval '1 minute' END,
           r.role,
           CASE WHEN r.role = 'agent' THEN (ARRAY[NULL, 0, 1, 2, 3])[1 + g % 5] WHEN r.role = 'admin' THEN 4 END,
           g % 4 = 0, false, g % 5 = 0, r.role = 'agent' AND g % 3 = 0, g % 50 = 0, false, g % 12 = 0,
           CASE WHEN r.role = 'end-user' THEN 'requested' END, CASE WHEN g % 10 = 0 THEN NULL ELSE g % 2 = 0 END, g % 4 <> 0, g % 20 = 0
      FROM generate_series(1, ${USERS}) g,
           LATERAL (SELECT CASE WHEN g % 100 < 64 THEN 'end-user' WHEN g % 100 < 93 THEN 'agent' ELSE 'admin' END AS role) r`.execute(db);
  // Agents and admins do most of the ticket work.
  await sql`
    INSERT INTO ticket_events (integration_id, event_id, ticket_id, user_id, occurred_at)
    SELECT ${integrationId}::uuid, 300000000000 + g * 10, g / 6,
           360000000000 + (((g::bigint * 2654435761) % ${USERS}) + 1) * 7919,
           now() - ((g::bigint * 40503) % (90 * 86400)) * interval '1 second'
      FROM generate_series(1, ${EVENTS}) g`.execute(db);
  await sql`ANALYZE zendesk_users`.execute(db);
  await sql`ANALYZE ticket_events`.execute(db);
  await sql`ANALYZE zendesk_user_activity`.execute(db);
});

after(() => system?.stop());

async function timed(path: string) {
  const t0 = performance.now();
  const res = await api(system, 'GET', path, { key: tenant.apiKey });
  return { res, ms: performance.now() - t0 };
}

/** The plan of one page query, captured by running it under EXPLAIN through the same code. */
async function planOf(query: Record<string, string>, cursor?: string): Promise<string> {
  const sortParam = (query.sort ?? 'name') as Parameters<typeof parseSort>[0];
  const sort = parseSort(sortParam);
  const filters: UserFilters = {
    includeDeleted: false,
    ...(query.role ? { role: query.role.split(',') as UserFilters['role'] } : {}),
    ...(query.q ? { q: query.q } : {}),
  };
  const fingerprint = queryFingerprint(integrationId, filters, 30);
  const decoded = cursor ? decodeCursor(cursor, { sort, fingerprint }) : undefined;
  if (decoded && !decoded.ok) throw new Error(decoded.reason);
  const window = { inactiveDays: 30, asOf: decoded?.ok ? decoded.cursor.asOf : new Date() };
  let plan = '';
  // The real query builder, on a handle whose executor EXPLAINs instead of executing.
  const explaining = system.db.withPlugin({ transformQuery: (args) => args.node, transformResult: async (args) => args.result });
  const executor = (explaining as any).getExecutor();
  const execute = executor.executeQuery.bind(executor);
  executor.executeQuery = async (compiled: any, queryId: any) => {
    const result = await execute({ ...compiled, sql: `EXPLAIN ${compiled.sql}` }, queryId);
    plan = result.rows.map((r: any) => r['QUERY PLAN']).join('\n');
    return { rows: [] };
  };
  await findUserPage(explaining, { integrationId, filters, sort, window, limit: 100, after: decoded?.ok ? decoded.cursor.position : undefined });
  return plan;
}

describe('a 100,000-user workspace', () => {
  for (const sort of ['name', '-name', 'createdAt', '-createdAt', 'lastLoginAt', '-lastLoginAt']) {
    test(`sort=${sort}: pages come from the sort's index, first and by cursor`, async (t) => {
      const first = await timed(`/v1/integrations/${integrationId}/users?sort=${sort}&role=agent,admin`);
      assert.equal(first.res.status, 200);
      assert.equal(first.res.json.users.length, 100);
      const second = await timed(`/v1/integrations/${integrationId}/users?sort=${sort}&role=agent,admin&cursor=${first.res.json.nextCursor}`);
      assert.equal(second.res.status, 200);
      t.diagnostic(`first page ${first.ms.toFixed(1)} ms, second page ${second.ms.toFixed(1)} ms (with total = ${first.res.json.total})`);
      for (const cursor of [undefined, first.res.json.nextCursor]) {
        const plan = await planOf({ sort, role: 'agent,admin' }, cursor);
        assert.match(plan, /Index Scan (Backward )?using zendesk_users_sort_/, plan);
        // The only sort is the page's own 100 rows (outer query), never the whole set below the limit.
        const limitAt = plan.indexOf('Limit');
        assert.ok(!/Sort\b/.test(plan.slice(limitAt)), plan);
      }
    });
  }

  test('q uses the trigram indexes', async (t) => {
    const res = await timed(`/v1/integrations/${integrationId}/users?q=o'brien%2099`);
    assert.equal(res.res.status, 200);
    assert.ok(res.res.json.total > 0);
    t.diagnostic(`q page ${res.ms.toFixed(1)} ms`);
    const plan = await planOf({ q: "o'brien 99", sort: 'name' });
    assert.match(plan, /zendesk_users_(name|email)_trgm/, plan);
  });

  test('the other report queries answer', async (t) => {
    for (const path of ['users?seat=paid&usage=inactive', 'users?sort=-lastActivityAt&role=agent,admin', 'users?sort=-ticketInteractions', 'utilization']) {
      const { res, ms } = await timed(`/v1/integrations/${integrationId}/${path}`);
      assert.equal(res.status, 200, res.text);
      t.diagnostic(`${path}: ${ms.toFixed(1)} ms`);
    }
  });

  test('users.csv streams 100,000 rows in bounded memory, and waits for a slow reader', async (t) => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const baseline = process.memoryUsage().heapUsed;
    let peak = 0;
    const sample = () => {
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
    };
    const res = await fetch(`${system.apiUrl}/v1/integrations/${integrationId}/users.csv?includeDeleted=true`, {
      headers: { authorization: `Bearer ${tenant.apiKey}` },
    });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    let bytes = 0;
    let lines = 0;
    let chunks = 0;
    const t0 = performance.now();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.length;
      for (const b of value) if (b === 0x0a) lines++;
      if (++chunks === 5) {
        // A slow reader: the server must stop reading pages rather than buffer the export.
        sample();
        await new Promise((r) => setTimeout(r, 1000));
        sample();
      }
      if (chunks % 200 === 0) sample();
    }
    sample();
    t.diagnostic(
      `${lines} lines, ${(bytes / 1e6).toFixed(1)} MB in ${(performance.now() - t0).toFixed(0)} ms; live heap growth at most ${(peak / 1e6).toFixed(1)} MB`,
    );
    assert.equal(lines, USERS + 1);
    assert.ok(peak < bytes / 2, `live heap grew by ${peak} bytes for a ${bytes}-byte export`);
  });

  test('users.csv is one snapshot: users renamed, added or deleted while it streams change nothing in it', async () => {
    const res = await fetch(`${system.apiUrl}/v1/integrations/${integrationId}/users.csv?includeDeleted=true&sort=name`, {
      headers: { authorization: `Bearer ${tenant.apiKey}` },
    });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    // A few chunks in (the server is held back by the unread socket from then on), a sync writes:
    while (text.length < 200_000) {
      const { done, value } = await reader.read();
      assert.ok(!done);
      text += decoder.decode(value, { stream: true });
    }
    const { db } = system;
    // users move to the end of the order (paging listed those already exported twice, the others under their new name),
    const moved = await sql<{ id: number }>`
      UPDATE zendesk_users SET name = 'zzz moved ' || name WHERE integration_id = ${integrationId}::uuid AND name LIKE 'Ada Smith %' RETURNING id`.execute(db);
    // users not yet exported are deleted (paging would leave them out) and new ones arrive at the end.
    const deleted = await sql<{ id: number; name: string }>`
      DELETE FROM zendesk_users WHERE integration_id = ${integrationId}::uuid AND name LIKE '太郎 %' AND id % 3 = 0 RETURNING id, name`.execute(db);
    await sql`
      INSERT INTO zendesk_users (integration_id, id, name, email, updated_at)
      SELECT ${integrationId}::uuid, 990000000000 + g, 'zzz new ' || g, 'new.' || g || '@example.com', now() FROM generate_series(1, 500) g`.execute(db);
    assert.ok(moved.rows.length > 100 && deleted.rows.length > 100);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      const ids = text
        .split('\r\n')
        .slice(1, -1)
        .map((line) => Number(line.slice(0, line.indexOf(','))));
      assert.equal(ids.length, USERS, 'every user of the snapshot, none of the new ones');
      assert.equal(new Set(ids).size, USERS, 'none twice');
      const exported = new Set(ids);
      for (const r of deleted.rows) assert.ok(exported.has(r.id), `deleted meanwhile, still in the snapshot: ${r.id}`);
      assert.ok(!text.includes('zzz'), 'no name written after the export began');
    } finally {
      // (The last test of the file: the deleted users stay deleted.)
      await sql`DELETE FROM zendesk_users WHERE integration_id = ${integrationId}::uuid AND id >= 990000000000`.execute(db);
      await sql`UPDATE zendesk_users SET name = substr(name, 11) WHERE integration_id = ${integrationId}::uuid AND name LIKE 'zzz moved %'`.execute(db);
    }
  });
});
