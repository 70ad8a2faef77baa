// Bearer-token authentication and authorisation for /api/v2 calls. The token acts as the user
// who consented, with that user's current role: demoting the user takes effect immediately.

import { couldNotAuthenticate, forbidden, invalidToken, type Reply, type RequestContext } from './http';
import { scopeAllowsRead, type AccessTokenRecord, type Grant } from './tokens';
import type { UserData } from './types';

export type Auth =
  { kind: 'none' } | { kind: 'invalid'; scheme: 'bearer' | 'other'; reply: Reply } | { kind: 'user'; token: AccessTokenRecord; grant: Grant; user: UserData };

export function authenticate(ctx: RequestContext): Auth {
  const header = ctx.headers.authorization;
  if (header === undefined || header.trim() === '') return { kind: 'none' };
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) {
    // Basic auth / API tokens are not simulated: answer like Zendesk does to bad credentials.
    return { kind: 'invalid', scheme: 'other', reply: couldNotAuthenticate() };
  }
  const oauth = ctx.ws.oauth;
  const token = oauth.accessToken(m[1]!);
  if (!token || token.revoked) return { kind: 'invalid', scheme: 'bearer', reply: invalidToken() };
  if (token.expiresAt !== null && ctx.now >= token.expiresAt) return { kind: 'invalid', scheme: 'bearer', reply: invalidToken() };
  const grant = oauth.grant(token.grantId);
  if (!grant || grant.revoked) return { kind: 'invalid', scheme: 'bearer', reply: invalidToken() };
  const user = ctx.ws.userData(grant.userId);
  // Deleted or suspended users cannot use the API any more; their tokens stop working.
  if (!user || !user.active || user.suspended) return { kind: 'invalid', scheme: 'bearer', reply: invalidToken() };
  token.usedAt = ctx.now;
  return { kind: 'user', token, grant, user };
}

export type Requirement = {
  /** 'admin': admins only (exports). 'staff': agents and admins (user lists). 'any': any signed-in user. */
  role: 'admin' | 'staff' | 'any';
  /** Resource whose read scope (or global read) the grant needs. */
  read?: 'users' | 'tickets';
};

/** Authenticates and checks role and scope; returns the auth or the error reply to send. */
export function authorize(ctx: RequestContext, req: Requirement): { ok: true; auth: Extract<Auth, { kind: 'user' }> } | { ok: false; reply: Reply } {
  const auth = authenticate(ctx);
  if (auth.kind === 'none') return { ok: false, reply: invalidToken() };
  if (auth.kind === 'invalid') return { ok: false, reply: auth.reply };
  if (!auth.grant.scopeValid) return { ok: false, reply: forbidden() };
  if (req.read && !scopeAllowsRead(auth.grant.scope, req.read)) return { ok: false, reply: forbidden() };
  const role = auth.user.role;
  if (req.role === 'admin' && role !== 'admin') return { ok: false, reply: forbidden() };
  if (req.role === 'staff' && role === 'end-user') return { ok: false, reply: forbidden() };
  return { ok: true, auth };
}
