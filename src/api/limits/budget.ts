/**
 * A per-tenant budget as configured: `quota` units per `windowMs`, enforced as a token bucket that holds
 * at most `quota` tokens and refills at `quota / windowMs` (so a tenant may spend the whole quota at once,
 * then goes at the refill rate). The same two numbers are what the IETF `RateLimit-Policy` header
 * advertises (`q` and `w`).
 */
export interface Budget {
  quota: number;
  windowMs: number;
}

/** The budgets a tenant has; each is counted apart (a report computation does not spend the CSV budget). */
export type BudgetName = 'requests' | 'reports' | 'csv' | 'integrations';

const UNITS = { s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** The longest window: a bucket row untouched for a day is full whatever its window, so it can be forgotten. */
const MAX_WINDOW_MS = 86_400_000;

/**
 * Parses `600/10s`, `120/1m`, `20/1h` (quota per window; the window's number may be left out: `120/m`).
 * Undefined for anything else.
 */
export function parseBudget(text: string): Budget | undefined {
  const match = /^(\d+)\s*\/\s*(\d*)\s*(s|m|h)$/.exec(text.trim());
  if (!match) return undefined;
  const [, count, length, unit] = match as unknown as [string, string, string, keyof typeof UNITS];
  const quota = Number(count);
  const windowMs = Number(length || '1') * UNITS[unit];
  if (!Number.isSafeInteger(quota) || quota < 1 || windowMs < 1_000 || windowMs > MAX_WINDOW_MS) return undefined;
  return { quota, windowMs };
}

/** Tokens a budget's bucket gains per millisecond. */
export const refillPerMs = (budget: Budget) => budget.quota / budget.windowMs;
