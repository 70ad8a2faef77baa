import type { Migration } from 'kysely';
import * as initial from './20261125T140000_initial';
import * as oneRunningSync from './20261125T150000_one_running_sync';
import * as reportIndexes from './20261125T160000_report_indexes';
import * as reportChangeNotify from './20261201T120000_report_change_notify';
import * as reportChangeProgress from './20261202T090000_report_change_progress';
import * as tolerantUsers from './20261203T090000_tolerant_users';
import * as userEntitlements from './20261203T100000_user_entitlements';
import * as reconnectAttempts from './20261204T090000_reconnect_attempts';
import * as housekeeping from './20261204T100000_housekeeping';
import * as tenantKeysLifecycle from './20261205T090000_tenant_keys_lifecycle';
import * as apiRateLimits from './20261205T100000_api_rate_limits';
import * as seatHoldersFirst from './20261206T090000_seat_holders_first';
import * as utilizationSnapshots from './20261207T090000_utilization_snapshots';
import * as reclamations from './20261208T090000_reclamations';
import * as webhooks from './20261209T090000_webhooks';
import * as grantExpiryNotice from './20261210T090000_grant_expiry_notice';
import * as reclaimNotice from './20261210T100000_reclaim_notice';
import * as tenantConnectSettings from './20261211T090000_tenant_connect_settings';
import * as connectSessions from './20261211T100000_connect_sessions';
import * as webhookRelayClaim from './20261212T080000_webhook_relay_claim';
import * as viewSessions from './20261212T090000_view_sessions';

/**
 * Every migration, by its timestamped name. A static list (rather than a folder scan) works the same
 * under tsx, in compiled dist/ and in a bundle.
 */
export const migrations: Record<string, Migration> = {
  '20261125T140000_initial': initial,
  '20261125T150000_one_running_sync': oneRunningSync,
  '20261125T160000_report_indexes': reportIndexes,
  '20261201T120000_report_change_notify': reportChangeNotify,
  '20261202T090000_report_change_progress': reportChangeProgress,
  '20261203T090000_tolerant_users': tolerantUsers,
  '20261203T100000_user_entitlements': userEntitlements,
  '20261204T090000_reconnect_attempts': reconnectAttempts,
  '20261204T100000_housekeeping': housekeeping,
  '20261205T090000_tenant_keys_lifecycle': tenantKeysLifecycle,
  '20261205T100000_api_rate_limits': apiRateLimits,
  '20261206T090000_seat_holders_first': seatHoldersFirst,
  '20261207T090000_utilization_snapshots': utilizationSnapshots,
  '20261208T090000_reclamations': reclamations,
  '20261209T090000_webhooks': webhooks,
  '20261210T090000_grant_expiry_notice': grantExpiryNotice,
  '20261210T100000_reclaim_notice': reclaimNotice,
  '20261211T090000_tenant_connect_settings': tenantConnectSettings,
  '20261211T100000_connect_sessions': connectSessions,
  '20261212T080000_webhook_relay_claim': webhookRelayClaim,
  '20261212T090000_view_sessions': viewSessions,
};
