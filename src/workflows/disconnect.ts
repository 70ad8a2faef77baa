import { proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { DisconnectActivities } from '../activities/disconnect';

export interface DisconnectInput {
  integrationId: string;
  purge: boolean;
}

export const disconnectWorkflowId = (integrationId: string) => `zendesk-disconnect-${integrationId}`;

const acts = proxyActivities<DisconnectActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 5 },
});

/** Stops any running sync, revokes the grant at Zendesk, forgets the tokens and (on purge) the synced data. */
export async function zendeskDisconnect(input: DisconnectInput): Promise<void> {
  setCurrentDetails('Stopping syncs');
  await acts.stopRunningSyncs.executeWithOptions({ summary: 'Stop running syncs' }, [{ integrationId: input.integrationId }]);
  setCurrentDetails('Revoking access at Zendesk and deleting stored tokens');
  await acts.revokeAndDeleteCredentials.executeWithOptions({ summary: 'Revoke access at Zendesk and delete the tokens' }, [{ integrationId: input.integrationId }]);
  if (input.purge) {
    setCurrentDetails('Deleting synced data');
    await acts.purgeSyncedData.executeWithOptions({ summary: 'Delete the synced users and ticket events' }, [{ integrationId: input.integrationId }]);
  }
}
