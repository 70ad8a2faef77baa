import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { appendAudit } from '../db/repositories/auditEvents';
import { findIntegration, touchIntegration } from '../db/repositories/integrations';
import { dropSnapshots, findReclamation, markNotApproved, reclamationUser, setReclamationStatus, setUserState } from '../db/repositories/reclamations';
import { inTransaction } from '../db/database';
import type { ReclaimAction, ReclamationUserState, SeatSnapshot } from '../db/tables';
import { zendeskObserver } from '../observability/zendeskMetrics';
import { readReclaimSettings } from '../reclaim/settings';
import { FailureType } from '../shared/failureTypes';
import { ZendeskClient } from '../zendesk/client';
import { ZendeskAuthError, ZendeskRequestError } from '../zendesk/errors';
import type { SeatUserRecord } from '../zendesk/schemas';
import type { ActivityDeps } from './deps';
import { toActivityFailure } from './failures';
import { withHeartbeatPulse, type HeartbeatPulse } from './heartbeat';

/**
 * The steps of a reclamation (src/workflows/reclaim.ts). Each user's change happens exactly once, whatever
 * crashes: the snapshot is stored (state `downgrading`) before the PUT, a retry re-reads the user and sends
 * the PUT only when Zendesk does not already show the target, and the outcome is recorded after reading the
 * user back. Every step appends an audit event in the transaction that records it.
 */

export interface ApprovalInput {
  reclamationId: string;
  integrationId: string;
  /** Undefined: every planned user. */
  userIds?: number[];
  apiKeyId: string | null;
  actor: string | null;
}

export interface UserStepInput {
  reclamationId: string;
  integrationId: string;
  userId: number;
}

export type UserStepResult = Extract<ReclamationUserState, 'downgraded' | 'skipped' | 'failed' | 'restored' | 'undo_failed'>;

const snapshotOf = (u: SeatUserRecord): SeatSnapshot => ({
  role: u.role,
  role_type: u.role_type,
  custom_role_id: u.custom_role_id,
  default_group_id: u.default_group_id,
});

/** Zendesk refused the write itself: the user's step fails with Zendesk's answer (never its body). */
function refusal(err: unknown): string | undefined {
  if (err instanceof ZendeskAuthError && err.kind === 'forbidden') {
    return 'Zendesk refused the change (HTTP 403): the grant lacks write access, or the user cannot be changed (shared, owner). Reconnect with access "reclaim".';
  }
  if (err instanceof ZendeskRequestError) return `Zendesk refused the change (HTTP ${err.status ?? '?'}${err.code ? `, ${err.code}` : ''}).`;
  return undefined;
}

