import { Kysely, sql } from 'kysely';

/**
 * Connect sessions (issue 19): a tenant's short-lived link to the hosted Connect page. Only the SHA-256 of
 * the session's token is kept (the token itself is a bearer secret in the page's URL). `flow_id` is the
 * consent attempt (oauth_flows) its latest Submit began, so the OAuth callback knows the attempt came from a
 * session (its return URL, the origin to tell) and the page knows when the session has connected (its flow's
 * outcome `completed`: single use). No foreign key to oauth_flows: flows are deleted by housekeeping on their
 * own schedule, and a session outlives nothing it needs (it expires within 30 minutes).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE connect_sessions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      token_hash text NOT NULL UNIQUE,
      workspace text,
      access text NOT NULL DEFAULT 'read' CHECK (access IN ('read', 'reclaim')),
      return_url text,
      allowed_origin text,
      expires_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      integration_id uuid REFERENCES integrations (id) ON DELETE SET NULL,
      flow_id uuid
    )`.execute(db);
  await sql`CREATE INDEX connect_sessions_by_flow ON connect_sessions (flow_id) WHERE flow_id IS NOT NULL`.execute(db);
  await sql`CREATE INDEX connect_sessions_by_tenant ON connect_sessions (tenant_id, created_at DESC)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE connect_sessions`.execute(db);
}
