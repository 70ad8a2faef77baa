import { ApplicationFailure } from '@temporalio/common';
import { findIntegration } from '../db/repositories/integrations';
import type { Db } from '../db/database';
import { FailureType } from '../shared/failureTypes';

/**
 * Destructive activities act only when the database agrees. Workflow inputs are not proof of anything:
 * anyone who can reach Temporal (its frontend, the Web UI with write actions on, a leaked client certificate)
 * can start `zendeskDisconnect` with `purge: true` for any integration id, or — with standalone activities —
 * an activity itself. The API's DELETE and the workflow's first step put the integration in `disconnecting`;
 * the steps that cannot be undone (deleting synced data, the tokens, the schedule) check for it here and
 * refuse anything else with a non-retryable failure that says why.
 */
const MAY_DESTROY = new Set(['disconnecting', 'disconnected']);

/**
 * Resolves with `gone` when no such integration exists (nothing of it is left to destroy: its rows cascade),
 * `ok` when it is disconnecting or disconnected; throws otherwise.
 */
export async function requireDisconnecting(db: Db, integrationId: string, what: string): Promise<'ok' | 'gone'> {
  const integration = await findIntegration(db, integrationId);
  if (!integration) return 'gone';
  if (MAY_DESTROY.has(integration.status)) return 'ok';
  throw ApplicationFailure.nonRetryable(
    `Refused to ${what} of integration ${integrationId}: it is ${integration.status}, not disconnecting or disconnected. ` +
      'Only a disconnect (DELETE /v1/integrations/{id}) may do this; nothing was changed.',
    FailureType.NotDisconnecting,
  );
}
