import { z } from 'zod';
import { Problem } from '../schemas';

/** The 429 problem of the per-tenant budgets (src/api/limits/headers.ts). */
export const RateLimitedProblem = Problem.extend({
  budget: z
    .enum(['requests', 'reports', 'reports-concurrency', 'csv', 'csv-concurrency', 'integrations'])
    .describe(
      'Which budget of the tenant is spent: `requests` (every request), `reports` (database work of reports: one unit per report the cache could not answer plus one per further 100 ms, and the fetch time of exports), `reports-concurrency` (report computations and exports running and waiting at once), `csv` (exports started), `csv-concurrency` (exports running at once), `integrations` (integrations created)',
    ),
  retryAfterSeconds: z.number().int().min(1).describe('The same as the Retry-After header'),
});

/** Headers of a 429 (and, but for Retry-After, of every response that spent a budget). */
export const RATE_LIMIT_HEADERS = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 1 } },
  'RateLimit-Policy': {
    description:
      'IETF draft-ietf-httpapi-ratelimit-headers: each budget the request spent, as `"<budget>";q=<quota>;w=<window seconds>` (a token bucket holding `q`, refilled at q per w seconds), shared by all API keys of the tenant and all API processes',
    schema: { type: 'string' },
  },
  RateLimit: {
    description: 'Per budget: `"<budget>";r=<units left>;t=<seconds>` (`t`: until the next unit when none is left, else until the quota is whole again)',
    schema: { type: 'string' },
  },
};
