import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { setIntegrationStatus } from '../db/repositories/integrations';
import { expireOpenFlows } from '../db/repositories/oauthFlows';
import { deleteCheckpoints, deleteTicketEventsBatch, deleteUserActivity, deleteUsersBatch } from '../db/repositories/purge';
import { deleteSnapshots } from '../db/repositories/utilizationSnapshots';
import { closeRunningSyncRuns } from '../db/repositories/syncRuns';
import { deleteSyncSchedule } from '../temporal/syncSchedule';
import { connectWorkflowId } from '../workflows/connect';
import type { ActivityDeps } from './deps';
import { requireDisconnecting } from './destructiveGuard';
import { revokeAndForget, type RevocationResult } from './revoke';
import { forgetStagedGrants } from './revokeStaged';

/** Rows per purge statement: small enough for short locks and WAL bursts, large enough to be quick. */
const PURGE_BATCH = 20_000;
/** A purge activity works this long, then returns so the workflow shows progress (and histories stay small). */
const PURGE_SLICE_MS = 20_000;

export function createDisconnectActivities(deps: ActivityDeps) {
  const { db, temporal, logger } = deps;
  return {
    /**
     * The first step of a disconnect: the integration shows `disconnecting` (reports and syncs stop serving
     * it) and its open consent links die. Idempotent; a finished disconnect stays finished.
     */
    async beginDisconnect(input: { integrationId: string }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const all = ['awaiting_consent', 'connecting', 'connected', 'consent_denied', 'expired', 'needs_reauth', 'failed'] as const;
        await setIntegrationStatus(trx, input.integrationId, { status: 'disconnecting', error: null, onlyFrom: [...all] });
        await expireOpenFlows(trx, input.integrationId);
      });
    },

    /**
     * Nothing starts again: the sync schedule is deleted and a pending connect flow ends. Running syncs are
     * terminated, and their runs closed (a terminated workflow closes nothing itself).
     */
    async stopSyncing(input: { integrationId: string }): Promise<{ syncsStopped: number }> {
      await requireDisconnecting(db, input.integrationId, 'delete the sync schedule and stop the syncs');
      await deleteSyncSchedule(temporal, input.integrationId);
      await temporal.workflow
        .getHandle(connectWorkflowId(input.integrationId))
        .terminate('Integration deleted')
        .catch((err) => {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        });
      let syncsStopped = 0;
      const query = `IntegrationId = "${input.integrationId}" AND ExecutionStatus = "Running" AND WorkflowType = "zendeskSync"`;
      for await (const execution of temporal.workflow.list({ query })) {
        await temporal.workflow
          .getHandle(execution.workflowId)
          .terminate('Integration deleted')
          .catch((err) => {
            if (!(err instanceof WorkflowNotFoundError)) throw err;
          });
        syncsStopped++;
      }
      await closeRunningSyncRuns(db, input.integrationId, 'Stopped: the integration was disconnected.');
      return { syncsStopped };
    },

    /**
     * Revocation at Zendesk when it can be had, then the tokens are deleted whatever happened (revoke.ts);
     * also the tokens of a consent attempt the disconnect cut short (staged, never put to use).
     */
    async revokeGrant(input: { integrationId: string }): Promise<RevocationResult> {
      await requireDisconnecting(db, input.integrationId, 'revoke and delete the Zendesk tokens');
      await forgetStagedGrants(deps, input.integrationId);
      return revokeAndForget(deps, input.integrationId);
    },

    /**
     * Deletes the synced data in batches, heartbeating after each, for at most a slice of time; returns
     * whether everything is gone. Safe to retry and to run again: each batch is its own statement.
     */
    async purgeSyncedDataSlice(input: { integrationId: string }): Promise<{ done: boolean; deleted: number }> {
      // Checked on every slice: each one is its own activity, and could be retried long after the first.
      if ((await requireDisconnecting(db, input.integrationId, 'delete the synced data')) === 'gone') return { done: true, deleted: 0 };
      const until = Date.now() + PURGE_SLICE_MS;
      let deleted = 0;
      await deleteUserActivity(db, input.integrationId);
      for (const batch of [deleteTicketEventsBatch, deleteUsersBatch]) {
        for (;;) {
          const n = await batch(db, input.integrationId, PURGE_BATCH);
          deleted += n;
          Context.current().heartbeat({ deleted });
          if (n < PURGE_BATCH) break;
          if (Date.now() >= until) return { done: false, deleted };
        }
      }
      await deleteCheckpoints(db, input.integrationId);
      // The stored utilization reports are derived from the synced data: they go with it.
      await deleteSnapshots(db, input.integrationId);
      return { done: true, deleted };
    },

    /** The last step: `disconnected`, with the sentence saying the grant may be live when it may be. */
    async finishDisconnect(input: { integrationId: string; error: string | null }): Promise<void> {
      await setIntegrationStatus(db, input.integrationId, { status: 'disconnected', error: input.error, onlyFrom: ['disconnecting', 'disconnected'] });
      logger.info({ integrationId: input.integrationId }, 'integration disconnected');
    },

    // ---- The steps of disconnects begun before the workflow owned the whole operation (their histories replay them).

    /** Terminates syncs of the integration still running (the schedule itself is already gone). */
    async stopRunningSyncs(input: { integrationId: string }): Promise<number> {
      await requireDisconnecting(db, input.integrationId, 'stop the syncs');
      let stopped = 0;
      const query = `IntegrationId = "${input.integrationId}" AND ExecutionStatus = "Running" AND WorkflowType = "zendeskSync"`;
      for await (const execution of temporal.workflow.list({ query })) {
        await temporal.workflow
          .getHandle(execution.workflowId, execution.runId)
          .terminate('Integration deleted')
          .catch(() => undefined);
        stopped++;
      }
      return stopped;
    },

    /**
     * Revocation at Zendesk when it can be had (the grant may already be dead, or Zendesk may refuse: 403),
     * then the tokens are deleted whatever happened. Returns what happened; when the grant may still be live
     * the sentence saying so (and how an admin removes it) is also kept as the disconnected integration's error.
     */
    async revokeAndDeleteCredentials(input: { integrationId: string }): Promise<RevocationResult> {
      await requireDisconnecting(db, input.integrationId, 'revoke and delete the Zendesk tokens');
      const revocation = await revokeAndForget(deps, input.integrationId);
      if (revocation.grantMayBeLive) {
        await setIntegrationStatus(db, input.integrationId, { status: 'disconnected', error: revocation.message, onlyFrom: ['disconnected'] });
      }
      return revocation;
    },

    async purgeSyncedData(input: { integrationId: string }): Promise<void> {
      if ((await requireDisconnecting(db, input.integrationId, 'delete the synced data')) === 'gone') return;
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('ticket_events').where('integration_id', '=', input.integrationId).execute();
        await trx.deleteFrom('zendesk_users').where('integration_id', '=', input.integrationId).execute();
        await trx.deleteFrom('sync_checkpoints').where('integration_id', '=', input.integrationId).execute();
      });
    },
  };
}

export type DisconnectActivities = ReturnType<typeof createDisconnectActivities>;
