import { Router, type Request, type Response } from 'express';
import { apiKeyHint, generateApiKey, hashApiKey } from '../../crypto/apiKeys';
import { listApiKeys, revokeApiKey, rotateApiKeys } from '../../db/repositories/apiKeys';
import { findTenant } from '../../db/repositories/tenants';
import type { ApiKeyCreator, Tenant } from '../../db/tables';
import { requireAdmin } from '../auth';
import type { ApiDeps } from '../deps';
import { conflict, notFound } from '../problems';
import { BAD_REQUEST, NO_TENANT, NOT_MODIFIED, problem, UNAUTHORIZED } from '../routeResponses';
import { defineRoute, mount } from '../routeSpec';
import { ApiKey, ApiKeyList, DEFAULT_GRACE_SECONDS, OwnKeyParams, RotatedKey, RotateKeysBody, TenantIdParams, TenantKeyParams } from '../tenantSchemas';
import { apiKeyView } from '../tenantView';
import { parseOr400 } from '../validate';

/** What a rotation does, for both rotate routes. */
const ROTATION =
  'Issues a new key (shown once, stored hashed) and gives every other usable key of the tenant a grace period (`graceSeconds`, a day by default) ' +
  'after which it is refused; `graceSeconds: 0` revokes them at once (a leaked key). Rotations of one tenant queue. Keys are refused on every API ' +
  "process the moment they are revoked (the API's key cache is invalidated through PostgreSQL notifications), and the moment their grace period ends.";

const LAST_KEY = problem(
  "The key is the tenant's last usable one: revoking it would lock the tenant out (rotate instead; `graceSeconds: 0` replaces it at once)",
);

const listTenantKeys = defineRoute({
  method: 'get',
  path: '/v1/tenants/{id}/keys',
  operationId: 'listTenantKeys',
  summary: "A tenant's API keys (admin key)",
  description: 'Ids, hints and states only: a key itself is shown once, when it is made.',
  tag: 'tenants',
  security: 'admin',
  params: TenantIdParams,
  responses: {
    200: { description: 'The keys, newest first', body: ApiKeyList },
    304: NOT_MODIFIED,
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    404: NO_TENANT,
  },
});

const rotateTenantKeys = defineRoute({
  method: 'post',
  path: '/v1/tenants/{id}/keys/rotate',
  operationId: 'rotateTenantKeys',
  summary: "Rotate a tenant's API key (admin key)",
  description: ROTATION,
  tag: 'tenants',
  security: 'admin',
  params: TenantIdParams,
  body: RotateKeysBody,
  responses: {
    201: { description: 'The new key, and the keys it replaces', body: RotatedKey },
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    404: NO_TENANT,
    409: problem('The tenant is being offboarded or is offboarded'),
  },
});

const revokeTenantKey = defineRoute({
  method: 'delete',
  path: '/v1/tenants/{id}/keys/{keyId}',
  operationId: 'revokeTenantKey',
  summary: "Revoke one of a tenant's API keys now (admin key)",
  tag: 'tenants',
  security: 'admin',
  params: TenantKeyParams,
  responses: {
    200: { description: 'The key, revoked (revoking a revoked key changes nothing)', body: ApiKey },
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    404: problem('No such tenant, or no such key of the tenant'),
    409: LAST_KEY,
  },
});

const listOwnKeys = defineRoute({
  method: 'get',
  path: '/v1/tenant/keys',
  operationId: 'listOwnKeys',
  summary: "The calling tenant's API keys",
  description: 'Ids, hints and states only; `current` marks the key of this request.',
  tag: 'tenant',
  security: 'tenant',
  responses: { 200: { description: 'The keys, newest first', body: ApiKeyList }, 304: NOT_MODIFIED, 401: UNAUTHORIZED },
});

const rotateOwnKeys = defineRoute({
  method: 'post',
  path: '/v1/tenant/keys/rotate',
  operationId: 'rotateOwnKeys',
  summary: "Rotate the calling tenant's API key",
  description: `${ROTATION} The key of this request is one of those replaced: switch to the new key within the grace period.`,
  tag: 'tenant',
  security: 'tenant',
  body: RotateKeysBody,
  responses: {
    201: { description: 'The new key, and the keys it replaces', body: RotatedKey },
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    409: problem('The tenant is being offboarded'),
  },
});

const revokeOwnKey = defineRoute({
  method: 'delete',
  path: '/v1/tenant/keys/{keyId}',
  operationId: 'revokeOwnKey',
  summary: "Revoke one of the calling tenant's API keys now",
  description: 'Any key of the tenant, the one of this request included (it is refused from the next request on), unless it is the last usable one.',
  tag: 'tenant',
  security: 'tenant',
  params: OwnKeyParams,
  responses: {
    200: { description: 'The key, revoked', body: ApiKey },
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    404: problem("No such key of the tenant (another tenant's key id answers the same)"),
    409: LAST_KEY,
  },
});

export const tenantKeyRoutes = [listTenantKeys, rotateTenantKeys, revokeTenantKey, listOwnKeys, rotateOwnKeys, revokeOwnKey];

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

  mount(router, listTenantKeys, admin, async (req, res) => list(res, await adminTenant(req)));
  mount(router, rotateTenantKeys, admin, async (req, res) => rotate(req, res, await adminTenant(req), 'admin'));
  mount(router, revokeTenantKey, admin, async (req, res) => {
    const { keyId } = parseOr400(TenantKeyParams, req.params, 'path');
    await revoke(res, await adminTenant(req), keyId, 'admin');
  });

  mount(router, listOwnKeys, async (req, res) => list(res, req.tenant!, req.apiKeyId));
  mount(router, rotateOwnKeys, async (req, res) => rotate(req, res, req.tenant!, 'tenant'));
  mount(router, revokeOwnKey, async (req, res) => {
    const { keyId } = parseOr400(OwnKeyParams, req.params, 'path');
    // Another tenant's key id answers like an unknown one (the lookup is scoped to the caller's tenant).
    await revoke(res, req.tenant!, keyId, 'tenant');
  });
  return router;
}