export function createReclaimActivities(deps: ActivityDeps) {
  const { db } = deps;

  /** How long a step may go without a finished request or wait tick before its heartbeat stops (then it is retried). */
  const stallMs = 2 * deps.config.zendesk.requestTimeoutMs + 15_000;
  const observer = zendeskObserver(deps.metrics);

  async function clientFor(integrationId: string, pulse: HeartbeatPulse): Promise<ZendeskClient> {
    const integration = await findIntegration(db, integrationId);
    if (integration?.status !== 'connected') {
      throw ApplicationFailure.nonRetryable(`The integration is ${integration?.status ?? 'gone'}; seats are not changed.`, FailureType.NotConnected);
    }
    return new ZendeskClient({
      db,
      box: deps.box,
      config: deps.config,
      integrationId,
      subdomain: integration.workspace,
      rateLimits: deps.rateLimits,
      observer: { onRequest: (info) => (pulse.progress(), observer.onRequest(info)) },
      onWait: () => pulse.beat(),
      signal: Context.current().cancellationSignal,
      // The integration's share of the account's Zendesk budget, shared with its syncs through the same limiter.
      limiter: { budgetShare: integration.max_budget_share },
    });
  }

  async function record(
    input: UserStepInput,
    to: UserStepResult,
    from: ReclamationUserState[],
    kind: string,
    extra: { outcome?: string; before?: unknown; after?: unknown },
  ) {
    await inTransaction(db, async (trx) => {
      const moved = await setUserState(trx, input.reclamationId, input.userId, to, from, {
        outcome: extra.outcome ?? null,
        ...(to === 'downgraded' ? { changed_at: new Date() } : to === 'restored' ? { restored_at: new Date() } : {}),
      });
      if (moved) {
        // Freed or restored seats change /utilization's savings: its cached report drops.
        if (to === 'downgraded' || to === 'restored') await touchIntegration(trx, input.integrationId);
        await appendAudit(trx, {
          integrationId: input.integrationId,
          reclamationId: input.reclamationId,
          userId: input.userId,
          kind,
          before: extra.before,
          after: extra.after,
          detail: extra.outcome ? { outcome: extra.outcome } : undefined,
        });
      }
    });
    return to;
  }

  return {
    /** Records an approval: the users left out become `not_approved`, the reclamation `executing`. */
    async recordApproval(input: ApprovalInput): Promise<void> {
      await inTransaction(db, async (trx) => {
        const moved = await setReclamationStatus(trx, input.reclamationId, 'executing', ['awaiting_approval'], { decided_at: new Date() });
        if (!moved) return;
        if (input.userIds) await markNotApproved(trx, input.reclamationId, input.userIds);
        await appendAudit(trx, {
          integrationId: input.integrationId,
          reclamationId: input.reclamationId,
          kind: 'reclamation.approved',
          apiKeyId: input.apiKeyId,
          actor: input.actor,
          detail: { userIds: input.userIds ?? 'all planned' },
        });
      });
    },

    /** Ends a reclamation that never ran (`rejected`, `expired`) or that ran (`completed`, then the undo window). */
    async closeReclamation(input: {
      reclamationId: string;
      integrationId: string;
      status: 'rejected' | 'expired' | 'completed';
      undoUntil?: number;
      apiKeyId?: string | null;
      actor?: string | null;
    }): Promise<void> {
      await inTransaction(db, async (trx) => {
        const from = input.status === 'completed' ? (['executing'] as const) : (['awaiting_approval'] as const);
        const extra =
          input.status === 'completed' ? { completed_at: new Date(), undo_until: new Date(input.undoUntil ?? Date.now()) } : { decided_at: new Date() };
        if (!(await setReclamationStatus(trx, input.reclamationId, input.status, [...from], extra))) return;
        if (input.status !== 'completed') {
          await markNotApproved(trx, input.reclamationId, [], `The plan was ${input.status}.`);
        }
        await appendAudit(trx, {
          integrationId: input.integrationId,
          reclamationId: input.reclamationId,
          kind: `reclamation.${input.status}`,
          apiKeyId: input.apiKeyId,
          actor: input.actor,
        });
      });
    },

    /** The undo window ended: the snapshots go (they were kept only to undo). */
    async endUndoWindow(input: { reclamationId: string; integrationId: string }): Promise<void> {
      await inTransaction(db, async (trx) => {
        await dropSnapshots(trx, input.reclamationId);
        await appendAudit(trx, { integrationId: input.integrationId, reclamationId: input.reclamationId, kind: 'reclamation.undo_window_ended' });
      });
    },

    /** Downgrades one user exactly once (see the file comment). Heartbeats, so a killed worker's step moves on within seconds. */
    reclaimUser: (input: UserStepInput): Promise<UserStepResult> => withHeartbeatPulse({ stallMs }, (pulse) => reclaimUser(input, pulse)),
    /** Restores one downgraded user from its snapshot, exactly once. */
    restoreUser: (input: UserStepInput): Promise<UserStepResult> => withHeartbeatPulse({ stallMs }, (pulse) => restoreUser(input, pulse)),
  };

  async function reclaimUser(input: UserStepInput, pulse: HeartbeatPulse): Promise<UserStepResult> {
    const row = await reclamationUser(db, input.reclamationId, input.userId);
    if (!row) throw ApplicationFailure.nonRetryable(`User ${input.userId} is not in reclamation ${input.reclamationId}`, 'ReclamationUserUnknown');
    if (row.state === 'downgraded' || row.state === 'skipped' || row.state === 'failed') return row.state;
    if (row.state !== 'planned' && row.state !== 'downgrading') return 'skipped';
    const reclamation = await findReclamation(db, input.integrationId, input.reclamationId);
    if (!reclamation) throw ApplicationFailure.nonRetryable('The reclamation is gone', 'ReclamationUnknown');
    try {
      const client = await clientFor(input.integrationId, pulse);
      const target = await targetOf(client, reclamation.action);
      let live: SeatUserRecord;
      try {
        live = await client.showUser(input.userId);
      } catch (err) {
        if (err instanceof ZendeskRequestError && err.status === 404) {
          return await record(input, 'skipped', ['planned', 'downgrading'], 'user.skipped', { outcome: 'The user no longer exists in Zendesk.' });
        }
        throw err;
      }
      let snapshot = row.snapshot;
      if (row.state === 'planned') {
        const integration = await findIntegration(db, input.integrationId);
        const why = liveGuardrail(live, readReclaimSettings(integration?.reclaim_settings), target);
        if (why) return await record(input, 'skipped', ['planned'], 'user.skipped', { outcome: why });
        // Read before the snapshot is stored, so it goes in with it: a retried step keeps this first set.
        const groupIds = (await client.listUserGroupMemberships(input.userId)).map((m) => m.group_id).sort((a, b) => a - b);
        snapshot = { ...snapshotOf(live), group_ids: groupIds };
        const stored = snapshot;
        await inTransaction(db, async (trx) => {
          if (await setUserState(trx, input.reclamationId, input.userId, 'downgrading', ['planned'], { snapshot: stored })) {
            await appendAudit(trx, {
              integrationId: input.integrationId,
              reclamationId: input.reclamationId,
              userId: input.userId,
              kind: 'user.downgrade_started',
              before: stored,
              after: target,
            });
          }
        });
      }
      if (!atTarget(live, target)) {
        try {
          await client.updateUser(input.userId, target);
        } catch (err) {
          const outcome = refusal(err);
          if (outcome) return await record(input, 'failed', ['downgrading'], 'user.downgrade_failed', { outcome, before: snapshot });
          throw err;
        }
      }
      const after = await client.showUser(input.userId);
      if (!atTarget(after, target)) {
        return await record(input, 'failed', ['downgrading'], 'user.downgrade_failed', {
          outcome: 'Zendesk accepted the change but the user does not show it.',
          before: snapshot,
          after: snapshotOf(after),
        });
      }
      return await record(input, 'downgraded', ['downgrading'], 'user.downgraded', { before: snapshot, after: snapshotOf(after) });
    } catch (err) {
      throw toActivityFailure(err);
    }
  }

  async function restoreUser(input: UserStepInput, pulse: HeartbeatPulse): Promise<UserStepResult> {
    const row = await reclamationUser(db, input.reclamationId, input.userId);
    if (!row) throw ApplicationFailure.nonRetryable(`User ${input.userId} is not in reclamation ${input.reclamationId}`, 'ReclamationUserUnknown');
    if (row.state === 'restored') return 'restored';
    if (row.state !== 'downgraded' && row.state !== 'restoring' && row.state !== 'undo_failed') return 'skipped';
    const snapshot = row.snapshot;
    if (!snapshot) return await record(input, 'undo_failed', [row.state], 'user.undo_failed', { outcome: 'The snapshot is gone (the undo window has ended).' });
    try {
      const client = await clientFor(input.integrationId, pulse);
      if (row.state !== 'restoring') {
        await inTransaction(db, async (trx) => {
          if (await setUserState(trx, input.reclamationId, input.userId, 'restoring', ['downgraded', 'undo_failed'])) {
            await appendAudit(trx, {
              integrationId: input.integrationId,
              reclamationId: input.reclamationId,
              userId: input.userId,
              kind: 'user.restore_started',
              after: snapshot,
            });
          }
        });
      }
      const live = await client.showUser(input.userId);
      if (!matches(live, snapshot)) {
        try {
          await client.updateUser(input.userId, restoreBody(snapshot));
        } catch (err) {
          const outcome = refusal(err);
          if (outcome) {
            const why =
              err instanceof ZendeskRequestError && err.status === 422
                ? `${outcome} Usually no agent seat is free: free or buy one, then undo again.`
                : outcome;
            return await record(input, 'undo_failed', ['restoring'], 'user.undo_failed', { outcome: why });
          }
          throw err;
        }
      }
      const after = await client.showUser(input.userId);
      if (!matches(after, snapshot)) {
        return await record(input, 'undo_failed', ['restoring'], 'user.undo_failed', {
          outcome: 'Zendesk accepted the restore but the user does not show it.',
          after: snapshotOf(after),
        });
      }
      // After the role: end users cannot be group members. Snapshots from before group_ids restore as they did.
      const groups = snapshot.group_ids === undefined ? undefined : await restoreGroups(client, input.userId, snapshot.group_ids);
      if (groups && !groups.ok) return await record(input, 'undo_failed', ['restoring'], 'user.undo_failed', { outcome: groups.outcome });
      return await record(input, 'restored', ['restoring'], 'user.restored', {
        ...(groups?.refused.length
          ? { outcome: `Restored, except the membership of group ${groups.refused.join(', ')}: Zendesk refused it (HTTP 422; the group was probably deleted).` }
          : {}),
        before: snapshotOf(live),
        after: { ...snapshotOf(after), ...(groups ? { group_ids: groups.groupIds } : {}) },
      });
    } catch (err) {
      throw toActivityFailure(err);
    }
  }
}

