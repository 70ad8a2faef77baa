import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { loadCredentials, saveCredentials, type TokenSet } from '../db/repositories/credentials';
import { findIntegration, lockIntegration, setIntegrationStatus } from '../db/repositories/integrations';
import { findOAuthFlow, recordFlowOutcome } from '../db/repositories/oauthFlows';
import { deleteStagedCredentials, loadStagedCredentials, stageIncomingCredentials, stageReplacedCredentials } from '../db/repositories/stagedCredentials';
import type { IntegrationStatus } from '../db/tables';
import { zendeskObserver } from '../observability/zendeskMetrics';
import { grantUser } from '../zendesk/grantUser';
import { workspaceBaseUrl } from '../zendesk/workspace';
import { exchangeFlowCode } from './codeExchange';
import type { ActivityDeps } from './deps';
import { withZendeskFailures } from './failures';
import { forgetStagedGrant } from './revokeStaged';

/**
 * The connect flow with staged tokens (issue 13 §2): the code is exchanged into `oauth_staged_credentials`,
 * never over the integration's working tokens; the staged grant's user is checked; only an admin's grant is
 * swapped in, in one transaction with the status change; the grant it replaced (or a non-admin's) is then
 * revoked at Zendesk. A connected integration keeps syncing with its old grant until the swap.
 */

/** Statuses a verified grant may connect from: a consent in progress, or a reconnect of a (once) connected integration. */
const PROMOTABLE: IntegrationStatus[] = ['awaiting_consent', 'connecting', 'connected', 'needs_reauth'];

/** Attempts at revoking a staged grant while Zendesk fails transiently; then it is forgotten (best effort). */
const REVOKE_ATTEMPTS = 3;

const tokenSet = (t: TokenSet): TokenSet => ({
  accessToken: t.accessToken,
  refreshToken: t.refreshToken,
  accessExpiresAt: t.accessExpiresAt,
  refreshExpiresAt: t.refreshExpiresAt,
  scope: t.scope,
});

function activityAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return Number.POSITIVE_INFINITY; // outside an activity: no retry will come
  }
}

export function createStagedConnectActivities(deps: ActivityDeps) {
  const { db, box, config, logger } = deps;

  const unknownAttempt = (what: string) => ApplicationFailure.nonRetryable(`The consent attempt has no ${what}`, 'ConsentAttemptUnknown');

  return {
    /** Spends the authorization code; the tokens are staged apart from the working ones. */
    async exchangeCodeForStagedTokens(input: { integrationId: string; flowId: string }): Promise<void> {
      await exchangeFlowCode(deps, input, (trx, tokens) => stageIncomingCredentials(trx, box, input.flowId, input.integrationId, tokens));
    },

    /** Who approved access, asked with the staged grant itself. Exports are admin-only, so only an admin's grant is useful. */
    async verifyStagedAdmin(input: { integrationId: string; flowId: string }): Promise<{ isAdmin: boolean; userId: number | null; role: string | null }> {
      const staged = await loadStagedCredentials(db, box, input.flowId);
      if (!staged || staged.kind !== 'incoming' || staged.integrationId !== input.integrationId) throw unknownAttempt('new tokens to check');
      const integration = await findIntegration(db, input.integrationId);
      if (!integration) throw ApplicationFailure.nonRetryable(`Integration ${input.integrationId} no longer exists`, 'IntegrationGone');
      return withZendeskFailures(async () => {
        const me = await grantUser({
          baseUrl: workspaceBaseUrl(config.zendesk.baseUrlTemplate, integration.workspace),
          accessToken: staged.accessToken,
          timeoutMs: config.zendesk.requestTimeoutMs,
          subdomain: integration.workspace,
          observer: zendeskObserver(deps.metrics),
        });
        const role = me.role ?? null;
        return { isAdmin: role === 'admin', userId: me.id, role };
      });
    },

    /**
     * The swap, in one transaction: the staged tokens become the working ones, the working ones move to the
     * staged row as `replaced` (to be revoked next), the integration is connected and the attempt completed.
     * Row locks on the integration and on its credentials serialize it with token refreshes of running syncs:
     * a refresh either rotated the old pair before (and the rotated pair is what gets replaced) or finds the
     * new pair after. A retry after the commit finds the attempt completed and does nothing. Says whether a grant
     * was replaced (a first connect replaces none).
     */
    async promoteStagedCredentials(input: { integrationId: string; flowId: string; zendeskUserId: number }): Promise<{ replaced: boolean }> {
      const replaced = await db.transaction().execute(async (trx) => {
        const integration = await lockIntegration(trx, input.integrationId);
        const staged = await loadStagedCredentials(trx, box, input.flowId, { forUpdate: true });
        if (!staged || staged.kind !== 'incoming') {
          // An earlier attempt of this activity committed the swap; what it replaced waits to be revoked.
          if ((await findOAuthFlow(trx, input.flowId))?.outcome === 'completed') return staged?.kind === 'replaced';
          throw unknownAttempt('new tokens to swap in');
        }
        if (!integration || !PROMOTABLE.includes(integration.status)) {
          throw ApplicationFailure.nonRetryable(`The integration is ${integration?.status ?? 'gone'}; its new grant is not used`, 'IntegrationNotConnectable');
        }
        const current = await loadCredentials(trx, box, input.integrationId, { forUpdate: true });
        await saveCredentials(trx, box, input.integrationId, tokenSet(staged));
        if (current) await stageReplacedCredentials(trx, box, input.flowId, tokenSet(current));
        else await deleteStagedCredentials(trx, input.flowId);
        await setIntegrationStatus(trx, input.integrationId, { status: 'connected', error: null, zendeskUserId: input.zendeskUserId, onlyFrom: PROMOTABLE });
        await recordFlowOutcome(trx, input.flowId, 'completed', null);
        return current !== undefined;
      });
      logger.info({ integrationId: input.integrationId, replaced }, 'new Zendesk grant swapped in');
      return { replaced };
    },

    /**
     * Revokes at Zendesk whatever grant the attempt still has staged — the one the swap replaced, or a
     * non-admin's (or a failed attempt's) new grant — then forgets it. Best effort, like every revocation:
     * a transient Zendesk failure is retried a few times, then the tokens are deleted anyway.
     */
    async revokeStagedCredentials(input: { integrationId: string; flowId: string }): Promise<void> {
      await forgetStagedGrant(deps, input.integrationId, input.flowId, { retryTransient: activityAttempt() < REVOKE_ATTEMPTS });
    },
  };
}

export type StagedConnectActivities = ReturnType<typeof createStagedConnectActivities>;
