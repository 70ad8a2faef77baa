import { continueAsNew, proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { OffboardActivities } from '../activities/offboard';

export interface OffboardInput {
  tenantId: string;
  /** Continue-as-new state: where the walk of the tenant's integrations stands, and how many were done. */
  after?: string;
  done?: number;
}

/** Counts only: the tenant's name, keys and data never travel through Temporal. */
export interface OffboardResult {
  /** Integrations disconnected and purged by this offboarding (those already gone are not counted). */
  integrations: number;
  keysRevoked: number;
}

export const offboardWorkflowId = (tenantId: string) => `zendesk-offboard-${tenantId}`;

/** Integrations per listing; disconnects at once; pages per run before continuing as new (small histories). */
const PAGE = 50;
const PARALLEL = 5;
const PAGES_PER_RUN = 20;

/** Every step retried until it succeeds: an offboarding the admin asked for must finish, whatever outage comes between. */
const acts = proxyActivities<OffboardActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});
/** One integration's disconnect workflow, awaited: a large purge takes minutes; the wait heartbeats. */
const disconnects = proxyActivities<OffboardActivities>({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * A tenant's offboarding, started by `POST /v1/tenants/:id/offboard` (id `zendesk-offboard-<tenantId>`; a
 * repeated request joins it): the tenant turns `offboarding` (its keys are refused and it can create nothing
 * from then on), every integration is disconnected and purged by its own `zendeskDisconnect` workflow
 * (schedule, syncs, grant, tokens, synced data), then every key is revoked and the tenant is `offboarded`.
 */
export async function zendeskOffboard(input: OffboardInput): Promise<OffboardResult> {
  const { tenantId } = input;
  let done = input.done ?? 0;
  let after = input.after;
  if (after === undefined) {
    setCurrentDetails("Refusing the tenant's keys");
    await acts.beginOffboard.executeWithOptions({ summary: 'Mark the tenant as offboarding (its keys stop working)' }, [{ tenantId }]);
  }
  for (let page = 0; ; page++) {
    if (page === PAGES_PER_RUN) return continueAsNew<typeof zendeskOffboard>({ tenantId, after, done });
    const { integrationIds, next } = await acts.listTenantIntegrations.executeWithOptions({ summary: "List the tenant's integrations" }, [
      { tenantId, after, limit: PAGE },
    ]);
    for (let i = 0; i < integrationIds.length; i += PARALLEL) {
      setCurrentDetails(`Disconnecting and purging integrations: ${done} done`);
      const results = await Promise.all(
        integrationIds
          .slice(i, i + PARALLEL)
          .map((integrationId) =>
            disconnects.disconnectAndPurge.executeWithOptions({ summary: `Disconnect and purge integration ${integrationId}` }, [{ tenantId, integrationId }]),
          ),
      );
      done += results.filter((r) => !r.skipped).length;
    }
    if (!next) break;
    after = next;
  }
  setCurrentDetails("Revoking the tenant's keys");
  const { revoked } = await acts.revokeTenantKeys.executeWithOptions({ summary: 'Revoke every API key of the tenant' }, [{ tenantId }]);
  await acts.finishOffboard.executeWithOptions({ summary: 'Mark the tenant as offboarded' }, [{ tenantId, integrations: done }]);
  setCurrentDetails(`Done: ${done} integrations disconnected and purged, ${revoked} keys revoked.`);
  return { integrations: done, keysRevoked: revoked };
}
