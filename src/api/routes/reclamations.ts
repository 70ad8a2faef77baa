import { Router, type Request } from 'express';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { appendAudit, auditPage } from '../../db/repositories/auditEvents';
import { grantSummaries } from '../../db/repositories/credentials';
import {
  activeAdminIds,
  findReclamation,
  keptUserIds,
  insertReclamation,
  listReclamations,
  planUsers,
  reclamationUsers,
  setReclamationStatus,
} from '../../db/repositories/reclamations';
import { inTransaction } from '../../db/database';
import { reclaimCapability } from '../../reclaim/capability';
import { buildPlan } from '../../reclaim/plan';
import { readReclaimSettings } from '../../reclaim/settings';
import { searchAttributesFor } from '../../temporal/searchAttributes';
import { approveReclamationUpdate, keepReclamationUserUpdate, rejectReclamationUpdate, undoReclamationUpdate } from '../../workflows/messages';
import { reclaimWorkflowId, zendeskReclaim } from '../../workflows/reclaim';
import type { ApiDeps } from '../deps';
import { badRequest, conflict, HttpProblem, notFound } from '../problems';
import {
  ActorHeader,
  ApproveBody,
  AuditPage,
  AuditQuery,
  CreateReclamationBody,
  Reclamation,
  ReclamationList,
  ReclamationParams,
  ReclamationUserParams,
  UndoBody,
  UndoResult,
} from '../reclaimSchemas';
import { integrationOwnership } from '../ownership';
import { BAD_REQUEST, NOT_FOUND, NOT_MODIFIED, problem, TOO_MANY_REQUESTS, UNAUTHORIZED } from '../routeResponses';
import { defineRoute, mount } from '../routeSpec';
import { IntegrationIdParams } from '../schemas';
import { parseOr400 } from '../validate';

const DEFAULT_APPROVAL_DAYS = 7;
const DEFAULT_UNDO_DAYS = 30;
/** A user kept during a notice period is not proposed again for this many (RECLAIM_DAY) days. */
const KEEP_COOLDOWN_DAYS = 90;

/** Under /v1/integrations: authenticated and spending the tenant's `requests` budget (app.ts). */
const RECLAMATION = { tag: 'reclamations', security: 'tenant' } as const;
const ERRORS = { 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NOT_FOUND, 429: TOO_MANY_REQUESTS };

const planReclamation = defineRoute({
  ...RECLAMATION,
  method: 'post',
  path: '/v1/integrations/{id}/reclamations',
  operationId: 'planReclamation',
  summary: 'Plan a seat reclamation (a dry run: nothing changes until approved)',
  description:
    'Computes, from the last sync, which users would be downgraded (`action` `end_user` frees the seat; `light_agent` keeps read access) and which are left alone with why: ' +
    "the account owner, the admin whose grant the integration uses, the last admin, shared users and agents, the exemption list, new hires (`newHireGraceDays`), users on a free seat, active users, and for `light_agent` users whose other products' roles keep a seat. " +
    'The integration needs write access (`capabilities.reclaim`: connect or reconnect with `access: "reclaim"`), else 409. Starts the workflow `zendesk-reclaim-<id>`, which waits for approval until `expiresAt`. ' +
    'An optional `Actor` header (at most 200 characters) names the person for the audit log.',
  params: IntegrationIdParams,
  body: CreateReclamationBody,
  responses: { 201: { description: 'The plan', body: Reclamation }, ...ERRORS, 409: problem('The integration cannot reclaim seats (`detail` says why)') },
});

const listRoute = defineRoute({
  ...RECLAMATION,
  method: 'get',
  path: '/v1/integrations/{id}/reclamations',
  operationId: 'listReclamations',
  summary: 'The latest 100 reclamations',
  params: IntegrationIdParams,
  responses: { 200: { description: 'Reclamations, newest first', body: ReclamationList }, 304: NOT_MODIFIED, ...ERRORS },
});

