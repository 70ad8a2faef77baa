import { z } from 'zod';
import { listParam, onceOr, wholeNumberParam } from './queryParams';

/**
 * Shapes of the tenant lifecycle and key routes (admin: `/v1/tenants…`; a tenant's own: `/v1/tenant…`).
 * The same schemas validate requests, shape responses and generate the OpenAPI document (src/api/openapi.ts).
 */

const isoDateTime = z.iso.datetime().describe('ISO-8601 UTC timestamp');

const TENANT_STATUSES = ['active', 'offboarding', 'offboarded'] as const;
const TenantStatus = z
  .enum(TENANT_STATUSES)
  .describe(
    '`active`; `offboarding`: its offboard workflow is disconnecting and purging its integrations (its keys are refused already); `offboarded`: done, every key revoked',
  );

export const TenantSummary = z.object({
  id: z.uuid(),
  name: z.string(),
  status: TenantStatus,
  createdAt: isoDateTime,
  offboardedAt: isoDateTime.nullable(),
  displayName: z.string().nullable().describe('The name the Connect page shows (null: `name`); set with `PATCH /v1/tenant`'),
  allowedOrigins: z.array(z.string()).describe('Origins a connect session may post its outcome to'),
  allowedReturnUrls: z.array(z.string()).describe('URLs a connect session may send the admin back to'),
});

export const TenantListQuery = z.strictObject({
  limit: wholeNumberParam(1, 200, 'Page size (default 50).'),
  cursor: z
    .string({ error: onceOr('is not a cursor issued by this API') })
    .min(1, 'must not be empty')
    .max(1024, 'is not a cursor issued by this API')
    .optional()
    .describe('`nextCursor` of the previous page, with the same `status` (another filter: 400).'),
  status: listParam(TENANT_STATUSES, 'Only tenants in these states (default: all).'),
});

export const TenantList = z.object({
  tenants: z.array(TenantSummary).describe('Newest first (by `createdAt`, then id)'),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
});

export const TenantIdParams = z.object({ id: z.uuid('must be a tenant id (a UUID)') });
export const TenantKeyParams = z.object({ id: z.uuid('must be a tenant id (a UUID)'), keyId: z.uuid('must be a key id (a UUID)') });
export const OwnKeyParams = z.object({ keyId: z.uuid('must be a key id (a UUID)') });

export const ApiKey = z.object({
  id: z.uuid(),
  hint: z.string().nullable().describe("The key's last 4 characters, to tell keys apart; null for a key made before keys could be rotated"),
  status: z
    .enum(['active', 'expiring', 'expired', 'revoked'])
    .describe('`active`: works, no end set; `expiring`: works until `expiresAt` (the grace period of a rotation); `expired`, `revoked`: refused'),
  createdBy: z
    .enum(['admin', 'tenant', 'migration'])
    .describe(
      'Who made it: the admin (tenant creation, an admin rotation), the tenant (its own rotation), or `migration` (the key a tenant had before keys could be rotated)',
    ),
  createdAt: isoDateTime,
  expiresAt: isoDateTime.nullable().describe('When it stops working (set by a rotation); null: no end'),
  revokedAt: isoDateTime.nullable(),
  current: z.boolean().optional().describe('On `/v1/tenant/keys`: the key this request was made with'),
});

export const ApiKeyList = z.object({ keys: z.array(ApiKey).describe('Newest first, revoked and expired ones included') });

/** At most 30 days: a grace period is for rolling a new key out, not a second key for ever. */
const MAX_GRACE_SECONDS = 30 * 86_400;
export const DEFAULT_GRACE_SECONDS = 86_400;

export const RotateKeysBody = z.strictObject({
  graceSeconds: z
    .number({ error: 'must be a whole number of seconds' })
    .int('must be a whole number of seconds')
    .min(0, `must be from 0 to ${MAX_GRACE_SECONDS}`)
    .max(MAX_GRACE_SECONDS, `must be from 0 to ${MAX_GRACE_SECONDS}`)
    .optional()
    .describe(
      `How long the keys it replaces keep working, in seconds (default ${DEFAULT_GRACE_SECONDS}: a day; 0: revoked at once, e.g. after a leak; at most ${MAX_GRACE_SECONDS}). A key already due to expire sooner keeps its earlier end.`,
    ),
});

export const RotatedKey = z.object({
  key: ApiKey,
  apiKey: z.string().describe('The new key: shown once, stored hashed'),
  replaced: z.array(ApiKey).describe('The keys it replaces, with the end of their grace period (or revoked, for graceSeconds 0)'),
});

export const OffboardResult = z.object({
  tenant: TenantSummary,
  workflowId: z.string().describe('The offboard workflow (`zendesk-offboard-<tenant id>`), to follow in the Temporal Web UI'),
  integrations: z.number().int().nullable().describe('How many integrations were disconnected and purged; null while the offboarding is under way (202)'),
});
