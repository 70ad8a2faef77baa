import type { Request, Response } from 'express';
import type { z } from 'zod';
import { listTenantIntegrationPage } from '../../db/repositories/integrations';
import type { ApiCache } from '../cache/apiCache';
import type { ApiDeps } from '../deps';
import { decodeListCursor, encodeListCursor } from '../integrationCursor';
import { integrationPageViews } from '../integrationView';
import { IntegrationListQuery, type IntegrationList } from '../schemas';
import { invalidRequest, parseOr400 } from '../validate';

const DEFAULT_LIMIT = 50;

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
