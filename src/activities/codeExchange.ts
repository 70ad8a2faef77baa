import { ApplicationFailure } from '@temporalio/common';
import type { TokenSet } from '../db/repositories/credentials';
import { findIntegration } from '../db/repositories/integrations';
import { findOAuthFlow, markFlowExchanged, openCode, openVerifier } from '../db/repositories/oauthFlows';
import type { Transaction } from 'kysely';
import type { Database } from '../db/tables';
import { zendeskObserver } from '../observability/zendeskMetrics';
import { exchangeCode } from '../zendesk/oauth';
import { workspaceBaseUrl } from '../zendesk/workspace';
import type { ActivityDeps } from './deps';
import { withZendeskFailures } from './failures';

/**
 * Spends a consent attempt's authorization code (kept encrypted in its flow row) for tokens and hands them to
 * `store`, in the transaction that marks the flow exchanged (and drops the code and verifier). A retry after
 * that commit does nothing: the code can be spent only once at Zendesk, and it was.
 * Returns false when an earlier attempt already did it.
 */
export async function exchangeFlowCode(
  deps: ActivityDeps,
  input: { integrationId: string; flowId: string },
  store: (trx: Transaction<Database>, tokens: TokenSet) => Promise<void>,
): Promise<boolean> {
  const { db, box, config, logger } = deps;
  const flow = await findOAuthFlow(db, input.flowId);
  if (!flow || flow.integration_id !== input.integrationId) {
    throw ApplicationFailure.nonRetryable('The consent attempt is unknown', 'ConsentAttemptUnknown');
  }
  if (flow.exchanged_at) return false;
  if (!flow.code_enc || !flow.pkce_verifier_enc) {
    throw ApplicationFailure.nonRetryable('The consent attempt has no authorization code', 'ConsentAttemptUnknown');
  }
  const integration = await findIntegration(db, input.integrationId);
  if (!integration) throw ApplicationFailure.nonRetryable(`Integration ${input.integrationId} no longer exists`, 'IntegrationGone');
  const code = openCode(box, { id: flow.id, code_enc: flow.code_enc });
  const codeVerifier = openVerifier(box, { id: flow.id, pkce_verifier_enc: flow.pkce_verifier_enc });
  await withZendeskFailures(async () => {
    const tokens = await exchangeCode({
      baseUrl: workspaceBaseUrl(config.zendesk.baseUrlTemplate, integration.workspace),
      clientId: config.zendesk.clientId,
      clientSecret: config.zendesk.clientSecret,
      code,
      codeVerifier,
      redirectUri: config.redirectUri,
      // The token's scope when Zendesk's response names none.
      scope: flow.scope,
      // Asked for explicitly (config, default 30 min / 30 days): without `expires_in` in the request Zendesk
      // leaves it out of the response; every refresh asks again (TokenProvider).
      expiresIn: config.zendesk.accessTokenExpiresIn,
      refreshTokenExpiresIn: config.zendesk.refreshTokenExpiresIn,
      timeoutMs: config.zendesk.requestTimeoutMs,
      subdomain: integration.workspace,
      observer: zendeskObserver(deps.metrics, { tokenGrant: 'authorization_code' }),
    });
    await db.transaction().execute(async (trx) => {
      await store(trx, tokens);
      await markFlowExchanged(trx, input.flowId);
    });
  });
  logger.info({ integrationId: input.integrationId, workspace: integration.workspace }, 'authorization code exchanged');
  return true;
}
