import { Kysely, sql } from 'kysely';

/**
 * View sessions (issue 19): a tenant's short-lived link to the read-only utilization view of one integration,
 * which the platform opens or embeds in a frame. Only the SHA-256 of the session's token is kept (the token is
 * a bearer secret in the page's URL). `allowed_origin` narrows the page's `frame-ancestors` to one of the
 * tenant's registered origins (null: all of them). Deleted with the integration or the tenant.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE view_sessions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      integration_id uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
      token_hash text NOT NULL UNIQUE,
      allowed_origin text,
      expires_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX view_sessions_by_integration ON view_sessions (integration_id)`.execute(db);
  await sql`CREATE INDEX view_sessions_by_tenant ON view_sessions (tenant_id, created_at DESC)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE view_sessions`.execute(db);
}
