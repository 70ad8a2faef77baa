import { Router, type Request } from 'express';
import { ScheduleNotFoundError } from '@temporalio/client';
import { findTenantIntegration, updateIntegrationSettings } from '../../db/repositories/integrations';
import { runningSyncRun, syncRunClosed } from '../../db/repositories/syncRuns';
import { syncChainRunning } from '../../temporal/syncChain';
import { ensureSyncSchedule, triggerSync } from '../../temporal/syncSchedule';
import { disconnectWorkflowId, zendeskDisconnect } from '../../workflows/disconnect';
import { parseWorkspaceInput } from '../../zendesk/workspace';
import { searchAttributesFor } from '../../temporal/searchAttributes';
import { integrationTag, type ApiCache } from '../cache/apiCache';
import { connectNewWorkspace, reconnectIntegration as reconnect } from '../connectWorkspace';
import type { ApiDeps } from '../deps';
import { spendBudget } from '../limits/middleware';
import type { TenantLimits } from '../limits/tenantLimits';
import { integrationViews } from '../integrationView';
import { listIntegrations, listIntegrationsRoute } from './integrationList';
import { integrationOwnership } from '../ownership';
import { badRequest, conflict, HttpProblem } from '../problems';
import { BAD_REQUEST, NOT_FOUND, NOT_MODIFIED, problem, TOO_MANY_REQUESTS, UNAUTHORIZED, WORKFLOW_UNREACHABLE } from '../routeResponses';
import { defineRoute, mount } from '../routeSpec';
import {
  ConflictProblem,
  CreatedIntegration,
  CreateIntegrationBody,
  DeleteQuery,
  DisconnectedIntegration,
  Integration,
  IntegrationIdParams,
  Reconnect,
  ReconnectBody,
  SyncStarted,
  UpdateIntegrationSettingsBody,
} from '../schemas';
import { parseOr400 } from '../validate';

/** How long DELETE waits for its disconnect to finish before answering 202 (it goes on regardless). */
const DISCONNECT_WAIT_MS = 5_000;

/** One integration of the caller; under /v1/integrations, so authenticated and spending the `requests` budget (app.ts). */
const ONE_INTEGRATION = { tag: 'integrations', security: 'tenant', params: IntegrationIdParams } as const;

const createZendeskIntegration = defineRoute({
  method: 'post',
  path: '/v1/integrations/zendesk',
  operationId: 'createZendeskIntegration',
  summary: 'Start connecting a Zendesk workspace',
  description:
    '`workspace` accepts `acme`, `acme.zendesk.com` or `https://acme.zendesk.com/...` (all mean `acme`). Send the admin to `authorizeUrl` to grant read access.',
  tag: 'integrations',
  security: 'tenant',
  body: CreateIntegrationBody,
  responses: {
    201: { description: 'Created, awaiting consent', body: CreatedIntegration },
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    409: problem('The workspace is already connected for this tenant (`existingId`)', ConflictProblem),
    429: TOO_MANY_REQUESTS,
  },
});

const getIntegration = defineRoute({
  ...ONE_INTEGRATION,
  method: 'get',
  path: '/v1/integrations/{id}',
  operationId: 'getIntegration',
  summary: 'One integration',
  responses: {
    200: { description: 'The integration', body: Integration },
    304: NOT_MODIFIED,
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    404: NOT_FOUND,
    429: TOO_MANY_REQUESTS,
  },
});

const settingsRoute = defineRoute({
  ...ONE_INTEGRATION,
  method: 'patch',
  path: '/v1/integrations/{id}/settings',
  operationId: 'updateIntegrationSettings',
  summary: "Change the integration's settings (from its next sync on)",
  body: UpdateIntegrationSettingsBody,
  responses: {
    200: { description: 'The integration with its new settings', body: Integration },
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    404: NOT_FOUND,
    429: TOO_MANY_REQUESTS,
  },
});

const disconnectRoute = defineRoute({
  ...ONE_INTEGRATION,
  method: 'delete',
  path: '/v1/integrations/{id}',
  operationId: 'deleteIntegration',
  summary: 'Disconnect: stop syncing, revoke the grant at Zendesk when Zendesk allows it, delete stored tokens',
  query: DeleteQuery,
  responses: {
    200: {
      description:
        'Disconnected (`purge=true`: synced data deleted too). The disconnect is one durable workflow (status, schedule, connect flow, syncs, revocation, purge in batches): a failure halfway only delays it. `revocation` says whether Zendesk really revoked the grant: revoking needs the ' +
        '`write` scope and the worker holds `read`, so Zendesk may refuse (403); the disconnect completes anyway, and `revocation.message` ' +
        "(also the integration's `error`) says how a Zendesk admin removes the grant.",
      body: DisconnectedIntegration,
    },
    202: {
      description:
        'Accepted: the disconnect did not finish within a few seconds (a large purge) and goes on in workflow `workflowId`; the integration shows ' +
        '`disconnecting` (its reports already answer 404) until it is `disconnected`. A repeated DELETE joins the same disconnect.',
      body: DisconnectedIntegration,
    },
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    404: NOT_FOUND,
    429: TOO_MANY_REQUESTS,
    503: WORKFLOW_UNREACHABLE,
  },
});

