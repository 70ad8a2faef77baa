import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { revokeAllApiKeys } from '../db/repositories/apiKeys';
import { findIntegration } from '../db/repositories/integrations';
import { fullyGone, tenantIntegrationPage } from '../db/repositories/offboarding';
import { findTenant, setTenantStatus } from '../db/repositories/tenants';
import { searchAttributesFor } from '../temporal/searchAttributes';
import { disconnectWorkflowId, zendeskDisconnect, type DisconnectResult } from '../workflows/disconnect';
import type { ActivityDeps } from './deps';

/** How often a wait for a disconnect workflow heartbeats (its heartbeat timeout is a minute). */
const HEARTBEAT_MS = 10_000;

/**
 * The steps of a tenant's offboarding (src/workflows/offboard.ts). Each is idempotent: a retry, or the
 * offboarding started again, repeats nothing that is done.
 */
export function createOffboardActivities(deps: ActivityDeps) {
  const { db, temporal, config, logger } = deps;

  /** Starts (or joins: USE_EXISTING) the integration's disconnect workflow and waits for its result, heartbeating. */
  const disconnect = async (integrationId: string, tenantId: string, workspace: string): Promise<DisconnectResult> => {
    const handle = await temporal.workflow.start(zendeskDisconnect, {
      taskQueue: config.temporal.taskQueue,
      workflowId: disconnectWorkflowId(integrationId),
      workflowIdConflictPolicy: 'USE_EXISTING',
      args: [{ integrationId, purge: true }],
      typedSearchAttributes: searchAttributesFor({ tenantId, integrationId, workspace }),
      staticSummary: `Disconnect Zendesk workspace ${workspace} and purge its data (tenant offboarding)`,
    });
    const result = handle.result();
    for (;;) {
      const done = await Promise.race([result.then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), HEARTBEAT_MS).unref())]);
      if (done) return result;
      Context.current().heartbeat();
    }
  };

  return {
    /** The tenant's keys are refused from now on (the API accepts only active tenants) and it creates nothing new. */
    async beginOffboard(input: { tenantId: string }): Promise<void> {
      const tenant = await findTenant(db, input.tenantId);
      if (!tenant) throw ApplicationFailure.nonRetryable(`Tenant ${input.tenantId} does not exist`, 'TenantUnknown');
      if (await setTenantStatus(db, input.tenantId, 'offboarding', ['active'])) logger.info({ tenantId: input.tenantId }, 'tenant offboarding started');
    },

    /** A page of the tenant's integrations (every state: a disconnected one may still hold synced data). */
    async listTenantIntegrations(input: { tenantId: string; after?: string; limit: number }): Promise<{ integrationIds: string[]; next?: string }> {
      const page = await tenantIntegrationPage(db, input.tenantId, input.after, input.limit);
      return { integrationIds: page.ids, next: page.next };
    },

    /**
     * The integration disconnected and purged by its own workflow (`zendesk-disconnect-<id>`, purge: true):
     * schedule deleted, syncs stopped, grant revoked when Zendesk allows it, tokens and synced data deleted.
     * A disconnect already under way (a tenant's DELETE) is joined; when it did not purge, another run purges.
     */
    async disconnectAndPurge(input: { tenantId: string; integrationId: string }): Promise<{ skipped: boolean; revocation?: string }> {
      if (await fullyGone(db, input.integrationId)) return { skipped: true };
      const integration = await findIntegration(db, input.integrationId);
      if (!integration || integration.tenant_id !== input.tenantId) return { skipped: true };
      let result = await disconnect(integration.id, input.tenantId, integration.workspace);
      if (!result.purged) result = await disconnect(integration.id, input.tenantId, integration.workspace);
      return { skipped: false, revocation: result.revocation?.outcome };
    },

    /** Every key of the tenant revoked (they were refused since beginOffboard; now for good). */
    async revokeTenantKeys(input: { tenantId: string }): Promise<{ revoked: number }> {
      return { revoked: await revokeAllApiKeys(db, input.tenantId) };
    },

    async finishOffboard(input: { tenantId: string; integrations: number }): Promise<void> {
      await setTenantStatus(db, input.tenantId, 'offboarded', ['offboarding', 'offboarded']);
      logger.info({ tenantId: input.tenantId, integrations: input.integrations }, 'tenant offboarded');
    },
  };
}

export type OffboardActivities = ReturnType<typeof createOffboardActivities>;
