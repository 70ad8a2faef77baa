import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { clearCheckpoint, getCheckpoint, setCheckpoint, type Stream } from '../db/repositories/checkpoints';
import { findIntegration, setIntegrationStatus } from '../db/repositories/integrations';
import { addSyncRunCounts, addSyncRunNote, finishSyncRun, runningSyncRuns, startSyncRun } from '../db/repositories/syncRuns';
import { insertTicketEvents } from '../db/repositories/ticketEvents';
import { upsertZendeskUsers } from '../db/repositories/zendeskUsers';
import { dueEntitlementChecks, saveEntitlements, setEntitlementsStatus, type DueEntitlementCheck } from '../db/repositories/entitlements';
import { classifyEntitlements } from '../zendesk/entitlements';
import { recordSyncFinished, recordSyncStarted, zendeskObserver } from '../observability/metrics';
import { syncChainRunning } from '../temporal/syncChain';
import { pauseSyncSchedule } from '../temporal/syncSchedule';
import { ZendeskClient } from '../zendesk/client';
import { ZendeskAuthError, ZendeskBadResponseError, ZendeskRequestError, ZendeskTransientError } from '../zendesk/errors';
import type { RecordAnomaly, SkippedRecord } from '../zendesk/records';
import { tenantSyncError } from './syncFailureText';
import type { ActivityDeps } from './deps';
import { FailureType } from '../shared/failureTypes';
import { withZendeskFailures } from './failures';
import { keepGrantAlive } from './grantKeepAlive';
import { withHeartbeatPulse, type HeartbeatPulse } from './heartbeat';
import { nextTicketEventsStart, ProgressGuard, toTicketEventRow, toUserRow, uniqueUserRows } from './syncMapping';

export interface ChunkInput {
  integrationId: string;
  syncRunId: string;
  /** Stop after this much work so the workflow can report progress; the checkpoint carries on. */
  maxMs: number;
}

/** Entitlement requests a chunk keeps in flight. */
const ENTITLEMENT_READS_AT_ONCE = 8;

/**
 * Runs `fn` over `items` with at most `concurrency` at once, taking no new item once `stop()` says so; the
 * first failure stops the others from taking more and is thrown. (Ten lines, so no ESM-only dependency.)
 */
