import type { z } from 'zod';
import { RATE_LIMIT_HEADERS, RateLimitedProblem } from './limits/schemas';
import type { ResponseSpec } from './routeSpec';
import { InternalProblem, Problem } from './schemas';

/** Responses several routes share, for their specs (src/api/routeSpec.ts). */

export const problem = (description: string, body: z.ZodType = Problem): ResponseSpec => ({ description, body, problem: true });

/** Routes under /v1/integrations: the tenant's budgets (src/api/limits, spent from app.ts and in routes). */
export const TOO_MANY_REQUESTS: ResponseSpec = {
  ...problem(
    'A budget of the tenant is spent (README, "Fair sharing between tenants"): `budget` says which; retry after `Retry-After` seconds',
    RateLimitedProblem,
  ),
  headers: RATE_LIMIT_HEADERS,
};

/** Every tenant route (added by the generator): a database too busy to answer in time (src/api/limits/overload.ts). */
export const UNAVAILABLE: ResponseSpec = {
  ...problem('The database did not answer in time (API_STATEMENT_TIMEOUT, or no connection within API_DATABASE_POOL_WAIT); retry after `Retry-After` seconds'),
  headers: { 'Retry-After': RATE_LIMIT_HEADERS['Retry-After'] },
};

/** Every route (added by the generator). */
export const INTERNAL_ERROR = problem(
  "Unexpected error: `detail` is a sentence without the error's text; `reference` identifies it in our logs (quote it to support)",
  InternalProblem,
);

/**
 * A GET answered with `res.json`/`res.send`: Express gives the body a weak ETag and answers 304 itself when
 * `If-None-Match` matches it (the app keeps Express's default `etag` setting).
 */
export const NOT_MODIFIED: ResponseSpec = { description: 'Not Modified: `If-None-Match` matches the `ETag` of the current answer (no body)' };

export const BAD_REQUEST = problem('Invalid parameters or body: `errors` names each one with its reason');
export const UNAUTHORIZED = problem('Missing or invalid API key');
export const NOT_FOUND = problem("No such integration for this tenant (another tenant's id answers the same)");
export const NO_TENANT = problem('No such tenant');
export const WORKFLOW_UNREACHABLE = problem('The workflow service is unreachable: nothing was changed; try again');
