import type { ErrorRequestHandler } from 'express';
import { HttpProblem } from '../problems';
import { TooManyRequests } from './headers';
import type { Tarpit } from './tarpit';

/** SQLSTATE query_canceled: what PostgreSQL answers when `statement_timeout` fires. */
const QUERY_CANCELED = '57014';

/**
 * Is this a sign of a database too busy to answer in time: no pool connection within
 * API_DATABASE_POOL_WAIT (pg-pool's timeout; pg's own when a new connection cannot be opened in time), or
 * a statement cut by API_STATEMENT_TIMEOUT?
 */
function isDatabaseOverload(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const { code } = err as { code?: string };
  if (code === QUERY_CANCELED && /statement timeout/.test(err.message)) return true;
  return /^timeout exceeded when trying to connect$|^Connection terminated due to connection timeout$/.test(err.message);
}

/** Seconds a client is asked to wait after a 503 for an overloaded database. */
const OVERLOAD_RETRY_AFTER_S = 2;

/**
 * Before the problem handler: a 429 gets its headers (`Retry-After`, `RateLimit`, `RateLimit-Policy`) — after
 * the tarpit's pause when its tenant did not wait after the last one (src/api/limits/tarpit.ts) — and a
 * database too busy to answer becomes a 503 problem with `Retry-After`: a flood queues briefly at the pool
 * and then fails clearly, instead of every request hanging behind it (or a bare 500).
 */
export function overloadProblems(tarpit?: Tarpit): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (err instanceof TooManyRequests) {
      if (!res.headersSent) for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
      const delay = req.tenant && tarpit ? tarpit.delayFor(req.tenant.id) : 0;
      if (delay > 0) setTimeout(() => next(err), delay);
      else next(err);
      return;
    }
    if (isDatabaseOverload(err)) {
      if (!res.headersSent) res.setHeader('Retry-After', String(OVERLOAD_RETRY_AFTER_S));
      next(new HttpProblem(503, 'Unavailable', `The database is too busy to answer in time; retry in ${OVERLOAD_RETRY_AFTER_S} s.`));
      return;
    }
    next(err);
  };
}
