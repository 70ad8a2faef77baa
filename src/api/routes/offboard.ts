import { Router } from 'express';
import { findTenant } from '../../db/repositories/tenants';
import { TENANT_ID } from '../../temporal/searchAttributes';
import { offboardWorkflowId, zendeskOffboard } from '../../workflows/offboard';
import { requireAdmin } from '../auth';
import type { ApiDeps } from '../deps';
import { HttpProblem, notFound } from '../problems';
import { BAD_REQUEST, NO_TENANT, UNAUTHORIZED, WORKFLOW_UNREACHABLE } from '../routeResponses';
import { defineRoute, mount } from '../routeSpec';
import { OffboardResult, TenantIdParams } from '../tenantSchemas';
import { tenantView } from '../tenantView';
import { parseOr400 } from '../validate';

/** How long the request waits for the offboarding to finish before answering 202 (it goes on regardless). */
const OFFBOARD_WAIT_MS = 5_000;

const offboardTenant = defineRoute({
  method: 'post',
  path: '/v1/tenants/{id}/offboard',
  operationId: 'offboardTenant',
  summary: 'Offboard a tenant: every integration disconnected and purged, every key revoked (admin key)',
  description:
    'A durable operation, the workflow `zendesk-offboard-<tenant id>` (a repeated request joins it): the tenant turns `offboarding` at once (its keys are ' +
    'refused from then on), each integration — whatever its state — is disconnected and purged by its own disconnect workflow (sync schedule deleted, ' +
    'syncs stopped, consent links ended, the grant revoked at Zendesk when Zendesk allows it, stored tokens and synced users, ticket events and checkpoints ' +
    "deleted), then every key is revoked and the tenant is `offboarded`. The tenant row and its integrations' rows (disconnected, with their sync runs: counts, no personal data) stay as history.",
  tag: 'tenants',
  security: 'admin',
  params: TenantIdParams,
  responses: {
    200: { description: 'Offboarded (it finished within a few seconds)', body: OffboardResult },
    202: {
      description: 'Accepted: the offboarding goes on in workflow `workflowId`; `GET /v1/tenants/{id}` shows `offboarded` once done',
      body: OffboardResult,
    },
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    404: NO_TENANT,
    503: WORKFLOW_UNREACHABLE,
  },
});

export const offboardRoutes = [offboardTenant];

/**
 * `POST /v1/tenants/:id/offboard` (admin): starts the tenant's offboard workflow, or joins the one under way
 * (USE_EXISTING), which owns the whole operation (src/workflows/offboard.ts), so a failure halfway is retried,
 * never left half done. 200 when it finished within a few seconds, else 202 with the workflow id; 503 with
 * nothing changed when Temporal is unreachable. Offboarding an offboarded tenant again checks that nothing is
 * left and answers 200.
 */
export function offboardRouter(deps: ApiDeps): Router {
  const router = Router();
  mount(router, offboardTenant, requireAdmin(deps.config.adminApiKey), async (req, res) => {
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
