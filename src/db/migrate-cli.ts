import { loadConfigOrExit } from '../config';
import { createDb } from './database';
import { migrateToLatest } from './migrator';

/** `npm run migrate`: applies pending migrations to DATABASE_URL. */
async function main(): Promise<void> {
  const config = loadConfigOrExit('migrate');
  const db = createDb(config.databaseUrl, 1);
  try {
    const { results } = await migrateToLatest(db);
    const applied = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Database is up to date.');
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(`Migration failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
