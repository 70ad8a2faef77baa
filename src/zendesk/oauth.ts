import type { TokenSet } from '../db/repositories/credentials';
import { ZendeskAuthError, ZendeskRequestError } from './errors';
import { buildRequestUrl, parseBody, zendeskRequest, type ZendeskHttpRequest, type ZendeskObserver } from './http';
import { currentTokenSchema, tokenResponseSchema, type TokenResponse } from './schemas';

/**
 * Zendesk OAuth: the authorize URL (authorization code + PKCE S256), the code exchange and the
 * refresh-token grant (`POST /oauth/tokens`, JSON body), and revocation.
 */

export type { TokenSet } from '../db/repositories/credentials';

export const DEFAULT_SCOPE = 'read';
const DEFAULT_TIMEOUT_MS = 30_000;

export interface OAuthRequestOptions {
  timeoutMs?: number;
  observer?: ZendeskObserver;
  subdomain?: string;
}

export interface AuthorizeUrlParams {
  baseUrl: string;
  clientId: string;
  redirectUri: string;
  state: string;
  codeChallenge: string;
  scope?: string;
}

/** `{baseUrl}/oauth/authorizations/new?response_type=code&…&code_challenge_method=S256`. */
export function buildAuthorizeUrl({ baseUrl, clientId, redirectUri, state, codeChallenge, scope = DEFAULT_SCOPE }: AuthorizeUrlParams): string {
  return buildRequestUrl(baseUrl, '/oauth/authorizations/new', {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    scope,
    state,
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
  }).toString();
}

/** Converts a token response into a TokenSet; lifetimes count from `issuedAtMs` (taken before the request). */
export function tokenSetFromResponse(response: TokenResponse, issuedAtMs: number): TokenSet {
  return {
    accessToken: response.access_token,
    refreshToken: response.refresh_token,
    accessExpiresAt: response.expires_in === null ? null : new Date(issuedAtMs + response.expires_in * 1000),
    refreshExpiresAt: response.refresh_token_expires_in === null ? null : new Date(issuedAtMs + response.refresh_token_expires_in * 1000),
    scope: response.scope,
  };
}

async function tokenRequest(baseUrl: string, body: Record<string, unknown>, options: OAuthRequestOptions): Promise<TokenSet> {
  const issuedAt = Date.now();
  const response = await zendeskRequest({
    baseUrl,
    method: 'POST',
    path: '/oauth/tokens',
    body,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    observer: options.observer,
    subdomain: options.subdomain,
    bucket: 'oauth',
  });
  return tokenSetFromResponse(parseBody(tokenResponseSchema, response.body, response.status, 'token response'), issuedAt);
}

export interface ExchangeCodeParams extends OAuthRequestOptions {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  code: string;
  redirectUri: string;
  codeVerifier: string;
  /** Requested access-token lifetime in seconds (Zendesk: 300 < n < 172800). */
  expiresIn?: number;
  /** Requested refresh-token lifetime in seconds (Zendesk: 604800 < n < 7776000). */
  refreshTokenExpiresIn?: number;
}

/** Exchanges an authorization code (valid 120 s) for tokens. invalid_grant / invalid_client → ZendeskAuthError. */
export async function exchangeCode(params: ExchangeCodeParams): Promise<TokenSet> {
  const body: Record<string, unknown> = {
    grant_type: 'authorization_code',
    code: params.code,
    client_id: params.clientId,
    client_secret: params.clientSecret,
    redirect_uri: params.redirectUri,
    code_verifier: params.codeVerifier,
  };
  if (params.expiresIn !== undefined) body.expires_in = params.expiresIn;
  if (params.refreshTokenExpiresIn !== undefined) body.refresh_token_expires_in = params.refreshTokenExpiresIn;
  return tokenRequest(params.baseUrl, body, params);
}

export interface RefreshTokensParams extends OAuthRequestOptions {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}

/**
 * The refresh-token grant. Zendesk rotates both tokens; when a response carries no new refresh token the
 * old one stays valid (RFC 6749 §6) and is returned again. A dead refresh token → ZendeskAuthError('invalid_grant').
 */
export async function refreshTokens(params: RefreshTokensParams): Promise<TokenSet> {
  const tokens = await tokenRequest(
    params.baseUrl,
    { grant_type: 'refresh_token', refresh_token: params.refreshToken, client_id: params.clientId, client_secret: params.clientSecret },
    params,
  );
  return tokens.refreshToken === null ? { ...tokens, refreshToken: params.refreshToken } : tokens;
}

/** How revokeToken sends its two requests; ZendeskClient passes its rate-limited pipeline. */
export type RevokeRequester = (request: Pick<ZendeskHttpRequest, 'method' | 'path'>) => Promise<unknown>;

export interface RevokeTokenOptions extends OAuthRequestOptions {
  /** How to send the two requests (default: a plain zendeskRequest with the token). */
  request?: RevokeRequester;
}

/**
 * Revokes an access token (and with it the grant's refresh token): `GET /api/v2/oauth/tokens/current.json`
 * for its id, then `DELETE /api/v2/oauth/tokens/{id}` (Zendesk's `DELETE …/current.json` is reported to
 * answer 204 without revoking). A 401 (or a 404 on the DELETE) means the token is already dead: success.
 * Returns whether a token was revoked now. Call as `revokeToken(baseUrl, accessToken, options?)` or
 * `revokeToken({ baseUrl, accessToken, ...options })`.
 */
export async function revokeToken(baseUrl: string, accessToken: string, options?: RevokeTokenOptions): Promise<boolean>;
export async function revokeToken(params: RevokeTokenOptions & { baseUrl: string; accessToken: string }): Promise<boolean>;
export async function revokeToken(
  first: string | (RevokeTokenOptions & { baseUrl: string; accessToken: string }),
  second?: string,
  third: RevokeTokenOptions = {},
): Promise<boolean> {
  const { baseUrl, accessToken, ...options } =
    typeof first === 'string' ? { ...third, baseUrl: first, accessToken: second ?? '' } : first;
  const send: RevokeRequester =
    options.request ??
    (async ({ method, path }) => {
      const response = await zendeskRequest({
        baseUrl,
        method,
        path,
        accessToken,
        timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        observer: options.observer,
        subdomain: options.subdomain,
      });
      return response.body;
    });
  try {
    const current = parseBody(currentTokenSchema, await send({ method: 'GET', path: '/api/v2/oauth/tokens/current.json' }), 200, 'token lookup');
    await send({ method: 'DELETE', path: `/api/v2/oauth/tokens/${current.token.id}.json` });
    return true;
  } catch (err) {
    if (err instanceof ZendeskAuthError && err.kind === 'invalid_token') return false;
    if (err instanceof ZendeskRequestError && err.status === 404) return false;
    throw err;
  }
}
