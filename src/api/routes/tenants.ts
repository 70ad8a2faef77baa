import { Router, type Request } from 'express';
import type { z } from 'zod';
import { apiKeyHint, generateApiKey, hashApiKey } from '../../crypto/apiKeys';
import { findTenant, insertTenant, listTenantPage, updateTenantSettings } from '../../db/repositories/tenants';
import { requireAdmin } from '../auth';
import type { ApiDeps } from '../deps';
import { decodeListCursor, encodeListCursor } from '../integrationCursor';
import { notFound, unauthorized } from '../problems';
import { BAD_REQUEST, NO_TENANT, NOT_MODIFIED, UNAUTHORIZED } from '../routeResponses';
import { defineRoute, mount } from '../routeSpec';
import { CreateTenantBody, Tenant } from '../schemas';
import { TenantIdParams, TenantList, TenantListQuery, TenantSummary } from '../tenantSchemas';
import { UpdateTenantSettingsBody } from '../tenantSettingsSchemas';
import { tenantView } from '../tenantView';
import { invalidRequest, parseOr400 } from '../validate';

const DEFAULT_LIMIT = 50;

const createTenant = defineRoute({
  method: 'post',
  path: '/v1/tenants',
  operationId: 'createTenant',
  summary: 'Create a tenant and its API key (admin key)',
  description: 'The API key is shown once and stored hashed. Rotate or revoke it with `/v1/tenants/{id}/keys…` (or the tenant itself with `/v1/tenant/keys…`).',
  tag: 'tenants',
  security: 'admin',
  body: CreateTenantBody,
  responses: { 201: { description: 'Created', body: Tenant }, 400: BAD_REQUEST, 401: UNAUTHORIZED },
});

const listTenants = defineRoute({
  method: 'get',
  path: '/v1/tenants',
  operationId: 'listTenants',
  summary: 'Every tenant, a page at a time (admin key)',
  description:
    'Newest first. Keyset pagination: pass `nextCursor` back as `cursor` with the same `status`. Offboarded tenants are listed (with `offboardedAt`) unless filtered out.',
  tag: 'tenants',
  security: 'admin',
  query: TenantListQuery,
  responses: {
    200: { description: 'A page of tenants, newest first', body: TenantList },
    304: NOT_MODIFIED,
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
  },
});

const getTenant = defineRoute({
  method: 'get',
  path: '/v1/tenants/{id}',
  operationId: 'getTenant',
  summary: 'One tenant (admin key)',
  tag: 'tenants',
  security: 'admin',
  params: TenantIdParams,
  responses: { 200: { description: 'The tenant', body: TenantSummary }, 304: NOT_MODIFIED, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NO_TENANT },
});

const getOwnTenant = defineRoute({
  method: 'get',
  path: '/v1/tenant',
  operationId: 'getOwnTenant',
  summary: 'The calling tenant',
  tag: 'tenant',
  security: 'tenant',
  responses: { 200: { description: 'The tenant of the API key', body: TenantSummary }, 304: NOT_MODIFIED, 401: UNAUTHORIZED },
});

const updateOwnTenant = defineRoute({
  method: 'patch',
  path: '/v1/tenant',
  operationId: 'updateOwnTenant',
  summary: "Change the calling tenant's Connect page settings",
  description:
    'The display name the hosted Connect page shows, and the origins and return URLs a connect session (`POST /v1/connect-sessions`) may name. ' +
    'Only the fields given change; a list replaces the stored one. Sessions made earlier keep the origin and return URL they were made with.',
  tag: 'tenant',
  security: 'tenant',
  body: UpdateTenantSettingsBody,
  responses: { 200: { description: 'The tenant with its new settings', body: TenantSummary }, 400: BAD_REQUEST, 401: UNAUTHORIZED },
});

export const tenantRoutes = [createTenant, listTenants, getTenant, getOwnTenant, updateOwnTenant];

/**
 * Tenants for the admin: `POST /v1/tenants` (a tenant and its first API key, shown once), `GET /v1/tenants`
 * (newest first, keyset pages like `GET /v1/integrations`), `GET /v1/tenants/:id`; and `GET /v1/tenant`, a
 * tenant's view of itself, and `PATCH /v1/tenant`, its Connect page settings (both behind tenant authentication, mounted in app.ts). Keys: tenantKeys.ts; offboarding:
 * offboard.ts.
 */
export function tenantsRouter(deps: ApiDeps): Router {
  const router = Router();
  const admin = requireAdmin(deps.config.adminApiKey);

  mount(router, createTenant, admin, async (req, res) => {
    const body = parseOr400(CreateTenantBody, req.body, 'body');
    const apiKey = generateApiKey();
    const { tenant, key } = await insertTenant(deps.db, body.name, { keyHash: hashApiKey(apiKey), hint: apiKeyHint(apiKey), createdBy: 'admin' });
    deps.logger.info({ tenantId: tenant.id, keyId: key.id }, 'tenant created');
    res.status(201).json({ id: tenant.id, name: tenant.name, apiKey, keyId: key.id });
  });

  mount(router, listTenants, admin, async (req, res) => {
    const { limit = DEFAULT_LIMIT, cursor: token, status } = parseOr400(TenantListQuery, req.query, 'listing');
    let after;
    if (token !== undefined) {
      const decoded = decodeListCursor(token, status);
      if (!decoded.ok) throw invalidRequest('listing', [{ name: 'cursor', reason: decoded.reason }]);
      after = decoded.position;
    }
    const page = await listTenantPage(deps.db, { statuses: status, after, limit });
    const body: z.infer<typeof TenantList> = { tenants: page.rows.map(tenantView), nextCursor: page.next ? encodeListCursor(page.next, status) : null };
    res.json(body);
  });

  const oneTenant = async (req: Request) => {
    const { id } = parseOr400(TenantIdParams, req.params, 'path');
    const tenant = await findTenant(deps.db, id);
    if (!tenant) throw notFound(`No tenant ${id}.`);
    return tenant;
  };
  mount(router, getTenant, admin, async (req, res) => {
    res.json(tenantView(await oneTenant(req)));
  });

  mount(router, getOwnTenant, async (req, res) => {
    res.json(tenantView(req.tenant!));
  });

  mount(router, updateOwnTenant, async (req, res) => {
    const body = parseOr400(UpdateTenantSettingsBody, req.body, 'body');
    const id = req.tenant!.id;
    const changes = Object.keys(body).length > 0;
    const tenant = changes ? await updateTenantSettings(deps.db, id, body) : await findTenant(deps.db, id);
    // Offboarded since this request was authenticated: its keys are no longer valid.
    if (!tenant || tenant.status !== 'active') throw unauthorized('The API key is not valid.');
    deps.logger.info({ tenantId: id, fields: Object.keys(body) }, 'tenant settings changed');
    res.json(tenantView(tenant));
  });
  return router;
}
