import type { Response } from 'express';
import { TooManyRequests } from './headers';
import { spendOrThrow } from './middleware';
import type { TenantGate } from './tenantGate';
import type { TenantLimits } from './tenantLimits';

/** How long a tenant refused for too many computations at once is asked to wait. */
const BUSY_RETRY_AFTER_S = 1;

/**
 * A report computation of a tenant: one unit of its `reports` budget, then one of its
 * API_REPORT_CONCURRENCY slots in this process (waiting for it, when the queue has room), then `compute`.
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
  try {
    return await compute();
  } finally {
    release();
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
