import { ApplicationFailure } from '@temporalio/common';
import { saveCredentials } from '../db/repositories/credentials';
import { findIntegration, setIntegrationStatus } from '../db/repositories/integrations';
import { recordFlowOutcome } from '../db/repositories/oauthFlows';
import type { FlowOutcome } from '../db/tables';
import { zendeskObserver } from '../observability/zendeskMetrics';
import { ensureSyncSchedule, type SyncTarget } from '../temporal/syncSchedule';
import { ZendeskClient } from '../zendesk/client';
import type { ActivityDeps } from './deps';
import { revokeAndForget, type RevocationResult } from './revoke';
import { exchangeFlowCode } from './codeExchange';
import { withZendeskFailures } from './failures';

/** How a closed attempt reads on its flow when the workflow did not say (runs begun before outcomes were recorded). */
const OUTCOME_OF_STATUS: Record<'expired' | 'consent_denied' | 'needs_reauth' | 'failed', FlowOutcome> = {
  expired: 'expired',
  consent_denied: 'denied',
  needs_reauth: 'failed',
  failed: 'failed',
};

/** Activities of the connect flow. Each is idempotent: a retry after a crash does the work once. */
export function createConnectActivities(deps: ActivityDeps) {
  const { db, box, config } = deps;

  const integrationOrFail = async (integrationId: string) => {
    const integration = await findIntegration(db, integrationId);
    if (!integration) throw ApplicationFailure.nonRetryable(`Integration ${integrationId} no longer exists`, 'IntegrationGone');
    return integration;
  };

  return {
    /** Spends the authorization code for tokens, stored encrypted as the integration's working ones (runs begun before staging). */
    async exchangeAuthorizationCode(input: { integrationId: string; flowId: string }): Promise<void> {
      await exchangeFlowCode(deps, input, (trx, tokens) => saveCredentials(trx, box, input.integrationId, tokens).then(() => undefined));
    },

    /** Who approved access? Exports are admin-only, so only an admin's grant is useful. */
    async verifyAdmin(input: { integrationId: string }): Promise<{ isAdmin: boolean; userId: number | null; role: string | null }> {
      const integration = await integrationOrFail(input.integrationId);
      return withZendeskFailures(async () => {
        const client = new ZendeskClient({
          db,
          box,
          config,
          integrationId: input.integrationId,
          subdomain: integration.workspace,
          rateLimits: deps.rateLimits,
          observer: zendeskObserver(deps.metrics),
        });
        const me = await client.getMe();
        const role = me.role ?? null;
        return { isAdmin: role === 'admin', userId: me.id, role };
      });
    },

    /** Revokes the grant at Zendesk when it can and forgets the tokens; says (and logs) what Zendesk did. */
    async discardCredentials(input: { integrationId: string }): Promise<RevocationResult> {
      return revokeAndForget(deps, input.integrationId);
    },

    /** Runs begun before staging: the tokens are already the working ones. */
    async markConnected(input: { integrationId: string; zendeskUserId: number; flowId?: string }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await setIntegrationStatus(trx, input.integrationId, {
          status: 'connected',
          zendeskUserId: input.zendeskUserId,
          onlyFrom: ['awaiting_consent', 'connecting', 'connected'],
        });
        if (input.flowId) await recordFlowOutcome(trx, input.flowId, 'completed', null);
      });
    },

    /**
     * Ends a consent attempt that did not connect, and says why on its flow (a reconnect's attempt shows it
     * on the integration). Never overrides a later disconnect, nor a connected integration: a reconnect that
     * is denied, expires or fails leaves a working integration as it was.
     */
    async closeConsentAttempt(input: {
      integrationId: string;
      status: 'expired' | 'consent_denied' | 'needs_reauth' | 'failed';
      message: string;
      /** Absent in activities scheduled before outcomes were recorded. */
      flowId?: string;
      outcome?: FlowOutcome;
    }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await setIntegrationStatus(trx, input.integrationId, {
          status: input.status,
          error: input.message,
          onlyFrom: ['awaiting_consent', 'connecting'],
        });
        if (input.flowId) await recordFlowOutcome(trx, input.flowId, input.outcome ?? OUTCOME_OF_STATUS[input.status], input.message);
      });
    },

    /** Creates (or resumes) the sync schedule and starts the first sync now. */
    async startSyncing(target: SyncTarget): Promise<void> {
      await ensureSyncSchedule(deps.temporal, target, { taskQueue: config.temporal.taskQueue, intervalMs: config.syncIntervalMs, run: config.syncRun });
    },
  };
}

export type ConnectActivities = ReturnType<typeof createConnectActivities>;
