// The OAuth authorization-code flow as Zendesk runs it: consent page, redirect with a 120 s
// single-use code, and POST /oauth/tokens (201, rotating refresh tokens, PKCE S256). Token responses
// follow the workspace's OAuthBehaviour (tokens.ts): by default `expires_in` only when it was requested.

import { createHash, timingSafeEqual } from 'node:crypto';
import { renderConsentPage, renderErrorPage } from './consentPage';
import { html, json, redirect, type Reply, type RequestContext } from './http';
import type { OAuthClient } from './types';

const ACCESS_TTL_BOUNDS = { min: 300, max: 172_800 };
const REFRESH_TTL_BOUNDS = { min: 604_800, max: 7_776_000 };

const INVALID_CLIENT =
  'The client identifier provided is invalid, the client failed to authenticate, the client did not include its credentials, provided multiple client credentials, or used unsupported credentials type';
const INVALID_GRANT =
  'The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.';

type Params = Record<string, string | undefined>;

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

function queryParams(q: URLSearchParams): Params {
  const out: Params = {};
  for (const [k, v] of q) if (!(k in out)) out[k] = v;
  return out;
}

function bodyParams(body: Record<string, unknown> | null): Params {
  const out: Params = {};
  for (const [k, v] of Object.entries(body ?? {})) out[k] = str(v);
  return out;
}

// ---------------------------------------------------------------- authorize

type Validated =
  | { ok: false; reply: Reply }
  | { ok: true; client: OAuthClient; redirectUri: string; redirectUriGiven: boolean; scope: string; state: string | undefined; challenge: string | null };

