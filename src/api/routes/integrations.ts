import { Router, type Request } from 'express';
import { ScheduleNotFoundError } from '@temporalio/client';
import {
  deleteIntegration,
  findLiveIntegration,
  findTenantIntegration,
  insertIntegration,
  setIntegrationStatus,
  updateIntegrationSettings,
} from '../../db/repositories/integrations';
import { runningSyncRun, syncRunClosed } from '../../db/repositories/syncRuns';
import { syncChainRunning } from '../../temporal/syncChain';
import { ensureSyncSchedule, triggerSync } from '../../temporal/syncSchedule';
import { disconnectWorkflowId, zendeskDisconnect } from '../../workflows/disconnect';
import { parseWorkspaceInput } from '../../zendesk/workspace';
import { searchAttributesFor } from '../../temporal/searchAttributes';
import { integrationTag, type ApiCache } from '../cache/apiCache';
import { beginConsent } from '../consent';
import { consentBeingCompleted } from '../consentInProgress';
import type { ApiDeps } from '../deps';
import { spendBudget } from '../limits/middleware';
import type { TenantLimits } from '../limits/tenantLimits';
import { integrationViews } from '../integrationView';
import { listIntegrations } from './integrationList';
import { integrationOwnership } from '../ownership';
import { badRequest, conflict, HttpProblem, unauthorized } from '../problems';
import { CreateIntegrationBody, DeleteQuery, ReconnectBody, UpdateIntegrationSettingsBody } from '../schemas';
import { parseOr400 } from '../validate';

/** How long DELETE waits for its disconnect to finish before answering 202 (it goes on regardless). */
const DISCONNECT_WAIT_MS = 5_000;

