import type { TokenSet } from '../db/repositories/credentials';
import { findIntegration } from '../db/repositories/integrations';
import { recordFlowRevocation } from '../db/repositories/oauthFlows';
import { deleteStagedCredentials, loadStagedCredentials, stagedFlowIds } from '../db/repositories/stagedCredentials';
import type { FlowRevocation } from '../db/tables';
import { zendeskObserver } from '../observability/zendeskMetrics';
import { isZendeskError, ZendeskAuthError } from '../zendesk/errors';
import { refreshTokens, revokeToken, type RevokeResult } from '../zendesk/oauth';
import { workspaceBaseUrl } from '../zendesk/workspace';
import type { ActivityDeps } from './deps';
import { toActivityFailure } from './failures';
import { revocationResult } from './revoke';

/**
 * Revokes at Zendesk the grant behind a token set that is not the integration's working one (a reconnect's
 * replaced grant, or a new grant whose user is not an admin), with the existing helpers. An access token
 * Zendesk no longer accepts may only have expired while its grant lives on: then the grant's refresh token
 * (which nobody else holds any more) renews it once and the revocation is tried again, so "already invalid"
 * means the grant really is dead. Zendesk failures other than those answers are thrown.
 */
async function revokeStagedGrant(deps: ActivityDeps, workspace: string, tokens: TokenSet): Promise<RevokeResult> {
  const { config } = deps;
  const baseUrl = workspaceBaseUrl(config.zendesk.baseUrlTemplate, workspace);
  const options = { timeoutMs: config.zendesk.requestTimeoutMs, subdomain: workspace, observer: zendeskObserver(deps.metrics) };
  const first = await revokeToken(baseUrl, tokens.accessToken, options);
  if (first.outcome !== 'already_invalid' || !tokens.refreshToken) return first;
  let renewed: TokenSet;
  try {
    renewed = await refreshTokens({
      baseUrl,
      clientId: config.zendesk.clientId,
      clientSecret: config.zendesk.clientSecret,
      refreshToken: tokens.refreshToken,
      scope: tokens.scope,
      expiresIn: config.zendesk.accessTokenExpiresIn,
      ...options,
    });
  } catch (err) {
    if (err instanceof ZendeskAuthError) return first; // the refresh token is dead too: so is the grant
    throw err;
  }
  return revokeToken(baseUrl, renewed.accessToken, options);
}

/**
 * Revokes at Zendesk whatever grant a consent attempt still holds apart — the one its swap replaced, or a
 * non-admin's (or a failed attempt's) new grant — then forgets it, recording what Zendesk did on the attempt.
 * Best effort, like every revocation: with `retryTransient` a transient Zendesk failure is thrown (as an
 * activity failure, for Temporal to retry); otherwise the tokens are deleted anyway. Idempotent: an attempt
 * with nothing staged is left alone.
 */
export async function forgetStagedGrant(deps: ActivityDeps, integrationId: string, flowId: string, options: { retryTransient?: boolean } = {}): Promise<void> {
  const { db, box, logger } = deps;
  const staged = await loadStagedCredentials(db, box, flowId);
  if (!staged) return;
  const integration = await findIntegration(db, integrationId);
  let revocation: FlowRevocation = 'failed';
  const fields = { integrationId, grant: staged.kind };
  if (integration) {
    try {
      revocation = (await revokeStagedGrant(deps, integration.workspace, staged)).outcome;
    } catch (err) {
      if (options.retryTransient && isZendeskError(err) && err.retryable) throw toActivityFailure(err);
      // Only our own class names and messages: they never carry a token or a Zendesk body.
      logger.warn({ ...fields, error: isZendeskError(err) ? err.message : (err as Error).name }, 'revoking a grant the integration no longer uses failed');
    }
  }
  const result = revocationResult(revocation);
  if (result.grantMayBeLive) logger.warn({ ...fields, revocation }, `Grant the integration no longer uses not revoked; its tokens deleted. ${result.message}`);
  else logger.info({ ...fields, revocation }, 'grant the integration no longer uses revoked at Zendesk; its tokens deleted');
  // Forgotten and recorded together: a retry finds nothing staged and changes nothing.
  await db.transaction().execute(async (trx) => {
    await recordFlowRevocation(trx, flowId, revocation);
    await deleteStagedCredentials(trx, flowId);
  });
}

/**
 * Every grant the integration's consent attempts still hold apart, revoked (best effort) and forgotten. For a
 * disconnect, which terminates a connect workflow that may have staged tokens and not yet let them go.
 */
export async function forgetStagedGrants(deps: ActivityDeps, integrationId: string): Promise<void> {
  for (const flowId of await stagedFlowIds(deps.db, integrationId)) await forgetStagedGrant(deps, integrationId, flowId);
}
