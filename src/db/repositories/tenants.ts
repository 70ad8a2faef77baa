import type { Db } from '../database';
import type { Tenant } from '../tables';

export async function insertTenant(db: Db, name: string, apiKeyHash: string): Promise<Tenant> {
  return db.insertInto('tenants').values({ name, api_key_hash: apiKeyHash }).returningAll().executeTakeFirstOrThrow();
}

export async function findTenantByKeyHash(db: Db, apiKeyHash: string): Promise<Tenant | undefined> {
  return db.selectFrom('tenants').selectAll().where('api_key_hash', '=', apiKeyHash).executeTakeFirst();
}
