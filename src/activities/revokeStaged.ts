import type { TokenSet } from '../db/repositories/credentials';
import { zendeskObserver } from '../observability/metrics';
import { ZendeskAuthError } from '../zendesk/errors';
import { refreshTokens, revokeToken } from '../zendesk/oauth';
import { workspaceBaseUrl } from '../zendesk/workspace';
import type { ActivityDeps } from './deps';

/** Refresh first when the access token expires within this margin: a dead access token hides a live grant. */
const EXPIRY_MARGIN_MS = 60_000;

/**
 * Revokes at Zendesk the grant behind a token set that is not the integration's working one (a reconnect's
 * replaced grant, or a new grant whose user is not an admin), with the existing helpers: an access token that
 * has expired is renewed first with the grant's refresh token (nobody else holds it any more), so the grant is
 * really revoked and not just found "already dead". Returns whether a grant was revoked now.
 */
export async function revokeStagedGrant(deps: ActivityDeps, workspace: string, tokens: TokenSet): Promise<boolean> {
  const { config } = deps;
  const baseUrl = workspaceBaseUrl(config.zendesk.baseUrlTemplate, workspace);
  const options = { timeoutMs: config.zendesk.requestTimeoutMs, subdomain: workspace, observer: zendeskObserver(deps.metrics) };
  let accessToken = tokens.accessToken;
  const expiring = tokens.accessExpiresAt !== null && tokens.accessExpiresAt.getTime() - Date.now() <= EXPIRY_MARGIN_MS;
  if (expiring && tokens.refreshToken) {
    try {
      const renewed = await refreshTokens({ baseUrl, clientId: config.zendesk.clientId!, clientSecret: config.zendesk.clientSecret!, refreshToken: tokens.refreshToken, ...options });
      accessToken = renewed.accessToken;
    } catch (err) {
      if (err instanceof ZendeskAuthError) return false; // the grant is already dead
      throw err;
    }
  }
  return revokeToken(baseUrl, accessToken, options);
}
