import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  proxyActivities,
  setCurrentDetails,
  setHandler,
} from '@temporalio/workflow';
import type { ConnectActivities } from '../activities/connect';
import { FailureType } from '../shared/failureTypes';
import { connectProgressQuery, submitConsentUpdate, type ConnectOutcome, type ConnectProgress, type ConsentDecision } from './messages';

export interface ConnectInput {
  integrationId: string;
  tenantId: string;
  workspace: string;
  /** The OAuth flow (state) this run waits for; a reconnect starts a new run with a new flow. */
  flowId: string;
  consentTimeoutMs: number;
}

export const connectWorkflowId = (integrationId: string) => `zendesk-connect-${integrationId}`;

const acts = proxyActivities<ConnectActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 8 },
});

/** Owns one consent attempt: wait for the admin, exchange the code, check they are an admin, connect. */
export async function zendeskConnect(input: ConnectInput): Promise<ConnectOutcome> {
  const { integrationId } = input;
  let decision: ConsentDecision | undefined;
  const progress: ConnectProgress = { step: 'awaiting_consent', outcome: null };

  setHandler(connectProgressQuery, () => progress);
  setHandler(
    submitConsentUpdate,
    async (d) => {
      decision = d;
      await condition(() => progress.outcome !== null);
      return progress.outcome!;
    },
    {
      validator: (d) => {
        if (decision) throw new Error('Consent for this attempt was already received.');
        if (d.flowId !== input.flowId) throw new Error('This consent link belongs to an earlier attempt.');
      },
    },
  );

  const finish = async (outcome: ConnectOutcome): Promise<ConnectOutcome> => {
    progress.outcome = outcome;
    progress.step = 'done';
    setCurrentDetails(`Finished: ${outcome.status}${outcome.message ? ` — ${outcome.message}` : ''}`);
    await condition(allHandlersFinished);
    return outcome;
  };

  /** Records how the attempt ended on the integration (an activity summary in the Web UI names the outcome). */
  const closeAttempt = (status: 'expired' | 'consent_denied' | 'needs_reauth' | 'failed', message: string) =>
    acts.closeConsentAttempt.executeWithOptions({ summary: `Record the outcome: ${status}` }, [{ integrationId, status, message }]);

  setCurrentDetails(`Waiting for a Zendesk admin of ${input.workspace} to approve access`);
  const received = await condition(() => decision !== undefined, input.consentTimeoutMs);
  if (!received) {
    const message = 'Nobody approved access in time. Use Reconnect to send a new consent link.';
    await closeAttempt('expired', message);
    return finish({ status: 'expired', message });
  }
  if (decision!.outcome === 'denied') {
    const message = 'Access was denied on the Zendesk consent page. Use Reconnect and choose Allow to connect.';
    await closeAttempt('consent_denied', message);
    return finish({ status: 'consent_denied', message });
  }

  try {
    progress.step = 'exchanging_code';
    setCurrentDetails('Exchanging the authorization code for tokens');
    await acts.exchangeAuthorizationCode.executeWithOptions({ summary: 'Exchange the authorization code for tokens' }, [{ integrationId, flowId: input.flowId }]);

    progress.step = 'verifying_admin';
    setCurrentDetails('Checking that the approving Zendesk user is an admin');
    const me = await acts.verifyAdmin.executeWithOptions({ summary: 'Check that the approving user is a Zendesk admin' }, [{ integrationId }]);
    if (!me.isAdmin) {
      const message = 'The Zendesk user who approved access is not an admin. Ask a Zendesk admin to approve access with Reconnect.';
      await acts.discardCredentials.executeWithOptions({ summary: "Revoke and delete the non-admin's tokens" }, [{ integrationId }]);
      await closeAttempt('needs_reauth', message);
      return finish({ status: 'needs_reauth', message });
    }

    progress.step = 'finishing';
    setCurrentDetails('Connected; scheduling the first sync');
    await acts.markConnected.executeWithOptions({ summary: 'Mark the integration connected' }, [{ integrationId, zendeskUserId: me.userId! }]);
    await acts.startSyncing.executeWithOptions({ summary: 'Create the sync schedule and start the first sync' }, [
      { integrationId, tenantId: input.tenantId, workspace: input.workspace },
    ]);
    return finish({ status: 'connected', message: null });
  } catch (err) {
    const cause = err instanceof ActivityFailure ? err.cause : err;
    if (cause instanceof ApplicationFailure && cause.type === FailureType.AuthLost) {
      const message = cause.message;
      await closeAttempt('needs_reauth', message);
      return finish({ status: 'needs_reauth', message });
    }
    const message = 'Connecting to Zendesk failed unexpectedly. Try Reconnect; if it fails again, contact support.';
    await closeAttempt('failed', message);
    return finish({ status: 'failed', message });
  }
}
