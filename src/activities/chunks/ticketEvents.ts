import { getCheckpoint, setCheckpoint } from '../../db/repositories/checkpoints';
import { setStreamProgress } from '../../db/repositories/integrationStreams';
import { addSyncRunCounts } from '../../db/repositories/syncRuns';
import { recordSyncedRows } from '../../observability/syncMetrics';
import { insertTicketEvents } from '../../db/repositories/ticketEvents';
import type { TicketEventsPage } from '../../zendesk/client';
import { nextTicketEventsStart, ProgressGuard, toTicketEventRow } from '../syncMapping';
import { coveredSince, fetchedSpan, freshPlan, planDone, readPlan, remainingSpan, writePlan, type EventsPlan } from '../ticketEventsPlan';
import { fetchAhead, refusedPosition, stopping, type ChunkContext, type ChunkResult } from './tools';

/**
 * Ticket events from the time-based export, newest activity first (ticketEventsPlan.ts): the head (the
 * last 7 days, then every new event) until the end of the stream, then the older backfill windows, newest
 * first, each from its start until it reaches the window after it. Every page is stored with the plan in
 * one transaction (events once by id, so overlaps and replays count nothing twice).
 *
 * A saved start_time Zendesk refuses starts a fresh plan (noted on the run); an end_time that goes
 * backwards ends the chunk (ProgressGuard).
 */
/** What the integration shows of the plan: coverage, and what the estimate of its end needs. */
function progressOf(plan: EventsPlan, nowS: number) {
  const since = coveredSince(plan);
  return {
    ...(since === null ? {} : { coveredSince: since }),
    target: plan.target,
    ...(plan.startedAt === undefined ? {} : { startedAtMs: plan.startedAt * 1000 }),
    done: fetchedSpan(plan, nowS),
    total: fetchedSpan(plan, nowS) + remainingSpan(plan, nowS),
  };
}

export async function ticketEventsChunk(ctx: ChunkContext): Promise<ChunkResult> {
  const { input, client, deadline, pulse, deps } = ctx;
  const { db, config } = deps;
  const result: ChunkResult = { done: false, pages: 0, records: 0 };
  const nowS = () => Math.floor(Date.now() / 1000);
  const saved = await getCheckpoint(db, input.integrationId, 'ticket_events');
  let plan: EventsPlan = readPlan(saved, nowS(), config.activityBackfillDays);
  let fromSaved = saved !== undefined;

  // Each chunk first brings the head up to now (the newest activity), then works on the older windows.
  let headFresh = false;
  /** The part of the plan the next page belongs to: the head until it is up to now, then the newest window. */
  const segment = () =>
    !headFresh || plan.pending.length === 0 ? { kind: 'head' as const, start: plan.head } : { kind: 'window' as const, start: plan.pending[0]!.at };

  for (;;) {
    const { kind, start } = segment();
    const guard = new ProgressGuard('ticket events export');
    let at = start;
    let pending = fetchAhead(() => client.ticketEventsPage(at));
    for (;;) {
      let page: TicketEventsPage;
      try {
        page = await pending;
      } catch (err) {
        if (!fromSaved || !refusedPosition(err)) throw err;
        fromSaved = false;
        await ctx.resetStream(
          'ticket_events',
          `Zendesk refused the saved ticket-events start_time (HTTP ${err.status}${err.code ? `, ${err.code}` : ''}); ticket activity was fetched again from the ${config.activityBackfillDays}-day backfill window.`,
        );
        plan = freshPlan(nowS(), config.activityBackfillDays);
        break; // start over with the fresh plan's head
      }
      fromSaved = false;
      ctx.reportRecords('ticket_events', page);
      const rows = page.ticket_events.map((e) => toTicketEventRow(input.integrationId, e));
      const next = nextTicketEventsStart(at, { end_time: page.end_time, end_of_stream: page.end_of_stream, count: page.entries });
      guard.check(page.end_of_stream || next > at);
      // Where this page leaves the plan.
      let segmentDone = false;
      if (kind === 'head') {
        plan.head = next;
        if (page.end_of_stream) {
          plan.caughtUp = true;
          headFresh = true;
          segmentDone = true;
        }
      } else {
        const window = plan.pending[0]!;
        window.at = next;
        if (page.end_of_stream || next >= window.to) {
          plan.pending.shift();
          segmentDone = true;
        }
      }
      const more = !segmentDone && Date.now() < deadline && !stopping();
      if (more) pending = fetchAhead(() => client.ticketEventsPage(next)); // the next page travels while this one is written
      const inserted = await db.transaction().execute(async (trx) => {
        const n = await insertTicketEvents(trx, rows);
        await setCheckpoint(trx, input.integrationId, 'ticket_events', writePlan(plan));
        await addSyncRunCounts(trx, input.syncRunId, { events: n, skipped: page.skipped.length });
        return n;
      });
      recordSyncedRows(deps.metrics, { ticketEvents: inserted });
      at = next;
      result.pages++;
      result.records += inserted;
      pulse.beat(result);
      if (segmentDone) {
        await setStreamProgress(db, input.integrationId, 'ticket_events', progressOf(plan, nowS()), planDone(plan));
        if (planDone(plan)) return { ...result, done: true };
        break;
      }
      if (!more) {
        await setStreamProgress(db, input.integrationId, 'ticket_events', progressOf(plan, nowS()));
        return result;
      }
    }
    if (Date.now() >= deadline || stopping()) return result;
  }
}
