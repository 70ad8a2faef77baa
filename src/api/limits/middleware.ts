import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { BudgetName } from './budget';
import { setRateLimitHeaders, tooManyRequests } from './headers';
import type { TenantLimits } from './tenantLimits';

/**
 * Spends one unit of the calling tenant's `budget` (after `requireTenant`), or answers 429. Synchronous
 * and allocation-light: it runs for every authenticated request, cache hits included.
 */
export function spendBudget(limits: TenantLimits, budget: BudgetName): RequestHandler {
  if (!limits.policy(budget)) return (_req, _res, next) => next();
  return (req: Request, res: Response, next: NextFunction) => {
    const decision = limits.take(req.tenant!.id, budget)!;
    setRateLimitHeaders(res, decision);
    if (!decision.allowed) throw tooManyRequests(decision);
    next();
  };
}

/** For work inside a route (a report computation): spends or throws the 429 problem. */
export function spendOrThrow(limits: TenantLimits, res: Response | undefined, tenantId: string, budget: BudgetName): void {
  const decision = limits.take(tenantId, budget);
  if (!decision) return;
  if (res && !res.headersSent) setRateLimitHeaders(res, decision);
  if (!decision.allowed) throw tooManyRequests(decision);
}
