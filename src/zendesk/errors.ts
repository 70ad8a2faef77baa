/**
 * One error class per failure class of a Zendesk call. Each says whether retrying can help.
 *
 * Messages are built only from the status, the endpoint bucket and Zendesk's short error code: never from
 * token values, request bodies or response bodies (which could echo a token, a code or a secret).
 */

export type ZendeskBucket = 'account' | 'incremental' | 'users-cursor';

export abstract class ZendeskError extends Error {
  abstract readonly retryable: boolean;
  /** HTTP status of the response, when there was one. */
  readonly status?: number;

  constructor(message: string, status?: number) {
    super(message);
    this.name = new.target.name;
    if (status !== undefined) this.status = status;
  }
}

/** 429: the bucket is exhausted; no request may go to it for `retryAfterMs`. */
export class ZendeskRateLimitedError extends ZendeskError {
  readonly retryable = true;
  constructor(
    readonly bucket: ZendeskBucket,
    readonly retryAfterMs: number,
    status?: number,
  ) {
    super(`Zendesk rate limit reached for the ${bucket} bucket; retry in ${Math.ceil(retryAfterMs / 1000)} s`, status);
  }
}

/** 5xx, network failures, timeouts. A 503 with Retry-After carries `retryAfterMs`. */
export class ZendeskTransientError extends ZendeskError {
  readonly retryable = true;
  readonly retryAfterMs?: number;
  constructor(message: string, options: { status?: number; retryAfterMs?: number } = {}) {
    super(message, options.status);
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

/** The response was not the JSON shape Zendesk documents. Retryable; the data never reaches the database. */
export class ZendeskBadResponseError extends ZendeskError {
  readonly retryable = true;
  constructor(
    message: string,
    status?: number,
    /** Paths and zod issue codes of the mismatch (no values). */
    readonly issues: string[] = [],
  ) {
    super(message, status);
  }
}

export type ZendeskAuthErrorKind = 'invalid_token' | 'invalid_grant' | 'invalid_client' | 'forbidden';

const ACTIONABLE: Record<ZendeskAuthErrorKind, string> = {
  invalid_token: "Zendesk rejected this integration's access token, and refreshing it did not help. Reconnect the integration with a Zendesk admin account.",
  invalid_grant:
    "Zendesk no longer accepts this integration's authorization (the grant was revoked or expired). Reconnect the integration with a Zendesk admin account.",
  invalid_client: "Zendesk does not recognize this service's OAuth client. An operator must check ZENDESK_CLIENT_ID and ZENDESK_CLIENT_SECRET.",
  forbidden:
    'The Zendesk user who approved access is not allowed to read this data (an admin with the "read" scope is required). Reconnect the integration with a Zendesk admin account.',
};

/** Authorization failures: retrying the same request cannot fix them (except `invalid_token`, once, after a refresh). */
export class ZendeskAuthError extends ZendeskError {
  readonly retryable = false;
  /** A sentence a person can act on, safe to show in the API and the Temporal UI. */
  readonly actionableMessage: string;
  constructor(
    readonly kind: ZendeskAuthErrorKind,
    status?: number,
    actionableMessage?: string,
  ) {
    super(`Zendesk authorization failed (${kind}${status ? `, HTTP ${status}` : ''})`, status);
    this.actionableMessage = actionableMessage ?? ACTIONABLE[kind];
  }
}

/** The workspace does not exist (Zendesk answers unknown subdomains with a non-JSON 404 or a redirect). */
export class ZendeskNotFoundError extends ZendeskError {
  readonly retryable = false;
  readonly actionableMessage: string;
  constructor(
    readonly subdomain: string | undefined,
    status?: number,
  ) {
    super(`Zendesk workspace ${subdomain ? `"${subdomain}" ` : ''}was not found${status ? ` (HTTP ${status})` : ''}`, status);
    this.actionableMessage = `There is no Zendesk workspace ${subdomain ? `"${subdomain}.zendesk.com"` : 'at this address'}. Check the subdomain and connect again.`;
  }
}

/** Any other client error (400, JSON 404, 422…): the request itself is wrong; retrying does not help. */
export class ZendeskRequestError extends ZendeskError {
  readonly retryable = false;
  constructor(
    message: string,
    status: number,
    /** Zendesk's short error code (e.g. "RecordNotFound"), when the body had one. */
    readonly code?: string,
  ) {
    super(message, status);
  }
}

/** An export that stopped moving (the same cursor again, an end_time going backwards): retrying repeats it. */
export class ZendeskStalledExportError extends ZendeskError {
  readonly retryable = false;
  constructor(
    readonly what: string,
    readonly pages: number,
  ) {
    super(
      `Zendesk's ${what} did not move forward for ${pages} pages in a row (the same position again); the sync stopped instead of looping. The next sync tries again from the last saved position.`,
    );
  }
}

/**
 * A filtered list answered with records the filter should have left out: Zendesk ignores a parameter it
 * does not know (it only says so in `x-zendesk-api-warn`), so the data cannot be trusted for what it claims.
 */
export class ZendeskFilterIgnoredError extends ZendeskError {
  readonly retryable = false;
  constructor(
    readonly what: string,
    /** Zendesk's `x-zendesk-api-warn` header, when it sent one (parameter names only, no data). */
    readonly warning: string | null,
  ) {
    super(
      `Zendesk's ${what} returned records outside its filter${warning ? ` (Zendesk warned: ${warning.slice(0, 200)})` : ''}; the seat holders cannot be trusted, so the sync stopped.`,
    );
  }
}

export function isZendeskError(err: unknown): err is ZendeskError {
  return err instanceof ZendeskError;
}
