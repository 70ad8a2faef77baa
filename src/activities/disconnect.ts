import type { ActivityDeps } from './deps';
import { revokeAndForget } from './revoke';

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

    /** Best-effort revocation (the grant may already be dead), then the tokens are deleted whatever happened. */
    async revokeAndDeleteCredentials(input: { integrationId: string }): Promise<void> {
      await revokeAndForget(deps, input.integrationId);
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
