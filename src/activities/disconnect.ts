import { setIntegrationStatus } from '../db/repositories/integrations';
import type { ActivityDeps } from './deps';
import { revokeAndForget, type RevocationResult } from './revoke';

export function createDisconnectActivities(deps: ActivityDeps) {
  const { db, temporal } = deps;
  return {
    /** Terminates syncs of the integration still running (the schedule itself is already gone). */
    async stopRunningSyncs(input: { integrationId: string }): Promise<number> {
      let stopped = 0;
      const query = `IntegrationId = "${input.integrationId}" AND ExecutionStatus = "Running" AND WorkflowType = "zendeskSync"`;
      for await (const execution of temporal.workflow.list({ query })) {
        await temporal.workflow.getHandle(execution.workflowId, execution.runId).terminate('Integration deleted').catch(() => undefined);
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
      const revocation = await revokeAndForget(deps, input.integrationId);
      if (revocation.grantMayBeLive) {
        await setIntegrationStatus(db, input.integrationId, { status: 'disconnected', error: revocation.message, onlyFrom: ['disconnected'] });
      }
      return revocation;
    },

    async purgeSyncedData(input: { integrationId: string }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('ticket_events').where('integration_id', '=', input.integrationId).execute();
        await trx.deleteFrom('zendesk_users').where('integration_id', '=', input.integrationId).execute();
        await trx.deleteFrom('sync_checkpoints').where('integration_id', '=', input.integrationId).execute();
      });
    },
  };
}

export type DisconnectActivities = ReturnType<typeof createDisconnectActivities>;
