import { Router } from 'express';
import { findTenant } from '../../db/repositories/tenants';
import { TENANT_ID } from '../../temporal/searchAttributes';
import { offboardWorkflowId, zendeskOffboard } from '../../workflows/offboard';
import { requireAdmin } from '../auth';
import type { ApiDeps } from '../deps';
import { HttpProblem, notFound } from '../problems';
import { TenantIdParams } from '../tenantSchemas';
import { tenantView } from '../tenantView';
import { parseOr400 } from '../validate';

/** How long the request waits for the offboarding to finish before answering 202 (it goes on regardless). */
const OFFBOARD_WAIT_MS = 5_000;

/**
 * `POST /v1/tenants/:id/offboard` (admin): starts the tenant's offboard workflow, or joins the one under way
 * (USE_EXISTING), which owns the whole operation (src/workflows/offboard.ts), so a failure halfway is retried,
 * never left half done. 200 when it finished within a few seconds, else 202 with the workflow id; 503 with
 * nothing changed when Temporal is unreachable. Offboarding an offboarded tenant again checks that nothing is
 * left and answers 200.
 */
export function offboardRouter(deps: ApiDeps): Router {
  const router = Router();
  router.post('/v1/tenants/:id/offboard', requireAdmin(deps.config.adminApiKey), async (req, res) => {
    const { id } = parseOr400(TenantIdParams, req.params, 'path');
    const tenant = await findTenant(deps.db, id);
    if (!tenant) throw notFound(`No tenant ${id}.`);
    const workflowId = offboardWorkflowId(tenant.id);
    const handle = await deps.temporal.workflow
      .start(zendeskOffboard, {
        taskQueue: deps.config.temporal.taskQueue,
        workflowId,
        workflowIdConflictPolicy: 'USE_EXISTING',
        args: [{ tenantId: tenant.id }],
        typedSearchAttributes: [{ key: TENANT_ID, value: tenant.id }],
        staticSummary: `Offboard tenant ${tenant.id}: disconnect and purge every integration, revoke every key`,
      })
      .catch((err: unknown) => {
        deps.logger.warn({ tenantId: tenant.id, err: (err as Error).message }, 'could not start the offboarding');
        throw new HttpProblem(
          503,
          'Unavailable',
          'The offboarding could not be started (the workflow service is unreachable); nothing was changed. Try again shortly.',
        );
      });
    deps.logger.info({ tenantId: tenant.id, workflowId }, 'tenant offboarding requested');
    const result = await Promise.race([handle.result(), new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), OFFBOARD_WAIT_MS).unref())]);
    const now = (await findTenant(deps.db, tenant.id)) ?? tenant;
    if (result === undefined) {
      res
        .status(202)
        .json({ tenant: { ...tenantView(now), status: now.status === 'offboarded' ? now.status : 'offboarding' }, workflowId, integrations: null });
      return;
    }
    res.status(200).json({ tenant: tenantView(now), workflowId, integrations: result.integrations });
  });
  return router;
}
