import { deleteCredentials } from '../db/repositories/credentials';
import { findIntegration } from '../db/repositories/integrations';
import { zendeskObserver } from '../observability/zendeskMetrics';
import { ZendeskClient } from '../zendesk/client';
import { isZendeskError } from '../zendesk/errors';
import type { ActivityDeps } from './deps';

/**
 * What became of an integration's grant when it was let go (disconnect, or a non-admin's consent). Returned
 * by the activities, so it is the disconnect workflow's result and the DELETE answer, and logged. It never
 * says a grant was revoked unless Zendesk confirmed it. No token or Zendesk body ever goes into it.
 */
export interface RevocationResult {
  /**
   * - `revoked`: Zendesk confirmed the revocation (DELETE answered 204);
   * - `already_invalid`: Zendesk already refused the tokens (revoked in Zendesk, or expired): nothing is left;
   * - `refused`: Zendesk refused to revoke (403: revoking needs the `write` scope, the worker holds `read`):
   *   **the grant is still live at Zendesk** until an admin removes it;
   * - `failed`: Zendesk could not be asked (unreachable, errors): the grant may still be live;
   * - `no_tokens`: nothing was stored, nothing was asked of Zendesk.
   */
  outcome: 'revoked' | 'already_invalid' | 'refused' | 'failed' | 'no_tokens';
  /** True only for `revoked`. */
  revokedAtZendesk: boolean;
  /** Whether the grant may still work at Zendesk (`refused`, `failed`): then `message` says how to remove it. */
  grantMayBeLive: boolean;
  /** A sentence for people: what happened and, when the grant may still be live, how a Zendesk admin removes it. */
  message: string;
}

/**
 * How a Zendesk admin removes the grant by hand. Zendesk's help: "Managing external OAuth clients"
 * (support.zendesk.com/hc/en-us/articles/9447118302362: Admin Center > Apps and integrations > APIs >
 * External OAuth clients lists the global clients authorized on the account and their tokens, which can be
 * deleted) and "Viewing the devices and apps that accessed your account" (article 4408834578074: the
 * approving user's profile > Security Settings > Devices & Apps > Third-party Applications > Revoke).
 */
const MANUAL_REMOVAL =
  "To remove it, a Zendesk admin opens Admin Center > Apps and integrations > APIs > External OAuth clients, selects this app's client and deletes its tokens " +
  '(support.zendesk.com/hc/en-us/articles/9447118302362), or the user who approved access opens their Zendesk profile > Security Settings > Devices & Apps and clicks Revoke next to the app.';

const STILL_LIVE = 'The worker deleted its copy of the tokens and will not use the grant again, but the grant itself may still be active in Zendesk.';

/** The result of an outcome, with its sentence (also for grants other than the working one: see stagedConnect.ts). */
export function revocationResult(outcome: RevocationResult['outcome']): RevocationResult {
  const grantMayBeLive = outcome === 'refused' || outcome === 'failed';
  const message = {
    revoked: 'Access was revoked at Zendesk and the stored tokens were deleted.',
    already_invalid: 'Zendesk no longer accepted the stored tokens (the grant was already revoked or expired); they were deleted.',
    refused: `Zendesk refused to revoke this integration's access (HTTP 403: revoking needs the "write" scope, and the worker holds only "read"). ${STILL_LIVE} ${MANUAL_REMOVAL}`,
    failed: `Zendesk could not be reached to revoke this integration's access. ${STILL_LIVE} ${MANUAL_REMOVAL}`,
    no_tokens: 'No tokens were stored for this integration; nothing was revoked at Zendesk.',
  }[outcome];
  return { outcome, revokedAtZendesk: outcome === 'revoked', grantMayBeLive, message };
}

/**
 * Revokes the integration's grant at Zendesk when it can (the grant may already be dead, Zendesk may refuse
 * or be down) and deletes the stored tokens whatever happened, so nothing usable is left here. Says what
 * really happened at Zendesk, and logs it.
 */
export async function revokeAndForget(deps: ActivityDeps, integrationId: string): Promise<RevocationResult> {
  const integration = await findIntegration(deps.db, integrationId);
  let revocation = revocationResult('no_tokens');
  if (integration) {
    try {
      const client = new ZendeskClient({
        db: deps.db,
        box: deps.box,
        config: deps.config,
        integrationId,
        subdomain: integration.workspace,
        rateLimits: deps.rateLimits,
        maxAttempts: 2,
        observer: zendeskObserver(deps.metrics),
      });
      const revoked = await client.revokeAccess();
      if (revoked) revocation = revocationResult(revoked.outcome);
    } catch (err) {
      // Only our own class names and messages: they never carry a token or a Zendesk body.
      deps.logger.warn({ integrationId, error: isZendeskError(err) ? err.message : (err as Error).name }, 'revoking the Zendesk grant failed');
      revocation = revocationResult('failed');
    }
  }
  await deleteCredentials(deps.db, integrationId);
  const fields = { integrationId, revocation: revocation.outcome };
  if (revocation.grantMayBeLive) deps.logger.warn(fields, `Zendesk grant not revoked; stored tokens deleted. ${revocation.message}`);
  else deps.logger.info(fields, revocation.message);
  return revocation;
}