/**
 * Re-creates every membership of the snapshot the user no longer has. Zendesk answers 422 both to "already a
 * member" (a retry after a lost answer) and to a real refusal, so a 422 is judged by reading the list again;
 * a group still refused is left out and named (usually deleted since: undoing again cannot bring it back).
 * Other refusals (403) leave the undo to be tried again.
 */
async function restoreGroups(
  client: ZendeskClient,
  userId: number,
  wanted: number[],
): Promise<{ ok: true; groupIds: number[]; refused: number[] } | { ok: false; outcome: string }> {
  const current = async () => new Set((await client.listUserGroupMemberships(userId)).map((m) => m.group_id));
  let have = await current();
  const refused: number[] = [];
  for (const groupId of wanted) {
    if (have.has(groupId)) continue;
    try {
      await client.createGroupMembership(userId, groupId);
    } catch (err) {
      if (!(err instanceof ZendeskRequestError && err.status === 422)) {
        const outcome = refusal(err);
        if (outcome) return { ok: false, outcome: `Restoring the membership of group ${groupId}: ${outcome}` };
        throw err;
      }
      have = await current();
      if (!have.has(groupId)) refused.push(groupId);
    }
  }
  have = await current();
  const missing = wanted.filter((g) => !have.has(g) && !refused.includes(g));
  if (missing.length > 0) return { ok: false, outcome: `Zendesk accepted the memberships but does not show group ${missing.join(', ')}.` };
  return { ok: true, groupIds: [...have].sort((a, b) => a - b), refused };
}

