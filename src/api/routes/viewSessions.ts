import { Router } from 'express';
import { generateViewToken, hashViewToken } from '../../crypto/viewTokens';
import { findTenant } from '../../db/repositories/tenants';
import { insertViewSession } from '../../db/repositories/viewSessions';
import type { ApiDeps } from '../deps';
import { integrationOwnership } from '../ownership';
import { unauthorized, unprocessable } from '../problems';
import { BAD_REQUEST, NOT_FOUND, problem, TOO_MANY_REQUESTS, UNAUTHORIZED } from '../routeResponses';
import { defineRoute, mount } from '../routeSpec';
import { IntegrationIdParams } from '../schemas';
import { parseOr400 } from '../validate';
import { CreateViewSessionBody, ViewSession } from '../viewSessionSchemas';

/** How long a utilization view link works: the platform makes one each time it shows the view. */
export const VIEW_SESSION_TTL_MS = 60 * 60_000;

const createViewSession = defineRoute({
  method: 'post',
  path: '/v1/integrations/{id}/view-sessions',
  operationId: 'createViewSession',
  summary: "A link to the integration's utilization view (browser, embeddable)",
  description:
    "Open `url` in a browser or embed it in an `<iframe>` of one of the tenant's `allowedOrigins`: a read-only page of the integration's seats (paid active / inactive / suspended, free), " +
    'their trend across the last syncs, the reclaimable seats, the savings estimate when a seat price is set, and the users with the filters of `GET /v1/integrations/{id}/users` and their CSV download. ' +
    'Its figures are those of `/utilization`, `/reclaimable` and `/users` (the same computations, the same cache). The token in the URL is its only authorization (no cookie, no API key in the browser); ' +
    'the link works for 60 minutes.',
  tag: 'reports',
  security: 'tenant',
  params: IntegrationIdParams,
  body: CreateViewSessionBody,
  responses: {
    201: { description: 'Created', body: ViewSession },
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    404: NOT_FOUND,
    422: problem("`allowedOrigin` is not among the tenant's registered ones (`PATCH /v1/tenant`): `errors` names it"),
    429: TOO_MANY_REQUESTS,
  },
});

export const viewSessionRoutes = [createViewSession];

/** `POST /v1/integrations/:id/view-sessions` (tenant key, behind authentication in app.ts). Only the token's hash is stored. */
export function viewSessionsRouter(deps: ApiDeps): Router {
  const router = Router();
  // Another tenant's integration answers like an unknown one; a disconnect under way shows no more reports.
  const ownIntegration = integrationOwnership({ db: deps.db, alsoHidden: ['disconnecting'] });

  mount(router, createViewSession, async (req, res) => {
    const integration = await ownIntegration(req);
    const body = parseOr400(CreateViewSessionBody, req.body ?? {}, 'body');
    // Read now, not from the key cache: a PATCH /v1/tenant just before must count.
    const tenant = await findTenant(deps.db, req.tenant!.id);
    if (tenant?.status !== 'active') throw unauthorized('The API key is not valid.');
    if (body.allowedOrigin !== undefined && !tenant.allowed_origins.includes(body.allowedOrigin)) {
      const reason = "is not one of the tenant's registered origins (allowedOrigins, PATCH /v1/tenant)";
      throw unprocessable(`allowedOrigin ${reason}.`, [{ name: 'allowedOrigin', reason }]);
    }
    const token = generateViewToken();
    const session = await insertViewSession(deps.db, {
      tenantId: tenant.id,
      integrationId: integration.id,
      tokenHash: hashViewToken(token),
      allowedOrigin: body.allowedOrigin ?? null,
      expiresAt: new Date(Date.now() + VIEW_SESSION_TTL_MS),
    });
    deps.logger.info({ tenantId: tenant.id, integrationId: integration.id, viewSessionId: session.id }, 'view session created');
    res.status(201).json({ token, url: `${deps.config.publicUrl}/view/${token}`, expiresAt: session.expires_at.toISOString() });
  });
  return router;
}
