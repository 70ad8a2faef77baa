import type { z } from 'zod';
import { apiKeyStatus } from '../db/repositories/apiKeys';
import type { Tenant, TenantApiKey } from '../db/tables';
import type { ApiKey, TenantSummary } from './tenantSchemas';

/** A tenant as the admin routes show it (never its keys' hashes). */
export function tenantView(t: Tenant): z.infer<typeof TenantSummary> {
  return {
    id: t.id,
    name: t.name,
    status: t.status,
    createdAt: t.created_at.toISOString(),
    offboardedAt: t.offboarded_at?.toISOString() ?? null,
    displayName: t.display_name,
    allowedOrigins: t.allowed_origins,
    allowedReturnUrls: t.allowed_return_urls,
  };
}

/** A key as listed: its id, hint and state, never its hash. `currentId`: the key of the request (`current`). */
export function apiKeyView(k: TenantApiKey, currentId?: string): z.infer<typeof ApiKey> {
  return {
    id: k.id,
    hint: k.hint,
    status: apiKeyStatus(k),
    createdBy: k.created_by,
    createdAt: k.created_at.toISOString(),
    expiresAt: k.expires_at?.toISOString() ?? null,
    revokedAt: k.revoked_at?.toISOString() ?? null,
    ...(currentId !== undefined ? { current: k.id === currentId } : {}),
  };
}
