import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { clearCheckpoint, type Stream } from '../../db/repositories/checkpoints';
import { findIntegration } from '../../db/repositories/integrations';
import { addSyncRunCounts, addSyncRunNote } from '../../db/repositories/syncRuns';
import { zendeskObserver } from '../../observability/zendeskMetrics';
import { FailureType } from '../../shared/failureTypes';
import { ZendeskClient } from '../../zendesk/client';
import type { RecordAnomaly, SkippedRecord } from '../../zendesk/records';
import type { ActivityDeps } from '../deps';
import { withZendeskFailures } from '../failures';
import { withHeartbeatPulse, type HeartbeatPulse } from '../heartbeat';
import type { ChunkContext, ChunkInput, ChunkResult } from './tools';

/**
 * Runs sync chunks: checks the integration is still connected, builds its Zendesk client, heartbeats every
 * few seconds through all its waits (heartbeat.ts), translates Zendesk errors for Temporal, and books the
 * requests the chunk cost on the run whatever happened.
 */
export function createChunkRunner(deps: ActivityDeps) {
  const { db, box, config, logger, metrics } = deps;
  const observer = zendeskObserver(metrics);

  const connectedIntegration = async (integrationId: string) => {
    const integration = await findIntegration(db, integrationId);
    if (!integration || integration.status !== 'connected') {
      throw ApplicationFailure.nonRetryable(`The integration is ${integration?.status ?? 'gone'}; the sync stops.`, FailureType.NotConnected);
    }
    return integration;
  };

  /** A client whose waits (rate limits, backoffs) and finished requests count as the chunk's signs of life. */
  const clientFor = (integrationId: string, workspace: string, budgetShare: number, pulse: HeartbeatPulse) =>
    new ZendeskClient({
      db,
      box,
      config,
      integrationId,
      subdomain: workspace,
      rateLimits: deps.rateLimits,
      observer: { onRequest: (info) => (pulse.progress(), observer.onRequest(info)) },
      onWait: () => pulse.beat(),
      // A cancelled chunk (the worker's grace time is over) stops its request and waits at once; the page
      // already in hand was committed before (stopping() ends the loop after each page's transaction).
      signal: Context.current().cancellationSignal,
      // The integration's share of the account's Zendesk budget (PATCH …/settings): the rest stays free for
      // the customer's other apps.
      limiter: { budgetShare },
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
    for (const a of page.anomalies) metrics.recordAnomalies.inc({ field: a.field, kind: a.kind });
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
  const chunk = (input: ChunkInput, stream: Stream | 'entitlements', body: (ctx: ChunkContext) => Promise<ChunkResult>) =>
    withHeartbeatPulse({ stallMs }, async (pulse) => {
      const integration = await connectedIntegration(input.integrationId);
      const client = clientFor(input.integrationId, integration.workspace, integration.max_budget_share, pulse);
      // Tenant, integration, workflow and activity come from the log context (activities/index.ts).
      const log = logger.child({ stream });
      // The requests the chunk cost, booked on the run whatever happened.
      const book = () => addSyncRunCounts(db, input.syncRunId, { requests: client.stats.requests, rateLimited: client.stats.rateLimited });
      let result: ChunkResult;
      try {
        const ctx: ChunkContext = {
          deps,
          input,
          integration,
          client,
          deadline: Date.now() + input.maxMs,
          pulse,
          reportRecords,
          resetStream: (s, note) => resetStream(input, s, note),
        };
        result = await withZendeskFailures(() => body(ctx));
      } catch (err) {
        log.warn({ error: (err as Error).message }, 'sync chunk failed');
        // Never let the booking replace the chunk's own failure: a lost grant must stay a lost grant.
        await book().catch((bookkeeping: unknown) =>
          log.warn({ error: (bookkeeping as Error).message }, "could not book the chunk's requests on the run; the chunk's own failure stands"),
        );
        throw err;
      }
      await book();
      log.debug(result, 'sync chunk done');
      return result;
    });
  return { chunk, connectedIntegration };
}
