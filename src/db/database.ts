import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import type { Database } from './tables';

// Zendesk ids exceed 2^31 but stay below 2^53: parse int8 (and count(*)) as JS numbers, not strings.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/** A Kysely handle or a transaction: repositories accept either. */
export type Db = Kysely<Database> | Transaction<Database>;

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/zendesk_integration';

export function createDb(connectionString: string, poolSize = 10, extra: Partial<pg.PoolConfig> = {}): Kysely<Database> {
  return new Kysely<Database>({
    dialect: new PostgresDialect({
      pool: new pg.Pool({ connectionString, max: poolSize, idleTimeoutMillis: 10_000, ...extra }),
    }),
  });
}
