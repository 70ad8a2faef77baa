import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../shared/failureTypes';
import {
  ZendeskAuthError,
  ZendeskBadResponseError,
  ZendeskNotFoundError,
  ZendeskRateLimitedError,
  ZendeskRequestError,
  ZendeskFilterIgnoredError,
  ZendeskStalledExportError,
  ZendeskTransientError,
} from '../zendesk/errors';

/**
 * Turns a Zendesk error into the Temporal failure that makes the retry do the right thing: wait exactly
 * Retry-After, back off, or stop at once. Messages are ours, never Zendesk bodies, so no secret leaks.
 */
export function toActivityFailure(err: unknown): unknown {
  if (err instanceof ZendeskAuthError) {
    // The client already refreshed once on invalid_token; anything still refused means the grant is gone.
    return ApplicationFailure.nonRetryable(err.actionableMessage, FailureType.AuthLost);
  }
  if (err instanceof ZendeskRateLimitedError) {
    return ApplicationFailure.create({
      type: FailureType.RateLimited,
      message: `Zendesk rate limit reached on the ${err.bucket} bucket; retrying after ${Math.ceil(err.retryAfterMs / 1000)} s`,
      nextRetryDelay: err.retryAfterMs,
    });
  }
  if (err instanceof ZendeskTransientError) {
    return ApplicationFailure.create({
      type: FailureType.Unavailable,
      message: err.message,
      ...(err.retryAfterMs ? { nextRetryDelay: err.retryAfterMs } : {}),
    });
  }
  if (err instanceof ZendeskBadResponseError) {
    return ApplicationFailure.retryable(err.message, FailureType.BadResponse);
  }
  if (err instanceof ZendeskRequestError) {
    // Zendesk refused the request itself (400, 422): the same request would be refused again.
    return ApplicationFailure.nonRetryable(err.message, FailureType.RequestRefused);
  }
  if (err instanceof ZendeskFilterIgnoredError) {
    return ApplicationFailure.nonRetryable(err.message, FailureType.FilterIgnored);
  }
  if (err instanceof ZendeskStalledExportError) {
    return ApplicationFailure.nonRetryable(err.message, FailureType.ExportStalled);
  }
  if (err instanceof ZendeskNotFoundError) {
    return ApplicationFailure.nonRetryable(err.message, FailureType.WorkspaceNotFound);
  }
  return err;
}

/** Runs an activity body, translating Zendesk errors on the way out. */
export async function withZendeskFailures<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toActivityFailure(err);
  }
}
