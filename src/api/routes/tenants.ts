import { Router, type Request } from 'express';
import type { z } from 'zod';
import { apiKeyHint, generateApiKey, hashApiKey } from '../../crypto/apiKeys';
import { findTenant, insertTenant, listTenantPage } from '../../db/repositories/tenants';
import { requireAdmin } from '../auth';
import type { ApiDeps } from '../deps';
import { decodeListCursor, encodeListCursor } from '../integrationCursor';
import { notFound } from '../problems';
import { CreateTenantBody } from '../schemas';
import { TenantIdParams, TenantListQuery, type TenantList } from '../tenantSchemas';
import { tenantView } from '../tenantView';
import { invalidRequest, parseOr400 } from '../validate';

const DEFAULT_LIMIT = 50;

/**
 * Tenants for the admin: `POST /v1/tenants` (a tenant and its first API key, shown once), `GET /v1/tenants`
 * (newest first, keyset pages like `GET /v1/integrations`), `GET /v1/tenants/:id`; and `GET /v1/tenant`, a
 * tenant's view of itself (behind tenant authentication, mounted in app.ts). Keys: tenantKeys.ts; offboarding:
 * offboard.ts.
 */
export function tenantsRouter(deps: ApiDeps): Router {
  const router = Router();
  const admin = requireAdmin(deps.config.adminApiKey);

  router.post('/v1/tenants', admin, async (req, res) => {
    const body = parseOr400(CreateTenantBody, req.body, 'body');
    const apiKey = generateApiKey();
    const { tenant, key } = await insertTenant(deps.db, body.name, { keyHash: hashApiKey(apiKey), hint: apiKeyHint(apiKey), createdBy: 'admin' });
    deps.logger.info({ tenantId: tenant.id, keyId: key.id }, 'tenant created');
    res.status(201).json({ id: tenant.id, name: tenant.name, apiKey, keyId: key.id });
  });

  router.get('/v1/tenants', admin, async (req, res) => {
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
  router.get('/v1/tenants/:id', admin, async (req, res) => {
    res.json(tenantView(await oneTenant(req)));
  });

  router.get('/v1/tenant', async (req, res) => {
    res.json(tenantView(req.tenant!));
  });
  return router;
}
