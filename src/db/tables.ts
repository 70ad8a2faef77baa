import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { EntitlementSeat } from '../zendesk/entitlements';

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
  /** DELETE accepted: the disconnect workflow is stopping syncs, revoking and (on purge) deleting data. */
  | 'disconnecting'
  | 'disconnected';

/** `offboarding`: the offboard workflow is at work (keys already refused); `offboarded`: done (migration 20261205T090000). */
export type TenantStatus = 'active' | 'offboarding' | 'offboarded';

interface TenantsTable {
  id: Generated<string>;
  name: string;
  /** Legacy (before tenant_api_keys): read only by the previous release during a rolling deploy; nulled on every rotation or revocation. */
  api_key_hash: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
  status: ColumnType<TenantStatus, TenantStatus | undefined, TenantStatus>;
  offboarded_at: NullableTimestamp;
  /** The name the hosted Connect page shows (migration 20261211T090000); null: `name`. */
  display_name: ColumnType<string | null, string | null | undefined, string | null>;
  /** Exact origins (`https://host[:port]`) a connect session may post its outcome to. */
  allowed_origins: ColumnType<string[], string[] | undefined, string[]>;
  /** URLs a connect session may send the admin back to. */
  allowed_return_urls: ColumnType<string[], string[] | undefined, string[]>;
}

export type ApiKeyCreator = 'admin' | 'tenant' | 'migration';

/** A tenant API key, stored as its SHA-256 (src/crypto/apiKeys.ts); usable while neither expired nor revoked. */
interface TenantApiKeysTable {
  id: Generated<string>;
  tenant_id: string;
  key_hash: string;
  /** The key's last characters, to tell keys apart (null for keys copied from before this table). */
  hint: string | null;
  created_by: ApiKeyCreator;
  created_at: CreatedAt;
  /** The end of the grace period a rotation gave it; null: no end. */
  expires_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
}

interface IntegrationsTable {
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
  /** Whether the account lets the worker read user entitlements; NULL until tried. */
  entitlements_status: ColumnType<'available' | 'forbidden' | null, 'available' | 'forbidden' | null | undefined, 'available' | 'forbidden' | null>;
  /** Settings (PATCH …/settings): sync end users too; the share of the account's Zendesk budget to use. */
  sync_end_users: Generated<boolean>;
  max_budget_share: Generated<number>;
  /** When the status became `disconnected`; set by a trigger (migration 20261204T100000_housekeeping). */
  disconnected_at: NullableTimestamp;
  /** Reclaim settings (PATCH …/settings; migration 20261208T090000): see ReclaimSettings in src/reclaim/settings.ts. */
  reclaim_settings: ColumnType<Record<string, unknown>, string | undefined, string>;
}

/** `connect`: the integration waits for this consent; `reconnect`: it stays connected meanwhile (migration 20261204T090000). */
export type FlowPurpose = 'connect' | 'reconnect';
export type ConsentDecisionValue = 'approved' | 'denied';
/** How a consent attempt ended; NULL while it is pending. */
export type FlowOutcome = 'completed' | 'denied' | 'not_admin' | 'expired' | 'failed';

interface OAuthFlowsTable {
  id: Generated<string>;
  integration_id: string;
  pkce_verifier_enc: string | null;
  code_enc: string | null;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
  exchanged_at: NullableTimestamp;
  created_at: CreatedAt;
  purpose: ColumnType<FlowPurpose, FlowPurpose | undefined, FlowPurpose>;
  /** The scope the authorize URL asked for (`read`, or the reclaim scopes; migration 20261208T090000). */
  scope: ColumnType<string, string | undefined, string>;
  /** What the callback received; a reload re-sends the same update with it. */
  decision: ColumnType<ConsentDecisionValue | null, ConsentDecisionValue | null | undefined, ConsentDecisionValue | null>;
  outcome: ColumnType<FlowOutcome | null, FlowOutcome | null | undefined, FlowOutcome | null>;
  outcome_message: ColumnType<string | null, string | null | undefined, string | null>;
  finished_at: NullableTimestamp;
  /** What Zendesk did with the grant the attempt let go (the replaced one, or a non-admin's); NULL when none. */
  revocation: ColumnType<FlowRevocation | null, FlowRevocation | null | undefined, FlowRevocation | null>;
}

