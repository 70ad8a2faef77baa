import type { Response } from 'express';
import { HttpProblem } from '../problems';
import type { Budget, BudgetName } from './budget';
import type { LimitDecision } from './tenantLimits';

/**
 * The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers-10), one policy per budget:
 * `RateLimit-Policy: "reports";q=120;w=60` (quota `q` per window of `w` seconds) and
 * `RateLimit: "reports";r=37;t=12` (`r` units left; `t` seconds until the next unit when none is left,
 * else until the quota is whole again). Both are structured-field lists, so a response that passed two
 * budgets (every report computation also passes `requests`) lists both.
 */
const policyItem = (name: BudgetName, budget: Budget) => `"${name}";q=${budget.quota};w=${Math.round(budget.windowMs / 1000)}`;

/** Policy items never change: built once per budget. */
const policyCache = new Map<Budget, string>();
function policyText(name: BudgetName, budget: Budget): string {
  let text = policyCache.get(budget);
  if (text === undefined) policyCache.set(budget, (text = policyItem(name, budget)));
  return text;
}

function append(res: Response, header: string, item: string): void {
  const existing = res.getHeader(header);
  res.setHeader(header, existing === undefined ? item : `${String(existing)}, ${item}`);
}

/** Adds the decision's items to the response's RateLimit-Policy and RateLimit headers (and Retry-After when refused). */
export function setRateLimitHeaders(res: Response, d: LimitDecision): void {
  append(res, 'RateLimit-Policy', policyText(d.budget, d.policy));
  append(res, 'RateLimit', `"${d.budget}";r=${d.remaining};t=${d.resetSeconds}`);
  if (!d.allowed) res.setHeader('Retry-After', String(d.resetSeconds));
}

const WHAT: Record<BudgetName, string> = {
  requests: 'API requests',
  reports: 'report computation units (one per report the cache could not answer, plus one per further 100 ms of work)',
  csv: 'users.csv exports',
  integrations: 'integrations created',
};

/**
 * A 429 problem. It carries its headers, so that whoever renders it (src/api/limits/problemHeaders.ts)
 * sets them even when it reaches the response through a shared computation.
 */
export class TooManyRequests extends HttpProblem {
  constructor(
    readonly headers: Record<string, string>,
    detail: string,
    extra: Record<string, unknown>,
  ) {
    super(429, 'Too many requests', detail, [], { type: 'https://zendesk-integration-worker.dev/problems/rate-limited', ...extra });
  }
}

export function tooManyRequests(d: LimitDecision): TooManyRequests {
  const q = d.policy.quota;
  const w = Math.round(d.policy.windowMs / 1000);
  return new TooManyRequests(
    {
      'Retry-After': String(d.resetSeconds),
      'RateLimit-Policy': policyText(d.budget, d.policy),
      RateLimit: `"${d.budget}";r=0;t=${d.resetSeconds}`,
    },
    `This tenant's budget of ${WHAT[d.budget]} is spent (${q} per ${w} s, shared by all its API keys); retry in ${d.resetSeconds} s.`,
    { budget: d.budget, retryAfterSeconds: d.resetSeconds },
  );
}
