import { Router } from 'express';
import { generateConnectToken, hashConnectToken } from '../../crypto/connectTokens';
import { insertConnectSession } from '../../db/repositories/connectSessions';
import { findTenant } from '../../db/repositories/tenants';
import { parseWorkspaceInput } from '../../zendesk/workspace';
import { ConnectSession, CreateConnectSessionBody } from '../connectSessionSchemas';
import type { ApiDeps } from '../deps';
import { badRequest, unauthorized, unprocessable, type FieldError } from '../problems';
import { BAD_REQUEST, problem, TOO_MANY_REQUESTS, UNAUTHORIZED } from '../routeResponses';
import { defineRoute, mount } from '../routeSpec';
import { parseOr400 } from '../validate';

/** How long a Connect page link works: long enough to find an admin's password, short for a link in a chat. */
export const CONNECT_SESSION_TTL_MS = 30 * 60_000;

const createConnectSession = defineRoute({
  method: 'post',
  path: '/v1/connect-sessions',
  operationId: 'createConnectSession',
  summary: 'A link to the hosted Connect page',
  description:
    "Open `url` in the customer admin's browser (a new window): the page names the tenant (its `displayName`), says what access is asked for, takes the workspace " +
    "and sends the admin to Zendesk's consent page; Submit starts the same connect flow as `POST /v1/integrations/zendesk` (for a workspace the tenant has already: `POST /v1/integrations/{id}/reconnect`). " +
    'The link works for 30 minutes and stops once it has connected a workspace. The browser never sees an API key.',
  tag: 'integrations',
  security: 'tenant',
  body: CreateConnectSessionBody,
  responses: {
    201: { description: 'Created', body: ConnectSession },
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    422: problem("`returnUrl` or `allowedOrigin` is not among the tenant's registered ones (`PATCH /v1/tenant`): `errors` names it"),
    429: TOO_MANY_REQUESTS,
  },
});

export const connectSessionRoutes = [createConnectSession];

/** `POST /v1/connect-sessions` (tenant key, mounted behind authentication in app.ts). Only the token's hash is stored. */
export function connectSessionsRouter(deps: ApiDeps): Router {
  const router = Router();

  mount(router, createConnectSession, async (req, res) => {
    const body = parseOr400(CreateConnectSessionBody, req.body, 'body');
    let workspace: string | null = null;
    if (body.workspace !== undefined) {
      const parsed = parseWorkspaceInput(body.workspace);
      if (!parsed.ok) throw badRequest(`workspace: ${parsed.reason}`, [{ name: 'workspace', reason: parsed.reason }]);
      workspace = parsed.subdomain;
    }
    // Read now, not from the key cache: a PATCH /v1/tenant just before must count.
    const tenant = await findTenant(deps.db, req.tenant!.id);
    if (tenant?.status !== 'active') throw unauthorized('The API key is not valid.');
    const errors: FieldError[] = [];
    if (body.returnUrl !== undefined && !tenant.allowed_return_urls.includes(body.returnUrl)) {
      errors.push({ name: 'returnUrl', reason: "is not one of the tenant's registered return URLs (allowedReturnUrls, PATCH /v1/tenant)" });
    }
    if (body.allowedOrigin !== undefined && !tenant.allowed_origins.includes(body.allowedOrigin)) {
      errors.push({ name: 'allowedOrigin', reason: "is not one of the tenant's registered origins (allowedOrigins, PATCH /v1/tenant)" });
    }
    if (errors.length) throw unprocessable(errors.map((e) => `${e.name} ${e.reason}`).join('; ') + '.', errors);

    const token = generateConnectToken();
    const session = await insertConnectSession(deps.db, {
      tenantId: tenant.id,
      tokenHash: hashConnectToken(token),
      workspace,
      access: body.access ?? 'read',
      returnUrl: body.returnUrl ?? null,
      allowedOrigin: body.allowedOrigin ?? null,
      expiresAt: new Date(Date.now() + CONNECT_SESSION_TTL_MS),
    });
    deps.logger.info({ tenantId: tenant.id, connectSessionId: session.id }, 'connect session created');
    res.status(201).json({ token, url: `${deps.config.publicUrl}/connect/${token}`, expiresAt: session.expires_at.toISOString() });
  });
  return router;
}
