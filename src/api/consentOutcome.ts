import type { OAuthFlow } from '../db/tables';
import type { ConnectOutcome } from '../workflows/messages';

/**
 * How a consent attempt reads in the browser, whether its outcome came back from the workflow's update or
 * from the attempt's stored outcome (a reload after the workflow finished).
 */

const TITLES: Record<ConnectOutcome['status'], string> = {
  connected: 'Zendesk is connected',
  needs_reauth: 'Zendesk was not connected',
  consent_denied: 'Access was denied',
  expired: 'This consent link has expired',
  failed: 'Zendesk could not be connected',
};

const STATUS_OF_FLOW_OUTCOME: Record<NonNullable<OAuthFlow['outcome']>, ConnectOutcome['status']> = {
  completed: 'connected',
  denied: 'consent_denied',
  not_admin: 'needs_reauth',
  expired: 'expired',
  failed: 'failed',
};

/** The outcome an attempt recorded, as the workflow's update would have answered it; undefined while pending. */
export function storedOutcome(flow: OAuthFlow): ConnectOutcome | undefined {
  if (!flow.outcome) return undefined;
  const status = STATUS_OF_FLOW_OUTCOME[flow.outcome];
  return { status, message: status === 'connected' ? null : (flow.outcome_message ?? 'This consent attempt did not connect. Start again with Reconnect.') };
}

export interface OutcomePage {
  httpStatus: number;
  title: string;
  message: string;
  ok: boolean;
}

export function outcomePage(outcome: ConnectOutcome, workspace: string, purpose: OAuthFlow['purpose']): OutcomePage {
  if (outcome.status === 'connected') {
    const message =
      purpose === 'reconnect'
        ? `Workspace ${workspace} is connected with the new authorization.`
        : `Workspace ${workspace} is connected. Its users will appear after the first sync.`;
    return { httpStatus: 200, title: TITLES.connected, message, ok: true };
  }
  // A reconnect that did not go through changed nothing: say so, the admin may fear the worst.
  const kept = purpose === 'reconnect' ? ' The existing connection keeps working as before.' : '';
  return { httpStatus: 400, title: TITLES[outcome.status], message: `${outcome.message ?? ''}${kept}`.trim(), ok: false };
}

/**
 * What the admin can do, on the outcome page of a consent a Connect session started: the workflow's messages
 * speak of Reconnect (an API call of the platform), but this admin holds a link that works until it connects.
 */
const SESSION_ADVICE: Record<Exclude<ConnectOutcome['status'], 'connected'>, string> = {
  consent_denied: 'Nothing was connected. To connect, open the link again and choose Allow.',
  needs_reauth: 'Sign in to Zendesk with an admin account (preferably the service account meant for integrations) and open the link again.',
  expired: 'Open the link again to start over, or ask for a new link if it has expired.',
  failed: 'Open the link again to retry; if it fails again, contact support.',
};

/** The outcome page of a session's consent: the workflow's finding (its first sentence) and the advice above. */
export function sessionOutcomePage(outcome: ConnectOutcome, workspace: string, purpose: OAuthFlow['purpose']): OutcomePage {
  if (outcome.status === 'connected') return outcomePage(outcome, workspace, purpose);
  const finding = /^[^.]*\./.exec(outcome.message ?? '')?.[0] ?? '';
  return outcomePage({ ...outcome, message: `${finding} ${SESSION_ADVICE[outcome.status]}`.trim() }, workspace, purpose);
}
