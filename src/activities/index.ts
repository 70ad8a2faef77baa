import { Context } from '@temporalio/activity';
import { findIntegration } from '../db/repositories/integrations';
import { contextualLogger, integrationIdFromWorkflowId, knownTenant, rememberTenant, withLogContext, type LogContext } from '../observability/logContext';
import { createConnectActivities } from './connect';
import type { ActivityDeps } from './deps';
import { createDisconnectActivities } from './disconnect';
import { createHousekeepingActivities } from './housekeeping';
import { createOffboardActivities } from './offboard';
import { createStagedConnectActivities } from './stagedConnect';
import { createReclaimActivities } from './reclaim';
import { createSyncActivities } from './sync';

/** Every activity the worker registers, built once from their dependencies. */
export function createActivities(deps: ActivityDeps) {
  // Every line an activity logs carries its tenant, integration, workflow and activity (see withActivityLogContext).
  const logged: ActivityDeps = { ...deps, logger: contextualLogger(deps.logger) };
  const activities = {
    ...createConnectActivities(logged),
    ...createStagedConnectActivities(logged),
    ...createDisconnectActivities(logged),
    ...createSyncActivities(logged),
    ...createHousekeepingActivities(logged),
    ...createOffboardActivities(logged),
    ...createReclaimActivities(logged),
  };
  return withActivityLogContext(deps, activities);
}

export type { ActivityDeps };

/**
 * Runs each activity inside a log context: workflow and activity from the activity's info, the
 * integration from its input (or its workflow id), the tenant from its input or the integration's row
 * (looked up once per integration and remembered).
 */
function withActivityLogContext<T extends Record<string, (...args: any[]) => Promise<unknown>>>(deps: ActivityDeps, activities: T): T {
  const tenantOf = async (integrationId: string | undefined): Promise<string | undefined> => {
    if (!integrationId) return undefined;
    const known = knownTenant(integrationId);
    if (known) return known;
    try {
      const row = await findIntegration(deps.db, integrationId);
      if (row) rememberTenant(integrationId, row.tenant_id);
      return row?.tenant_id;
    } catch {
      return undefined; // logging context must never fail an activity
    }
  };
  const wrapped: Record<string, (...args: any[]) => Promise<unknown>> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: any[]) => {
      let info: Context['info'] | undefined;
      try {
        info = Context.current().info;
      } catch {
        return fn(...args); // called outside an activity (unit tests)
      }
      const input = (args[0] ?? {}) as { integrationId?: unknown; tenantId?: unknown };
      const workflowId = info.workflowExecution?.workflowId;
      const integrationId = typeof input.integrationId === 'string' ? input.integrationId : integrationIdFromWorkflowId(workflowId);
      if (integrationId && typeof input.tenantId === 'string') rememberTenant(integrationId, input.tenantId);
      const context: LogContext = {
        tenantId: typeof input.tenantId === 'string' ? input.tenantId : await tenantOf(integrationId),
        integrationId,
        workflowId,
        runId: info.workflowExecution?.runId,
        activityType: info.activityType,
        attempt: info.attempt,
      };
      return withLogContext(context, () => fn(...args));
    };
  }
  return wrapped as T;
}
