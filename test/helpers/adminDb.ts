import pg from 'pg';

/**
 * Databases made for one run (test/helpers/db.ts, bench/harness.ts), created and dropped
 * through the server's admin connection.
 */

/**
 * One statement on a short-lived admin connection. No connection is held during a run: test/chaos restarts
 * PostgreSQL, and an idle pg.Client whose server goes away emits an unhandled 'error' that killed the runner.
 */
export async function adminQuery(adminUrl: string, statement: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    await admin.query(statement);
  } finally {
    await admin.end();
  }
}

/** The admin URL with another database name (its path), query string kept. */
export function databaseUrl(adminUrl: string, name: string): string {
  return adminUrl.replace(/\/[^/?]*(\?|$)/, `/${name}$1`);
}
