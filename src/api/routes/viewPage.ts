import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { hashViewToken, looksLikeViewToken } from '../../crypto/viewTokens';
import { findTenantIntegration } from '../../db/repositories/integrations';
import { listSnapshots } from '../../db/repositories/utilizationSnapshots';
import { findViewSessionByHash, frameAncestorsOf, type ViewSessionView } from '../../db/repositories/viewSessions';
import type { Integration } from '../../db/tables';
import { setRequestLogIds } from '../../observability/requestLog';
import type { UtilizationBody } from '../../reports/snapshots';
import type { CachedReport } from '../cache/apiCache';
import { TooManyRequests } from '../limits/headers';
import { PAGE_STYLE_HASH } from '../pageLayout';
import { pageHeadersDoc, pageSecurityHeaders, setFrameAncestors } from '../pageSecurity';
import { HttpProblem, type FieldError } from '../problems';
import type { reportQuerySchemas } from '../reportSchemas';
import { BAD_REQUEST, TOO_MANY_REQUESTS } from '../routeResponses';
import { defineRoute, mount } from '../routeSpec';
import { viewLinkPage, viewPage, type TrendPoint } from '../viewPage';
import { reportComputations, type ReportDeps } from './reports';

const TokenParams = z.object({ token: z.string().describe('The session token (`POST /v1/integrations/{id}/view-sessions`)') });
const html = (description: string) => ({ mediaType: 'text/html', description }) as const;
const PAGE_HEADERS = pageHeadersDoc({
  csp: "`default-src 'none'`, the page's stylesheet by hash, no script, forms only to itself, `frame-ancestors` the tenant's registered origins (the session's `allowedOrigin` when it named one; `'none'` for an unknown link)",
  noStoreBecause: 'the URL carries the session token and the page shows the workspace’s users',
  referrer: 'the token never leaves in a Referer header',
});
const LINK_PROBLEMS = {
  404: { description: 'An unknown link', body: html('A page saying the link is not valid'), headers: PAGE_HEADERS },
  410: { description: 'An expired link, or one of an integration that is no longer connected', body: html('A page saying what to do'), headers: PAGE_HEADERS },
};

/** How many snapshots the trend shows (the newest; the integration keeps up to 90). */
const TREND_POINTS = 10;

/** The view's routes for a server's report query schemas (its `inactiveDays` cap), as reportRoutes. */
export function viewPageRoutes(queries: ReturnType<typeof reportQuerySchemas>) {
  return {
    page: defineRoute({
      method: 'get',
      path: '/view/{token}',
      operationId: 'utilizationView',
      summary: 'The utilization view (browser, embeddable)',
      description:
        "One integration's seats at a glance: paid seats active / inactive / suspended and free seats (a chart and a table), their trend across the last syncs, the reclaimable seats with reason and last activity, " +
        'the savings estimate when a seat price is set, when it was last synced, and the users for the filters. The figures are `GET /v1/integrations/{id}/utilization`, `/reclaimable` and `/users` ' +
        "for the same query (computed by the same code, cached under the same keys). The query parameters are `/users`'s (an empty one counts as not given, as a form sends it); bad ones are a 400 page naming each. " +
        'The token in the path is the only authorization: no cookie, no API key.',
      tag: 'reports',
      security: 'none',
      params: TokenParams,
      query: queries.UsersQuery,
      responses: {
        200: { description: 'The page', body: html('The utilization view'), headers: PAGE_HEADERS },
        400: { description: 'A filter is not valid', body: html('The page with the reasons above the listing'), headers: PAGE_HEADERS },
        ...LINK_PROBLEMS,
        429: {
          description: "The tenant's `reports` budget is spent (as for the reports the page shows)",
          body: html('A page saying when to try again'),
          headers: { ...PAGE_HEADERS, 'Retry-After': { description: 'Seconds until the next attempt is allowed', schema: { type: 'integer' } } },
        },
      },
    }),
    csv: defineRoute({
      method: 'get',
      path: '/view/{token}/users.csv',
      operationId: 'utilizationViewCsv',
      summary: "The view's users as CSV (browser)",
      description:
        "Exactly `GET /v1/integrations/{id}/users.csv` for the view's filters (the page links to it with the filters it shows; `limit` and `cursor` are ignored: every matching user), authorized by the view's token. Spends the tenant's `csv` budget as the API's export does.",
      tag: 'reports',
      security: 'none',
      params: TokenParams,
      query: queries.UsersCsvQuery,
      responses: {
        200: { description: 'CSV of every matching user', body: { mediaType: 'text/csv', description: 'One row per user, as users.csv' } },
        400: BAD_REQUEST,
        ...LINK_PROBLEMS,
        429: TOO_MANY_REQUESTS,
      },
    }),
  };
}

/** The query as a form sends it, without its empty fields (an empty select or date means "any"). */
function filledQuery(query: Request['query']): Record<string, unknown> {
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v !== '' && v !== undefined));
}

/** A query string of `/users` parameters (strings only: repeated ones are not carried into links). */
function queryString(params: Record<string, unknown>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (typeof v === 'string') search.set(k, v);
  const s = search.toString();
  return s ? `?${s}` : '';
}

const decode = <T>(report: CachedReport): T => JSON.parse(report.body.toString('utf8')) as T;