export type FlowRevocation = 'revoked' | 'already_invalid' | 'refused' | 'failed';

/**
 * Tokens of one consent attempt that are not the integration's working ones: `incoming` (exchanged, their
 * user not yet verified as an admin) or `replaced` (taken out by the swap, kept until revoked at Zendesk).
 * Sealed with SecretBox bound to the flow (see stagedCredentials.ts).
 */
export type StagedKind = 'incoming' | 'replaced';

interface OAuthStagedCredentialsTable {
  flow_id: string;
  integration_id: string;
  kind: StagedKind;
  access_token_enc: string;
  refresh_token_enc: string | null;
  access_expires_at: NullableTimestamp;
  refresh_expires_at: NullableTimestamp;
  scope: string;
  created_at: CreatedAt;
}

interface OAuthCredentialsTable {
  integration_id: string;
  access_token_enc: string;
  refresh_token_enc: string | null;
  access_expires_at: NullableTimestamp;
  refresh_expires_at: NullableTimestamp;
  scope: string;
  version: Generated<number>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  /** The refresh expiry an `integration.grant_expiring` event was sent for (migration 20261210T090000). */
  expiry_notice_for: NullableTimestamp;
}

/**
 * A synced Zendesk user. Every field but the keys may be NULL: Zendesk left it out (or sent a value of
 * another type), so it is unknown. `role`, `role_type` and `ticket_restriction` hold Zendesk's value as
 * sent, documented or not; `deleted` is `NOT active`.
 */
export interface ZendeskUsersTable {
  integration_id: string;
  id: number;
  name: string | null;
  email: string | null;
  created_at: NullableTimestamp;
  updated_at: NullableTimestamp;
  last_login_at: NullableTimestamp;
  role: string | null;
  role_type: number | null;
  report_csv: boolean | null;
  chat_only: boolean | null;
  moderator: boolean | null;
  restricted_agent: boolean | null;
  shared: boolean | null;
  shared_agent: boolean | null;
  suspended: boolean | null;
  ticket_restriction: string | null;
  two_factor_auth_enabled: boolean | null;
  verified: boolean | null;
  deleted: boolean | null;
  synced_at: ColumnType<Date, Date | string | undefined, Date | string>;
  /** Written only by the entitlements step (migration 20261203T100000_user_entitlements). */
  entitlements: ColumnType<unknown, string | null | undefined, string | null>;
  entitlement_seat: ColumnType<EntitlementSeat | null, EntitlementSeat | null | undefined, EntitlementSeat | null>;
  entitlement_reason: ColumnType<string | null, string | null | undefined, string | null>;
  entitlements_checked_at: NullableTimestamp;
  entitlements_user_updated_at: NullableTimestamp;
  /** When the worker first stored the user as deleted; kept by triggers (migration 20261204T100000_housekeeping). */
  deleted_at: NullableTimestamp;
  /** The sync run whose listing of agents and admins last returned the user (seat-holder scan). */
  seat_scan_run: ColumnType<string | null, string | null | undefined, string | null>;
}

interface TicketEventsTable {
  integration_id: string;
  event_id: number;
  ticket_id: number;
  user_id: number;
  occurred_at: Timestamp;
}

