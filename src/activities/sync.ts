import { noteReupgrades } from '../db/repositories/reclamations';
import { findIntegration, setIntegrationStatus } from '../db/repositories/integrations';
import { findSyncRun, finishSyncRun, runningSyncRuns, startSyncRun } from '../db/repositories/syncRuns';
import { takeUtilizationSnapshot } from '../reports/snapshots';
import { recordSyncFinished, recordSyncStarted } from '../observability/syncMetrics';
import { syncChainRunning } from '../temporal/syncChain';
import { pauseSyncSchedule } from '../temporal/syncSchedule';
import { entitlementsChunk } from './chunks/entitlements';
import { createChunkRunner } from './chunks/runner';
import { seatHoldersChunk } from './chunks/seatHolders';
import { ticketEventsChunk } from './chunks/ticketEvents';
import type { ChunkInput, ChunkResult } from './chunks/tools';
import { usersExportChunk } from './chunks/usersExport';
import { tenantSyncError } from './syncFailureText';
import type { ActivityDeps } from './deps';
import { keepGrantAlive } from './grantKeepAlive';

export type { ChunkInput, ChunkResult } from './chunks/tools';

/**
 * The activities of a sync: opening and closing its run, and its chunks (one per stream, in chunks/), each
 * committing every page with its checkpoint in one transaction, so a crash loses nothing and a replay
 * counts nothing twice.
 */
