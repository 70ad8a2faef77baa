import { deleteExpiredRateLimitBlocks } from '../db/repositories/rateLimits';
import {
  deleteEndedConnectSessions,
  deleteEndedViewSessions,
  deleteEndedOAuthFlows,
  deleteOldSyncRuns,
  deleteOldTicketEvents,
  disconnectedIntegrationsToPurge,
  purgeIntegrationDataBatch,
  scrubDeletedUsers,
  scrubEndedFlowSecrets,
  type UserPosition,
} from '../db/repositories/retention';
import { inBatches, type BatchStep } from './batches';
import type { ActivityDeps } from './deps';

/** Integrations whose sync runs one statement judges (each an index probe of `keepRuns` entries). */
const SYNC_RUN_INTEGRATIONS_PER_BATCH = 100;
/** Users whose old ticket events one statement looks for (one index range scan each). */
const TICKET_EVENT_USERS_PER_BATCH = 1000;

/**
 * The housekeeping rules, one activity each (src/workflows/housekeeping.ts runs them), against the periods
 * of `config.housekeeping`. Each works in batches of HOUSEKEEPING_BATCH_SIZE rows, one short transaction
 * each, heartbeating between batches (src/activities/batches.ts) and resuming from the last one when
 * retried. Each returns how many rows it deleted or scrubbed. Deleting fires the report-change triggers
 * (migration 20261201T120000_report_change_notify), so the API's cached reports follow.
 */
export function createHousekeepingActivities(deps: ActivityDeps) {
  const { db, logger, metrics } = deps;
  const settings = deps.config.housekeeping;
  const batch = settings.batchSize;

  async function rule<S>(name: string, initial: S, step: BatchStep<S>): Promise<number> {
    const started = Date.now();
    const done = await inBatches(name, initial, step, (changed) => metrics.housekeepingRows.inc({ rule: name }, changed));
    logger.info({ rule: name, changed: done.changed, batches: done.batches, durationMs: Date.now() - started }, 'housekeeping rule done');
    return done.changed;
  }

  /** Deletes (or updates) `batch` rows at a time until a batch comes back short. */
  const untilShort =
    (fn: () => Promise<number>): BatchStep<null> =>
    async () => {
      const changed = await fn();
      return { changed, next: changed >= batch ? null : undefined };
    };

  return {
    /** Used and expired consent attempts (each integration's newest kept, its secrets scrubbed), and expired Connect page and utilization view links. */
    async pruneOAuthFlows(): Promise<number> {
      const deleted = await rule(
        'oauth_flows',
        null,
        untilShort(() => deleteEndedOAuthFlows(db, settings.oauthFlowRetentionMs, batch)),
      );
      const scrubbed = await rule(
        'oauth_flow_secrets',
        null,
        untilShort(() => scrubEndedFlowSecrets(db, settings.oauthFlowRetentionMs, batch)),
      );
      // The Connect page's links that started such attempts go after the same period.
      const sessions = await rule(
        'connect_sessions',
        null,
        untilShort(() => deleteEndedConnectSessions(db, settings.oauthFlowRetentionMs, batch)),
      );
      // And the utilization view's links, likewise.
      const views = await rule(
        'view_sessions',
        null,
        untilShort(() => deleteEndedViewSessions(db, settings.oauthFlowRetentionMs, batch)),
      );
      return deleted + scrubbed + sessions + views;
    },

    /** Zendesk rate-limit blocks that ended (one row per workspace and bucket: a single statement). */
    async pruneRateLimitBlocks(): Promise<number> {
      return rule('zendesk_rate_limits', null, async () => ({
        changed: await deleteExpiredRateLimitBlocks(db, settings.rateLimitBlockRetentionMs),
        next: undefined,
      }));
    },

    /** Sync runs beyond the retention (per integration: the newest SYNC_RUN_RETENTION_RUNS, or SYNC_RUN_RETENTION_DAYS, whichever keeps more). */
    async pruneSyncRuns(): Promise<number> {
      const retention = { retentionMs: settings.syncRunRetentionMs, keepRuns: settings.syncRunRetentionRuns, batchSize: batch };
      return rule<string | null>('sync_runs', null, async (after) => {
        const { deleted, last } = await deleteOldSyncRuns(db, retention, { after, integrations: SYNC_RUN_INTEGRATIONS_PER_BATCH });
        // A full batch: the same slice of integrations may have more.
        return { changed: deleted, next: last === null ? undefined : deleted >= batch ? after : last };
      });
    },

    /** Synced users (names, emails), ticket events and checkpoints of integrations disconnected longer than the retention. */
    async purgeDisconnectedData(): Promise<number> {
      return rule<{ integrationId: string | null; after: string | null }>('disconnected_data', { integrationId: null, after: null }, async (state) => {
        if (state.integrationId) {
          const deleted = await purgeIntegrationDataBatch(db, state.integrationId, batch);
          if (deleted === 0) logger.info({ integrationId: state.integrationId }, 'housekeeping: synced data of a disconnected integration purged');
          return { changed: deleted, next: deleted > 0 ? state : { integrationId: null, after: state.integrationId } };
        }
        const [next] = await disconnectedIntegrationsToPurge(db, settings.disconnectedDataRetentionMs, state.after, 1);
        return { changed: 0, next: next ? { integrationId: next, after: state.after } : undefined };
      });
    },

    /** Names and emails of users deleted in Zendesk, once the retention has passed since the worker saw them deleted. */
    async scrubDeletedUsers(): Promise<number> {
      return rule(
        'deleted_users',
        null,
        untilShort(() => scrubDeletedUsers(db, settings.disconnectedDataRetentionMs, batch)),
      );
    },

    /** Ticket events older than ACTIVITY_RETENTION_DAYS. */
    async pruneTicketEvents(): Promise<number> {
      const retention = { retentionMs: settings.activityRetentionMs, batchSize: batch };
      return rule<UserPosition | null>('ticket_events', null, async (after) => {
        const { deleted, last } = await deleteOldTicketEvents(db, retention, { after, users: TICKET_EVENT_USERS_PER_BATCH });
        return { changed: deleted, next: last === null ? undefined : deleted >= batch ? after : last };
      });
    },
  };
}

export type HousekeepingActivities = ReturnType<typeof createHousekeepingActivities>;
