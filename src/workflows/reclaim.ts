import { allHandlersFinished, ApplicationFailure, condition, log, proxyActivities, setCurrentDetails, setHandler, sleep } from '@temporalio/workflow';
import type { ReclaimActivities, UserStepResult } from '../activities/reclaim';
import type { ReclaimNoticeActivities } from '../activities/reclaimNotice';
import { FailureType } from '../shared/failureTypes';
import {
  approveReclamationUpdate,
  keepReclamationUserUpdate,
  reclaimProgressQuery,
  rejectReclamationUpdate,
  undoReclamationUpdate,
  type ApproveReclamation,
  type KeepReclamationUser,
  type ReclaimProgress,
  type ReclaimRequester,
  type UndoReclamation,
} from './messages';

/**
 * One reclamation (`zendesk-reclaim-<id>`): waits for approval until the plan expires; with a notice period,
 * tells each approved user (src/activities/reclaimNotice.ts), takes out those kept by request and re-checks
 * the rest every day until it ends, dropping anyone active again; downgrades each remaining user (one
 * activity per user, exactly once: src/activities/reclaim.ts), then stays open for the undo window so `undo`
 * restores users from their snapshots; when the window ends the snapshots are dropped. A failure of one
 * user never stops the others.
 */
export interface ReclaimInput {
  reclamationId: string;
  integrationId: string;
  tenantId: string;
  /** The users the plan proposes, in order. */
  candidateIds: number[];
  /** How long the plan waits for approval, and how long undo stays possible after execution (ms). */
  approvalWindowMs: number;
  undoWindowMs: number;
  /** The notice period after approval (ms; absent or 0: none), how often it re-checks activity, and how long a kept user is not proposed again. */
  noticeMs?: number;
  recheckEveryMs?: number;
  keepCooldownMs?: number;
}

export const reclaimWorkflowId = (reclamationId: string) => `zendesk-reclaim-${reclamationId}`;

const steps = proxyActivities<ReclaimActivities & ReclaimNoticeActivities>({
  startToCloseTimeout: '2 minutes',
  // The per-user steps heartbeat through every wait (src/activities/heartbeat.ts): a killed worker's step is
  // retried elsewhere after this long, and the retry re-reads the user first.
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: [FailureType.NotConnected] },
});

