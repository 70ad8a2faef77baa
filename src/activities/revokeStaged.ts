import type { TokenSet } from '../db/repositories/credentials';
import { zendeskObserver } from '../observability/metrics';
import { ZendeskAuthError } from '../zendesk/errors';
import { refreshTokens, revokeToken, type RevokeResult } from '../zendesk/oauth';
import { workspaceBaseUrl } from '../zendesk/workspace';
import type { ActivityDeps } from './deps';

/**
 * Revokes at Zendesk the grant behind a token set that is not the integration's working one (a reconnect's
 * replaced grant, or a new grant whose user is not an admin), with the existing helpers. An access token
 * Zendesk no longer accepts may only have expired while its grant lives on: then the grant's refresh token
 * (which nobody else holds any more) renews it once and the revocation is tried again, so "already invalid"
 * means the grant really is dead. Zendesk failures other than those answers are thrown.
 */
export async function revokeStagedGrant(deps: ActivityDeps, workspace: string, tokens: TokenSet): Promise<RevokeResult> {
  const { config } = deps;
  const baseUrl = workspaceBaseUrl(config.zendesk.baseUrlTemplate, workspace);
  const options = { timeoutMs: config.zendesk.requestTimeoutMs, subdomain: workspace, observer: zendeskObserver(deps.metrics) };
  const first = await revokeToken(baseUrl, tokens.accessToken, options);
  if (first.outcome !== 'already_invalid' || !tokens.refreshToken) return first;
  let renewed: TokenSet;
  try {
    renewed = await refreshTokens({
      baseUrl,
      clientId: config.zendesk.clientId!,
      clientSecret: config.zendesk.clientSecret!,
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
