import type pg from 'pg';
import type { Config } from '../config';

/**
 * The API's pool settings (createDb's `extra`): every statement of the API is cut at API_STATEMENT_TIMEOUT
 * (sent as a connection parameter, so it costs no round trip; users.csv sets its own, longer one per
 * export), and a request waits at most API_DATABASE_POOL_WAIT for a connection. Both errors become a 503
 * problem with Retry-After (src/api/limits/overload.ts): a flood queues briefly and fails clearly.
 */
export function apiPoolSettings(config: Pick<Config, 'apiDatabase'>): Partial<pg.PoolConfig> {
  return {
    statement_timeout: config.apiDatabase.statementTimeoutMs,
    connectionTimeoutMillis: config.apiDatabase.poolWaitMs,
  };
}
