import { log, patched, proxyActivities, setCurrentDetails } from '@temporalio/workflow';
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

/** Patch id (2026-12): the workflow owns the whole disconnect, from the status change to the purge. */
const OWNS_THE_DISCONNECT = 'disconnect-owns-the-operation';

const legacyActs = proxyActivities<DisconnectActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 5 },
});

/**
 * Disconnects begun before the patch: the API had already changed the status, deleted the schedule and
 * ended the connect flow. Kept so their histories replay (and first in this file, where the replay test's
 * reordering mutation looks for the two calls).
 */
async function legacyDisconnect(input: DisconnectInput): Promise<DisconnectResult> {
  let revocation: RevocationResult | undefined;
  const revoke = { summary: 'Revoke access at Zendesk and delete the tokens' };
  setCurrentDetails('Stopping syncs');
  await legacyActs.stopRunningSyncs.executeWithOptions({ summary: 'Stop running syncs' }, [{ integrationId: input.integrationId }]);
  setCurrentDetails('Revoking access at Zendesk and deleting stored tokens');
  await legacyActs.revokeAndDeleteCredentials.executeWithOptions(revoke, [{ integrationId: input.integrationId }]).then((r) => (revocation = r));
  if (revocation?.grantMayBeLive) log.warn(`Disconnected, but the Zendesk grant was not revoked (${revocation.outcome})`, { revocation: revocation.outcome });
  if (input.purge) {
    setCurrentDetails('Deleting synced data');
    await legacyActs.purgeSyncedData.executeWithOptions({ summary: 'Delete the synced users and ticket events' }, [{ integrationId: input.integrationId }]);
  }
  setCurrentDetails(revocation ? `Done. ${revocation.message}` : 'Done.');
  return { ...(revocation ? { revocation } : {}), purged: input.purge };
}

/**
 * Every step is idempotent and retried until it succeeds (a disconnect the customer asked for must finish,
 * whatever outage comes in between): the only failure left is one nobody can fix by waiting.
 */
const acts = proxyActivities<DisconnectActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});
const purgeActs = proxyActivities<DisconnectActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * The whole disconnect of one integration, started by `DELETE /v1/integrations/:id` (a repeated DELETE joins
 * the same run): it shows `disconnecting`, deletes the schedule and ends a pending connect flow, stops running
 * syncs and closes their runs, revokes the grant at Zendesk when Zendesk lets it and forgets the tokens, on
 * purge deletes the synced data in batches, and ends `disconnected`. When Zendesk refused to revoke (403: the
 * worker holds only the `read` scope), the result and the integration's error say how an admin removes it.
 */
export async function zendeskDisconnect(input: DisconnectInput): Promise<DisconnectResult> {
  if (!patched(OWNS_THE_DISCONNECT)) return legacyDisconnect(input);
  const args = [{ integrationId: input.integrationId }] as const;
  setCurrentDetails('Marking the integration as disconnecting');
  await acts.beginDisconnect.executeWithOptions({ summary: 'Show the integration as disconnecting; expire consent links' }, [...args]);
  setCurrentDetails('Stopping syncs');
  await acts.stopSyncing.executeWithOptions({ summary: 'Delete the sync schedule, end the connect flow, stop running syncs' }, [...args]);
  setCurrentDetails('Revoking access at Zendesk and deleting stored tokens');
  const revocation = await acts.revokeGrant.executeWithOptions({ summary: 'Revoke access at Zendesk and delete the tokens' }, [...args]);
  if (revocation.grantMayBeLive) log.warn(`Disconnected, but the Zendesk grant was not revoked (${revocation.outcome})`, { revocation: revocation.outcome });
  if (input.purge) {
    let deleted = 0;
    for (let slice = 1; ; slice++) {
      setCurrentDetails(`Deleting synced data: ${deleted.toLocaleString('en-US')} rows so far`);
      const result = await purgeActs.purgeSyncedDataSlice.executeWithOptions({ summary: `Delete synced data (slice ${slice})` }, [...args]);
      deleted += result.deleted;
      if (result.done) break;
    }
  }
  await acts.finishDisconnect.executeWithOptions({ summary: 'Mark the integration as disconnected' }, [
    { integrationId: input.integrationId, error: revocation.grantMayBeLive ? revocation.message : null },
  ]);
  setCurrentDetails(`Done. ${revocation.message}`);
  return { revocation, purged: input.purge };
}
