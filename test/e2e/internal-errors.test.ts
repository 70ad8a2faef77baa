import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import pg from 'pg';
import { createApp } from '../../src/api/app';
import type { ApiCache } from '../../src/api/cache/apiCache';
import { createDb } from '../../src/db/database';
import { createLogger } from '../../src/logger';
import { api, createTenant, followConsent, startSystem, waitForSync, type System } from '../helpers/system';

/**
 * Internal error text never reaches a tenant: not in `lastSync.error`, not in a problem response. What they
 * get is a sentence a person can act on and a reference; the log line with that reference has the real error.
 */
const REFERENCE = /ref-[0-9a-f]{12}/;
const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

let system: System;
before(async () => {
  // Two attempts per chunk, so a sync that keeps hitting the same database error fails within seconds.
  system = await startSystem({ env: { SYNC_CHUNK_ATTEMPTS: '2' } });
});
after(async () => {
  await system?.stop();
});

/** The log lines (parsed) that mention a reference. */
const linesWith = (logs: string[], reference: string) =>
  logs
    .join('')
    .split('\n')
    .filter((l) => l.includes(reference))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('lastSync.error', () => {
  test('a PostgreSQL error during a sync shows a sentence and a reference; the log has the reference with the real error', async () => {
    const tenant = await createTenant(system, 'Internal error tenant');
    system.sandbox.createWorkspace({ subdomain: 'pgfail-acme', users: 30, ticketEvents: 30, seed: 21, consentMode: 'allow' });
    const created = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body: { workspace: 'pgfail-acme' } });
    assert.equal(created.status, 201, created.text);
    const id: string = created.json.id;
    // Every write of this integration's users fails in PostgreSQL, with an error that names our schema.
    const fn = `zw_fail_users_${id.replace(/-/g, '')}`;
    const internalText = 'duplicate key value violates unique constraint "zendesk_users_pkey_internal"';
    await sql
      .raw(
        `CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
           IF NEW.integration_id = '${id}'::uuid THEN RAISE EXCEPTION '${internalText.replace(/'/g, "''")}' USING ERRCODE = '23505'; END IF;
           RETURN NEW; END $$`,
      )
      .execute(system.db);
    await sql.raw(`CREATE TRIGGER ${fn} BEFORE INSERT ON zendesk_users FOR EACH ROW EXECUTE FUNCTION ${fn}()`).execute(system.db);
    try {
      const consent = await followConsent(created.json.authorizeUrl);
      assert.equal(consent.status, 200, consent.html);
      const run = await waitForSync(system, id, { timeoutMs: 60_000 });
      assert.equal(run.status, 'failed');

      const view = await api(system, 'GET', `/v1/integrations/${id}`, { key: tenant.apiKey });
      assert.equal(view.status, 200);
      const shown: string = view.json.lastSync.error;
      assert.match(
        shown,
        /^The sync stopped because of an error on our side \(reference ref-[0-9a-f]{12}\)\. The next scheduled sync tries again; if this keeps happening, contact support and quote the reference\.$/,
      );
      for (const internal of ['duplicate key', 'constraint', 'zendesk_users', 'pkey', '23505'])
        assert.ok(!shown.includes(internal), `"${internal}" is not shown: ${shown}`);

      const reference = REFERENCE.exec(shown)![0];
      const lines = linesWith(system.logs, reference);
      assert.ok(lines.length >= 1, `a log line carries ${reference}`);
      assert.ok(
        lines.some((l) => String(l.error).includes(internalText)),
        `the log has the real error: ${JSON.stringify(lines)}`,
      );
      assert.ok(
        lines.some((l) => l.integrationId === id),
        'and names the integration',
      );
    } finally {
      await sql.raw(`DROP TRIGGER IF EXISTS ${fn} ON zendesk_users`).execute(system.db);
      await sql.raw(`DROP FUNCTION IF EXISTS ${fn}()`).execute(system.db);
    }
  });
});

describe('problem responses', () => {
  test('an unexpected exception in a route answers 500 with a reference and no internal text; the log has both', async () => {
    // A database without our schema: every query of a route fails in PostgreSQL ("relation … does not exist").
    const name = `zwtest_empty_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`;
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const db = createDb(ADMIN_URL.replace(/\/[^/?]*(\?|$)/, `/${name}$1`), 2);
    const logs: string[] = [];
    const logger = createLogger('debug', new Writable({ write: (chunk, _e, cb) => (logs.push(chunk.toString()), cb()) }));
    const app = createApp({
      db,
      box: system.box,
      config: { ...system.config, reportCache: { ...system.config.reportCache, ttlMs: 0 } },
      temporal: system.temporal,
      logger,
    });
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const requests: Array<[string, RequestInit]> = [
        ['/v1/integrations', { headers: { authorization: 'Bearer some-tenant-key-0123456789' } }],
        [
          '/v1/tenants',
          { method: 'POST', headers: { authorization: `Bearer ${system.adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x' }) },
        ],
      ];
      for (const [path, init] of requests) {
        const res = await fetch(`${url}${path}`, init);
        const text = await res.text();
        assert.equal(res.status, 500, `${path}: ${text}`);
        assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
        const body = JSON.parse(text);
        assert.match(body.reference, /^ref-[0-9a-f]{12}$/);
        assert.equal(body.title, 'Internal error');
        assert.equal(
          body.detail,
          `Something went wrong on our side (reference ${body.reference}). Try again in a moment; if it keeps happening, contact support and quote the reference.`,
        );
        for (const internal of ['relation', 'does not exist', 'tenants', 'select', 'insert', 'at ', '.ts'])
          assert.ok(!text.toLowerCase().includes(internal), `${path}: "${internal}" is not in the answer: ${text}`);
        const lines = linesWith(logs, body.reference);
        assert.ok(
          lines.some((l) => /relation "(tenants|tenant_api_keys)" does not exist/.test(String((l.err as { message?: string } | undefined)?.message))),
          `${path}: the log has the PostgreSQL error with the reference: ${JSON.stringify(lines)}`,
        );
      }
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await (app.locals.cache as ApiCache).close();
      await db.destroy();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });
});
