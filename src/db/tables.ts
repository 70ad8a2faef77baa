import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** One type per table, as Kysely's example app does. Timestamps are Dates; bigints are parsed to numbers. */

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export type IntegrationStatus =
  | 'awaiting_consent'
  | 'connecting'
  | 'connected'
  | 'consent_denied'
  | 'expired'
  | 'needs_reauth'
  | 'failed'
  | 'disconnected';

export interface TenantsTable {
  id: Generated<string>;
  name: string;
  api_key_hash: string;
  created_at: CreatedAt;
}

export interface IntegrationsTable {
  id: Generated<string>;
  tenant_id: string;
  provider: Generated<'zendesk'>;
  workspace: string;
  status: IntegrationStatus;
  error: string | null;
  zendesk_user_id: number | null;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  connected_at: NullableTimestamp;
}

export interface OAuthFlowsTable {
  id: Generated<string>;
  integration_id: string;
  pkce_verifier_enc: string | null;
  code_enc: string | null;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
  exchanged_at: NullableTimestamp;
  created_at: CreatedAt;
}

export interface OAuthCredentialsTable {
  integration_id: string;
  access_token_enc: string;
  refresh_token_enc: string | null;
  access_expires_at: NullableTimestamp;
  refresh_expires_at: NullableTimestamp;
  scope: string;
  version: Generated<number>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface ZendeskUsersTable {
  integration_id: string;
  id: number;
  name: string;
  email: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  last_login_at: NullableTimestamp;
  role: 'end-user' | 'agent' | 'admin';
  role_type: number | null;
  report_csv: boolean;
  chat_only: boolean;
  moderator: boolean;
  restricted_agent: boolean;
  shared: boolean;
  shared_agent: boolean;
  suspended: boolean;
  ticket_restriction: 'organization' | 'groups' | 'assigned' | 'requested' | null;
  two_factor_auth_enabled: boolean | null;
  verified: boolean;
  deleted: boolean;
  synced_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface TicketEventsTable {
  integration_id: string;
  event_id: number;
  ticket_id: number;
  user_id: number;
  occurred_at: Timestamp;
}

export interface SyncCheckpointsTable {
  integration_id: string;
  stream: 'users' | 'ticket_events';
  position: string;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export type SyncRunStatus = 'running' | 'succeeded' | 'failed';

export interface SyncRunsTable {
  id: Generated<string>;
  integration_id: string;
  workflow_id: string;
  run_id: string;
  status: SyncRunStatus;
  started_at: CreatedAt;
  finished_at: NullableTimestamp;
  users_synced: Generated<number>;
  ticket_events_synced: Generated<number>;
  requests: Generated<number>;
  rate_limited: Generated<number>;
  error: string | null;
}

export interface ZendeskRateLimitsTable {
  workspace: string;
  bucket: string;
  blocked_until: Timestamp;
}

export interface Database {
  tenants: TenantsTable;
  integrations: IntegrationsTable;
  oauth_flows: OAuthFlowsTable;
  oauth_credentials: OAuthCredentialsTable;
  zendesk_users: ZendeskUsersTable;
  ticket_events: TicketEventsTable;
  sync_checkpoints: SyncCheckpointsTable;
  sync_runs: SyncRunsTable;
  zendesk_rate_limits: ZendeskRateLimitsTable;
}

export type Tenant = Selectable<TenantsTable>;
export type Integration = Selectable<IntegrationsTable>;
export type NewIntegration = Insertable<IntegrationsTable>;
export type IntegrationUpdate = Updateable<IntegrationsTable>;
export type OAuthFlow = Selectable<OAuthFlowsTable>;
export type OAuthCredentials = Selectable<OAuthCredentialsTable>;
export type ZendeskUser = Selectable<ZendeskUsersTable>;
export type NewZendeskUser = Insertable<ZendeskUsersTable>;
export type SyncRun = Selectable<SyncRunsTable>;
