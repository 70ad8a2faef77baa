import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { createDb } from '../../src/db/database';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded';
import { migrateToLatest } from '../../src/db/migrator';
import type { Database } from '../../src/db/tables';
import { adminQuery, databaseUrl } from './adminDb';

/**
 * The run's database (created and migrated by scripts/test.ts, dropped at the end). One pool per test
 * file; its idle connections let the process exit, so no test needs to close it.
 */
let shared: Kysely<Database> | undefined;

export function testDb(): Kysely<Database> {
  if (!process.env.DATABASE_URL) throw new Error('DATABASE_URL is not set: run tests with `npm test`');
  shared ??= createDb(process.env.DATABASE_URL, 5, { allowExitOnIdle: true });
  return shared;
}

/** A tenant with one integration row, for tests below the API layer. */
export async function createTestIntegration(db: Kysely<Database>, workspace: string, status: Database['integrations']['status'] = 'connected') {
  const tenant = await db
    .insertInto('tenants')
    .values({ name: `tenant for ${workspace}` })
    .returning('id')
    .executeTakeFirstOrThrow();
  const integration = await db
    .insertInto('integrations')
    .values({ tenant_id: tenant.id, workspace, status, error: null, zendesk_user_id: null })
    .returning(['id'])
    .executeTakeFirstOrThrow();
  return { tenantId: tenant.id, integrationId: integration.id };
}

export const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 42);

/** An embedded PostgreSQL (PGlite) in a temporary directory, migrated; `stop()` removes the directory. */
export async function startEmbeddedTestDb(): Promise<{ url: string; embedded: EmbeddedPostgres; stop(): Promise<void> }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'zw-pglite-'));
  const embedded = await startEmbeddedPostgres({ dataDir });
  const db = createDb(embedded.url, 1);
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
  return {
    url: embedded.url,
    embedded,
    stop: async () => {
      await embedded.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A database of its own, created and migrated on the run's server (TEST_DATABASE_ADMIN_URL), for tests of
 * whole-database operations (`rotate-keys` walks every table) that the rows other test files leave in the
 * run's database would disturb. `drop()` removes it.
 */
export async function freshTestDatabase(): Promise<{ url: string; db: Kysely<Database>; drop(): Promise<void> }> {
  const adminUrl = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `zwtest_own_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = (statement: string) => adminQuery(adminUrl, statement);
  await admin(`CREATE DATABASE ${name}`);
  const url = databaseUrl(adminUrl, name);
  const db = createDb(url, 5, { allowExitOnIdle: true });
  await migrateToLatest(db);
  return {
    url,
    db,
    drop: async () => {
      await db.destroy();
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