type Target = { role: 'end-user' } | { role: 'agent'; custom_role_id: number };

async function targetOf(client: ZendeskClient, action: ReclaimAction): Promise<Target> {
  if (action === 'end_user') return { role: 'end-user' };
  const roleId = await client.lightAgentRoleId();
  if (roleId === null) throw ApplicationFailure.nonRetryable('The account has no light-agent role (an Enterprise feature).', FailureType.RequestRefused);
  return { role: 'agent', custom_role_id: roleId };
}

function atTarget(u: SeatUserRecord, t: Target): boolean {
  return t.role === 'end-user' ? u.role === 'end-user' : u.role === 'agent' && u.custom_role_id === t.custom_role_id;
}

/** Guardrails only the live record can show (the plan saw the last sync). */
function liveGuardrail(u: SeatUserRecord, settings: ReturnType<typeof readReclaimSettings>, target: Target): string | null {
  if (u.active === false) return 'Deleted in Zendesk since the plan.';
  if (u.shared || u.shared_agent) return 'A shared user or shared agent: Zendesk refuses to update them.';
  if (u.role === 'end-user') return 'Already an end user (changed outside this reclamation).';
  if (atTarget(u, target)) return 'Already a light agent (changed outside this reclamation).';
  if (u.custom_role_id !== null && settings.exemptions?.customRoleIds?.includes(u.custom_role_id)) return 'Has an exempt custom role.';
  if (u.tags?.some((t) => settings.exemptions?.tags?.includes(t))) return 'Has an exempt tag.';
  return null;
}

function matches(u: SeatUserRecord, s: SeatSnapshot): boolean {
  return u.role === s.role && u.custom_role_id === s.custom_role_id && u.default_group_id === s.default_group_id;
}

function restoreBody(s: SeatSnapshot): { role?: string; custom_role_id?: number | null; default_group_id?: number | null } {
  if (s.role === 'admin') return { role: 'admin', default_group_id: s.default_group_id };
  return { role: s.role ?? 'agent', custom_role_id: s.custom_role_id, default_group_id: s.default_group_id };
}

export type ReclaimActivities = ReturnType<typeof createReclaimActivities>;
