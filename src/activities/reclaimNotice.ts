import { ApplicationFailure } from '@temporalio/common';
import { appendAudit } from '../db/repositories/auditEvents';
import { announceUserNotices, findReclamation, planUsers, setReclamationStatus, setUserState } from '../db/repositories/reclamations';
import { inTransaction } from '../db/database';
import type { ActivityDeps } from './deps';

/**
 * The notice period of a reclamation (src/workflows/reclaim.ts): after approval, each affected person is told
 * (`reclamation.user_notice` to the tenant's webhooks and an audit event each), may be kept by request, and
 * is re-checked every day; a user active again since the plan is dropped, never downgraded. Each step is one
 * transaction guarded by the state it moves from, so a retried step changes nothing twice.
 */

export interface NoticeInput {
  reclamationId: string;
  integrationId: string;
}

async function reclamationOf(deps: ActivityDeps, input: NoticeInput) {
  const r = await findReclamation(deps.db, input.integrationId, input.reclamationId);
  if (!r) throw ApplicationFailure.nonRetryable('The reclamation is gone', 'ReclamationUnknown');
  return r;
}

export function createReclaimNoticeActivities(deps: ActivityDeps) {
  const { db } = deps;
  return {
    /** The approved reclamation enters its notice period: `notice` until `noticeUntil`, and each person is told. */
    async startNotice(input: NoticeInput & { userIds: number[]; noticeUntil: number }): Promise<void> {
      const r = await reclamationOf(deps, input);
      const until = new Date(input.noticeUntil);
      await inTransaction(db, async (trx) => {
        if (!(await setReclamationStatus(trx, r.id, 'notice', ['executing'], { notice_until: until }))) return;
        await announceUserNotices(trx, { id: r.id, integrationId: r.integration_id, tenantId: r.tenant_id, action: r.action }, input.userIds, until);
        for (const userId of input.userIds) {
          await appendAudit(trx, {
            integrationId: r.integration_id,
            reclamationId: r.id,
            userId,
            kind: 'user.notice',
            detail: { noticeUntil: until.toISOString() },
          });
        }
      });
    },

    /**
     * The daily re-check: users whose last sign-in or ticket activity (as last synced) is later than the plan
     * are dropped (`skipped`, with the evidence). Returns the ids dropped.
     */
    async recheckNotice(input: NoticeInput & { userIds: number[] }): Promise<number[]> {
      const r = await reclamationOf(deps, input);
      const since = r.created_at.getTime();
      const users = await planUsers(db, r.integration_id, { ids: input.userIds });
      const active = users.filter((u) => (u.lastActivityAt?.getTime() ?? 0) > since || (u.lastLoginAt?.getTime() ?? 0) > since);
      const dropped: number[] = [];
      for (const u of active) {
        const last = [u.lastLoginAt, u.lastActivityAt].filter((d): d is Date => d !== null).sort((a, b) => b.getTime() - a.getTime())[0]!;
        const outcome = `Active during the notice period (last seen ${last.toISOString()}): not changed.`;
        await inTransaction(db, async (trx) => {
          if (!(await setUserState(trx, r.id, u.id, 'skipped', ['planned'], { outcome }))) return;
          await appendAudit(trx, {
            integrationId: r.integration_id,
            reclamationId: r.id,
            userId: u.id,
            kind: 'user.active_during_notice',
            detail: { outcome },
          });
        });
        dropped.push(u.id);
      }
      return dropped;
    },

    /** Takes a user out by request: `kept`, and not proposed again until `keptUntil` (the cooldown). */
    async keepUser(input: NoticeInput & { userId: number; keptUntil: number; apiKeyId: string | null; actor: string | null }): Promise<void> {
      const keptUntil = new Date(input.keptUntil);
      await inTransaction(db, async (trx) => {
        const moved = await setUserState(trx, input.reclamationId, input.userId, 'kept', ['planned'], {
          outcome: 'Kept by request during the notice period.',
          kept_until: keptUntil,
        });
        if (!moved) return;
        await appendAudit(trx, {
          integrationId: input.integrationId,
          reclamationId: input.reclamationId,
          userId: input.userId,
          kind: 'user.kept',
          apiKeyId: input.apiKeyId,
          actor: input.actor,
          detail: { keptUntil: keptUntil.toISOString() },
        });
      });
    },

    /** The notice period is over: the downgrades begin. */
    async endNotice(input: NoticeInput): Promise<void> {
      await inTransaction(db, async (trx) => {
        if (!(await setReclamationStatus(trx, input.reclamationId, 'executing', ['notice']))) return;
        await appendAudit(trx, { integrationId: input.integrationId, reclamationId: input.reclamationId, kind: 'reclamation.notice_ended' });
      });
    },
  };
}

export type ReclaimNoticeActivities = ReturnType<typeof createReclaimNoticeActivities>;
