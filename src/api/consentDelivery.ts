import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { OAuthFlow } from '../db/tables';
import { connectWorkflowId } from '../workflows/connect';
import { submitConsentUpdate, type ConnectOutcome } from '../workflows/messages';
import type { ApiDeps } from './deps';

/** How long the reachability probe after a failed delivery may take. */
const PROBE_DEADLINE_MS = 1_000;

export type Delivery =
  /** The workflow answered: the real outcome. */
  | { kind: 'outcome'; outcome: ConnectOutcome }
  /** The workflow refused the update or is gone: this attempt is over. */
  | { kind: 'refused'; reason: string }
  /** No answer in time: the update may still run, or not have arrived. `temporalReachable` tells which is likelier. */
  | { kind: 'pending'; temporalReachable: boolean; error: string };

/**
 * Sends the consent to the connect workflow as an update whose id is the flow id, and waits at most
 * OAUTH_CALLBACK_WAIT for its outcome. The id makes it safe to call again — on every reload of the callback
 * page: Temporal attaches a call with a known update id to that update (returning its outcome once known), so
 * the workflow receives the consent once; a call after a Temporal outage, when the first never arrived,
 * delivers it then. The code stays stored meanwhile: the workflow spends it.
 */
export async function deliverConsent(deps: ApiDeps, flow: OAuthFlow, decision: 'approved' | 'denied'): Promise<Delivery> {
  const { temporal, config } = deps;
  try {
    const outcome = await temporal.withDeadline(Date.now() + config.oauthCallbackWaitMs, () =>
      temporal.workflow
        .getHandle(connectWorkflowId(flow.integration_id))
        .executeUpdate(submitConsentUpdate, { args: [{ flowId: flow.id, outcome: decision }], updateId: flow.id }),
    );
    return { kind: 'outcome', outcome };
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError || err instanceof WorkflowNotFoundError) {
      return { kind: 'refused', reason: err.name };
    }
    const temporalReachable = await temporal
      .withDeadline(Date.now() + PROBE_DEADLINE_MS, () => temporal.connection.workflowService.getSystemInfo({}))
      .then(
        () => true,
        () => false,
      );
    return { kind: 'pending', temporalReachable, error: (err as Error).name };
  }
}
