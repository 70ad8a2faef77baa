import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import Cursor from 'pg-cursor';
import type { Database } from './tables';

// Zendesk ids exceed 2^31 but stay below 2^53: parse int8 (and count(*)) as JS numbers, not strings.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/** A Kysely handle or a transaction: repositories accept either. */
export type Db = Kysely<Database> | Transaction<Database>;

/**
 * Runs `work` in the caller's transaction when given one, else in a new one (`isolation` applies only then:
 * a caller's transaction keeps its own).
 */
export function inTransaction<T>(db: Db, work: (trx: Db) => Promise<T>, isolation?: 'repeatable read' | 'serializable'): Promise<T> {
  if (db.isTransaction) return work(db);
  const begin = db.transaction();
  return (isolation ? begin.setIsolationLevel(isolation) : begin).execute(work);
}

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/zendesk_integration';

/** Told of connection errors nobody else sees (a dropped idle connection); given a message, never a secret. */
export type PoolErrorListener = (error: { message: string; code?: string }) => void;

/**
 * How long any pool waits for a free connection (or for a new one to open) before the query fails, unless
 * the caller says otherwise: without it a flood, or a database that accepts TCP but never answers, kept
 * every caller waiting forever. The API passes its own, much shorter one (src/db/apiPool.ts).
 */
const DEFAULT_POOL_WAIT_MS = 30_000;

export function createDb(connectionString: string, poolSize = 10, extra: Partial<pg.PoolConfig> = {}, onPoolError?: PoolErrorListener): Kysely<Database> {
  const pool = new pg.Pool({ connectionString, max: poolSize, idleTimeoutMillis: 10_000, connectionTimeoutMillis: DEFAULT_POOL_WAIT_MS, ...extra });
  // Only the message and SQLSTATE: a pg error can carry the connection parameters.
  const report = (err: Error & { code?: string }) => onPoolError?.({ message: err.message, code: err.code });
  pool.on('connect', (client) => {
    // A connection that PostgreSQL closes (a restart, a failover, pg_terminate_backend) emits 'error' on its
    // client; unless a query is running, nobody listens, and the uncaught exception killed the whole process
    // (API or worker). A checked-out client (between the statements of a transaction) reports it to the
    // caller as a failed query instead, and the pool discards it on release (found by test/chaos/postgres).
    client.on('error', report);
    // JIT compilation adds 25-100 ms to the report queries and saves nothing at these sizes.
    client.query('SET jit = off').catch(() => undefined);
  });
  // The same for idle pooled connections, which the pool reports as its own 'error': pg has already
  // dropped the broken client, and the next query opens a new connection. Either way it is logged (warn):
  // a database that keeps dropping connections is something an operator must see.
  pool.on('error', report);
  // `cursor`: Kysely streams (`executor.stream`) through pg-cursor's server-side portal (users.csv).
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool, cursor: Cursor }) });
}