export async function zendeskReclaim(input: ReclaimInput): Promise<ReclaimProgress> {
  const { reclamationId, integrationId } = input;
  const ids = { reclamationId, integrationId };
  const progress: ReclaimProgress = {
    status: 'awaiting_approval',
    counts: { planned: input.candidateIds.length, downgraded: 0, skipped: 0, failed: 0, restored: 0, undoFailed: 0 },
  };
  const outcome = new Map<number, UserStepResult>();
  let decision: { kind: 'approve'; approval: ApproveReclamation } | { kind: 'reject'; by: ReclaimRequester } | undefined;
  let undoing = false;
  /** During the notice period: the approved users still to be changed (a keep takes one out at once). */
  let inNotice: Set<number> | undefined;

  setHandler(reclaimProgressQuery, () => progress);
  setHandler(
    approveReclamationUpdate,
    async (approval) => {
      decision = { kind: 'approve', approval };
      await condition(() => progress.status !== 'awaiting_approval');
      return progress;
    },
    {
      validator: (approval: ApproveReclamation) => {
        if (decision || progress.status !== 'awaiting_approval')
          throw new Error(`The reclamation is ${progress.status}; only a plan awaiting approval can be approved.`);
        const unknown = (approval.userIds ?? []).filter((id) => !input.candidateIds.includes(id));
        if (unknown.length > 0) throw new Error(`Not planned in this reclamation: ${unknown.slice(0, 10).join(', ')}.`);
        if (approval.userIds?.length === 0) throw new Error('userIds must name at least one planned user.');
      },
    },
  );
  setHandler(
    rejectReclamationUpdate,
    async (by) => {
      decision = { kind: 'reject', by };
      await condition(() => progress.status !== 'awaiting_approval');
      return progress;
    },
    {
      validator: (_by: ReclaimRequester) => {
        if (decision || progress.status !== 'awaiting_approval')
          throw new Error(`The reclamation is ${progress.status}; only a plan awaiting approval can be rejected.`);
      },
    },
  );
  setHandler(
    keepReclamationUserUpdate,
    async (request) => {
      // Out of the set before anything is awaited: the downgrades, should the notice end meanwhile, skip them.
      inNotice?.delete(request.userId);
      await steps.keepUser.executeWithOptions({ summary: `Keep user ${request.userId}` }, [
        { ...ids, userId: request.userId, keptUntil: Date.now() + (input.keepCooldownMs ?? 0), apiKeyId: request.apiKeyId, actor: request.actor },
      ]);
      progress.counts.kept = (progress.counts.kept ?? 0) + 1;
      return progress;
    },
    {
      validator: (request: KeepReclamationUser) => {
        if (progress.status !== 'notice' || !inNotice)
          throw new Error(`The reclamation is ${progress.status}; users can be kept only during its notice period.`);
        if (!inNotice.has(request.userId)) throw new Error(`User ${request.userId} is not among the users this reclamation will change.`);
      },
    },
  );
  setHandler(
    undoReclamationUpdate,
    async (request) => {
      // The API accepts an undo once the database says completed, which may be just before this workflow has
      // seen its last step finish: wait for it.
      await condition(() => progress.status === 'completed');
      undoing = true;
      progress.status = 'undoing';
      const result = { restored: [] as number[], failed: [] as number[], skipped: [] as number[] };
      try {
        const targets = (request.userIds ?? [...outcome.keys()]).filter((id) => outcome.get(id) === 'downgraded' || outcome.get(id) === 'undo_failed');
        for (const userId of targets) {
          const done = await steps.restoreUser.executeWithOptions({ summary: `Restore user ${userId}` }, [{ ...ids, userId }]);
          outcome.set(userId, done);
          if (done === 'restored') result.restored.push(userId);
          else if (done === 'undo_failed') result.failed.push(userId);
          else result.skipped.push(userId);
        }
        recount();
      } finally {
        undoing = false;
        progress.status = 'completed';
      }
      return result;
    },
    {
      validator: (request: UndoReclamation) => {
        if (progress.status !== 'completed' && progress.status !== 'executing') {
          throw new Error(`The reclamation is ${progress.status}; only a completed reclamation can be undone.`);
        }
        if (progress.status !== 'completed') return;
        const notDowngraded = (request.userIds ?? []).filter((id) => outcome.get(id) !== 'downgraded' && outcome.get(id) !== 'undo_failed');
        if (notDowngraded.length > 0) throw new Error(`Not downgraded by this reclamation: ${notDowngraded.slice(0, 10).join(', ')}.`);
      },
    },
  );

  const recount = () => {
    const values = [...outcome.values()];
    const n = (s: UserStepResult) => values.filter((v) => v === s).length;
    progress.counts = {
      ...progress.counts,
      downgraded: n('downgraded'),
      skipped: n('skipped'),
      failed: n('failed'),
      restored: n('restored'),
      undoFailed: n('undo_failed'),
    };
    setCurrentDetails(
      `${progress.status}: ${progress.counts.downgraded} downgraded, ${progress.counts.skipped} skipped, ${progress.counts.failed} failed, ${progress.counts.restored} restored of ${progress.counts.planned} planned`,
    );
  };

  /** The notice period: returns the approved users still to change when it ends, in their order. */
  const noticePeriod = async (approved: number[]): Promise<number[]> => {
    const noticeUntil = Date.now() + input.noticeMs!;
    const remaining = new Set(approved);
    await steps.startNotice.executeWithOptions({ summary: `Tell ${approved.length} users: notice until ${new Date(noticeUntil).toISOString()}` }, [
      { ...ids, userIds: approved, noticeUntil },
    ]);
    inNotice = remaining;
    progress.status = 'notice';
    progress.noticeUntil = noticeUntil;
    const recheck = async () => {
      if (remaining.size === 0) return;
      const dropped = await steps.recheckNotice.executeWithOptions({ summary: `Re-check the activity of ${remaining.size} users` }, [
        { ...ids, userIds: [...remaining] },
      ]);
      for (const id of dropped) {
        remaining.delete(id);
        outcome.set(id, 'skipped');
      }
      recount();
    };
    for (;;) {
      setCurrentDetails(`Notice period until ${new Date(noticeUntil).toISOString()}: ${remaining.size} of ${approved.length} users still to change`);
      const left = noticeUntil - Date.now();
      if (left <= 0) break;
      await sleep(Math.min(left, input.recheckEveryMs ?? left));
      await recheck();
    }
    // A keep in flight finishes before the downgrades start.
    await condition(allHandlersFinished);
    inNotice = undefined;
    await steps.endNotice.executeWithOptions({ summary: 'The notice period ended' }, [ids]);
    return approved.filter((id) => remaining.has(id));
  };

  setCurrentDetails(`Awaiting approval of ${input.candidateIds.length} users`);
  const decided = await condition(() => decision !== undefined, input.approvalWindowMs);
  if (!decided || decision?.kind !== 'approve') {
    const status = decided ? 'rejected' : 'expired';
    const by = decision?.kind === 'reject' ? decision.by : { apiKeyId: null, actor: null };
    await steps.closeReclamation.executeWithOptions({ summary: `Close the plan (${status})` }, [{ ...ids, status, ...by }]);
    progress.status = status;
    setCurrentDetails(`Plan ${status}: nothing was changed`);
    await condition(allHandlersFinished);
    return progress;
  }
  const approval = decision.approval;
  await steps.recordApproval.executeWithOptions({ summary: 'Record the approval' }, [
    { ...ids, userIds: approval.userIds, apiKeyId: approval.apiKeyId, actor: approval.actor },
  ]);
  const approved = approval.userIds ?? input.candidateIds;
  progress.counts.planned = approved.length;
  const toChange = input.noticeMs ? await noticePeriod(approved) : approved;
  progress.status = 'executing';
  for (const userId of toChange) {
    try {
      outcome.set(userId, await steps.reclaimUser.executeWithOptions({ summary: `Downgrade user ${userId}` }, [{ ...ids, userId }]));
    } catch (err) {
      // The integration lost its connection: the remaining users are left as planned (nothing was changed).
      if (err instanceof Error && 'cause' in err && (err.cause as ApplicationFailure | undefined)?.type === FailureType.NotConnected) {
        log.warn('the integration is no longer connected; the remaining users of the reclamation are not changed');
        break;
      }
      throw err;
    }
    recount();
  }
  await steps.closeReclamation.executeWithOptions({ summary: 'Record the reclamation completed' }, [
    { ...ids, status: 'completed', undoUntil: Date.now() + input.undoWindowMs },
  ]);
  progress.status = 'completed';
  recount();
  // Undo stays possible for the window; an undo in progress when it ends finishes first.
  await condition(() => false, input.undoWindowMs).catch(() => undefined);
  await condition(() => !undoing);
  await steps.endUndoWindow.executeWithOptions({ summary: 'Drop the snapshots: the undo window ended' }, [ids]);
  await condition(allHandlersFinished);
  return progress;
}
