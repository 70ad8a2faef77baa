import { Router, type Response } from 'express';
import { EXPIRED_STATE, verifyStateSignature } from '../../crypto/oauthState';
import { setRequestLogIds } from '../../observability/requestLog';
import { findIntegration, setIntegrationStatus } from '../../db/repositories/integrations';
import { consumeOAuthFlow, dropFlowCode, findOAuthFlow, sealCode } from '../../db/repositories/oauthFlows';
import type { OAuthFlow } from '../../db/tables';
import { connectWorkflowId } from '../../workflows/connect';
import { CALLBACK_PAGE_STYLE_HASH, callbackPage, type SessionOutcome } from '../callbackPage';
import { OPENER_SCRIPT_PATH } from '../connectAssets';
import { findConnectSessionOfFlow } from '../../db/repositories/connectSessions';
import { deliverConsent } from '../consentDelivery';
import { outcomePage, sessionOutcomePage, storedOutcome } from '../consentOutcome';
import type { ApiDeps } from '../deps';
import { pageHeadersDoc, pageSecurityHeaders } from '../pageSecurity';
import { defineRoute, mount } from '../routeSpec';
import { OAuthCallbackQuery } from '../schemas';

/** How soon the "still being completed" page reloads itself. */
const RELOAD_AFTER_SECONDS = 3;

/** The page's security headers (src/api/pageSecurity.ts). */
const PAGE_HEADERS = pageHeadersDoc({
  csp: "`default-src 'none'`, the page's one inline stylesheet allowed by hash, no script, `frame-ancestors 'none'` (never framed)",
  noStoreBecause: 'the URL carries the authorization code',
});

const STILL_CONNECTING = {
  mediaType: 'text/html',
  description: 'A page saying the connection is still being completed; it reloads itself (meta refresh)',
} as const;

// No 304: Express would answer one to a matching If-None-Match, but `no-store` leaves no client a validator to send.
const oauthCallback = defineRoute({
  method: 'get',
  path: '/v1/oauth/zendesk/callback',
  operationId: 'oauthCallback',
  summary: 'OAuth redirect target (browser)',
  description:
    'Completes consent and answers with a small HTML page saying connected or why not. A forged or expired `state` is 400 and changes nothing. ' +
    'The consent is handed to the connect workflow as an update whose id is the consent attempt, and the page waits at most OAUTH_CALLBACK_WAIT (90 s) ' +
    'for its outcome; past that (a slow code exchange, Temporal down) it answers 202 or 503 with a page that says the connection is still being completed ' +
    "and reloads itself. A reload of the same URL (its state is spent) never starts anything new: it shows the attempt's recorded outcome, or re-attaches " +
    'to the same update (after a Temporal outage, delivers it), and so shows the real result.',
  tag: 'integrations',
  security: 'none',
  query: OAuthCallbackQuery,
  responses: {
    200: { description: 'Connected', body: { mediaType: 'text/html', description: 'A page saying the workspace is connected' }, headers: PAGE_HEADERS },
    202: { description: 'The workflow has not answered within OAUTH_CALLBACK_WAIT; it carries on', body: STILL_CONNECTING, headers: PAGE_HEADERS },
    400: {
      description: 'Not connected (invalid link, denied, not an admin, expired)',
      body: { mediaType: 'text/html', description: 'A page saying why' },
      headers: PAGE_HEADERS,
    },
    503: {
      description: 'Temporal could not be reached; the consent is kept and a reload delivers it',
      body: STILL_CONNECTING,
      headers: { ...PAGE_HEADERS, 'Retry-After': { description: 'Seconds until the page reloads itself', schema: { type: 'integer' } } },
    },
  },
});

export const oauthCallbackRoutes = [oauthCallback];

/**
 * GET /v1/oauth/zendesk/callback: Zendesk redirects the admin's browser here. The state is checked and
 * spent once; the code is kept encrypted in the database and the connect workflow is told through an
 * update (id: the flow id), whose answer (the real outcome) becomes the page the admin sees.
 *
 * When the answer does not come in time (a slow exchange, Temporal down) nothing is undone — the workflow
 * may be spending the code right now — and the page says the connection is still being completed and
 * reloads itself. A reload is the same URL: its state is spent already, so it reads the attempt's stored
 * outcome, or re-attaches to the same update (and, after an outage, delivers it). It never changes anything
 * the first arrival did not.
 */