/** Integrations of the calling tenant. Another tenant's id answers exactly like an unknown one. */
export function integrationsRouter(deps: ApiDeps & { cache?: ApiCache; limits?: TenantLimits }): Router {
  const router = Router();
  const { db } = deps;
  // Each creation opens a consent attempt (a Temporal workflow): its own per-tenant budget.
  const creationBudget = deps.limits ? spendBudget(deps.limits, 'integrations') : (_req: Request, _res: unknown, next: () => void) => next();

  // Read uncached: these routes act on the integration's current status.
  const ownIntegration = integrationOwnership({ db });

  router.post('/v1/integrations/zendesk', creationBudget, async (req, res) => {
    const body = parseOr400(CreateIntegrationBody, req.body, 'body');
    const parsed = parseWorkspaceInput(body.workspace);
    if (!parsed.ok) throw badRequest(`workspace: ${parsed.reason}`, [{ name: 'workspace', reason: parsed.reason }]);
    const tenantId = req.tenant!.id;
    const alreadyThere = (id: string) =>
      conflict(`Workspace ${parsed.subdomain} already has integration ${id} for this tenant; use it (or reconnect it) instead.`, { existingId: id });
    const existing = await findLiveIntegration(db, tenantId, parsed.subdomain);
    if (existing) throw alreadyThere(existing.id);
    let integration;
    try {
      integration = await insertIntegration(db, tenantId, parsed.subdomain);
      // Offboarded since this request was authenticated: its keys are no longer valid.
      if (!integration) throw unauthorized('The API key is not valid.');
    } catch (err) {
      if (err instanceof HttpProblem) throw err;
      // Two concurrent creates: the unique index lets one win.
      const winner = await findLiveIntegration(db, tenantId, parsed.subdomain);
      if (winner) throw alreadyThere(winner.id);
      throw err;
    }
    let authorizeUrl: string;
    try {
      authorizeUrl = await beginConsent(deps, integration, { access: body.access });
    } catch (err) {
      await deleteIntegration(db, integration.id);
      throw err;
    }
    deps.logger.info({ tenantId, integrationId: integration.id, workspace: integration.workspace }, 'integration created; awaiting consent');
    res.status(201).json({ id: integration.id, workspace: integration.workspace, status: 'awaiting_consent', authorizeUrl });
  });

  router.get('/v1/integrations', listIntegrations(deps));

  router.get('/v1/integrations/:id', async (req, res) => {
    const [view] = await integrationViews(deps, [await ownIntegration(req)]);
    res.json(view);
  });

  // Takes effect from the next sync (a running one keeps the settings it started with).
  router.patch('/v1/integrations/:id/settings', async (req, res) => {
    const integration = await ownIntegration(req);
    const settings = parseOr400(UpdateIntegrationSettingsBody, req.body, 'body');
    await updateIntegrationSettings(db, integration.id, settings);
    const row = (await findTenantIntegration(db, integration.tenant_id, integration.id)) ?? integration;
    const [view] = await integrationViews(deps, [row]);
    res.json(view);
  });

  router.post('/v1/integrations/:id/reconnect', async (req, res) => {
    const integration = await ownIntegration(req);
    const { access } = parseOr400(ReconnectBody, req.body ?? {}, 'body');
    if (await consentBeingCompleted(deps, integration)) {
      throw conflict('A consent for this integration is being completed right now; try again in a moment.');
    }
    // A connected integration stays connected, and keeps syncing with its grant, until an admin's new grant
    // replaces it; any other one waits for the consent as on its first connect.
    const keepsWorking = integration.status === 'connected';
    if (!keepsWorking) await setIntegrationStatus(db, integration.id, { status: 'awaiting_consent', error: null, onlyFrom: [integration.status] });
    const authorizeUrl = await beginConsent(deps, integration, { purpose: keepsWorking ? 'reconnect' : 'connect', access });
    deps.logger.info({ tenantId: integration.tenant_id, integrationId: integration.id, keepsWorking }, 'reconnect requested');
    res.json({ authorizeUrl });
  });

  router.post('/v1/integrations/:id/sync', async (req, res) => {
    const integration = await ownIntegration(req);
    if (integration.status !== 'connected') {
      throw conflict(`The integration is ${integration.status}; only a connected integration can sync.`);
    }
    // A sync at work joins, even one that continued as new (the schedule no longer sees it as running).
    const running = await runningSyncRun(deps.db, integration.id);
    if (running && (await syncChainRunning(deps.temporal, running.workflow_id, running.run_id))) {
      res.status(202).json({ workflowId: running.workflow_id, runId: running.run_id });
      return;
    }
    const started = await triggerSync(deps.temporal, integration.id, { wrappingUp: (workflowId) => syncRunClosed(deps.db, workflowId) }).catch(async (err) => {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
      // A connected integration always has a schedule; if it was removed by hand, put it back.
      const target = { integrationId: integration.id, tenantId: integration.tenant_id, workspace: integration.workspace };
      await ensureSyncSchedule(deps.temporal, target, {
        taskQueue: deps.config.temporal.taskQueue,
        intervalMs: deps.config.syncIntervalMs,
        run: deps.config.syncRun,
      });
      return triggerSync(deps.temporal, integration.id);
    });
    if (!started) throw new HttpProblem(503, 'Unavailable', 'The sync could not be started; try again shortly.');
    res.status(202).json(started);
  });

  router.delete('/v1/integrations/:id', async (req, res) => {
    const { purge } = parseOr400(DeleteQuery, req.query, 'query');
    const integration = await ownIntegration(req);
    const workflowId = disconnectWorkflowId(integration.id);
    // The disconnect workflow owns the whole operation, so a failure halfway can only leave it to be
    // retried, never half done. USE_EXISTING: a repeated DELETE joins the disconnect under way.
    const handle = await deps.temporal.workflow
      .start(zendeskDisconnect, {
        taskQueue: deps.config.temporal.taskQueue,
        workflowId,
        workflowIdConflictPolicy: 'USE_EXISTING',
        args: [{ integrationId: integration.id, purge: purge === 'true' }],
        typedSearchAttributes: searchAttributesFor({ tenantId: integration.tenant_id, integrationId: integration.id, workspace: integration.workspace }),
        staticSummary: `Disconnect Zendesk workspace ${integration.workspace}${purge === 'true' ? ' and purge its data' : ''}`,
      })
      .catch((err: unknown) => {
        deps.logger.warn({ integrationId: integration.id, err: (err as Error).message }, 'could not start the disconnect');
        throw new HttpProblem(
          503,
          'Unavailable',
          'The disconnect could not be started (the workflow service is unreachable); nothing was changed. Try again shortly.',
        );
      });
    // Its reports answer 404 from now on, in this process at once (the others on the notification).
    deps.cache?.invalidate(integrationTag(integration.id), 'local');
    // Revoking at Zendesk is the worker's job (the API never calls Zendesk): wait a little, so the answer
    // usually says what really happened there; a longer disconnect (a large purge) answers 202.
    const result = await Promise.race([handle.result(), new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), DISCONNECT_WAIT_MS).unref())]);
    const row = (await findTenantIntegration(db, integration.tenant_id, integration.id)) ?? integration;
    const [view] = await integrationViews(deps, [row]);
    if (result === undefined) {
      res.status(202).json({ ...view, status: row.status === 'disconnected' ? row.status : 'disconnecting', revocation: null, workflowId });
      return;
    }
    const revocation = result.revocation ?? null;
    deps.logger.info(
      { tenantId: integration.tenant_id, integrationId: integration.id, purge: purge === 'true', revocation: revocation?.outcome },
      'integration disconnected',
    );
    res.status(200).json({ ...view, revocation, workflowId });
  });

  return router;
}
