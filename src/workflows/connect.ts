import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
} from '@temporalio/workflow';
import type { ConnectActivities } from '../activities/connect';
import type { StagedConnectActivities } from '../activities/stagedConnect';
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

/**
 * Patch id of the staged-tokens path (issue 13 §2): the code is exchanged into staged tokens, checked, and
 * swapped in only for an admin, so a reconnect never touches a working grant before that. Runs begun before
 * it keep the path they started on (exchange over the working tokens, verify, mark connected).
 */
const STAGED_GRANT_PATCH = 'staged-grant';

const acts = proxyActivities<ConnectActivities & StagedConnectActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 8 },
});

/**
 * Owns one consent attempt: wait for the admin, exchange the code, check they are an admin, connect. The
 * integration may be connected already (a reconnect): it stays connected, with its old grant, until an
 * admin's new grant replaces it; any other ending leaves it as it was (the activities' status guards).
 */
export async function zendeskConnect(input: ConnectInput): Promise<ConnectOutcome> {
  const { integrationId, flowId } = input;
  // Decided once, at the start: a run keeps one path from its first task to its end.
  const staged = patched(STAGED_GRANT_PATCH);
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
        if (d.flowId !== flowId) throw new Error('This consent link belongs to an earlier attempt.');
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

  /** Records how the attempt ended, on the integration unless it is connected, and on the flow (an activity summary in the Web UI names the outcome). */
  const closeAttempt = (status: 'expired' | 'consent_denied' | 'needs_reauth' | 'failed', message: string, outcome?: 'not_admin') =>
    acts.closeConsentAttempt.executeWithOptions({ summary: `Record the outcome: ${status}` }, [
      { integrationId, status, message, flowId, ...(outcome ? { outcome } : {}) },
    ]);

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

  const notAdmin = 'The Zendesk user who approved access is not an admin. Ask a Zendesk admin to approve access with Reconnect.';
  const startSyncing = () =>
    acts.startSyncing.executeWithOptions({ summary: 'Create the sync schedule and start the first sync' }, [
      { integrationId, tenantId: input.tenantId, workspace: input.workspace },
    ]);
  const revokeStaged = (summary: string) => acts.revokeStagedCredentials.executeWithOptions({ summary }, [{ integrationId, flowId }]);

  try {
    progress.step = 'exchanging_code';
    setCurrentDetails('Exchanging the authorization code for tokens');
    if (staged) {
      await acts.exchangeCodeForStagedTokens.executeWithOptions({ summary: 'Exchange the authorization code for tokens (kept apart until checked)' }, [
        { integrationId, flowId },
      ]);
    } else {
      await acts.exchangeAuthorizationCode.executeWithOptions({ summary: 'Exchange the authorization code for tokens' }, [{ integrationId, flowId }]);
    }

    progress.step = 'verifying_admin';
    setCurrentDetails('Checking that the approving Zendesk user is an admin');
    const me = staged
      ? await acts.verifyStagedAdmin.executeWithOptions({ summary: 'Check that the approving user is a Zendesk admin' }, [{ integrationId, flowId }])
      : await acts.verifyAdmin.executeWithOptions({ summary: 'Check that the approving user is a Zendesk admin' }, [{ integrationId }]);
    if (!me.isAdmin) {
      if (staged) await revokeStaged("Revoke the non-admin's new grant (the working grant stays)");
      else await acts.discardCredentials.executeWithOptions({ summary: "Revoke and delete the non-admin's tokens" }, [{ integrationId }]);
      await closeAttempt('needs_reauth', notAdmin, 'not_admin');
      return finish({ status: 'needs_reauth', message: notAdmin });
    }

    progress.step = 'finishing';
    if (staged) {
      setCurrentDetails('Verified; swapping the new grant in and resuming syncs');
      const { replaced } = await acts.promoteStagedCredentials.executeWithOptions({ summary: 'Swap the new tokens in and mark the integration connected' }, [
        { integrationId, flowId, zendeskUserId: me.userId! },
      ]);
      await startSyncing();
      if (replaced) await revokeStaged('Revoke the grant the new one replaced');
    } else {
      setCurrentDetails('Connected; scheduling the first sync');
      await acts.markConnected.executeWithOptions({ summary: 'Mark the integration connected' }, [{ integrationId, zendeskUserId: me.userId!, flowId }]);
      await startSyncing();
    }
    return finish({ status: 'connected', message: null });
  } catch (err) {
    const cause = err instanceof ActivityFailure ? err.cause : err;
    // Whatever the attempt staged is of no use now; the working grant (if any) stays.
    if (staged) await revokeStaged('Revoke the new grant of the failed attempt');
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
