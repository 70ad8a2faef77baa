import { Kysely, Migrator, type MigrationResultSet } from 'kysely';
import { migrations } from '../../migrations';

/** Applies every pending migration. Running it again is a no-op. */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const result = await migrator.migrateToLatest();
  if (result.error) throw result.error;
  return result;
}
