// The OAuth Tokens API under /api/v2/oauth/tokens: introspect the current token and revoke tokens.
// Revoking a token kills its whole grant (the access token and its refresh token). Revoking is a DELETE,
// which needs the `write` scope (OAuthBehaviour.revokeNeedsWrite): a `read` token is answered 403.

import { authenticate } from './auth';
import { hash32 } from './prng';
import { forbidden, invalidToken, json, recordNotFound, type Reply, type RequestContext } from './http';
import { scopeAllowsDelete, type AccessTokenRecord } from './tokens';

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Zendesk's admin API identifies clients by a numeric id, not the client_id string. */
function numericClientId(clientId: string): number {
  return 360_000_000_000 + (hash32(...[...clientId].map((c) => c.charCodeAt(0))) % 1_000_000);
}

function tokenJson(ctx: RequestContext, t: AccessTokenRecord): Record<string, unknown> {
  const grant = ctx.ws.oauth.grant(t.grantId);
  return {
    id: t.id,
    url: `${ctx.baseUrl}/api/v2/oauth/tokens/${t.id}.json`,
    user_id: grant?.userId ?? null,
    client_id: grant ? numericClientId(grant.clientId) : null,
    token: t.token.slice(0, 10),
    refresh_token: t.refreshToken ? t.refreshToken.slice(0, 10) : null,
    scopes: (grant?.scope ?? '').split(' ').filter(Boolean),
    created_at: iso(t.createdAt),
    expires_at: iso(t.expiresAt),
    used_at: iso(t.usedAt),
  };
}

function caller(ctx: RequestContext) {
  const auth = authenticate(ctx);
  if (auth.kind === 'none') return { reply: invalidToken() };
  if (auth.kind === 'invalid') return { reply: auth.reply };
  return { auth };
}

/** A revoking caller: authenticated, and (by default) holding the `write` scope DELETE endpoints need. */
function revoker(ctx: RequestContext) {
  const c = caller(ctx);
  if (!c.auth) return c;
  if (!c.auth.grant.scopeValid) return { reply: forbidden() };
  if (ctx.ws.oauth.behaviour.revokeNeedsWrite && !scopeAllowsDelete(c.auth.grant.scope)) return { reply: forbidden() };
  return c;
}

/** GET /api/v2/oauth/tokens/current */
export function showCurrentToken(ctx: RequestContext): Reply {
  const c = caller(ctx);
  if (!c.auth) return c.reply;
  if (!c.auth.grant.scopeValid) return forbidden();
  return json(200, { token: tokenJson(ctx, c.auth.token) });
}

/** GET /api/v2/oauth/tokens/{id}: your own tokens; admins see everyone's. */
export function showToken(ctx: RequestContext, id: number): Reply {
  const c = caller(ctx);
  if (!c.auth) return c.reply;
  if (!c.auth.grant.scopeValid) return forbidden();
  const t = ctx.ws.oauth.accessTokenById(id);
  if (!t || t.revoked) return recordNotFound();
  const owner = ctx.ws.oauth.grant(t.grantId)?.userId;
  if (owner !== c.auth.user.id && c.auth.user.role !== 'admin') return forbidden();
  return json(200, { token: tokenJson(ctx, t) });
}

/** DELETE /api/v2/oauth/tokens/current: works in the sandbox (real Zendesk reportedly ignores it sometimes). */
export function revokeCurrentToken(ctx: RequestContext): Reply {
  const c = revoker(ctx);
  if (!c.auth) return c.reply;
  ctx.ws.oauth.revokeGrant(c.auth.grant.id);
  ctx.ws.counters.revoked();
  return { status: 204 };
}

/** DELETE /api/v2/oauth/tokens/{id}: your own tokens; admins may revoke anyone's. */
export function revokeToken(ctx: RequestContext, id: number): Reply {
  const c = revoker(ctx);
  if (!c.auth) return c.reply;
  const t = ctx.ws.oauth.accessTokenById(id);
  if (!t || t.revoked) return recordNotFound();
  const owner = ctx.ws.oauth.grant(t.grantId)?.userId;
  if (owner !== c.auth.user.id && c.auth.user.role !== 'admin') return forbidden();
  ctx.ws.oauth.revokeGrant(t.grantId);
  ctx.ws.counters.revoked();
  return { status: 204 };
}