/**
 * `GET /view/:token` and its CSV: no API key — the session token in the path is the authorization (the request
 * log shows the route, never the token). Framed only by the tenant's registered origins. An unknown link is a
 * 404 page, an expired one (or one of an integration no longer connected) a 410 page; neither says more.
 */
export function viewPageRouter(deps: ReportDeps): Router {
  const router = Router();
  const { db, config } = deps;
  const reports = reportComputations(deps);
  const routes = viewPageRoutes(reports.queries);
  const headers = pageSecurityHeaders({
    styleHashes: [PAGE_STYLE_HASH],
    frameable: true,
    https: config.publicUrl.startsWith('https:'),
    formActions: ["'self'"],
  });
  const applyHeaders = (req: Request, res: Response, origins: readonly string[]) => {
    setFrameAncestors(res, origins);
    return new Promise<void>((resolve, reject) => headers(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
  };
  const send = (res: Response, status: number, body: string) => res.status(status).type('html').send(body);

  /** The request's session and integration when the link can be used; otherwise answers the page saying why. */
  const usableView = async (req: Request, res: Response): Promise<{ session: ViewSessionView; integration: Integration; token: string } | undefined> => {
    const token = String(req.params.token);
    const session = looksLikeViewToken(token) ? await findViewSessionByHash(db, hashViewToken(token)) : undefined;
    await applyHeaders(req, res, session ? frameAncestorsOf(session) : []);
    if (!session) {
      send(res, 404, viewLinkPage('This link is not valid', 'Check that you opened the whole link, or open the view again from the app that sent you here.'));
      return undefined;
    }
    setRequestLogIds(res, { tenantId: session.tenant_id });
    const expired = () =>
      send(res, 410, viewLinkPage('This view has expired', 'A view link works for an hour. Open the view again from the app that sent you here.'));
    if (session.expires_at <= new Date() || session.tenant_status !== 'active') return void expired();
    const integration = await findTenantIntegration(db, session.tenant_id, session.integration_id);
    if (!integration || integration.status === 'disconnected' || integration.status === 'disconnecting') {
      send(res, 410, viewLinkPage('This view is no longer available', 'The Zendesk integration it shows is no longer connected.'));
      return undefined;
    }
    setRequestLogIds(res, { integrationId: integration.id });
    return { session, integration, token };
  };

  mount(router, routes.page, async (req, res) => {
    const found = await usableView(req, res);
    if (!found) return;
    const { session, integration, token } = found;
    const tenantId = session.tenant_id;
    const filters = filledQuery(req.query);
    let users: ReturnType<typeof reports.parseUsers> | undefined;
    let errors: FieldError[] = [];
    try {
      users = reports.parseUsers(tenantId, integration.id, filters);
    } catch (err) {
      if (!(err instanceof HttpProblem) || err.status !== 400) throw err;
      errors = err.errors;
    }
    // The figures for the listing's activity window (the server's default when the filters are not valid).
    const days = users && typeof filters.inactiveDays === 'string' ? { inactiveDays: filters.inactiveDays } : {};
    let computed;
    try {
      computed = await Promise.all([
        reports.utilization(res, tenantId, integration, reports.parseUtilization(tenantId, integration.id, days)),
        reports.reclaimable(res, tenantId, integration, reports.parseReclaimable(tenantId, integration.id, days)),
        users ? reports.users(res, tenantId, integration, users) : undefined,
        listSnapshots(db, integration.id),
      ]);
    } catch (err) {
      // The tenant's `reports` budget is spent: a page in the same look, not a JSON problem in the frame.
      if (!(err instanceof TooManyRequests)) throw err;
      res.set(err.headers);
      const wait = err.headers['Retry-After'];
      return send(res, 429, viewLinkPage('Too many requests just now', `Please try again${wait ? ` in ${wait} seconds` : ' in a moment'}.`));
    }
    const [utilization, reclaimable, listing, snapshots] = computed;
    const util = decode<UtilizationBody>(utilization);
    const trend: TrendPoint[] = snapshots
      .filter((s) => s.kind === 'sync' && s.inactive_days === util.inactiveDays)
      .slice(0, TREND_POINTS)
      .reverse()
      .map((s) => {
        const body = s.report as UtilizationBody;
        return { takenAt: s.taken_at.toISOString(), paidSeats: body.paidSeats, freeSeats: body.freeSeats };
      });
    const list = listing ? decode<NonNullable<Parameters<typeof viewPage>[0]['users']>>(listing) : undefined;
    const { cursor: _cursor, limit: _limit, ...csvFilters } = filters;
    const action = `/view/${token}`;
    send(
      res,
      users ? 200 : 400,
      viewPage({
        tenantName: session.tenant_display_name ?? session.tenant_name,
        workspace: integration.workspace,
        action,
        utilization: util,
        reclaimable: decode(reclaimable),
        users: list,
        filters: Object.fromEntries(Object.entries(filters).filter((e): e is [string, string] => typeof e[1] === 'string')),
        errors,
        csvHref: list ? `${action}/users.csv${queryString(csvFilters)}` : undefined,
        nextHref: list?.nextCursor ? `${action}${queryString({ ...filters, cursor: list.nextCursor })}` : undefined,
        trend,
      }),
    );
  });

  mount(router, routes.csv, async (req, res) => {
    const found = await usableView(req, res);
    if (!found) return;
    const { cursor: _cursor, limit: _limit, ...filters } = filledQuery(req.query);
    await reports.usersCsv(res, found.session.tenant_id, found.integration, filters);
  });

  return router;
}
