import { ZendeskAuthError } from './errors';
import { parseBody, zendeskRequest, type ZendeskObserver } from './http';
import { meResponseSchema, type ZendeskMe } from './schemas';

/**
 * Who a grant belongs to: `GET /api/v2/users/me` with that grant's own access token, for tokens that are not
 * (yet) the integration's working ones — a reconnect's new grant, checked before it replaces the old one — so
 * it cannot go through ZendeskClient, whose tokens are the stored `oauth_credentials`. One request, no refresh:
 * the token was issued seconds ago. Zendesk answers a dead token with 200 and an anonymous user (`id: null`),
 * which is a ZendeskAuthError('invalid_token') here, as in ZendeskClient.getMe.
 */
export async function grantUser(params: {
  baseUrl: string;
  accessToken: string;
  timeoutMs: number;
  observer?: ZendeskObserver;
  subdomain?: string;
}): Promise<ZendeskMe & { id: number }> {
  const response = await zendeskRequest({ ...params, method: 'GET', path: '/api/v2/users/me.json' });
  const { user } = parseBody(meResponseSchema, response.body, response.status, 'GET /api/v2/users/me');
  if (user.id === null) throw new ZendeskAuthError('invalid_token', response.status);
  return { ...user, id: user.id };
}
