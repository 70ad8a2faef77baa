import type { Request, Response } from 'express';
import type { z } from 'zod';
import { listTenantIntegrationPage } from '../../db/repositories/integrations';
import type { ApiCache } from '../cache/apiCache';
import type { ApiDeps } from '../deps';
import { decodeListCursor, encodeListCursor } from '../integrationCursor';
import { integrationPageViews } from '../integrationView';
import { BAD_REQUEST, NOT_MODIFIED, TOO_MANY_REQUESTS, UNAUTHORIZED } from '../routeResponses';
import { defineRoute } from '../routeSpec';
import { IntegrationList, IntegrationListQuery } from '../schemas';
import { invalidRequest, parseOr400 } from '../validate';

const DEFAULT_LIMIT = 50;

/** Mounted by integrations.ts. */
export const listIntegrationsRoute = defineRoute({
  method: 'get',
  path: '/v1/integrations',
  operationId: 'listIntegrations',
  summary: "The tenant's integrations, a page at a time",
  description:
    'Newest first. Keyset pagination: pass `nextCursor` back as `cursor` with the same `status`; integrations created or deleted between two pages never make another one skip or repeat. Disconnected integrations are not listed. `nextSyncAt` of a whole page comes from at most one Temporal visibility query (none when the API has the schedules cached, until their integration changes), so a schedule created a moment ago may show null for a moment. Unknown parameters and bad values are 400 naming each one.',
  tag: 'integrations',
  security: 'tenant',
  query: IntegrationListQuery,
  responses: {
    200: { description: 'A page of integrations, newest first', body: IntegrationList },
    304: NOT_MODIFIED,
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    429: TOO_MANY_REQUESTS,
  },
});

/**
 * `GET /v1/integrations`: the tenant's live integrations, newest first, a bounded page at a time. Filtered
 * in SQL (status), keyset-paginated (`cursor`), and each page costs one query for its rows, one for their
 * latest syncs and one Temporal call for their next runs, whatever the tenant's size.
 */
export function listIntegrations(deps: ApiDeps & { cache?: ApiCache }) {
  return async (req: Request, res: Response) => {
    const { limit = DEFAULT_LIMIT, cursor: token, status } = parseOr400(IntegrationListQuery, req.query, 'listing');
    let after;
    if (token !== undefined) {
      const decoded = decodeListCursor(token, status);
      if (!decoded.ok) throw invalidRequest('listing', [{ name: 'cursor', reason: decoded.reason }]);
      after = decoded.position;
    }
    const page = await listTenantIntegrationPage(deps.db, { tenantId: req.tenant!.id, statuses: status, after, limit });
    const body: z.infer<typeof IntegrationList> = {
      integrations: await integrationPageViews(deps, page.rows),
      nextCursor: page.next ? encodeListCursor(page.next, status) : null,
    };
    res.json(body);
  };
}
