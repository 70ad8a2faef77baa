// A workspace's ticket events: added by tests, listed, and what exporting them costs.

import { EVENT_ID_STEP, randomEvent } from './eventGenerator';
import { EventKind, type NewEvent } from './eventStore';
import { MAX_EXPORT_PAGE } from './incremental';
import { eventsPageCount } from './ticketEvents';
import type { TicketEventSpec, TicketEventSummary } from './types';
import { WorkspaceQuirks } from './workspaceQuirks';

export abstract class WorkspaceEvents extends WorkspaceQuirks {
  /**
   * Adds events. By default they are stamped just outside the excluded recent window
   * (now - exclusionSeconds - 1), so the next export sees them.
   */
  addTicketEvents(arg: number | TicketEventSpec[]): TicketEventSummary[] {
    const specs: TicketEventSpec[] = typeof arg === 'number' ? Array.from({ length: arg }, () => ({})) : arg;
    const defaultTs = Math.floor(this.now() / 1000) - this.exclusionSeconds - 1;
    let id = this.eventStore.maxId + EVENT_ID_STEP;
    const created: NewEvent[] = [];
    for (const spec of specs) {
      const ts = spec.timestamp ?? defaultTs;
      const ticketId = spec.ticket_id ?? this.eventRng.int(1, 1000);
      const e = randomEvent(id, ticketId, ts, this.actors, this.eventRng);
      if (spec.updater_id !== undefined) {
        e.updaterId = spec.updater_id;
        e.authorId = spec.updater_id === -1 ? NaN : spec.updater_id;
        e.kind = spec.updater_id === -1 ? EventKind.System : EventKind.AgentComment;
      }
      if (spec.comment_author_id !== undefined) e.authorId = spec.comment_author_id === null ? NaN : spec.comment_author_id;
      if (Number.isNaN(e.authorId) && e.kind !== EventKind.System) e.kind = EventKind.AgentChange;
      if (spec.comment_public !== undefined) e.isPublic = spec.comment_public;
      created.push(e);
      id += EVENT_ID_STEP;
    }
    this.eventStore.insert(created);
    return created.map((e) => ({
      id: e.id,
      ticket_id: e.ticketId,
      timestamp: e.timestamp,
      updater_id: e.updaterId,
      comment_author_id: Number.isNaN(e.authorId) ? null : e.authorId,
      comment_public: Number.isNaN(e.authorId) ? null : e.isPublic,
    }));
  }

  /**
   * Requests the ticket-events export needs from `startTime` (epoch s) to `end_of_stream`, following
   * `next_page` at `perPage` (default 1000), as the sandbox answers now: a same-run reference for benches.
   */
  ticketEventsPageCount(startTime: number, perPage = MAX_EXPORT_PAGE): number {
    const maxTs = Math.floor((this.now() - this.exclusionSeconds * 1000) / 1000);
    const reads = this.eventStore.reads;
    const pages = eventsPageCount(this.eventStore, startTime, perPage, maxTs);
    this.eventStore.reads = reads;
    return pages;
  }

  /** Requests the users export needs from `startTime` (epoch s, default 0) to `end_of_stream` at `perPage`. */
  usersExportPageCount(startTime = 0, perPage = MAX_EXPORT_PAGE): number {
    const store = this.userStore;
    const horizonMs = this.now() - this.exclusionSeconds * 1000;
    const n = store.firstAfter({ ms: horizonMs, id: Number.MAX_SAFE_INTEGER }) - store.firstAfter({ ms: startTime * 1000, id: -1 });
    return Math.max(1, Math.ceil(Math.max(0, n) / perPage));
  }

  /** Every event in (timestamp, id) order, without building the JSON. */
  ticketEvents(): IterableIterator<TicketEventSummary> {
    return this.eventStore.summaries();
  }

  ticketEventCount(): number {
    return this.eventStore.size;
  }
}
