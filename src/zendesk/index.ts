/** The one module all Zendesk calls go through. */
export { parseWorkspaceInput, workspaceBaseUrl, isValidSubdomain, SUBDOMAIN_PATTERN, type WorkspaceParseResult } from './workspace';
export {
  ZendeskError,
  ZendeskRateLimitedError,
  ZendeskTransientError,
  ZendeskBadResponseError,
  ZendeskAuthError,
  ZendeskNotFoundError,
  ZendeskRequestError,
  isZendeskError,
  type ZendeskAuthErrorKind,
  type ZendeskBucket,
} from './errors';
export * from './schemas';
export {
  zendeskRequest,
  zendeskRequestJson,
  buildRequestUrl,
  mapErrorResponse,
  parseRetryAfterMs,
  parseBody,
  endpointBucket,
  bucketsForPath,
  DEFAULT_RETRY_AFTER_MS,
  type RequestBucket,
  type RequestInfo,
  type ZendeskObserver,
  type ZendeskHttpRequest,
  type ZendeskHttpResponse,
} from './http';
export {
  RateLimiter,
  parseRateLimitHeaders,
  parseBucketHeader,
  exhaustedBuckets,
  ZENDESK_BUCKETS,
  type BucketReading,
  type RateLimitReadings,
  type RateLimiterOptions,
  type OnWait,
  type Permit,
} from './rateLimiter';
export {
  buildAuthorizeUrl,
  exchangeCode,
  refreshTokens,
  revokeToken,
  tokenSetFromResponse,
  DEFAULT_SCOPE,
  type AuthorizeUrlParams,
  type ExchangeCodeParams,
  type RefreshTokensParams,
  type TokenSet,
  type RevokeTokenOptions,
  type RevokeRequester,
  type RevokeResult,
} from './oauth';
export { accessTokenExpiry, jwtClaims, ASSUMED_ACCESS_TOKEN_LIFETIME_S, type AccessTokenExpiry } from './tokenExpiry';
export { TokenProvider, type TokenProviderOptions } from './tokens';
export { ZendeskClient, type ZendeskClientDeps, type ZendeskClientStats, type UsersPageParams } from './client';