function withParams(uri: string, params: Record<string, string | undefined>): string {
  const u = new URL(uri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  return u.toString();
}

function errorRedirect(redirectUri: string, error: string, description: string, state: string | undefined): Reply {
  return redirect(withParams(redirectUri, { error, error_description: description, state }));
}

/** Checks an authorize request. Problems with the client or redirect URI never redirect. */
function validateAuthorize(ctx: RequestContext, p: Params): Validated {
  const client = p.client_id ? ctx.ws.client(p.client_id) : undefined;
  if (!client) {
    return { ok: false, reply: html(400, renderErrorPage('Invalid OAuth request', 'The client_id is missing or does not match any OAuth client.')) };
  }
  let redirectUri = p.redirect_uri;
  if (redirectUri === undefined && client.redirectUris.length === 1) redirectUri = client.redirectUris[0];
  if (redirectUri === undefined || !client.redirectUris.includes(redirectUri)) {
    return {
      ok: false,
      reply: html(400, renderErrorPage('Invalid OAuth request', 'The redirect_uri does not match a redirect URL registered for this client.')),
    };
  }
  const state = p.state;
  if (p.response_type !== 'code') {
    return { ok: false, reply: errorRedirect(redirectUri, 'unsupported_response_type', 'Only response_type=code is supported.', state) };
  }
  const scope = (p.scope ?? '').trim();
  if (scope === '') {
    return { ok: false, reply: errorRedirect(redirectUri, 'invalid_request', 'The scope parameter is required.', state) };
  }
  let challenge: string | null = null;
  if (p.code_challenge !== undefined && p.code_challenge !== '') {
    if (p.code_challenge_method !== 'S256') {
      return { ok: false, reply: errorRedirect(redirectUri, 'invalid_request', 'code_challenge_method must be S256.', state) };
    }
    challenge = p.code_challenge;
  } else if (client.kind === 'public') {
    return { ok: false, reply: errorRedirect(redirectUri, 'invalid_request', 'PKCE is required for public clients.', state) };
  }
  return { ok: true, client, redirectUri, redirectUriGiven: p.redirect_uri !== undefined, scope, state, challenge };
}

function approve(ctx: RequestContext, v: Extract<Validated, { ok: true }>): Reply {
  const user = ctx.ws.consentingUser();
  if (!user) return html(500, renderErrorPage('No user to consent', 'The workspace has no consenting user.'));
  const code = ctx.ws.oauth.createCode({
    clientId: v.client.clientId,
    redirectUri: v.redirectUri,
    redirectUriGiven: v.redirectUriGiven,
    scope: v.scope,
    userId: user.id,
    codeChallenge: v.challenge,
    expiresAt: ctx.now + ctx.ws.tokenPolicy().codeTtlSeconds * 1000,
  });
  return redirect(withParams(v.redirectUri, { code: code.code, state: v.state }));
}

function deny(v: Extract<Validated, { ok: true }>): Reply {
  return errorRedirect(v.redirectUri, 'access_denied', 'The end-user or authorization server denied the request.', v.state);
}

/** GET /oauth/authorizations/new */
export function authorizePage(ctx: RequestContext): Reply {
  const p = queryParams(ctx.query);
  const v = validateAuthorize(ctx, p);
  if (!v.ok) return v.reply;
  const mode = ctx.ws.consentMode;
  if (mode === 'allow') return approve(ctx, v);
  if (mode === 'deny') return deny(v);
  const user = ctx.ws.consentingUser();
  const hidden: Record<string, string> = {};
  for (const k of ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method']) {
    const val = p[k];
    if (val !== undefined) hidden[k] = val;
  }
  return html(
    200,
    renderConsentPage({
      subdomain: ctx.ws.subdomain,
      clientId: v.client.clientId,
      scope: v.scope,
      userName: user?.name ?? 'unknown',
      userEmail: user?.email ?? '',
      userRole: user?.role ?? '',
      hidden,
    }),
  );
}

/** POST /oauth/authorizations: the consent page's Allow / Deny buttons. */
export function authorizeDecision(ctx: RequestContext): Reply {
  const p = bodyParams(ctx.body);
  const v = validateAuthorize(ctx, p);
  if (!v.ok) return v.reply;
  return p.decision === 'allow' ? approve(ctx, v) : deny(v);
}

// ---------------------------------------------------------------- token endpoint

function oauthError(status: number, error: string, description: string): Reply {
  return json(status, { error, error_description: description }, { 'Cache-Control': 'no-store', Pragma: 'no-cache' });
}

const invalidClient = () => oauthError(401, 'invalid_client', INVALID_CLIENT);
const invalidGrant = () => oauthError(400, 'invalid_grant', INVALID_GRANT);

function basicCredentials(header: string | undefined): { id: string; secret: string } | null {
  const m = header ? /^Basic\s+(\S+)$/i.exec(header) : null;
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return null;
  return { id: decodeURIComponent(decoded.slice(0, i)), secret: decodeURIComponent(decoded.slice(i + 1)) };
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function pkceMatches(verifier: string, challenge: string): boolean {
  if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) return false;
  const computed = createHash('sha256').update(verifier).digest('base64url');
  return safeEqual(computed, challenge);
}

function numberParam(v: string | undefined): number | undefined | 'invalid' {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? n : 'invalid';
}

const clamp = (n: number, b: { min: number; max: number }) => Math.min(b.max, Math.max(b.min, n));

/**
 * Token lifetimes: a test-configured lifetime wins (and may be below Zendesk's minimum); otherwise
 * the client's expires_in / refresh_token_expires_in is honoured, clamped into Zendesk's bounds.
 */
function lifetimes(ctx: RequestContext, p: Params): { access: number | null; refresh: number } | Reply {
  const policy = ctx.ws.tokenPolicy();
  const reqAccess = numberParam(p.expires_in);
  const reqRefresh = numberParam(p.refresh_token_expires_in);
  if (reqAccess === 'invalid' || reqRefresh === 'invalid') {
    return oauthError(400, 'invalid_request', 'expires_in and refresh_token_expires_in must be positive integers.');
  }
  let access = policy.accessTokenTtlSeconds;
  let refresh = policy.refreshTokenTtlSeconds;
  if (reqRefresh !== undefined && !policy.refreshExplicit) refresh = clamp(reqRefresh, REFRESH_TTL_BOUNDS);
  if (reqAccess !== undefined && !policy.accessExplicit) {
    access = Math.min(clamp(reqAccess, ACCESS_TTL_BOUNDS), refresh - 1);
  }
  return { access, refresh };
}

/** POST /oauth/tokens (JSON or form body). */
export function tokenEndpoint(ctx: RequestContext): Reply {
  const p = bodyParams(ctx.body);
  const basic = basicCredentials(ctx.headers.authorization);
  const clientId = p.client_id ?? basic?.id;
  const secret = p.client_secret ?? basic?.secret;
  const grantType = p.grant_type;
  if (!grantType) return oauthError(400, 'invalid_request', 'The grant_type parameter is required.');

  const client = clientId ? ctx.ws.client(clientId) : undefined;
  if (!client) return invalidClient();
  if (secret !== undefined && !safeEqual(secret, client.clientSecret)) return invalidClient();
  const oauth = ctx.ws.oauth;

  if (grantType === 'authorization_code') {
    const record = p.code ? oauth.code(p.code) : undefined;
    if (!record) return invalidGrant();
    // Secret-less exchanges are allowed only with PKCE (public clients, or confidential ones using PKCE).
    if (secret === undefined && !record.codeChallenge) return invalidClient();
    if (record.used) return invalidGrant();
    oauth.burnCode(record); // any presentation burns the code, like a careful server does
    if (ctx.now >= record.expiresAt) return invalidGrant();
    if (record.clientId !== client.clientId) return invalidGrant();
    // RFC 6749 §4.1.3: required, and identical, when the authorize request carried one.
    if (record.redirectUriGiven ? p.redirect_uri !== record.redirectUri : p.redirect_uri !== undefined && p.redirect_uri !== record.redirectUri) {
      return invalidGrant();
    }
    if (record.codeChallenge) {
      if (!p.code_verifier || !pkceMatches(p.code_verifier, record.codeChallenge)) return invalidGrant();
    } else if (p.code_verifier !== undefined) {
      return invalidGrant();
    }
    const ttl = lifetimes(ctx, p);
    if ('status' in ttl) return ttl;
    const grant = oauth.createGrant(client.clientId, record.userId, record.scope, ctx.now);
    const pair = oauth.issuePair(grant, ttl.access, ttl.refresh, ctx.now);
    ctx.ws.counters.tokenIssued(false);
    return tokenReply(ctx, p, pair.access.token, pair.refresh.token, grant.scope, ttl);
  }

  if (grantType === 'refresh_token') {
    if (secret === undefined && client.kind !== 'public') return invalidClient();
    const rt = p.refresh_token ? oauth.refreshToken(p.refresh_token) : undefined;
    if (!rt || rt.dead || ctx.now >= rt.expiresAt) return invalidGrant();
    const grant = oauth.grant(rt.grantId);
    if (!grant || grant.revoked || grant.clientId !== client.clientId) return invalidGrant();
    const user = ctx.ws.userData(grant.userId);
    if (!user || !user.active) return invalidGrant();
    if (p.scope !== undefined && p.scope.trim() !== '') {
      const allowed = new Set(grant.scope.split(' '));
      if (
        !p.scope
          .split(' ')
          .filter(Boolean)
          .every((s) => allowed.has(s))
      ) {
        return oauthError(400, 'invalid_scope', 'The requested scope is invalid, unknown, or exceeds the scope granted by the resource owner.');
      }
      grant.scope = p.scope.trim();
    }
    const ttl = lifetimes(ctx, p);
    if ('status' in ttl) return ttl;
    const pair = oauth.issuePair(grant, ttl.access, ttl.refresh, ctx.now); // kills the previous pair
    ctx.ws.counters.tokenIssued(true);
    return tokenReply(ctx, p, pair.access.token, pair.refresh.token, grant.scope, ttl);
  }

  return oauthError(400, 'unsupported_grant_type', 'The authorization grant type is not supported by the authorization server.');
}

/**
 * Whether the response names the access token's lifetime. A token that never expires says `expires_in: null`
 * (the documented default before expiry was enforced); an expiring one, per the workspace's behaviour: for
 * global clients with enforced expiry Zendesk leaves `expires_in` out unless the request sent it.
 */
function sendsExpiresIn(ctx: RequestContext, p: Params, access: number | null): boolean {
  if (access === null) return true;
  const mode = ctx.ws.oauth.behaviour.expiresIn;
  return mode === 'always' || (mode === 'requested' && p.expires_in !== undefined && p.expires_in !== '');
}

function tokenReply(ctx: RequestContext, p: Params, access: string, refresh: string, scope: string, ttl: { access: number | null; refresh: number }): Reply {
  return json(
    201,
    {
      access_token: access,
      token_type: 'bearer',
      scope,
      refresh_token: refresh,
      ...(sendsExpiresIn(ctx, p, ttl.access) ? { expires_in: ttl.access } : {}),
      refresh_token_expires_in: ttl.refresh,
    },
    { 'Cache-Control': 'no-store', Pragma: 'no-cache' },
  );
}
