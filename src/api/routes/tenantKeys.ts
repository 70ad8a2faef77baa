import { Router, type Request, type Response } from 'express';
import { apiKeyHint, generateApiKey, hashApiKey } from '../../crypto/apiKeys';
import { listApiKeys, revokeApiKey, rotateApiKeys } from '../../db/repositories/apiKeys';
import { findTenant } from '../../db/repositories/tenants';
import type { ApiKeyCreator, Tenant } from '../../db/tables';
import { requireAdmin } from '../auth';
import type { ApiDeps } from '../deps';
import { conflict, notFound } from '../problems';
import { DEFAULT_GRACE_SECONDS, OwnKeyParams, RotateKeysBody, TenantIdParams, TenantKeyParams } from '../tenantSchemas';
import { apiKeyView } from '../tenantView';
import { parseOr400 } from '../validate';

/**
 * Rotating and revoking tenant API keys, the same operations for two callers:
 * - the admin, for any tenant: `/v1/tenants/:id/keys`, `…/keys/rotate`, `DELETE …/keys/:keyId`;
 * - a tenant, for its own keys: `/v1/tenant/keys`, `…/keys/rotate`, `DELETE …/keys/:keyId` (behind tenant
 *   authentication, mounted in app.ts).
 * A revoked key is refused at once by every API process (the key rows notify the caches); a replaced one
 * works until its grace period ends.
 */
export function tenantKeysRouter(deps: ApiDeps): Router {
  const router = Router();
  const { db, logger } = deps;
  const admin = requireAdmin(deps.config.adminApiKey);

  const adminTenant = async (req: Request): Promise<Tenant> => {
    const { id } = parseOr400(TenantIdParams, { id: req.params.id }, 'path');
    const tenant = await findTenant(db, id);
    if (!tenant) throw notFound(`No tenant ${id}.`);
    return tenant;
  };

  const list = async (res: Response, tenant: Tenant, currentId?: string) => {
    res.json({ keys: (await listApiKeys(db, tenant.id)).map((k) => apiKeyView(k, currentId)) });
  };

  const rotate = async (req: Request, res: Response, tenant: Tenant, createdBy: ApiKeyCreator) => {
    const { graceSeconds = DEFAULT_GRACE_SECONDS } = parseOr400(RotateKeysBody, req.body, 'body');
    const apiKey = generateApiKey();
    const rotated = await rotateApiKeys(db, tenant.id, { keyHash: hashApiKey(apiKey), hint: apiKeyHint(apiKey), createdBy }, graceSeconds * 1000);
    if (!rotated) throw conflict(`Tenant ${tenant.id} is ${tenant.status === 'active' ? 'being offboarded' : tenant.status}: its keys cannot be rotated.`);
    logger.info({ tenantId: tenant.id, keyId: rotated.key.id, replaced: rotated.replaced.length, graceSeconds, by: createdBy }, 'tenant API key rotated');
    res.status(201).json({ key: apiKeyView(rotated.key), apiKey, replaced: rotated.replaced.map((k) => apiKeyView(k)) });
  };

  const revoke = async (res: Response, tenant: Tenant, keyId: string, by: ApiKeyCreator) => {
    const result = await revokeApiKey(db, tenant.id, keyId);
    if (!result) throw notFound(`No key ${keyId}.`);
    if ('last' in result)
      throw conflict(
        'This is the last usable key of the tenant: revoking it would lock the tenant out. Rotate the keys instead (graceSeconds 0 replaces it at once).',
      );
    logger.info({ tenantId: tenant.id, keyId, by }, 'tenant API key revoked');
    res.json(apiKeyView(result.key));
  };

  router.get('/v1/tenants/:id/keys', admin, async (req, res) => list(res, await adminTenant(req)));
  router.post('/v1/tenants/:id/keys/rotate', admin, async (req, res) => rotate(req, res, await adminTenant(req), 'admin'));
  router.delete('/v1/tenants/:id/keys/:keyId', admin, async (req, res) => {
    const { keyId } = parseOr400(TenantKeyParams, req.params, 'path');
    await revoke(res, await adminTenant(req), keyId, 'admin');
  });

  router.get('/v1/tenant/keys', async (req, res) => list(res, req.tenant!, req.apiKeyId));
  router.post('/v1/tenant/keys/rotate', async (req, res) => rotate(req, res, req.tenant!, 'tenant'));
  router.delete('/v1/tenant/keys/:keyId', async (req, res) => {
    const { keyId } = parseOr400(OwnKeyParams, req.params, 'path');
    // Another tenant's key id answers like an unknown one (the lookup is scoped to the caller's tenant).
    await revoke(res, req.tenant!, keyId, 'tenant');
  });
  return router;
}