const syncIntegration = defineRoute({
  ...ONE_INTEGRATION,
  method: 'post',
  path: '/v1/integrations/{id}/sync',
  operationId: 'syncIntegration',
  summary: 'Sync now (joins a sync already running)',
  responses: {
    202: { description: 'Sync started or joined', body: SyncStarted },
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    404: NOT_FOUND,
    409: problem('The integration is not connected'),
    429: TOO_MANY_REQUESTS,
    503: problem('The sync could not be started; try again shortly'),
  },
});

const reconnectIntegrationRoute = defineRoute({
  ...ONE_INTEGRATION,
  method: 'post',
  path: '/v1/integrations/{id}/reconnect',
  operationId: 'reconnectIntegration',
  summary: 'Ask for consent again',
  description:
    'A connected integration stays `connected` and keeps syncing with its current grant while the new consent is pending (shown as `reconnect` on the integration); ' +
    "only an admin's approval replaces the grant (in one transaction, after which the old grant is revoked at Zendesk). A denied, non-admin or unanswered " +
    'reconnect leaves the grant and the schedule as they were. Any other integration (`needs_reauth`, `consent_denied`, `expired`, `failed`, `awaiting_consent`) ' +
    'moves to `awaiting_consent`, as on its first connect. A newer reconnect replaces a pending one. An optional JSON body `{"access": "read" | "reclaim"}` asks for read access (default) or for the reclaim scopes too.',
  responses: {
    200: { description: 'A new consent URL', body: Reconnect },
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    404: NOT_FOUND,
    409: problem('A consent is being completed right now (the code is being exchanged or the user checked)'),
    429: TOO_MANY_REQUESTS,
  },
});

export const integrationRoutes = [
  createZendeskIntegration,
  listIntegrationsRoute,
  getIntegration,
  settingsRoute,
  disconnectRoute,
  syncIntegration,
  reconnectIntegrationRoute,
];

/** Integrations of the calling tenant. Another tenant's id answers exactly like an unknown one. */
export function integrationsRouter(deps: ApiDeps & { cache?: ApiCache; limits?: TenantLimits }): Router {
  const router = Router();
  const { db } = deps;
  // Each creation opens a consent attempt (a Temporal workflow): its own per-tenant budget.
  const creationBudget = deps.limits ? spendBudget(deps.limits, 'integrations') : (_req: Request, _res: unknown, next: () => void) => next();

  // Read uncached: these routes act on the integration's current status.
  const ownIntegration = integrationOwnership({ db });

  mount(router, createZendeskIntegration, creationBudget, async (req, res) => {
    const body = parseOr400(CreateIntegrationBody, req.body, 'body');
    const parsed = parseWorkspaceInput(body.workspace);
    if (!parsed.ok) throw badRequest(`workspace: ${parsed.reason}`, [{ name: 'workspace', reason: parsed.reason }]);
    const { integration, consent } = await connectNewWorkspace(deps, req.tenant!.id, parsed.subdomain, body.access);
    res.status(201).json({ id: integration.id, workspace: integration.workspace, status: 'awaiting_consent', authorizeUrl: consent.authorizeUrl });
  });

  mount(router, listIntegrationsRoute, listIntegrations(deps));

  mount(router, getIntegration, async (req, res) => {
    const [view] = await integrationViews(deps, [await ownIntegration(req)]);
    res.json(view);
  });

  // Takes effect from the next sync (a running one keeps the settings it started with).
  mount(router, settingsRoute, async (req, res) => {
    const integration = await ownIntegration(req);
    const settings = parseOr400(UpdateIntegrationSettingsBody, req.body, 'body');
    await updateIntegrationSettings(db, integration.id, settings);
    const row = (await findTenantIntegration(db, integration.tenant_id, integration.id)) ?? integration;
    const [view] = await integrationViews(deps, [row]);
    res.json(view);
  });

  mount(router, reconnectIntegrationRoute, async (req, res) => {
    const integration = await ownIntegration(req);
    const { access } = parseOr400(ReconnectBody, req.body ?? {}, 'body');
    const { authorizeUrl } = await reconnect(deps, integration, access);
    res.json({ authorizeUrl });
  });

  mount(router, syncIntegration, async (req, res) => {
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

  mount(router, disconnectRoute, async (req, res) => {
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
