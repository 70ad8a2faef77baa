import { ApplicationFailure } from '@temporalio/common';
import { saveCredentials } from '../db/repositories/credentials';
import { findIntegration, setIntegrationStatus } from '../db/repositories/integrations';
import { findOAuthFlow, markFlowExchanged } from '../db/repositories/oauthFlows';
import { zendeskObserver } from '../observability/metrics';
import { ensureSyncSchedule, type SyncTarget } from '../temporal/syncSchedule';
import { ZendeskClient } from '../zendesk/client';
import { exchangeCode } from '../zendesk/oauth';
import { workspaceBaseUrl } from '../zendesk/workspace';
import type { ActivityDeps } from './deps';
import { revokeAndForget, type RevocationResult } from './revoke';
import { withZendeskFailures } from './failures';

/** Activities of the connect flow. Each is idempotent: a retry after a crash does the work once. */
export function createConnectActivities(deps: ActivityDeps) {
  const { db, box, config, logger } = deps;

  const integrationOrFail = async (integrationId: string) => {
    const integration = await findIntegration(db, integrationId);
    if (!integration) throw ApplicationFailure.nonRetryable(`Integration ${integrationId} no longer exists`, 'IntegrationGone');
    return integration;
  };

  return {
    /** Spends the authorization code (kept encrypted in the flow row) for tokens, stored encrypted. */
    async exchangeAuthorizationCode(input: { integrationId: string; flowId: string }): Promise<void> {
      const flow = await findOAuthFlow(db, input.flowId);
      if (!flow || flow.integration_id !== input.integrationId) {
        throw ApplicationFailure.nonRetryable('The consent attempt is unknown', 'ConsentAttemptUnknown');
      }
      if (flow.exchanged_at) return; // done by an earlier attempt of this activity
      if (!flow.code_enc || !flow.pkce_verifier_enc) {
        throw ApplicationFailure.nonRetryable('The consent attempt has no authorization code', 'ConsentAttemptUnknown');
      }
      const integration = await integrationOrFail(input.integrationId);
      const code = box.decrypt(flow.code_enc, flow.id);
      const codeVerifier = box.decrypt(flow.pkce_verifier_enc, flow.id);
      await withZendeskFailures(async () => {
        const tokens = await exchangeCode({
          baseUrl: workspaceBaseUrl(config.zendesk.baseUrlTemplate, integration.workspace),
          clientId: config.zendesk.clientId!,
          clientSecret: config.zendesk.clientSecret!,
          code,
          codeVerifier,
          redirectUri: config.redirectUri,
          // Asked for explicitly (config, default 30 min / 30 days): without `expires_in` in the request Zendesk
          // leaves it out of the response; every refresh asks again (TokenProvider).
          expiresIn: config.zendesk.accessTokenExpiresIn,
          refreshTokenExpiresIn: config.zendesk.refreshTokenExpiresIn,
          timeoutMs: config.zendesk.requestTimeoutMs,
          subdomain: integration.workspace,
          observer: zendeskObserver(deps.metrics, { tokenGrant: 'authorization_code' }),
        });
        await db.transaction().execute(async (trx) => {
          await saveCredentials(trx, box, input.integrationId, tokens);
          await markFlowExchanged(trx, input.flowId);
        });
      });
      logger.info({ integrationId: input.integrationId, workspace: integration.workspace }, 'authorization code exchanged');
    },

    /** Who approved access? Exports are admin-only, so only an admin's grant is useful. */
    async verifyAdmin(input: { integrationId: string }): Promise<{ isAdmin: boolean; userId: number | null; role: string | null }> {
      const integration = await integrationOrFail(input.integrationId);
      return withZendeskFailures(async () => {
        const client = new ZendeskClient({ db, box, config, integrationId: input.integrationId, subdomain: integration.workspace, observer: zendeskObserver(deps.metrics) });
        const me = await client.getMe();
        const userId = me.id ?? null;
        const role = me.role ?? null;
        return { isAdmin: userId !== null && role === 'admin', userId, role };
      });
    },

    /** Revokes the grant at Zendesk when it can and forgets the tokens; says (and logs) what Zendesk did. */
    async discardCredentials(input: { integrationId: string }): Promise<RevocationResult> {
      return revokeAndForget(deps, input.integrationId);
    },

    async markConnected(input: { integrationId: string; zendeskUserId: number }): Promise<void> {
      await setIntegrationStatus(db, input.integrationId, {
        status: 'connected',
        zendeskUserId: input.zendeskUserId,
        onlyFrom: ['awaiting_consent', 'connecting', 'connected'],
      });
    },

    /** Ends a consent attempt that did not connect; never overrides a later disconnect. */
    async closeConsentAttempt(input: { integrationId: string; status: 'expired' | 'consent_denied' | 'needs_reauth' | 'failed'; message: string }): Promise<void> {
      await setIntegrationStatus(db, input.integrationId, {
        status: input.status,
        error: input.message,
        onlyFrom: ['awaiting_consent', 'connecting'],
      });
    },

    /** Creates (or resumes) the sync schedule and starts the first sync now. */
    async startSyncing(target: SyncTarget): Promise<void> {
      await ensureSyncSchedule(deps.temporal, target, { taskQueue: config.temporal.taskQueue, intervalMs: config.syncIntervalMs, run: config.syncRun });
    },
  };
}

export type ConnectActivities = ReturnType<typeof createConnectActivities>;
