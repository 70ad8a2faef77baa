import { Router, type Response } from 'express';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { verifyState } from '../../crypto/oauthState';
import { setRequestLogIds } from '../../observability/requestLog';
import { findIntegration, setIntegrationStatus } from '../../db/repositories/integrations';
import { consumeOAuthFlow } from '../../db/repositories/oauthFlows';
import { connectWorkflowId } from '../../workflows/connect';
import { submitConsentUpdate, type ConnectOutcome } from '../../workflows/messages';
import { callbackPage } from '../callbackPage';
import type { ApiDeps } from '../deps';
import { OAuthCallbackQuery } from '../schemas';

const TITLES: Record<ConnectOutcome['status'], string> = {
  connected: 'Zendesk is connected',
  needs_reauth: 'Zendesk was not connected',
  consent_denied: 'Access was denied',
  expired: 'This consent link has expired',
  failed: 'Zendesk could not be connected',
};

const connectedMessage = (workspace: string) => `Workspace ${workspace} is connected. Its users will appear after the first sync.`;

/**
 * GET /v1/oauth/zendesk/callback: Zendesk redirects the admin's browser here. The state is checked and
 * spent once; the code is kept encrypted in the database and the connect workflow is told through an
 * update, whose answer (the real outcome) becomes the page the admin sees.
 */
export function oauthCallbackRouter(deps: ApiDeps): Router {
  const router = Router();
  const { db, box, temporal, logger } = deps;

  const page = (res: Response, status: number, title: string, message: string, ok = false) =>
    res.status(status).type('html').send(callbackPage(title, message, ok));

  router.get('/v1/oauth/zendesk/callback', async (req, res) => {
    const query = OAuthCallbackQuery.safeParse(req.query);
    if (!query.success || !query.data.state) return page(res, 400, 'Invalid consent link', 'The link is missing its state or has malformed parameters.');
    const { state, code, error } = query.data;
    if (!code && !error) return page(res, 400, 'Invalid consent link', 'The link carries neither an authorization code nor an error.');

    const check = verifyState(box, state);
    if (!check.ok) return page(res, 400, 'Invalid consent link', check.reason);
    const { flowId, integrationId } = check.claims;
    const integration = await findIntegration(db, integrationId);
    // The state is signed: from here on the request's log line names the tenant and integration.
    if (integration) setRequestLogIds(res, { tenantId: integration.tenant_id, integrationId });
    if (!integration || integration.status === 'disconnected') return page(res, 400, 'Invalid consent link', 'This integration no longer exists.');

    const outcome = code && !error ? 'approved' : 'denied';
    const flow = await consumeOAuthFlow(db, flowId, integrationId, outcome === 'approved' ? box.encrypt(code!, flowId) : null);
    if (!flow) return page(res, 400, 'Invalid consent link', 'This consent link was already used, was replaced by a newer one, or has expired.');
    if (outcome === 'approved') await setIntegrationStatus(db, integrationId, { status: 'connecting', onlyFrom: ['awaiting_consent'] });

    const log = logger.child({ tenantId: integration.tenant_id, integrationId, workflowId: connectWorkflowId(integrationId) });
    try {
      const result = await temporal.withDeadline(Date.now() + 90_000, () =>
        temporal.workflow.getHandle(connectWorkflowId(integrationId)).executeUpdate(submitConsentUpdate, { args: [{ flowId, outcome }] }),
      );
      log.info({ outcome: result.status }, 'consent processed');
      return page(res, result.status === 'connected' ? 200 : 400, TITLES[result.status], result.message ?? connectedMessage(integration.workspace), result.status === 'connected');
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError || err instanceof WorkflowNotFoundError) {
        log.info({ error: (err as Error).name }, 'consent arrived for a finished attempt');
        // Nothing will exchange this code: do not keep it.
        await db.updateTable('oauth_flows').set({ code_enc: null }).where('id', '=', flowId).execute();
        // A reload after our 503: the update we gave up waiting for may have connected the integration after all.
        if ((await findIntegration(db, integrationId))?.status === 'connected') {
          return page(res, 200, TITLES.connected, connectedMessage(integration.workspace), true);
        }
        return page(res, 400, 'This consent link has expired', 'This consent attempt is over. Start again with Reconnect.');
      }
      // Temporal unreachable or too slow: let the admin retry the same link while the code is still valid.
      await db.updateTable('oauth_flows').set({ used_at: null, code_enc: null }).where('id', '=', flowId).execute();
      await setIntegrationStatus(db, integrationId, { status: 'awaiting_consent', onlyFrom: ['connecting'] });
      log.error({ error: (err as Error).message }, 'could not deliver consent to the connect workflow');
      return page(res, 503, 'Please try again', 'The connection could not be completed just now. Reload this page in a few seconds.');
    }
  });
  return router;
}