async function forEachConcurrently<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>, stop: () => boolean): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && !stop() && next < items.length) {
      const item = items[next++]!;
      await fn(item).catch((err: unknown) => {
        failed = true;
        throw err;
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}

export interface ChunkResult {
  done: boolean;
  pages: number;
  records: number;
}


/**
 * Starts a page request now, to be awaited later. Each stream asks for its next page while the current one
 * is being written, so Zendesk's latency and PostgreSQL's write time overlap instead of adding up (bench
 * scenario 1: the sync went from ~0.5 to ~0.8 of the raw floor). Pages are still written strictly in order,
 * each with its checkpoint; a page fetched ahead is used only after the write before it committed, and is
 * dropped if that write fails (the retry starts again from the checkpoint). Rate limits are unaffected: the
 * request goes through the same limiter, and no page is requested that the loop would not have requested.
 */
function fetchAhead<T>(request: () => Promise<T>): Promise<T> {
  const pending = request();
  pending.catch(() => undefined); // awaited by the next iteration; never an unhandled rejection meanwhile
  return pending;
}

/**
 * The worker is shutting down (its grace time is over) or the activity was cancelled: end the chunk after
 * the page in hand is committed, so the next chunk resumes from its checkpoint on another worker.
 */
const stopping = () => Context.current().cancellationSignal.aborted;

/**
 * Zendesk refused a saved position itself (400/422: an expired or invalid cursor, a start_time it no longer
 * accepts). Asking again with it would fail every future sync; the stream starts afresh instead.
 */
const refusedPosition = (err: unknown): err is ZendeskRequestError =>
  err instanceof ZendeskRequestError && (err.status === 400 || err.status === 422);

/**
 * Activities of a sync. Each stream is processed in chunks; every page's rows and the checkpoint after
 * them are committed in one transaction, so a crash anywhere loses nothing and a replay counts nothing twice.
 */
export function createSyncActivities(deps: ActivityDeps) {
  const { db, box, config, logger, temporal, metrics } = deps;
  const observer = zendeskObserver(metrics);

  const connectedIntegration = async (integrationId: string) => {
    const integration = await findIntegration(db, integrationId);
    if (!integration || integration.status !== 'connected') {
      throw ApplicationFailure.nonRetryable(`The integration is ${integration?.status ?? 'gone'}; the sync stops.`, FailureType.NotConnected);
    }
    return integration;
  };

  /** A client whose waits (rate limits, backoffs) and finished requests count as the chunk's signs of life. */
  const clientFor = (integrationId: string, workspace: string, pulse: HeartbeatPulse) =>
    new ZendeskClient({
      db,
      box,
      config,
      integrationId,
      subdomain: workspace,
      observer: { onRequest: (info) => (pulse.progress(), observer.onRequest?.(info)) },
      onWait: () => pulse.beat(),
      // A cancelled chunk (the worker's grace time is over) stops its request and waits at once; the page
      // already in hand was committed before (stopping() ends the loop after each page's transaction).
      signal: Context.current().cancellationSignal,
    });

  /**
   * How long a chunk may go without any sign of life (a finished request, a committed page, a rate-limit
   * tick) before its heartbeat stops: longer than any single wait in it — a request, or a token refresh
   * waiting for another worker's row lock (request timeout + 10 s) and then sending its own request.
   */
  const stallMs = 2 * config.zendesk.requestTimeoutMs + 15_000;

  /**
   * A page's quarantined records and surprises: counted (metrics, the run's skippedRecords) and logged by
   * position and id only — a broken record may hold personal data, and it never blocks the others.
   */
  const reportRecords = (stream: Stream, page: { skipped: SkippedRecord[]; anomalies: RecordAnomaly[] }) => {
    if (page.skipped.length > 0) {
      metrics.recordsSkipped.inc({ stream }, page.skipped.length);
      logger.warn({ stream, skipped: page.skipped }, 'Zendesk records skipped: unusable (see reason); the rest of the page was kept');
    }
    for (const a of page.anomalies) metrics?.recordAnomalies.inc({ field: a.field, kind: a.kind });
  };

  /** Forgets a stream's refused position and says so on the run, in one transaction. */
  const resetStream = async (input: ChunkInput, stream: Stream, note: string) => {
    await db.transaction().execute(async (trx) => {
      await clearCheckpoint(trx, input.integrationId, stream);
      await addSyncRunNote(trx, input.syncRunId, note);
    });
    logger.warn({ stream }, note);
  };

  /**
   * Runs a chunk, heartbeating every few seconds through all its waits (see heartbeat.ts), then books the
   * requests it cost on the run whatever happened.
   */
  const chunk = (input: ChunkInput, stream: Stream | 'entitlements', body: (client: ZendeskClient, deadline: number, pulse: HeartbeatPulse) => Promise<ChunkResult>) =>
    withHeartbeatPulse({ stallMs }, async (pulse) => {
      const integration = await connectedIntegration(input.integrationId);
      const client = clientFor(input.integrationId, integration.workspace, pulse);
      // Tenant, integration, workflow and activity come from the log context (activities/index.ts).
      const log = logger.child({ stream });
      let failed = false;
      try {
        const result = await withZendeskFailures(() => body(client, Date.now() + input.maxMs, pulse));
        log.debug(result, 'sync chunk done');
        return result;
      } catch (err) {
        failed = true;
        log.warn({ error: (err as Error).message }, 'sync chunk failed');
        throw err;
      } finally {
        try {
          await addSyncRunCounts(db, input.syncRunId, { requests: client.stats.requests, rateLimited: client.stats.rateLimited });
        } catch (bookkeeping) {
          // Never let this replace the chunk's own failure: a lost grant must stay a lost grant.
          if (!failed) throw bookkeeping;
          log.warn({ error: (bookkeeping as Error).message }, "could not book the chunk's requests on the run; the chunk's own failure stands");
        }
      }
    });

  return {
    /**
     * Opens a run record; refuses when another sync of the integration is still running. A run left
     * "running" by a sync that no longer exists (terminated, timed out) is closed as interrupted.
     *
     * Liveness is judged on the workflow chain (syncChain.ts), so a sync that continued as new is still
     * alive. Temporal is asked before any row is locked; the transaction then re-checks that nothing
     * changed meanwhile.
     */
    async beginSync(input: { integrationId: string; workflowId: string; runId: string }): Promise<{ syncRunId: string } | { skipped: string }> {
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
        if ('syncRunId' in begun) {
          await keepGrantAlive(deps, input.integrationId, integration.workspace); // renews a grant about to lapse (never throws)
          recordSyncStarted(metrics);
        }
        return begun;
      } catch (err) {
        // The unique index on running runs: a concurrent start won the race.
        if ((err as { code?: string }).code === '23505') return { skipped: 'another sync of this integration has just started' };
        throw err;
      }
    },

    /**
     * Users from the incremental cursor export, resumed from the saved cursor. A saved cursor Zendesk refuses
     * restarts the export from the beginning (once per chunk, noted on the run); a cursor that stops moving
     * ends the chunk (ProgressGuard).
     */
    async syncUsersChunk(input: ChunkInput): Promise<ChunkResult> {
      return chunk(input, 'users', async (client, deadline, pulse) => {
        const result: ChunkResult = { done: false, pages: 0, records: 0 };
        const guard = new ProgressGuard('users export');
        let cursor = await getCheckpoint(db, input.integrationId, 'users');
        let requested = cursor;
        let reset = false;
        const fetchPage = (c: string | undefined) => fetchAhead(() => client.incrementalUsersPage(c ? { cursor: c } : { startTime: 0 }));
        let pending = fetchPage(cursor);
        for (;;) {
          let page;
          try {
            page = await pending;
          } catch (err) {
            if (reset || requested === undefined || !refusedPosition(err)) throw err;
            reset = true;
            await resetStream(input, 'users', `Zendesk refused the saved users cursor (HTTP ${err.status}${err.code ? `, ${err.code}` : ''}); the users export started again from the beginning.`);
            cursor = requested = undefined;
            pending = fetchPage(undefined);
            continue;
          }
          const next = page.after_cursor ?? cursor;
          guard.check(page.end_of_stream || next !== requested);
          reportRecords('users', page);
          const rows = uniqueUserRows(page.users.map((u) => toUserRow(input.integrationId, u)));
          cursor = next;
          const more = !page.end_of_stream && Date.now() < deadline && !stopping();
          if (more) {
            requested = cursor;
            pending = fetchPage(cursor); // the next page travels while this one is written
          }
          await db.transaction().execute(async (trx) => {
            await upsertZendeskUsers(trx, rows);
            if (page.after_cursor) await setCheckpoint(trx, input.integrationId, 'users', page.after_cursor);
            await addSyncRunCounts(trx, input.syncRunId, { users: rows.length, skipped: page.skipped.length });
          });
          result.pages++;
          result.records += rows.length;
          pulse.beat(result);
          if (page.end_of_stream) return { ...result, done: true };
          if (!more) return result;
        }
      });
    },

    /**
     * Ticket events from the time-based export, from the saved position (first sync: the backfill window).
     * A saved start_time Zendesk refuses restarts at the backfill window (events are stored once by id, so
     * nothing is counted twice); an end_time that goes backwards ends the chunk (ProgressGuard).
     */
    async syncTicketEventsChunk(input: ChunkInput): Promise<ChunkResult> {
      return chunk(input, 'ticket_events', async (client, deadline, pulse) => {
        const result: ChunkResult = { done: false, pages: 0, records: 0 };
        const guard = new ProgressGuard('ticket events export');
        const backfillStart = () => Math.floor(Date.now() / 1000) - config.activityBackfillDays * 86_400;
        const saved = await getCheckpoint(db, input.integrationId, 'ticket_events');
        let start = saved ? Number(saved) : backfillStart();
        let fromSaved = saved !== undefined;
        let pending = fetchAhead(() => client.ticketEventsPage(start));
        for (;;) {
          let page;
          try {
            page = await pending;
          } catch (err) {
            if (!fromSaved || !refusedPosition(err)) throw err;
            fromSaved = false;
            await resetStream(input, 'ticket_events', `Zendesk refused the saved ticket-events start_time (HTTP ${err.status}${err.code ? `, ${err.code}` : ''}); ticket activity was fetched again from the ${config.activityBackfillDays}-day backfill window.`);
            start = backfillStart();
            pending = fetchAhead(() => client.ticketEventsPage(start));
            continue;
          }
          fromSaved = false;
          reportRecords('ticket_events', page);
          const rows = page.ticket_events.map((e) => toTicketEventRow(input.integrationId, e));
          const next = nextTicketEventsStart(start, { end_time: page.end_time, end_of_stream: page.end_of_stream, count: page.entries });
          guard.check(page.end_of_stream || next > start);
          const more = !page.end_of_stream && Date.now() < deadline && !stopping();
          if (more) pending = fetchAhead(() => client.ticketEventsPage(next)); // the next page travels while this one is written
          const inserted = await db.transaction().execute(async (trx) => {
            const n = await insertTicketEvents(trx, rows);
            await setCheckpoint(trx, input.integrationId, 'ticket_events', String(next));
            await addSyncRunCounts(trx, input.syncRunId, { events: n, skipped: page.skipped.length });
            return n;
          });
          start = next;
          result.pages++;
          result.records += inserted;
          pulse.beat(result);
          if (page.end_of_stream) return { ...result, done: true };
          if (!more) return result;
        }
      });
    },

    /**
     * Entitlements of light agents and contributors (src/zendesk/entitlements.ts: they may take a paid seat through a Chat, Guide or
     * Explore role), one request per user, only for users never read, changed since, or read more than a
     * week ago; paced by the account's rate limit like every other call. Runs after the users stream, so it
     * sees this sync's users. A 403 means the account (plan or grant) does not allow it: noted on the
     * integration, and those users keep Zendesk's Support rule (free seats) — never a lost grant.
     */
    async syncEntitlementsChunk(input: ChunkInput): Promise<ChunkResult> {
      return chunk(input, 'entitlements', async (client, deadline, pulse) => {
        const result: ChunkResult = { done: false, pages: 0, records: 0 };
        let forbidden = false;
        const over = () => forbidden || Date.now() >= deadline || stopping();
        // Users whose read failed for a passing reason (after the client's own retries): left for the next
        // sync rather than failing the chunk, so one flaky request among hundreds costs one user, not all.
        const postponed = new Set<number>();
        let lastFailure: unknown;
        const readOne = async (user: DueEntitlementCheck) => {
          let response;
          try {
            response = await client.userEntitlements(user.id);
          } catch (err) {
            if (err instanceof ZendeskAuthError && err.kind === 'forbidden') {
              forbidden = true;
              return;
            }
            if (err instanceof ZendeskRequestError && err.status === 404) {
              // The user is gone since the users page: nothing to read; the users stream will say more.
              await saveEntitlements(db, input.integrationId, user.id, { entitlements: null, seat: null, reason: null, userUpdatedAt: user.updatedAt });
              return;
            }
            if (!(err instanceof ZendeskTransientError || err instanceof ZendeskBadResponseError)) throw err;
            postponed.add(user.id);
            lastFailure = err;
            return;
          }
          const verdict = classifyEntitlements(response);
          await saveEntitlements(db, input.integrationId, user.id, { entitlements: response.entitlements, ...verdict, userUpdatedAt: user.updatedAt });
          result.records++;
          pulse.beat(result);
        };
        for (;;) {
          const due = await dueEntitlementChecks(db, input.integrationId, 100, [...postponed]);
          if (due.length === 0) {
            if (postponed.size > 0) logger.warn({ users: postponed.size }, 'entitlements of some users could not be read this time (Zendesk errors); the next sync tries them again');
            return { ...result, done: true };
          }
          const before = result.records;
          const postponedBefore = postponed.size;
          // A few at a time: one request per user, and Zendesk's latency (not its rate limit, which the
          // client's limiter paces) would otherwise bound a large account to a few users a second.
          await forEachConcurrently(due, ENTITLEMENT_READS_AT_ONCE, readOne, over);
          if (forbidden) {
            await setEntitlementsStatus(db, input.integrationId, 'forbidden');
            logger.warn({}, 'Zendesk refused to show user entitlements (403); light agents and contributors are counted as free seats');
            return { ...result, done: true };
          }
          // Nothing but failures: Zendesk is in trouble; let Temporal back off and retry the chunk.
          if (result.records === before && postponed.size - postponedBefore === due.length) throw lastFailure;
          await setEntitlementsStatus(db, input.integrationId, 'available');
          result.pages++;
          if (over()) return result;
        }
      });
    },

    /**
     * Closes the run. A failure's text is stored only when it is one of ours about Zendesk; anything internal
     * (PostgreSQL, decryption, a bug) is logged here with a reference, and the run gets a sentence with it.
     */
    async finishSync(input: { syncRunId: string; status: 'succeeded' | 'failed'; error: string | null; failureType?: string | null }): Promise<void> {
      const error = input.error === null ? null : tenantSyncError({ error: input.error, failureType: input.failureType }, logger, { syncRunId: input.syncRunId });
      const run = await finishSyncRun(db, input.syncRunId, input.status, error);
      if (run) {
        recordSyncFinished(metrics, {
          outcome: input.status,
          durationMs: run.finished_at!.getTime() - run.started_at.getTime(),
          usersSynced: run.users_synced,
          ticketEventsSynced: run.ticket_events_synced,
        });
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
