import { sql, type Kysely } from 'kysely';
import { inTransaction, type Db } from '../database';
import type { ApiKeyCreator, Database, Tenant, TenantApiKey } from '../tables';

/**
 * Tenant API keys (`tenant_api_keys`, hashed). A key is usable while it is neither revoked nor past its
 * `expires_at`, and its tenant is active. A rotation adds a key and gives the others a grace period; a
 * revocation ends a key at once. Every change notifies the API caches (migration 20261205T090000).
 */

/** Who holds a key: the tenant, and when the key stops working (checked on every request, cached or not). */
export interface KeyOwner {
  tenant: Tenant;
  keyId: string;
  expiresAt: Date | null;
}

export type ApiKeyStatus = 'active' | 'expiring' | 'expired' | 'revoked';

export function apiKeyStatus(key: Pick<TenantApiKey, 'expires_at' | 'revoked_at'>, now = new Date()): ApiKeyStatus {
  if (key.revoked_at) return 'revoked';
  if (key.expires_at) return key.expires_at <= now ? 'expired' : 'expiring';
  return 'active';
}

export async function insertApiKey(db: Db, key: { tenantId: string; keyHash: string; hint: string; createdBy: ApiKeyCreator }): Promise<TenantApiKey> {
  return db
    .insertInto('tenant_api_keys')
    .values({ tenant_id: key.tenantId, key_hash: key.keyHash, hint: key.hint, created_by: key.createdBy })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The active tenant a usable key belongs to, or undefined (unknown, revoked, expired, or the tenant is offboarding). */
export async function findKeyOwner(db: Db, keyHash: string): Promise<KeyOwner | undefined> {
  const row = await db
    .selectFrom('tenant_api_keys as k')
    .innerJoin('tenants as t', 't.id', 'k.tenant_id')
    .selectAll('t')
    .select(['k.id as key_id', 'k.expires_at as key_expires_at'])
    .where('k.key_hash', '=', keyHash)
    .where('k.revoked_at', 'is', null)
    .where((eb) => eb.or([eb('k.expires_at', 'is', null), eb('k.expires_at', '>', sql<Date>`now()`)]))
    .where('t.status', '=', 'active')
    .executeTakeFirst();
  if (!row) return undefined;
  const { key_id, key_expires_at, ...tenant } = row;
  return { tenant, keyId: key_id, expiresAt: key_expires_at };
}

/** A tenant's keys, newest first (revoked and expired ones included: the listing is also their history). */
export async function listApiKeys(db: Db, tenantId: string): Promise<TenantApiKey[]> {
  return db.selectFrom('tenant_api_keys').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
}

const usable = sql<boolean>`revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`;

/**
 * Adds `key` and lets every other usable key of the tenant work for `graceMs` more (never longer than it
 * already would); a grace of 0 revokes them at once. One transaction, the tenant row locked, so concurrent
 * rotations queue. Returns undefined when the tenant is not active (offboarding or offboarded).
 */
export async function rotateApiKeys(
  db: Db,
  tenantId: string,
  key: { keyHash: string; hint: string; createdBy: ApiKeyCreator },
  graceMs: number,
): Promise<{ key: TenantApiKey; replaced: TenantApiKey[] } | undefined> {
  const run = async (trx: Db) => {
    const tenant = await trx.selectFrom('tenants').select('status').where('id', '=', tenantId).forUpdate().executeTakeFirst();
    if (!tenant || tenant.status !== 'active') return undefined;
    const replaced = await trx
      .updateTable('tenant_api_keys')
      .set(
        graceMs === 0
          ? { revoked_at: sql<Date>`now()` }
          : { expires_at: sql<Date>`LEAST(COALESCE(expires_at, 'infinity'::timestamptz), now() + ${`${graceMs} milliseconds`}::interval)` },
      )
      .where('tenant_id', '=', tenantId)
      .where(usable)
      .returningAll()
      .execute();
    const added = await insertApiKey(trx, { tenantId, ...key });
    await forgetLegacyKey(trx, tenantId);
    return { key: added, replaced };
  };
  return inTransaction(db, run);
}

/**
 * Revokes one key of the tenant now, unless it is the tenant's last usable one (`last`: revoking it would
 * lock the tenant out; a rotation with no grace replaces it at once). undefined: no such key.
 */
export async function revokeApiKey(db: Kysely<Database>, tenantId: string, keyId: string): Promise<{ key: TenantApiKey } | { last: true } | undefined> {
  return db.transaction().execute(async (trx) => {
    await trx.selectFrom('tenants').select('id').where('id', '=', tenantId).forUpdate().executeTakeFirst();
    const key = await trx.selectFrom('tenant_api_keys').selectAll().where('tenant_id', '=', tenantId).where('id', '=', keyId).executeTakeFirst();
    if (!key) return undefined;
    if (key.revoked_at) return { key };
    const others = await trx
      .selectFrom('tenant_api_keys')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('id', '<>', keyId)
      .where(usable)
      .limit(1)
      .execute();
    if (others.length === 0 && apiKeyStatus(key) !== 'expired') return { last: true };
    const revoked = await trx
      .updateTable('tenant_api_keys')
      .set({ revoked_at: sql<Date>`now()` })
      .where('id', '=', keyId)
      .returningAll()
      .executeTakeFirstOrThrow();
    await forgetLegacyKey(trx, tenantId);
    return { key: revoked };
  });
}

/** Every key of the tenant revoked now (offboarding). Returns how many were still unrevoked. */
export async function revokeAllApiKeys(db: Db, tenantId: string): Promise<number> {
  const result = await db
    .updateTable('tenant_api_keys')
    .set({ revoked_at: sql<Date>`now()` })
    .where('tenant_id', '=', tenantId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  await forgetLegacyKey(db, tenantId);
  return Number(result.numUpdatedRows);
}

/** The previous release reads `tenants.api_key_hash`: once a tenant's keys change, it must not accept the old one. */
async function forgetLegacyKey(db: Db, tenantId: string): Promise<void> {
  await db.updateTable('tenants').set({ api_key_hash: null }).where('id', '=', tenantId).where('api_key_hash', 'is not', null).execute();
}
