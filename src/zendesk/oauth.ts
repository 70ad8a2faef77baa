import type { TokenSet } from '../db/repositories/credentials';
import { ZendeskAuthError, ZendeskRequestError } from './errors';
import { buildRequestUrl, parseBody, zendeskRequest, type ZendeskHttpRequest, type ZendeskObserver } from './http';
import { currentTokenSchema, tokenResponseSchema, type TokenResponse } from './schemas';
import { accessTokenExpiry } from './tokenExpiry';

/**
 * Zendesk OAuth: the authorize URL (authorization code + PKCE S256), the code exchange and the
 * refresh-token grant (`POST /oauth/tokens`, JSON body), and revocation.
 *
 * Both grants send the token lifetimes we want (`expires_in`, `refresh_token_expires_in`): Zendesk answers
 * `expires_in` only when it was asked for (global clients with enforced expiry), as its own Ruby client does
 * on refresh. A response is read tolerantly (schemas.ts): only the access token is required.
 */

export type { TokenSet } from '../db/repositories/credentials';

export const DEFAULT_SCOPE = 'read';
const DEFAULT_TIMEOUT_MS = 30_000;

interface OAuthRequestOptions {
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

/** What a token request asked for: the fallbacks of a response that leaves them out. */
export interface TokenRequestContext {
  /** The scope asked for (code exchange) or held so far (refresh): used when the response has no `scope`. */
  requestedScope?: string;
  /** The `expires_in` we sent, in seconds: the assumed lifetime when shorter than the default (tokenExpiry.ts). */
  requestedExpiresIn?: number;
}

/**
 * Converts a token response into a TokenSet; lifetimes count from `issuedAtMs` (taken before the request).
 * The access token always gets an expiry: `expires_in`, else its JWT `exp`, else an assumed short lifetime.
 */
export function tokenSetFromResponse(response: TokenResponse, issuedAtMs: number, context: TokenRequestContext = {}): TokenSet {
  return {
    accessToken: response.access_token,
    refreshToken: response.refresh_token,
    accessExpiresAt: accessTokenExpiry(response.access_token, response.expires_in, issuedAtMs, context.requestedExpiresIn).expiresAt,
    refreshExpiresAt: response.refresh_token_expires_in === null ? null : new Date(issuedAtMs + response.refresh_token_expires_in * 1000),
    scope: response.scope ?? context.requestedScope ?? DEFAULT_SCOPE,
  };
}

/** The lifetimes we ask Zendesk for (config: ZENDESK_ACCESS_TOKEN_EXPIRES_IN / ZENDESK_REFRESH_TOKEN_EXPIRES_IN). */
interface TokenLifetimeRequest {
  /** Requested access-token lifetime in seconds (Zendesk: 300 < n < 172800). */
  expiresIn?: number;
  /** Requested refresh-token lifetime in seconds (Zendesk: 604800 < n < 7776000). */
  refreshTokenExpiresIn?: number;
}

function withLifetimes(body: Record<string, unknown>, lifetimes: TokenLifetimeRequest): Record<string, unknown> {
  if (lifetimes.expiresIn !== undefined) body.expires_in = lifetimes.expiresIn;
  if (lifetimes.refreshTokenExpiresIn !== undefined) body.refresh_token_expires_in = lifetimes.refreshTokenExpiresIn;
  return body;
}

async function tokenRequest(baseUrl: string, body: Record<string, unknown>, options: OAuthRequestOptions, context: TokenRequestContext): Promise<TokenSet> {
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
  return tokenSetFromResponse(parseBody(tokenResponseSchema, response.body, response.status, 'token response'), issuedAt, context);
}

export interface ExchangeCodeParams extends OAuthRequestOptions, TokenLifetimeRequest {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  code: string;
  redirectUri: string;
  codeVerifier: string;
  /** The scope of the authorize URL (default `read`): the token's scope when the response names none. */
  scope?: string;
}

/** Exchanges an authorization code (valid 120 s) for tokens. invalid_grant / invalid_client → ZendeskAuthError. */
export async function exchangeCode(params: ExchangeCodeParams): Promise<TokenSet> {
  const body = withLifetimes(
    {
      grant_type: 'authorization_code',
      code: params.code,
      client_id: params.clientId,
      client_secret: params.clientSecret,
      redirect_uri: params.redirectUri,
      code_verifier: params.codeVerifier,
    },
    params,
  );
  return tokenRequest(params.baseUrl, body, params, { requestedScope: params.scope ?? DEFAULT_SCOPE, requestedExpiresIn: params.expiresIn });
}

export interface RefreshTokensParams extends OAuthRequestOptions, TokenLifetimeRequest {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  /** The scope held so far: the new token's scope when the response names none (scope is not sent: unchanged). */
  scope?: string;
  /** When the refresh token we hold expires: kept when the response does not say. */
  refreshExpiresAt?: Date | null;
}

/**
 * The refresh-token grant, asking again for our lifetimes (without `expires_in` Zendesk would answer none).
 * Zendesk rotates both tokens; when a response carries no new refresh token the old one stays valid
 * (RFC 6749 §6) and is returned again, with its old expiry. A dead refresh token → ZendeskAuthError('invalid_grant').
 */
export async function refreshTokens(params: RefreshTokensParams): Promise<TokenSet> {
  const tokens = await tokenRequest(
    params.baseUrl,
    withLifetimes({ grant_type: 'refresh_token', refresh_token: params.refreshToken, client_id: params.clientId, client_secret: params.clientSecret }, params),
    params,
    { requestedScope: params.scope, requestedExpiresIn: params.expiresIn },
  );
  if (tokens.refreshToken !== null) return tokens;
  return { ...tokens, refreshToken: params.refreshToken, refreshExpiresAt: tokens.refreshExpiresAt ?? params.refreshExpiresAt ?? null };
}

/** How revokeToken sends its two requests; ZendeskClient passes its rate-limited pipeline. */
type RevokeRequester = (request: Pick<ZendeskHttpRequest, 'method' | 'path'>) => Promise<unknown>;

export interface RevokeTokenOptions extends OAuthRequestOptions {
  /** How to send the two requests (default: a plain zendeskRequest with the token). */
  request?: RevokeRequester;
}

/**
 * What revoking found at Zendesk: `revoked` only when Zendesk answered the DELETE with success; `already_invalid`
 * when the token (and so the grant) was already dead (401, or 404 for the DELETE); `refused` when Zendesk
 * answered 403: revoking is a DELETE, which needs the `write` scope, and the worker asks for `read` only
 * (OpenAPI: "The 'write' scope gives access to POST, PUT, and DELETE endpoints"). A refused grant is still live.
 */
export type RevokeResult = { outcome: 'revoked' } | { outcome: 'already_invalid' } | { outcome: 'refused'; status: number };

/**
 * Revokes an access token (and with it the grant's refresh token): `GET /api/v2/oauth/tokens/current.json`
 * for its id, then `DELETE /api/v2/oauth/tokens/{id}` (Zendesk's `DELETE …/current.json` is reported to
 * answer 204 without revoking). Other failures (Zendesk unreachable) are thrown. Call as
 * `revokeToken(baseUrl, accessToken, options?)` or `revokeToken({ baseUrl, accessToken, ...options })`.
 */
export async function revokeToken(baseUrl: string, accessToken: string, options?: RevokeTokenOptions): Promise<RevokeResult>;
export async function revokeToken(params: RevokeTokenOptions & { baseUrl: string; accessToken: string }): Promise<RevokeResult>;
export async function revokeToken(
  first: string | (RevokeTokenOptions & { baseUrl: string; accessToken: string }),
  second?: string,
  third: RevokeTokenOptions = {},
): Promise<RevokeResult> {
  const { baseUrl, accessToken, ...options } = typeof first === 'string' ? { ...third, baseUrl: first, accessToken: second ?? '' } : first;
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
    return { outcome: 'revoked' };
  } catch (err) {
    if (err instanceof ZendeskAuthError && (err.kind === 'invalid_token' || err.kind === 'invalid_grant')) return { outcome: 'already_invalid' };
    if (err instanceof ZendeskAuthError && err.kind === 'forbidden') return { outcome: 'refused', status: err.status ?? 403 };
    if (err instanceof ZendeskRequestError && err.status === 404) return { outcome: 'already_invalid' };
    throw err;
  }
}
