/**
 * The ApplicationFailure types that decide what a workflow does with a failed activity: retry it, stop at
 * once, or stop and mark the integration. One definition, imported by the activities that raise them and
 * by the workflows that branch on them (and list them as non-retryable).
 */
export const FailureType = {
  /** Zendesk refuses the grant (revoked, expired, not an admin): stop, mark needs_reauth. Never retried. */
  AuthLost: 'ZendeskAuthLost',
  /** The integration is no longer connected (disconnected, reconnecting from scratch): the sync stops. */
  NotConnected: 'IntegrationNotConnected',
  /** A 429: retried after exactly its Retry-After (nextRetryDelay). */
  RateLimited: 'ZendeskRateLimited',
  /** 5xx, network, timeout: retried with backoff. */
  Unavailable: 'ZendeskUnavailable',
  /** A body that did not have the expected shape: retried. */
  BadResponse: 'ZendeskBadResponse',
  /** Zendesk refused the request itself (400/422): the same request would fail again. */
  RequestRefused: 'ZendeskRequestRefused',
  /** The workspace does not exist. */
  WorkspaceNotFound: 'ZendeskWorkspaceNotFound',
  /** An export that stopped moving forward. */
  ExportStalled: 'ZendeskExportStalled',
  /** A filtered list that came back unfiltered (a parameter Zendesk ignored). */
  FilterIgnored: 'ZendeskFilterIgnored',
  /**
   * A destructive step (purge, token deletion, schedule deletion) asked for an integration the database does
   * not show as disconnecting or disconnected: refused, never retried (src/activities/destructiveGuard.ts).
   */
  NotDisconnecting: 'IntegrationNotDisconnecting',
} as const;