const getReclamation = defineRoute({
  ...RECLAMATION,
  method: 'get',
  path: '/v1/integrations/{id}/reclamations/{rid}',
  operationId: 'getReclamation',
  summary: 'A reclamation with every user it considered',
  params: ReclamationParams,
  responses: { 200: { description: 'The reclamation', body: Reclamation }, 304: NOT_MODIFIED, ...ERRORS },
});

const approveReclamation = defineRoute({
  ...RECLAMATION,
  method: 'post',
  path: '/v1/integrations/{id}/reclamations/{rid}/approve',
  operationId: 'approveReclamation',
  summary: 'Approve a plan (all planned users, or some)',
  params: ReclamationParams,
  description:
    'A Temporal update: answers once the approval is recorded; the downgrades then run, one user at a time, each exactly once (a snapshot of role, custom role, default group and group memberships is stored before the change; the user is read back after). ' +
    'Follow them with GET …/reclamations/{rid}. 409 when the plan is no longer awaiting approval or names users it did not plan.',
  body: ApproveBody,
  responses: { 200: { description: 'Approved', body: Reclamation }, ...ERRORS, 409: problem('Not awaiting approval, or users not in the plan') },
});

const rejectReclamation = defineRoute({
  ...RECLAMATION,
  method: 'post',
  path: '/v1/integrations/{id}/reclamations/{rid}/reject',
  operationId: 'rejectReclamation',
  summary: 'Reject a plan: nothing is changed',
  params: ReclamationParams,
  responses: { 200: { description: 'Rejected', body: Reclamation }, ...ERRORS, 409: problem('Not awaiting approval') },
});

const undoReclamation = defineRoute({
  ...RECLAMATION,
  method: 'post',
  path: '/v1/integrations/{id}/reclamations/{rid}/undo',
  operationId: 'undoReclamation',
  summary: 'Restore downgraded users from their snapshots (within the undo window)',
  params: ReclamationParams,
  description:
    'Restores role, custom role and default group, then re-creates the group memberships Zendesk dropped (those of the snapshot the user no longer has; "already a member" counts as done). When Zendesk refuses because no agent seat is free, or refuses a write (403), that user ends `undo_failed` with the reason and can be undone again later; a membership Zendesk still refuses with 422 (its group deleted since) is left out and named in the restored user\'s `outcome`. What Zendesk drops for good on a downgrade (e.g. unshared Explore dashboards) is not restored.',
  body: UndoBody,
  responses: { 200: { description: 'Per-user outcome', body: UndoResult }, ...ERRORS, 409: problem('Not completed, or the undo window has ended') },
});

const keepUser = defineRoute({
  ...RECLAMATION,
  method: 'post',
  path: '/v1/integrations/{id}/reclamations/{rid}/users/{userId}/keep',
  operationId: 'keepReclamationUser',
  summary: 'Keep one user out of a reclamation during its notice period',
  description:
    `A Temporal update: answers once the user is recorded \`kept\` (never changed by this reclamation, and not proposed by a later plan for ${KEEP_COOLDOWN_DAYS} days). ` +
    '409 when the reclamation is not in its notice period or the user is not among those it will change. An optional `Actor` header names the person for the audit log.',
  params: ReclamationUserParams,
  responses: {
    200: { description: 'The reclamation', body: Reclamation },
    ...ERRORS,
    409: problem('Not in the notice period, or the user is not to be changed'),
  },
});

const listAuditEvents = defineRoute({
  ...RECLAMATION,
  method: 'get',
  path: '/v1/integrations/{id}/audit',
  operationId: 'listAuditEvents',
  summary: 'The append-only audit log of seat changes',
  description:
    "Every step of every reclamation: who asked (tenant key, `Actor`), what changed before and after, Zendesk's answers. Oldest first; filters by reclamation, user and kind.",
  params: IntegrationIdParams,
  query: AuditQuery,
  responses: { 200: { description: 'A page of events', body: AuditPage }, 304: NOT_MODIFIED, ...ERRORS },
});

