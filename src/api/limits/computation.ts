import type { Response } from 'express';
import { TooManyRequests } from './headers';
import { spendOrThrow } from './middleware';
import type { TenantGate } from './tenantGate';
import type { TenantLimits } from './tenantLimits';

/**
 * The `reports` budget counts database work, not requests: a computation costs one unit, plus one for each
 * further 100 ms it took (charged when it ends). A cheap report of a small workspace costs one; a report
 * that reads 100,000 users for a second costs ten, so a tenant's budget bounds its share of the database,
 * whatever its reports weigh. users.csv exports are charged their fetch time the same way.
 */
const UNIT_MS = 100;

/** The units beyond the first that work of `ms` costs. */
export const extraUnits = (ms: number) => Math.floor(ms / UNIT_MS);

/** How long a tenant refused for too many computations at once is asked to wait. */
const BUSY_RETRY_AFTER_S = 1;

/**
 * A report computation of a tenant: one unit of its `reports` budget, then one of its
 * API_REPORT_CONCURRENCY slots in this process (waiting for it, when the queue has room), then `compute`,
 * then the units of the time it took.
 */
export async function tenantComputation<T>(
  limits: TenantLimits,
  gate: TenantGate,
  res: Response | undefined,
  tenantId: string,
  compute: () => Promise<T>,
): Promise<T> {
  spendOrThrow(limits, res, tenantId, 'reports');
  let release: () => void;
  try {
    release = await enterGate(gate, tenantId);
  } catch (err) {
    limits.refund(tenantId, 'reports');
    throw err;
  }
  const started = performance.now();
  try {
    return await compute();
  } finally {
    release();
    limits.charge(tenantId, 'reports', extraUnits(performance.now() - started));
  }
}

/** One of the tenant's slots (waiting for it when the queue has room), or the 429 `reports-concurrency` problem. */
export async function enterGate(gate: TenantGate, tenantId: string): Promise<() => void> {
  const entered = gate.enter(tenantId);
  if (!entered) {
    throw new TooManyRequests(
      { 'Retry-After': String(BUSY_RETRY_AFTER_S) },
      `This tenant already has ${gate.concurrency} report computation${gate.concurrency === 1 ? '' : 's'} or export${gate.concurrency === 1 ? '' : 's'} running and ${gate.maxQueued} waiting; retry in ${BUSY_RETRY_AFTER_S} s.`,
      { budget: 'reports-concurrency', retryAfterSeconds: BUSY_RETRY_AFTER_S },
    );
  }
  return entered;
}
