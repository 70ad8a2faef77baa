/**
 * `npm test`: every test against real services. Creates a uniquely named PostgreSQL database and
 * migrates it, starts one Temporal dev server for the whole run, runs Node's test runner over the test
 * files (each file in its own process), then stops the server and drops the database.
 *
 *   npm test                      # everything
 *   npm test -- test/unit         # a folder or files
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { createDb } from '../src/db/database';
import { migrateToLatest } from '../src/db/migrator';
import { startDevServer } from '../src/temporal/devServer';

const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function collect(target: string): string[] {
  if (statSync(target).isFile()) return [target];
  return readdirSync(target, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? collect(path.join(target, entry.name)) : entry.name.endsWith('.test.ts') ? [path.join(target, entry.name)] : []))
    .sort();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/**
 * One statement on a short-lived admin connection. No connection is held during the run: test/chaos restarts
 * PostgreSQL, and an idle pg.Client whose server goes away emits an unhandled 'error' that killed this runner.
 */
async function adminQuery(statement: string): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    await admin.query(statement);
  } finally {
    await admin.end();
  }
}

async function main(): Promise<number> {
  const targets = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const files = (targets.length ? targets : ['test']).flatMap(collect);
  if (files.length === 0) throw new Error('No test files found');

  const dbName = `zwtest_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`;
  await adminQuery(`CREATE DATABASE ${dbName}`);
  const databaseUrl = ADMIN_URL.replace(/\/[^/?]*(\?|$)/, `/${dbName}$1`);
  const db = createDb(databaseUrl, 1);
  await migrateToLatest(db);
  await db.destroy();

  const temporal = await startDevServer({ port: await freePort(), log: (l) => console.log(l) });
  console.log(`test run: database ${dbName}, Temporal dev server ${temporal.address}, ${files.length} files`);

  let exitCode: number;
  try {
    exitCode = await new Promise<number>((resolve) => {
      // One file at a time: files share the database, and test/chaos restarts PostgreSQL and fingerprints it.
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '--test',
          '--test-concurrency=1',
          '--test-timeout=600000',
          '--test-reporter=spec',
          ...process.argv.slice(2).filter((a) => a.startsWith('-')),
          ...files,
        ],
        {
          stdio: 'inherit',
          env: { ...process.env, DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporal.address, TEST_DATABASE_ADMIN_URL: ADMIN_URL },
        },
      );
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    });
  } finally {
    await temporal.stop();
    await adminQuery(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  }
  return exitCode;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