export function oauthCallbackRouter(deps: ApiDeps): Router {
  const router = Router();
  const { db, box, logger } = deps;

  const page = (res: Response, status: number, title: string, message: string, ok = false) =>
    res
      .status(status)
      .type('html')
      .send(callbackPage(title, message, ok));

  // Never framed (clickjacking the consent result), never cached, its URL (code, state) never sent on.
  const headers = pageSecurityHeaders({ styleHashes: [CALLBACK_PAGE_STYLE_HASH], frameable: false, https: deps.config.publicUrl.startsWith('https:') });
  // The outcome of a consent a Connect session started also loads the served opener script (never inline).
  const sessionHeaders = pageSecurityHeaders({
    styleHashes: [CALLBACK_PAGE_STYLE_HASH],
    frameable: false,
    https: deps.config.publicUrl.startsWith('https:'),
    scriptSources: ["'self'"],
  });

  mount(router, oauthCallback, headers, async (req, res) => {
    const query = OAuthCallbackQuery.safeParse(req.query);
    if (!query.success || !query.data.state) return page(res, 400, 'Invalid consent link', 'The link is missing its state or has malformed parameters.');
    const { state, code, error } = query.data;
    if (!code && !error) return page(res, 400, 'Invalid consent link', 'The link carries neither an authorization code nor an error.');

    const check = verifyStateSignature(box, state);
    if (!check.ok) return page(res, 400, 'Invalid consent link', check.reason);
    const { flowId, integrationId, expiresAt } = check.claims;
    const integration = await findIntegration(db, integrationId);
    // The state is signed: from here on the request's log line names the tenant and integration.
    if (integration) setRequestLogIds(res, { tenantId: integration.tenant_id, integrationId });
    if (!integration || integration.status === 'disconnected') return page(res, 400, 'Invalid consent link', 'This integration no longer exists.');

    const decision = code && !error ? 'approved' : 'denied';
    const live = expiresAt > new Date();
    let flow: OAuthFlow | undefined = live
      ? await consumeOAuthFlow(db, flowId, integrationId, decision === 'approved' ? sealCode(box, flowId, code!) : null, decision)
      : undefined;
    if (flow) {
      if (decision === 'approved') await setIntegrationStatus(db, integrationId, { status: 'connecting', onlyFrom: ['awaiting_consent'] });
    } else {
      // Not the first arrival of this consent: a reload of this page (or a replay of the link). Only a consent
      // that did arrive is looked at; the stored decision, not this request's, is what gets delivered.
      const spent = await findOAuthFlow(db, flowId);
      if (!spent || spent.integration_id !== integrationId || !spent.used_at) {
        return page(
          res,
          400,
          'Invalid consent link',
          live ? 'This consent link was already used, was replaced by a newer one, or has expired.' : EXPIRED_STATE,
        );
      }
      flow = spent;
    }

    // Begun on the hosted Connect page: the outcome links back to the platform and tells its opener window.
    const session = await findConnectSessionOfFlow(db, flowId);
    const show = (outcome: NonNullable<ReturnType<typeof storedOutcome>>) => {
      if (session?.integration_id !== integrationId) {
        const p = outcomePage(outcome, integration.workspace, flow.purpose);
        return page(res, p.httpStatus, p.title, p.message, p.ok);
      }
      const p = sessionOutcomePage(outcome, integration.workspace, flow.purpose);
      const told: SessionOutcome = {
        tenantName: session.tenant_display_name ?? session.tenant_name,
        returnUrl: session.return_url,
        allowedOrigin: session.allowed_origin,
        status: outcome.status,
        integrationId,
        scriptPath: OPENER_SCRIPT_PATH,
      };
      // Replaces the script-less policy set above: synchronous, as helmet's middleware is.
      sessionHeaders(req, res, () => undefined);
      return res
        .status(p.httpStatus)
        .type('html')
        .send(callbackPage(p.title, p.message, p.ok, { session: told }));
    };
    const recorded = storedOutcome(flow);
    if (recorded) return show(recorded);

    const log = logger.child({ tenantId: integration.tenant_id, integrationId, workflowId: connectWorkflowId(integrationId) });
    const delivery = await deliverConsent(deps, flow, flow.decision ?? decision);
    if (delivery.kind === 'outcome') {
      log.info({ outcome: delivery.outcome.status }, 'consent processed');
      return show(delivery.outcome);
    }
    if (delivery.kind === 'refused') {
      log.info({ error: delivery.reason }, 'consent arrived for a finished attempt');
      const latest = await findOAuthFlow(db, flowId);
      const outcome = latest && storedOutcome(latest);
      if (outcome) return show(outcome);
      // Nothing will exchange this code: do not keep it.
      await dropFlowCode(db, flowId);
      // An attempt begun before outcomes were recorded: a connected integration is its outcome.
      if (flow.purpose === 'connect' && (await findIntegration(db, integrationId))?.status === 'connected') {
        return show({ status: 'connected', message: null });
      }
      return page(res, 400, 'This consent link has expired', 'This consent attempt is over. Start again with Reconnect.');
    }
    // No answer in time. The state stays spent and the code stored: the workflow may be exchanging it, and only
    // a reload of this very page (same update id) may deliver the consent again.
    log.warn({ error: delivery.error, temporalReachable: delivery.temporalReachable }, 'consent not answered in time; the callback page reloads itself');
    if (!delivery.temporalReachable) res.set('Retry-After', String(RELOAD_AFTER_SECONDS));
    return res
      .status(delivery.temporalReachable ? 202 : 503)
      .type('html')
      .send(
        callbackPage(
          'Still connecting…',
          `The connection to Zendesk workspace ${integration.workspace} is still being completed. This page reloads itself and shows the result as soon as it is known.`,
          false,
          { reloadAfterSeconds: RELOAD_AFTER_SECONDS },
        ),
      );
  });
  return router;
}
