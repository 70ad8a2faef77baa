import { sql, type Kysely } from 'kysely';
import type { ApiKeyCreator, Database, Tenant, TenantApiKey, TenantStatus } from '../tables';
import type { Db } from '../database';
import { insertApiKey } from './apiKeys';

/** A tenant and its first API key, in one transaction. */
export async function insertTenant(
  db: Kysely<Database>,
  name: string,
  key: { keyHash: string; hint: string; createdBy: ApiKeyCreator },
): Promise<{ tenant: Tenant; key: TenantApiKey }> {
  return db.transaction().execute(async (trx) => {
    const tenant = await trx.insertInto('tenants').values({ name }).returningAll().executeTakeFirstOrThrow();
    return { tenant, key: await insertApiKey(trx, { tenantId: tenant.id, ...key }) };
  });
}

export async function findTenant(db: Db, id: string): Promise<Tenant | undefined> {
  return db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A keyset position of `GET /v1/tenants` (the same shape as the integration listing's, src/api/integrationCursor.ts). */
export interface TenantPosition {
  createdAt: string;
  id: string;
}

/** A page of tenants, newest first (`created_at` desc, id desc), optionally only some states; `next` when more follow. */
export async function listTenantPage(
  db: Db,
  q: { statuses?: readonly TenantStatus[]; after?: TenantPosition; limit: number },
): Promise<{ rows: Tenant[]; next?: TenantPosition }> {
  let query = db
    .selectFrom('tenants')
    .selectAll()
    .select(sql<string>`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('position_created_at'));
  if (q.statuses) query = query.where('status', 'in', [...q.statuses]);
  if (q.after) query = query.where(sql<boolean>`(created_at, id) < (${q.after.createdAt}::timestamptz, ${q.after.id}::uuid)`);
  const found = await query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(q.limit + 1)
    .execute();
  const page = found.slice(0, q.limit);
  const last = page.at(-1);
  return {
    rows: page.map(({ position_created_at: _p, ...row }) => row),
    next: found.length > q.limit && last ? { createdAt: last.position_created_at, id: last.id } : undefined,
  };
}

/** Moves the tenant to `status` when it is in one of `from`; false when it was not (nothing changed). */
export async function setTenantStatus(db: Db, id: string, status: TenantStatus, from: TenantStatus[]): Promise<boolean> {
  const result = await db
    .updateTable('tenants')
    .set({ status, offboarded_at: status === 'offboarded' ? sql<Date>`COALESCE(offboarded_at, now())` : null })
    .where('id', '=', id)
    .where('status', 'in', from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** The Connect page's settings of a tenant; only the fields given change. Undefined when the tenant is not active. */
export async function updateTenantSettings(
  db: Db,
  id: string,
  settings: { displayName?: string | null; allowedOrigins?: string[]; allowedReturnUrls?: string[] },
): Promise<Tenant | undefined> {
  return db
    .updateTable('tenants')
    .set({
      ...(settings.displayName !== undefined ? { display_name: settings.displayName } : {}),
      ...(settings.allowedOrigins !== undefined ? { allowed_origins: settings.allowedOrigins } : {}),
      ...(settings.allowedReturnUrls !== undefined ? { allowed_return_urls: settings.allowedReturnUrls } : {}),
    })
    .where('id', '=', id)
    .where('status', '=', 'active')
    .returningAll()
    .executeTakeFirst();
}
