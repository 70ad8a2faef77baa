import type { Logger } from '../logger';
import { newErrorReference } from '../observability/errorReference';
import { FailureType } from '../shared/failureTypes';

/**
 * What a tenant reads in `lastSync.error` when a sync failed. Failures of the types below carry messages we
 * wrote (src/zendesk/errors.ts, src/activities/failures.ts): sentences about Zendesk a person can act on,
 * built from statuses and bucket names, never from bodies. Anything else — a PostgreSQL error, a decryption
 * error, a timeout, a bug's TypeError — is internal: its text names tables, constraints and code, and is of
 * no use to a customer. It is logged in full with a reference, and the tenant gets a sentence and that reference.
 */
const TENANT_SAFE = new Set<string>([
  FailureType.AuthLost,
  FailureType.NotConnected,
  FailureType.RateLimited,
  FailureType.Unavailable,
  FailureType.BadResponse,
  FailureType.RequestRefused,
  FailureType.WorkspaceNotFound,
  FailureType.ExportStalled,
]);

function internalSyncErrorText(reference: string): string {
  return `The sync stopped because of an error on our side (reference ${reference}). The next scheduled sync tries again; if this keeps happening, contact support and quote the reference.`;
}

/**
 * The error to store on a failed run. `failureType` is the ApplicationFailure type the workflow saw (absent
 * from workflows started before it was passed: those count as internal).
 */
export function tenantSyncError(input: { error: string; failureType?: string | null }, logger: Logger, context: Record<string, unknown>): string {
  if (input.failureType && TENANT_SAFE.has(input.failureType)) return input.error;
  const reference = newErrorReference();
  logger.error(
    { ...context, reference, failureType: input.failureType ?? null, error: input.error },
    `sync failed with an internal error (${reference}); the tenant is shown the reference only`,
  );
  return internalSyncErrorText(reference);
}
