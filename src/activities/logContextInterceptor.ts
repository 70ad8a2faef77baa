import type { Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Kysely } from 'kysely';
import { findIntegration } from '../db/repositories/integrations';
import type { Database } from '../db/tables';
import { integrationIdFromWorkflowId, knownTenant, rememberTenant, withLogContext, type LogContext } from '../observability/logContext';

/**
 * The activity interceptor that runs every activity inside a log context (samples-typescript style): every
 * line it logs carries the workflow and activity from the activity's info, the integration from its input
 * (or its workflow id), the tenant from its input or the integration's row (looked up once per integration
 * and remembered).
 */
export function activityLogContext(db: Kysely<Database>): ActivityInterceptorsFactory {
  const tenantOf = async (integrationId: string | undefined): Promise<string | undefined> => {
    if (!integrationId) return undefined;
    const known = knownTenant(integrationId);
    if (known) return known;
    try {
      const row = await findIntegration(db, integrationId);
      if (row) rememberTenant(integrationId, row.tenant_id);
      return row?.tenant_id;
    } catch {
      return undefined; // logging context must never fail an activity
    }
  };
  return (ctx: Context) => ({
    inbound: {
      async execute(input, next) {
        const info = ctx.info;
        const first = (input.args[0] ?? {}) as { integrationId?: unknown; tenantId?: unknown };
        const workflowId = info.workflowExecution?.workflowId;
        const integrationId = typeof first.integrationId === 'string' ? first.integrationId : integrationIdFromWorkflowId(workflowId);
        if (integrationId && typeof first.tenantId === 'string') rememberTenant(integrationId, first.tenantId);
        const context: LogContext = {
          tenantId: typeof first.tenantId === 'string' ? first.tenantId : await tenantOf(integrationId),
          integrationId,
          workflowId,
          runId: info.workflowExecution?.runId,
          activityType: info.activityType,
          attempt: info.attempt,
        };
        return withLogContext(context, () => next(input));
      },
    },
  });
}