export function createSyncActivities(deps: ActivityDeps) {
  const { db, logger, temporal, metrics } = deps;
  const { chunk } = createChunkRunner(deps);

  /**
   * Closes a succeeded run and stores its utilization report in the same repeatable-read transaction: the
   * report's lastSyncedAt is this run, and no reader sees the run succeeded with the older report still
   * served. A failing snapshot never fails the sync: the run is then closed alone, and the API computes.
   */
  const closeWithSnapshot = async (syncRunId: string) => {
    try {
      return await db
        .transaction()
        .setIsolationLevel('repeatable read')
        .execute(async (trx) => {
          const run = await finishSyncRun(trx, syncRunId, 'succeeded', null);
          const integrationId = run?.integration_id ?? (await findSyncRun(trx, syncRunId))?.integration_id;
          if (integrationId) await takeUtilizationSnapshot(trx, { integrationId, syncRunId, kind: 'sync', inactiveDays: deps.config.inactiveAfterDays });
          return run;
        });
    } catch (err) {
      logger.warn({ syncRunId, err }, 'could not store the utilization snapshot; the API computes the report instead');
      return finishSyncRun(db, syncRunId, 'succeeded', null);
    }
  };

  /** Reclaimed users upgraded again in Zendesk since (src/db/repositories/reclamations.ts). Never fails the sync. */
  const reupgrades = async (integrationId: string) => {
    try {
      const found = await noteReupgrades(db, integrationId);
      if (found > 0) logger.info({ integrationId, users: found }, 'reclaimed users were upgraded again in Zendesk');
    } catch (err) {
      logger.warn({ integrationId, err }, 'could not check reclaimed users for re-upgrades');
    }
  };

  /**
   * Stores the seat part's utilization report (src/reports/snapshots.ts), once per run. Never fails the
   * sync: without a snapshot the API computes the report as before.
   */
  const seatSnapshot = async (input: ChunkInput) => {
    try {
      await takeUtilizationSnapshot(db, {
        integrationId: input.integrationId,
        syncRunId: input.syncRunId,
        kind: 'seats',
        inactiveDays: deps.config.inactiveAfterDays,
      });
    } catch (err) {
      logger.warn({ syncRunId: input.syncRunId, err }, 'could not store the utilization snapshot; the API computes the report instead');
    }
  };

  return {
    /**
     * Opens a run record; refuses when another sync of the integration is still running. A run left
     * "running" by a sync that no longer exists (terminated, timed out) is closed as interrupted.
     *
     * Liveness is judged on the workflow chain (syncChain.ts), so a sync that continued as new is still
     * alive. Temporal is asked before any row is locked; the transaction then re-checks that nothing
     * changed meanwhile.
     */
    async beginSync(input: {
      integrationId: string;
      workflowId: string;
      runId: string;
    }): Promise<{ syncRunId: string; syncEndUsers?: boolean } | { skipped: string }> {
      const integration = await findIntegration(db, input.integrationId);
      if (!integration || integration.status !== 'connected') return { skipped: `the integration is ${integration?.status ?? 'gone'}` };
      const seen = await runningSyncRuns(db, input.integrationId, { lock: false });
      const own = seen.find((r) => r.workflow_id === input.workflowId && r.run_id === input.runId);
      if (own) return { syncRunId: own.id };
      const dead: string[] = [];
      for (const run of seen) {
        if (await syncChainRunning(temporal, run.workflow_id, run.run_id)) return { skipped: `sync ${run.workflow_id} is still running` };
        dead.push(run.id);
      }
      const begin = db.transaction().execute(async (trx) => {
        const now = await runningSyncRuns(trx, input.integrationId, { lock: true });
        const own = now.find((r) => r.workflow_id === input.workflowId && r.run_id === input.runId);
        if (own) return { syncRunId: own.id };
        const appeared = now.find((r) => !dead.includes(r.id));
        if (appeared) return { skipped: `sync ${appeared.workflow_id} has just started` };
        for (const id of dead) await finishSyncRun(trx, id, 'failed', 'Interrupted: the sync ended before it finished.');
        const run = await startSyncRun(trx, input);
        return { syncRunId: run.id };
      });
      try {
        const begun = await begin;
        if (!('syncRunId' in begun)) return begun;
        await keepGrantAlive(deps, input.integrationId, integration.workspace); // renews a grant about to lapse (never throws)
        recordSyncStarted(metrics);
        // The integration's settings the workflow needs (PATCH …/settings), as of this run's start.
        return { ...begun, syncEndUsers: integration.sync_end_users };
      } catch (err) {
        // The unique index on running runs: a concurrent start won the race.
        if ((err as { code?: string }).code === '23505') return { skipped: 'another sync of this integration has just started' };
        throw err;
      }
    },

    /** chunks/seatHolders: the agents and admins first, then the ones no longer listed looked up. */
    async syncSeatHoldersChunk(input: ChunkInput): Promise<ChunkResult> {
      return chunk(input, 'seat_holders', seatHoldersChunk);
    },

    /** chunks/usersExportChunk: see there. */
    async syncUsersChunk(input: ChunkInput): Promise<ChunkResult> {
      return chunk(input, 'users', usersExportChunk);
    },

    /** chunks/ticketEventsChunk: see there. */
    async syncTicketEventsChunk(input: ChunkInput): Promise<ChunkResult> {
      return chunk(input, 'ticket_events', ticketEventsChunk);
    },

    /** chunks/entitlementsChunk: see there. */
    async syncEntitlementsChunk(input: ChunkInput): Promise<ChunkResult> {
      const result = await chunk(input, 'entitlements', entitlementsChunk);
      // The entitlements come after the seat holders: with them, the seat report is complete.
      if (result.done) await seatSnapshot(input);
      return result;
    },

    /**
     * Closes the run. A failure's text is stored only when it is one of ours about Zendesk; anything internal
     * (PostgreSQL, decryption, a bug) is logged here with a reference, and the run gets a sentence with it.
     */
    async finishSync(input: { syncRunId: string; status: 'succeeded' | 'failed'; error: string | null; failureType?: string | null }): Promise<void> {
      const error =
        input.error === null ? null : tenantSyncError({ error: input.error, failureType: input.failureType }, logger, { syncRunId: input.syncRunId });
      const run = input.status === 'succeeded' ? await closeWithSnapshot(input.syncRunId) : await finishSyncRun(db, input.syncRunId, input.status, error);
      if (run && input.status === 'succeeded') await reupgrades(run.integration_id);
      if (run) {
        // The run's rows were counted page by page as they were written (recordSyncedRows in the chunks).
        recordSyncFinished(metrics, { outcome: input.status, durationMs: run.finished_at!.getTime() - run.started_at.getTime() });
      }
    },

    /** Zendesk refused the grant: stop syncing until someone reconnects. */
    async markNeedsReauth(input: { integrationId: string; message: string }): Promise<void> {
      await setIntegrationStatus(db, input.integrationId, { status: 'needs_reauth', error: input.message, onlyFrom: ['connected'] });
      await pauseSyncSchedule(temporal, input.integrationId, `Paused: ${input.message}`);
      logger.warn({ integrationId: input.integrationId }, 'integration needs re-authorization; schedule paused');
    },
  };
}

export type SyncActivities = ReturnType<typeof createSyncActivities>;
