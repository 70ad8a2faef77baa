import { Router } from 'express';
import { generateApiKey, hashApiKey } from '../../crypto/apiKeys';
import { insertTenant } from '../../db/repositories/tenants';
import { requireAdmin } from '../auth';
import type { ApiDeps } from '../deps';
import { CreateTenantBody } from '../schemas';
import { parseOr400 } from '../validate';

/** POST /v1/tenants (admin key): a tenant and its API key, shown once. */
export function tenantsRouter(deps: ApiDeps): Router {
  const router = Router();
  router.post('/v1/tenants', requireAdmin(deps.config.adminApiKey!), async (req, res) => {
    const body = parseOr400(CreateTenantBody, req.body, 'body');
    const apiKey = generateApiKey();
    const tenant = await insertTenant(deps.db, body.name, hashApiKey(apiKey));
    deps.logger.info({ tenantId: tenant.id }, 'tenant created');
    res.status(201).json({ id: tenant.id, name: tenant.name, apiKey });
  });
  return router;
}
