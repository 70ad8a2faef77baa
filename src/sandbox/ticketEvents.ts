// GET /api/v2/incremental/ticket_events: the time-based ticket event export. Pages overflow to
// include a whole group of events sharing the last timestamp, end_time is the last event's
// timestamp, and the next page starts there, so events at a page edge are sent twice.

import { authorize } from './auth';
import { jsonWithRaw, syntheticId } from './brokenRecords';
import { type Reply, type RequestContext } from './http';
import { exportPageSize, exportStartTime } from './incremental';
import type { EventStore } from './eventStore';

/** Where a page of the export starts and ends, and what it answers (before any scripted quirk). */
interface EventsPage {
  lo: number;
  end: number;
  count: number;
  endOfStream: boolean;
  endTime: number;
}

/** One page from `start` (epoch s), events up to `maxTs` (the excluded recent window is left out). */
function eventsPage(events: EventStore, start: number, perPage: number, maxTs: number): EventsPage {
  const lo = events.lowerBound(start);
  const limit = events.upperBound(maxTs);
  let end = Math.min(lo + perPage, Math.max(lo, limit));
  if (end - lo === perPage) {
    // Never split a timestamp group across pages: the page grows past per_page instead.
    while (end < limit && events.timestampAt(end) === events.timestampAt(end - 1)) end++;
  }
  const count = Math.max(0, end - lo);
  const endOfStream = count < perPage;
  let endTime = count > 0 ? events.timestampAt(end - 1) : start;
  // A full page made of one single second would make the next page identical forever (the
  // zenpy#489 loop); the whole group was sent, so move past it.
  if (count > 0 && !endOfStream && events.timestampAt(lo) === endTime && endTime === start) endTime += 1;
  return { lo, end, count, endOfStream, endTime };
}

/** How many requests the export needs from `start` to its end_of_stream, following next_page (a bench reference). */
export function eventsPageCount(events: EventStore, start: number, perPage: number, maxTs: number): number {
  let pages = 0;
  for (let t = start; ;) {
    const page = eventsPage(events, t, perPage, maxTs);
    pages++;
    if (page.endOfStream) return pages;
    t = page.endTime;
  }
}

export function incrementalTicketEvents(ctx: RequestContext): Reply {
  const a = authorize(ctx, { role: 'admin', read: 'tickets' });
  if (!a.ok) return a.reply;
  const q = ctx.query;
  const start = exportStartTime(ctx);
  if (typeof start !== 'number') return start;
  const quirks = ctx.ws.exportQuirks;
  const refused = quirks.startTimeRefused(start);
  if (refused) return refused;
  const perPage = exportPageSize(q);
  if (typeof perPage !== 'number') return perPage;
  const includeComments = (q.get('include') ?? '').split(',').includes('comment_events');

  const events = ctx.ws.eventStore;
  const maxTs = Math.floor((ctx.now - ctx.ws.exclusionSeconds * 1000) / 1000);
  const page0 = eventsPage(events, start, perPage, maxTs);
  const { lo, end } = page0;
  let { endOfStream, endTime } = page0;
  if (quirks.eventsEndTimeRewindSeconds !== null) {
    // Pathological on purpose: end_time before the page's own start_time, and the stream claims more.
    endTime = Math.max(0, start - quirks.eventsEndTimeRewindSeconds);
    endOfStream = false;
  }

  const params = new URLSearchParams();
  params.set('start_time', String(endTime));
  for (const k of ['per_page', 'include', 'support_type_scope']) {
    const v = q.get(k);
    if (v !== null) params.set(k, v);
  }
  const ticketEvents: Record<string, unknown>[] = [];
  for (let i = lo; i < end; i++) ticketEvents.push(events.toJson(i, includeComments));
  const page = ctx.ws.brokenRecords.expand('ticketEvents', ticketEvents, { syntheticId, nulField: 'via' });
  return jsonWithRaw(
    200,
    {
      ticket_events: page.entries,
      next_page: `${ctx.baseUrl}/api/v2/incremental/ticket_events?${params}`,
      count: page.entries.length,
      end_of_stream: endOfStream,
      end_time: endTime,
    },
    page.raw,
  );
}
