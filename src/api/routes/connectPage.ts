import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { hashConnectToken, looksLikeConnectToken } from '../../crypto/connectTokens';
import { connectSessionState, findConnectSessionByHash, linkConnectSession, type ConnectSessionView } from '../../db/repositories/connectSessions';
import { findLiveIntegration } from '../../db/repositories/integrations';
import { setRequestLogIds } from '../../observability/requestLog';
import { parseWorkspaceInput } from '../../zendesk/workspace';
import type { ConsentAttempt } from '../consent';
import { connectLinkPage, connectPage } from '../connectPage';
import { connectNewWorkspace, reconnectIntegration } from '../connectWorkspace';
import type { ApiDeps } from '../deps';
import { PAGE_STYLE_HASH } from '../pageLayout';
import { pageHeadersDoc, pageSecurityHeaders } from '../pageSecurity';
import { setRateLimitHeaders } from '../limits/headers';
import type { TenantLimits } from '../limits/tenantLimits';
import { HttpProblem } from '../problems';
import { defineRoute, mount } from '../routeSpec';

const TokenParams = z.object({ token: z.string().describe('The session token (`POST /v1/connect-sessions`)') });
const html = (description: string) => ({ mediaType: 'text/html', description }) as const;
const PAGE_HEADERS = pageHeadersDoc({
  csp: "`default-src 'none'`, the page's stylesheet by hash, no script, forms only to itself and Zendesk's consent page, never framed",
  noStoreBecause: 'the URL carries the session token',
  referrer: 'the token never leaves in a Referer header',
});
const LINK_PROBLEMS = {
  404: { description: 'An unknown link', body: html('A page saying the link is not valid'), headers: PAGE_HEADERS },
  410: { description: 'An expired link, or one that has already connected a workspace', body: html('A page saying what to do'), headers: PAGE_HEADERS },
};

const connectPageRoute = defineRoute({
  method: 'get',
  path: '/connect/{token}',
  operationId: 'connectPage',
  summary: 'The hosted Connect page (browser)',
  description:
    "Names the tenant (its `displayName`), says in plain words what access is asked for, and takes the workspace (`acme`, `acme.zendesk.com` or a pasted URL), with the seed's advice: sign in with an admin account, prefer a service account.",
  tag: 'integrations',
  security: 'none',
  params: TokenParams,
  responses: { 200: { description: 'The page', body: html('The Connect page'), headers: PAGE_HEADERS }, ...LINK_PROBLEMS },
});

const connectSubmitRoute = defineRoute({
  method: 'post',
  path: '/connect/{token}',
  operationId: 'connectSubmit',
  summary: "The Connect page's Submit (browser, form-encoded `workspace`)",
  description:
    "Starts the same connect flow as `POST /v1/integrations/zendesk` (for a workspace the tenant has already, `POST /v1/integrations/{id}/reconnect`) and redirects the browser to Zendesk's consent page. " +
    "A workspace that is not one answers the page again with the API's reason next to the field.",
  tag: 'integrations',
  security: 'none',
  params: TokenParams,
  responses: {
    303: {
      description: "On to Zendesk's consent page",
      headers: { Location: { description: "Zendesk's consent URL", schema: { type: 'string' } } },
    },
    ...LINK_PROBLEMS,
    409: {
      description: 'A consent of this workspace is being completed right now',
      body: html('The page, saying to try again in a moment'),
      headers: PAGE_HEADERS,
    },
    422: {
      description: 'The workspace typed is not a Zendesk workspace',
      body: html("The page with the API's reason next to the field"),
      headers: PAGE_HEADERS,
    },
    429: {
      description: "The tenant's `integrations` budget is spent (as for `POST /v1/integrations/zendesk`)",
      body: html('The page, saying when to try again'),
      headers: { ...PAGE_HEADERS, 'Retry-After': { description: 'Seconds until the next attempt is allowed', schema: { type: 'integer' } } },
    },
    503: { description: 'The connect flow could not be started; nothing was changed', body: html('The page, saying to try again'), headers: PAGE_HEADERS },
  },
});

export const connectPageRoutes = [connectPageRoute, connectSubmitRoute];

/** The CSP source of Zendesk's consent pages, from ZENDESK_BASE_URL: `https://*.zendesk.com`, or the sandbox's origin. */
export function consentPageSource(baseUrlTemplate: string): string {
  const marker = 'zdsubdomainmarker';
  const url = new URL(baseUrlTemplate.split('{subdomain}').join(marker));
  return url.hostname.includes(marker) ? `${url.protocol}//${url.host.replace(marker, '*')}` : url.origin;
}

/**
 * `GET /connect/:token` and its Submit: no API key — the session token in the path is the authorization, and
 * the request log shows the route, never the token (src/observability/requestLog.ts). An unknown link is a
 * 404 page, an expired or used one a 410 page; never a crash.
 */
