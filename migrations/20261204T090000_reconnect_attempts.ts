import { Kysely, sql } from 'kysely';

/**
 * A reconnect must never break a working integration (issue 13 §2), and a callback reload must find how
 * its consent attempt ended (§4). On `oauth_flows`:
 * - `purpose`: `connect` (the integration waits in `awaiting_consent`), or `reconnect` (it was connected and
 *   stays so, syncing with its current grant, until the new grant is verified and swapped in);
 * - `decision`: what the callback received (`approved`, `denied`), so a reload re-sends the same update;
 * - `outcome`, `outcome_message`, `finished_at`: how the attempt ended (`completed`, `denied`, `not_admin`,
 *   `expired`, `failed`) and why, in a sentence; NULL while pending;
 * - `revocation`: what Zendesk did when the grant the attempt let go (the replaced one, or a non-admin's) was
 *   revoked (`revoked`, `already_invalid`, `refused`, `failed`); NULL when it let none go.
 * `oauth_staged_credentials` holds, per attempt, tokens that are not the integration's working ones:
 * `incoming` (just exchanged, their user not yet verified as an admin) or `replaced` (the grant the swap took
 * out, kept only until it is revoked at Zendesk). Sealed like `oauth_credentials`, bound to the flow.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE oauth_flows
      ADD COLUMN purpose text NOT NULL DEFAULT 'connect',
      ADD COLUMN decision text,
      ADD COLUMN outcome text,
      ADD COLUMN outcome_message text,
      ADD COLUMN finished_at timestamptz,
      ADD COLUMN revocation text`.execute(db);
  // The integration view reads each integration's newest attempt.
  await db.schema.createIndex('oauth_flows_integration_created').on('oauth_flows').columns(['integration_id', 'created_at']).execute();

  await db.schema
    .createTable('oauth_staged_credentials')
    .addColumn('flow_id', 'uuid', (c) => c.primaryKey().references('oauth_flows.id').onDelete('cascade'))
    .addColumn('integration_id', 'uuid', (c) => c.notNull().references('integrations.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('access_token_enc', 'text', (c) => c.notNull())
    .addColumn('refresh_token_enc', 'text')
    .addColumn('access_expires_at', 'timestamptz')
    .addColumn('refresh_expires_at', 'timestamptz')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('oauth_staged_credentials_integration').on('oauth_staged_credentials').column('integration_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('oauth_staged_credentials').ifExists().execute();
  await db.schema.dropIndex('oauth_flows_integration_created').ifExists().execute();
  await sql`
    ALTER TABLE oauth_flows
      DROP COLUMN purpose, DROP COLUMN decision, DROP COLUMN outcome, DROP COLUMN outcome_message, DROP COLUMN finished_at, DROP COLUMN revocation`.execute(db);
}
