import { Kysely, sql } from 'kysely';

/**
 * Tenant settings of the hosted Connect page (issue 19): the name the page shows the customer's admin, and
 * the origins and return URLs a connect session may name. A session's page posts its outcome only to one of
 * the tenant's registered origins and links back only to one of its registered return URLs, so a link can
 * never send the admin (or the outcome) to a stranger. Empty by default: nothing is registered until the
 * tenant says so.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE tenants
      ADD COLUMN display_name text,
      ADD COLUMN allowed_origins text[] NOT NULL DEFAULT '{}',
      ADD COLUMN allowed_return_urls text[] NOT NULL DEFAULT '{}'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE tenants DROP COLUMN display_name, DROP COLUMN allowed_origins, DROP COLUMN allowed_return_urls`.execute(db);
}