export function connectPageRouter(deps: ApiDeps & { limits?: TenantLimits }): Router {
  const router = Router();
  const { db, logger } = deps;
  const headers = pageSecurityHeaders({
    styleHashes: [PAGE_STYLE_HASH],
    frameable: false,
    https: deps.config.publicUrl.startsWith('https:'),
    // Chromium applies form-action to the redirect a form post leads to: Zendesk's consent page.
    formActions: ["'self'", consentPageSource(deps.config.zendesk.baseUrlTemplate)],
  });
  const send = (res: Response, status: number, body: string) => res.status(status).type('html').send(body);

  /** The request's session when it can be used; otherwise answers the page saying why and returns undefined. */
  const usableSession = async (req: Request, res: Response): Promise<{ session: ConnectSessionView; token: string } | undefined> => {
    const token = String(req.params.token);
    const session = looksLikeConnectToken(token) ? await findConnectSessionByHash(db, hashConnectToken(token)) : undefined;
    if (!session) {
      send(res, 404, connectLinkPage('This link is not valid', 'Check that you opened the whole link, or start again from the app that sent you here.'));
      return undefined;
    }
    setRequestLogIds(res, { tenantId: session.tenant_id });
    const state = connectSessionState(session);
    if (state === 'used') {
      send(res, 410, connectLinkPage('This link was already used', 'Zendesk is connected. To connect again, start again from the app that sent you here.'));
      return undefined;
    }
    if (state === 'expired') {
      send(res, 410, connectLinkPage('This link has expired', 'Connect links work for 30 minutes. Start again from the app that sent you here.'));
      return undefined;
    }
    return { session, token };
  };

  const page = (session: ConnectSessionView, token: string, workspace: string, error?: string) =>
    connectPage({ tenantName: session.tenant_display_name ?? session.tenant_name, access: session.access, action: `/connect/${token}`, workspace, error });

  mount(router, connectPageRoute, headers, async (req, res) => {
    const found = await usableSession(req, res);
    if (found) send(res, 200, page(found.session, found.token, found.session.workspace ?? ''));
  });

  mount(router, connectSubmitRoute, headers, express.urlencoded({ extended: false, limit: '8kb' }), async (req, res) => {
    const found = await usableSession(req, res);
    if (!found) return;
    const { session, token } = found;
    const typed = typeof req.body?.workspace === 'string' ? (req.body.workspace as string) : '';
    const parsed = parseWorkspaceInput(typed);
    if (!parsed.ok) return send(res, 422, page(session, token, typed, parsed.reason));
    // Each Submit opens a consent attempt (a workflow), as POST /v1/integrations/zendesk does: the same budget.
    const decision = deps.limits?.take(session.tenant_id, 'integrations');
    if (decision) setRateLimitHeaders(res, decision);
    if (decision && !decision.allowed) {
      return send(res, 429, page(session, token, typed, `Too many connection attempts just now. Please try again in ${decision.resetSeconds} seconds.`));
    }
    let started: { integrationId: string; consent: ConsentAttempt };
    try {
      started = await startConsent(deps, session, parsed.subdomain);
    } catch (err) {
      if (err instanceof HttpProblem && err.status === 409) return send(res, 409, page(session, token, typed, err.detail));
      logger.warn({ tenantId: session.tenant_id, connectSessionId: session.id, err: (err as Error).message }, 'the Connect page could not start a consent');
      return send(res, 503, page(session, token, typed, 'The connection could not be started right now; nothing was changed. Please try again in a moment.'));
    }
    await linkConnectSession(db, session.id, started.integrationId, started.consent.flowId);
    setRequestLogIds(res, { integrationId: started.integrationId });
    res.redirect(303, started.consent.authorizeUrl);
  });
  return router;
}

/** The API's own connect: a new integration, or a reconnect of the one the tenant has for this workspace. */
async function startConsent(deps: ApiDeps, session: ConnectSessionView, workspace: string): Promise<{ integrationId: string; consent: ConsentAttempt }> {
  const existing = await findLiveIntegration(deps.db, session.tenant_id, workspace);
  if (existing) return { integrationId: existing.id, consent: await reconnectIntegration(deps, existing, session.access) };
  try {
    const { integration, consent } = await connectNewWorkspace(deps, session.tenant_id, workspace, session.access);
    return { integrationId: integration.id, consent };
  } catch (err) {
    // Created by someone else a moment ago: reconnect that one, as for a workspace the tenant had.
    const existingId = err instanceof HttpProblem ? err.extra.existingId : undefined;
    const winner = typeof existingId === 'string' ? await findLiveIntegration(deps.db, session.tenant_id, workspace) : undefined;
    if (!winner) throw err;
    return { integrationId: winner.id, consent: await reconnectIntegration(deps, winner, session.access) };
  }
}
