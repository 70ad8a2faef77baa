import { log, proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { DisconnectActivities } from '../activities/disconnect';
import type { RevocationResult } from '../activities/revoke';

export interface DisconnectInput {
  integrationId: string;
  purge: boolean;
}

/** The workflow's result: what happened at Zendesk (never "revoked" unless Zendesk confirmed it). */
export interface DisconnectResult {
  /** Absent in runs recorded before disconnects returned it (their activity returned nothing). */
  revocation?: RevocationResult;
  purged: boolean;
}

export const disconnectWorkflowId = (integrationId: string) => `zendesk-disconnect-${integrationId}`;

const acts = proxyActivities<DisconnectActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 5 },
});

/**
 * Stops any running sync, revokes the grant at Zendesk when Zendesk lets it, forgets the tokens and (on purge)
 * the synced data. The result says whether the grant was really revoked; when Zendesk refused (403: the
 * worker holds only the `read` scope), the disconnect still completes here and the result says how a
 * Zendesk admin removes the grant.
 */
export async function zendeskDisconnect(input: DisconnectInput): Promise<DisconnectResult> {
  let revocation: RevocationResult | undefined;
  const revoke = { summary: 'Revoke access at Zendesk and delete the tokens' };
  setCurrentDetails('Stopping syncs');
  await acts.stopRunningSyncs.executeWithOptions({ summary: 'Stop running syncs' }, [{ integrationId: input.integrationId }]);
  setCurrentDetails('Revoking access at Zendesk and deleting stored tokens');
  await acts.revokeAndDeleteCredentials.executeWithOptions(revoke, [{ integrationId: input.integrationId }]).then((r) => (revocation = r));
  if (revocation?.grantMayBeLive) log.warn(`Disconnected, but the Zendesk grant was not revoked (${revocation.outcome})`, { revocation: revocation.outcome });
  if (input.purge) {
    setCurrentDetails('Deleting synced data');
    await acts.purgeSyncedData.executeWithOptions({ summary: 'Delete the synced users and ticket events' }, [{ integrationId: input.integrationId }]);
  }
  setCurrentDetails(revocation ? `Done. ${revocation.message}` : 'Done.');
  return { ...(revocation ? { revocation } : {}), purged: input.purge };
}