export const reclamationRoutes = [
  planReclamation,
  listRoute,
  getReclamation,
  approveReclamation,
  rejectReclamation,
  keepUser,
  undoReclamation,
  listAuditEvents,
];

/**
 * Seat reclamations (README, "Reclaiming seats"): a plan is computed and stored without touching Zendesk
 * (a dry run); nothing changes until it is approved. Each reclamation is a workflow, `zendesk-reclaim-<id>`.
 */
export function reclamationsRouter(deps: ApiDeps): Router {
  const router = Router();
  const { db } = deps;

  const ownIntegration = integrationOwnership({ db });
  const requester = (req: Request) => {
    const actor = ActorHeader.safeParse(req.get('actor'));
    if (!actor.success)
      throw badRequest(`The Actor header ${actor.error.issues[0]?.message ?? 'is invalid'}.`, [
        { name: 'Actor', reason: actor.error.issues[0]?.message ?? 'is invalid' },
      ]);
    return { apiKeyId: req.apiKeyId ?? null, actor: actor.data ?? null };
  };
  const ownReclamation = async (req: Request) => {
    const { rid } = parseOr400(ReclamationParams, req.params, 'path');
    const integration = await ownIntegration(req);
    const reclamation = await findReclamation(db, integration.id, rid);
    if (!reclamation) throw notFound(`No reclamation ${rid}.`);
    return { integration, reclamation };
  };
  const view = async (reclamationId: string, integrationId: string) => {
    const r = await findReclamation(db, integrationId, reclamationId);
    if (!r) throw notFound(`No reclamation ${reclamationId}.`);
    const users = await reclamationUsers(db, r.id);
    const iso = (d: Date | null) => (d ? d.toISOString() : null);
    return {
      id: r.id,
      integrationId: r.integration_id,
      action: r.action,
      status: r.status,
      workflowId: reclaimWorkflowId(r.id),
      createdAt: r.created_at.toISOString(),
      expiresAt: r.expires_at.toISOString(),
      decidedAt: iso(r.decided_at),
      completedAt: iso(r.completed_at),
      undoUntil: iso(r.undo_until),
      noticeUntil: iso(r.notice_until),
      requestedBy: r.requested_by,
      request: r.request,
      notes: [
        "Zendesk hands a downgraded agent's open tickets to the admin whose grant this integration uses; reassigning them first is not supported yet.",
        "A downgrade to end user drops the agent's group memberships and unshared Explore dashboards; undo restores the role, custom role, default group and group memberships, not the dashboards.",
      ],
      counts: Object.fromEntries(
        ['planned', 'excluded', 'not_approved', 'kept', 'downgrading', 'downgraded', 'skipped', 'failed', 'restoring', 'restored', 'undo_failed'].map((s) => [
          s,
          users.filter((u) => u.state === s).length,
        ]),
      ),
      users: users.map((u) => ({
        userId: Number(u.user_id),
        state: u.state,
        reason: u.reason,
        evidence: u.evidence,
        outcome: u.outcome,
        changedAt: iso(u.changed_at),
        restoredAt: iso(u.restored_at),
        reupgradedAt: iso(u.reupgraded_at),
        keptUntil: iso(u.kept_until),
      })),
    };
  };
  const updateFailed = (err: unknown): never => {
    if (err instanceof WorkflowUpdateFailedError) throw conflict(err.cause?.message ?? 'The reclamation refused the request.');
    // Its workflow has ended (expired, rejected, or its undo window is over).
    if (err instanceof WorkflowNotFoundError) throw conflict('The reclamation has ended; it takes no more requests.');
    throw err;
  };
  const awaitingApproval = (r: { status: string }) => {
    if (r.status !== 'awaiting_approval') throw conflict(`The reclamation is ${r.status}; only a plan awaiting approval can be approved or rejected.`);
  };

  mount(router, planReclamation, async (req, res) => {
    const body = parseOr400(CreateReclamationBody, req.body, 'body');
    const by = requester(req);
    const integration = await ownIntegration(req);
    const capability = reclaimCapability(integration.status, (await grantSummaries(db, [integration.id])).get(integration.id)?.scope);
    if (!capability.enabled) throw conflict(`Seats cannot be reclaimed: ${capability.reason}`, { capability: 'reclaim' });
    const now = new Date();
    const inactiveDays = body.rule?.inactiveDays ?? deps.config.inactiveAfterDays;
    const users = await planUsers(
      db,
      integration.id,
      body.userIds ? { ids: body.userIds } : { reasons: body.rule?.reasons ?? ['inactive', 'suspended'], window: { inactiveDays, asOf: now } },
    );
    const entries = buildPlan({
      action: body.action,
      requestedIds: body.userIds ?? null,
      users,
      activeAdminIds: await activeAdminIds(db, integration.id),
      grantAdminId: integration.zendesk_user_id,
      settings: readReclaimSettings(integration.reclaim_settings),
      inactiveDays,
      now,
      keptIds: await keptUserIds(db, integration.id, now),
    });
    const dayMs = deps.config.reclaim.dayMs;
    const approvalWindowMs = (body.approvalExpiresInDays ?? DEFAULT_APPROVAL_DAYS) * dayMs;
    const undoWindowMs = (body.undoWindowDays ?? DEFAULT_UNDO_DAYS) * dayMs;
    const noticeMs = (body.noticeDays ?? 0) * dayMs;
    const reclamationId = await inTransaction(db, async (trx) => {
      const rid = await insertReclamation(
        trx,
        {
          integrationId: integration.id,
          tenantId: integration.tenant_id,
          action: body.action,
          request: { ...body, inactiveDays },
          requestedBy: by,
          expiresAt: new Date(now.getTime() + approvalWindowMs),
        },
        entries,
      );
      await appendAudit(trx, {
        integrationId: integration.id,
        reclamationId: rid,
        kind: 'reclamation.planned',
        ...by,
        detail: {
          action: body.action,
          candidates: entries.filter((e) => e.decision === 'candidate').length,
          excluded: entries.filter((e) => e.decision === 'excluded').length,
        },
      });
      return rid;
    });
    const candidateIds = entries.filter((e) => e.decision === 'candidate').map((e) => e.userId);
    await deps.temporal.workflow
      .start(zendeskReclaim, {
        taskQueue: deps.config.temporal.taskQueue,
        workflowId: reclaimWorkflowId(reclamationId),
        args: [
          {
            reclamationId,
            integrationId: integration.id,
            tenantId: integration.tenant_id,
            candidateIds,
            approvalWindowMs,
            undoWindowMs,
            ...(noticeMs > 0 ? { noticeMs, recheckEveryMs: dayMs, keepCooldownMs: KEEP_COOLDOWN_DAYS * dayMs } : {}),
          },
        ],
        typedSearchAttributes: searchAttributesFor({ tenantId: integration.tenant_id, integrationId: integration.id, workspace: integration.workspace }),
        staticSummary: `Reclaim ${candidateIds.length} Zendesk seats in ${integration.workspace} (${body.action === 'end_user' ? 'to end user' : 'to light agent'})`,
        staticDetails: `Waits for approval until ${new Date(now.getTime() + approvalWindowMs).toISOString()}${noticeMs > 0 ? `, then gives ${body.noticeDays} days of notice (re-checked daily)` : ''}; each user is downgraded once, with a snapshot taken first, and can be restored for ${Math.round(undoWindowMs / dayMs)} days.`,
      })
      .catch(async (err: unknown) => {
        // No workflow will ever act on the plan: say so on it rather than leave it awaiting approval.
        await setReclamationStatus(db, reclamationId, 'expired', ['awaiting_approval'], { decided_at: new Date() });
        deps.logger.warn({ integrationId: integration.id, err: (err as Error).message }, 'could not start the reclamation workflow');
        throw new HttpProblem(
          503,
          'Unavailable',
          'The reclamation could not be started (the workflow service is unreachable); nothing was changed. Try again shortly.',
        );
      });
    res.status(201).json(await view(reclamationId, integration.id));
  });

  mount(router, listRoute, async (req, res) => {
    const integration = await ownIntegration(req);
    const rows = await listReclamations(db, integration.id, 100);
    res.json({
      reclamations: rows.map((r) => ({
        id: r.id,
        action: r.action,
        status: r.status,
        createdAt: r.created_at.toISOString(),
        expiresAt: r.expires_at.toISOString(),
      })),
    });
  });

  mount(router, getReclamation, async (req, res) => {
    const { integration, reclamation } = await ownReclamation(req);
    res.json(await view(reclamation.id, integration.id));
  });

  mount(router, approveReclamation, async (req, res) => {
    const body = parseOr400(ApproveBody, req.body, 'body');
    const by = requester(req);
    const { integration, reclamation } = await ownReclamation(req);
    awaitingApproval(reclamation);
    const handle = deps.temporal.workflow.getHandle(reclaimWorkflowId(reclamation.id));
    await handle.executeUpdate(approveReclamationUpdate, { args: [{ ...by, userIds: body.userIds }] }).catch(updateFailed);
    res.json(await view(reclamation.id, integration.id));
  });

  mount(router, rejectReclamation, async (req, res) => {
    const by = requester(req);
    const { integration, reclamation } = await ownReclamation(req);
    awaitingApproval(reclamation);
    const handle = deps.temporal.workflow.getHandle(reclaimWorkflowId(reclamation.id));
    await handle.executeUpdate(rejectReclamationUpdate, { args: [by] }).catch(updateFailed);
    res.json(await view(reclamation.id, integration.id));
  });

  mount(router, keepUser, async (req, res) => {
    const { userId } = parseOr400(ReclamationUserParams, req.params, 'path');
    const by = requester(req);
    const { integration, reclamation } = await ownReclamation(req);
    if (reclamation.status !== 'notice') throw conflict(`The reclamation is ${reclamation.status}; users can be kept only during its notice period.`);
    const handle = deps.temporal.workflow.getHandle(reclaimWorkflowId(reclamation.id));
    await handle.executeUpdate(keepReclamationUserUpdate, { args: [{ ...by, userId }] }).catch(updateFailed);
    res.json(await view(reclamation.id, integration.id));
  });

  mount(router, undoReclamation, async (req, res) => {
    const body = parseOr400(UndoBody, req.body, 'body');
    const by = requester(req);
    const { integration, reclamation } = await ownReclamation(req);
    if (reclamation.status !== 'completed') throw conflict(`The reclamation is ${reclamation.status}; only a completed reclamation can be undone.`);
    await appendAudit(db, {
      integrationId: integration.id,
      reclamationId: reclamation.id,
      kind: 'reclamation.undo_requested',
      ...by,
      detail: { userIds: body.userIds ?? 'all downgraded' },
    });
    const handle = deps.temporal.workflow.getHandle(reclaimWorkflowId(reclamation.id));
    const result = await handle.executeUpdate(undoReclamationUpdate, { args: [{ ...by, userIds: body.userIds }] }).catch(updateFailed);
    res.json({ ...result, reclamation: await view(reclamation.id, integration.id) });
  });

  mount(router, listAuditEvents, async (req, res) => {
    const query = parseOr400(AuditQuery, req.query, 'query');
    const integration = await ownIntegration(req);
    const limit = query.limit ?? 100;
    const rows = await auditPage(
      db,
      integration.id,
      { reclamationId: query.reclamationId, userId: query.userId, kind: query.kind, afterId: query.after },
      limit,
    );
    const page = rows.slice(0, limit);
    res.json({
      events: page.map((e) => ({
        id: e.id,
        at: e.at.toISOString(),
        kind: e.kind,
        reclamationId: e.reclamation_id,
        userId: e.user_id === null ? null : Number(e.user_id),
        apiKeyId: e.api_key_id,
        actor: e.actor,
        before: e.before ?? null,
        after: e.after ?? null,
        detail: e.detail ?? null,
      })),
      next: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
    });
  });

  return router;
}
