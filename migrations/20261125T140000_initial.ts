import { Kysely, sql } from 'kysely';

/** Tenants, integrations, OAuth state and credentials, synced Zendesk data, checkpoints and runs. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('tenants')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('api_key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('integrations')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('provider', 'text', (c) => c.notNull().defaultTo('zendesk'))
    .addColumn('workspace', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('zendesk_user_id', 'bigint')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('connected_at', 'timestamptz')
    .execute();
  // One live integration per tenant and workspace; disconnected ones are history.
  await sql`CREATE UNIQUE INDEX integrations_tenant_workspace_live ON integrations (tenant_id, workspace) WHERE status <> 'disconnected'`.execute(db);
  await db.schema.createIndex('integrations_tenant').on('integrations').columns(['tenant_id', 'created_at']).execute();

  await db.schema
    .createTable('oauth_flows')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('integration_id', 'uuid', (c) => c.notNull().references('integrations.id').onDelete('cascade'))
    .addColumn('pkce_verifier_enc', 'text')
    .addColumn('code_enc', 'text')
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .addColumn('exchanged_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('oauth_credentials')
    .addColumn('integration_id', 'uuid', (c) => c.primaryKey().references('integrations.id').onDelete('cascade'))
    .addColumn('access_token_enc', 'text', (c) => c.notNull())
    .addColumn('refresh_token_enc', 'text')
    .addColumn('access_expires_at', 'timestamptz')
    .addColumn('refresh_expires_at', 'timestamptz')
    .addColumn('scope', 'text', (c) => c.notNull())
    // Bumped on every rotation: a refresh only wins if the version it read is still current.
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('zendesk_users')
    .addColumn('integration_id', 'uuid', (c) => c.notNull().references('integrations.id').onDelete('cascade'))
    .addColumn('id', 'bigint', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_login_at', 'timestamptz')
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('role_type', 'smallint')
    .addColumn('report_csv', 'boolean', (c) => c.notNull())
    .addColumn('chat_only', 'boolean', (c) => c.notNull())
    .addColumn('moderator', 'boolean', (c) => c.notNull())
    .addColumn('restricted_agent', 'boolean', (c) => c.notNull())
    .addColumn('shared', 'boolean', (c) => c.notNull())
    .addColumn('shared_agent', 'boolean', (c) => c.notNull())
    .addColumn('suspended', 'boolean', (c) => c.notNull())
    .addColumn('ticket_restriction', 'text')
    .addColumn('two_factor_auth_enabled', 'boolean')
    .addColumn('verified', 'boolean', (c) => c.notNull())
    .addColumn('deleted', 'boolean', (c) => c.notNull())
    .addColumn('synced_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('zendesk_users_pk', ['integration_id', 'id'])
    .execute();

  // One row per ticket event: counting by primary key makes every window exact and every replay harmless.
  await db.schema
    .createTable('ticket_events')
    .addColumn('integration_id', 'uuid', (c) => c.notNull().references('integrations.id').onDelete('cascade'))
    .addColumn('event_id', 'bigint', (c) => c.notNull())
    .addColumn('ticket_id', 'bigint', (c) => c.notNull())
    .addColumn('user_id', 'bigint', (c) => c.notNull())
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('ticket_events_pk', ['integration_id', 'event_id'])
    .execute();
  await db.schema.createIndex('ticket_events_user_time').on('ticket_events').columns(['integration_id', 'user_id', 'occurred_at']).execute();

  await db.schema
    .createTable('sync_checkpoints')
    .addColumn('integration_id', 'uuid', (c) => c.notNull().references('integrations.id').onDelete('cascade'))
    .addColumn('stream', 'text', (c) => c.notNull())
    .addColumn('position', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('sync_checkpoints_pk', ['integration_id', 'stream'])
    .execute();

  await db.schema
    .createTable('sync_runs')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('integration_id', 'uuid', (c) => c.notNull().references('integrations.id').onDelete('cascade'))
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    .addColumn('users_synced', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('ticket_events_synced', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('requests', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rate_limited', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('sync_runs_workflow').on('sync_runs').columns(['workflow_id', 'run_id']).unique().execute();
  await db.schema.createIndex('sync_runs_integration').on('sync_runs').columns(['integration_id', 'started_at']).execute();

  // Shared across workers: no request goes to a bucket of a workspace before Zendesk's Retry-After has passed.
  await db.schema
    .createTable('zendesk_rate_limits')
    .addColumn('workspace', 'text', (c) => c.notNull())
    .addColumn('bucket', 'text', (c) => c.notNull())
    .addColumn('blocked_until', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('zendesk_rate_limits_pk', ['workspace', 'bucket'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'zendesk_rate_limits',
    'sync_runs',
    'sync_checkpoints',
    'ticket_events',
    'zendesk_users',
    'oauth_credentials',
    'oauth_flows',
    'integrations',
    'tenants',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