export interface SyncCheckpointsTable {
  integration_id: string;
  /** `users`: the incremental users export (end users and everyone); `seat_holders`: this run's listing. */
  stream: 'users' | 'ticket_events' | 'seat_holders';
  position: string;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

type SyncRunStatus = 'running' | 'succeeded' | 'failed';

interface SyncRunsTable {
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
  /** Records quarantined by the run (unusable: no id, not an object…). */
  skipped_records: Generated<number>;
  /** What the run worked around, one sentence each (e.g. a saved position Zendesk refused). */
  notes: Generated<string[]>;
  error: string | null;
}

interface ZendeskRateLimitsTable {
  workspace: string;
  bucket: string;
  blocked_until: Timestamp;
}

/** Streams of a sync as the reports and the integration describe them. */
export type SyncStream = 'seat_holders' | 'end_users' | 'ticket_events';

export interface IntegrationStreamsTable {
  integration_id: string;
  stream: SyncStream;
  /** When the stream was last complete (null: never yet). */
  completed_at: NullableTimestamp;
  /** What the stream knows of its progress (StreamProgressRecord). */
  progress: ColumnType<Record<string, unknown>, string | undefined, string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export type SnapshotKind = 'seats' | 'sync';

/** A stored `/utilization` report (migration 20261207T090000; src/reports/snapshots.ts). */
export interface UtilizationSnapshotsTable {
  id: Generated<string>;
  integration_id: string;
  /** The run that took it (null once housekeeping removed the run). */
  sync_run_id: string | null;
  /** `seats`: when the run's seat part was done; `sync`: when the run succeeded. */
  kind: SnapshotKind;
  taken_at: ColumnType<Date, Date | string, Date | string>;
  inactive_days: number;
  /** The report's body exactly as `/utilization` answers it. */
  report: ColumnType<Record<string, unknown>, string, string>;
}

/** What a reclamation does to each selected user (migration 20261208T090000). */
export type ReclaimAction = 'end_user' | 'light_agent';
export type ReclamationStatus = 'awaiting_approval' | 'rejected' | 'expired' | 'notice' | 'executing' | 'completed' | 'undone';
export type ReclamationUserState =
  'planned' | 'excluded' | 'not_approved' | 'kept' | 'downgrading' | 'downgraded' | 'skipped' | 'failed' | 'restoring' | 'restored' | 'undo_failed';

/** The Zendesk fields a downgrade changes, as they were before it (no names or emails). */
export interface SeatSnapshot {
  role: string | null;
  role_type: number | null;
  custom_role_id: number | null;
  default_group_id: number | null;
  /** The user's groups, sorted (undo re-creates the memberships a downgrade to end user drops); absent in snapshots stored before they were taken. */
  group_ids?: number[];
}

export interface ReclamationsTable {
  id: Generated<string>;
  integration_id: string;
  tenant_id: string;
  action: ReclaimAction;
  status: ReclamationStatus;
  /** The request as validated (selection, options). */
  request: ColumnType<Record<string, unknown>, string, string>;
  /** `{apiKeyId, actor}`: who asked. */
  requested_by: ColumnType<{ apiKeyId: string | null; actor: string | null }, string, string>;
  created_at: CreatedAt;
  expires_at: Timestamp;
  decided_at: NullableTimestamp;
  completed_at: NullableTimestamp;
  undo_until: NullableTimestamp;
  /** When the notice period of an approved reclamation ends (null: none). */
  notice_until: NullableTimestamp;
}

export interface ReclamationUsersTable {
  reclamation_id: string;
  user_id: number;
  state: ReclamationUserState;
  /** Why it is a candidate (`inactive`, `suspended`, `requested`) or why it is left alone. */
  reason: string;
  evidence: ColumnType<Record<string, unknown>, string, string>;
  /** Zendesk's answer, or why a step was skipped. */
  outcome: string | null;
  snapshot: ColumnType<SeatSnapshot | null, string | null | undefined, string | null>;
  changed_at: NullableTimestamp;
  restored_at: NullableTimestamp;
  /** When a sync first showed the downgraded user back on a paid seat (upgraded again in Zendesk). */
  reupgraded_at: NullableTimestamp;
  /** A user kept during the notice period is not proposed again until then (migration 20261210T100000). */
  kept_until: NullableTimestamp;
}

export interface AuditEventsTable {
  id: Generated<string>;
  integration_id: string;
  reclamation_id: string | null;
  at: Generated<Date>;
  kind: string;
  api_key_id: string | null;
  actor: string | null;
  user_id: number | null;
  before: ColumnType<unknown, string | null | undefined, never>;
  after: ColumnType<unknown, string | null | undefined, never>;
  detail: ColumnType<unknown, string | null | undefined, never>;
}

/** Outbound webhooks (migration 20261209T090000; src/webhooks). */
export interface WebhookEndpointsTable {
  id: Generated<string>;
  tenant_id: string;
  url: string;
  description: string | null;
  /** The event types it receives; NULL: every type. */
  events: string[] | null;
  enabled: Generated<boolean>;
  /** Why it was disabled (410 Gone, retries exhausted, by hand); NULL while enabled. */
  disabled_reason: string | null;
  disabled_at: NullableTimestamp;
  /** The signing secret (`whsec_…`), sealed by SecretBox. */
  secret_enc: string;
  /** After a rotation: the replaced secret, which signs beside the new one until previous_secret_until. */
  previous_secret_enc: string | null;
  previous_secret_until: NullableTimestamp;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface WebhookEventsTable {
  /** The `webhook-id` of every delivery of the event (`msg_…`). */
  id: string;
  tenant_id: string;
  type: string;
  /** `{type, timestamp, data}`, exactly as sent. */
  payload: ColumnType<{ type: string; timestamp: string; data: Record<string, unknown> }, string, never>;
  created_at: CreatedAt;
}

export type WebhookDeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'held' | 'expired';

export interface WebhookDeliveriesTable {
  id: Generated<string>;
  endpoint_id: string;
  event_id: string;
  tenant_id: string;
  status: WebhookDeliveryStatus;
  attempts: Generated<number>;
  next_attempt_at: NullableTimestamp;
  last_status_code: number | null;
  last_error: string | null;
  last_latency_ms: number | null;
  /** When the relay started its delivery workflow; NULL: still to start. */
  workflow_started_at: NullableTimestamp;
  /** The relay's lease on the delivery while it makes the first attempt (migration 20261212T080000_webhook_relay_claim). */
  relay_claimed_until: NullableTimestamp;
  created_at: CreatedAt;
  completed_at: NullableTimestamp;
}

export interface WebhookAttemptsTable {
  delivery_id: string;
  attempt: number;
  at: CreatedAt;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
}

/** A link to the hosted Connect page (migration 20261211T100000): only its token's hash is kept. */
interface ConnectSessionsTable {
  id: Generated<string>;
  tenant_id: string;
  token_hash: string;
  /** The workspace (a parsed subdomain) the page starts with; null: the admin types it. */
  workspace: string | null;
  access: ColumnType<'read' | 'reclaim', 'read' | 'reclaim' | undefined, 'read' | 'reclaim'>;
  return_url: string | null;
  allowed_origin: string | null;
  expires_at: Timestamp;
  created_at: CreatedAt;
  /** The integration and consent attempt the latest Submit started. */
  integration_id: ColumnType<string | null, string | null | undefined, string | null>;
  flow_id: ColumnType<string | null, string | null | undefined, string | null>;
}

/** A link to the utilization view of one integration (migration 20261212T090000): only its token's hash is kept. */
interface ViewSessionsTable {
  id: Generated<string>;
  tenant_id: string;
  integration_id: string;
  token_hash: string;
  /** The one registered origin that may frame the page; null: any of the tenant's allowed origins. */
  allowed_origin: string | null;
  expires_at: Timestamp;
  created_at: CreatedAt;
}

export interface Database {
  connect_sessions: ConnectSessionsTable;
  view_sessions: ViewSessionsTable;
  tenants: TenantsTable;
  tenant_api_keys: TenantApiKeysTable;
  integrations: IntegrationsTable;
  oauth_flows: OAuthFlowsTable;
  oauth_credentials: OAuthCredentialsTable;
  oauth_staged_credentials: OAuthStagedCredentialsTable;
  zendesk_users: ZendeskUsersTable;
  ticket_events: TicketEventsTable;
  sync_checkpoints: SyncCheckpointsTable;
  sync_runs: SyncRunsTable;
  zendesk_rate_limits: ZendeskRateLimitsTable;
  integration_streams: IntegrationStreamsTable;
  utilization_snapshots: UtilizationSnapshotsTable;
  reclamations: ReclamationsTable;
  reclamation_users: ReclamationUsersTable;
  audit_events: AuditEventsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_events: WebhookEventsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
}

export type Tenant = Selectable<TenantsTable>;
export type TenantApiKey = Selectable<TenantApiKeysTable>;
export type Integration = Selectable<IntegrationsTable>;
export type OAuthFlow = Selectable<OAuthFlowsTable>;
export type ConnectSession = Selectable<ConnectSessionsTable>;
export type ViewSession = Selectable<ViewSessionsTable>;
export type NewZendeskUser = Insertable<ZendeskUsersTable>;
export type SyncRun = Selectable<SyncRunsTable>;
