// Ticket events kept columnar (typed arrays, sorted by (timestamp, id)) so a million of them cost
// tens of megabytes; the JSON of an event is built only when a page is served.

import { hash32, Prng } from './prng';
import type { TicketEventSummary } from './types';

/** What an event is, which decides its via, children and comment. */
export const EventKind = {
  AgentComment: 0,
  AgentChange: 1,
  EndUserReply: 2,
  System: 3,
  TicketCreated: 4,
} as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

const KIND_MASK = 0b111;
const PUBLIC_BIT = 0b1000;

export interface NewEvent {
  id: number;
  ticketId: number;
  timestamp: number;
  updaterId: number;
  /** NaN when the update carried no comment. */
  authorId: number;
  kind: EventKind;
  isPublic: boolean;
}

function growF64(a: Float64Array, n: number): Float64Array {
  if (n <= a.length) return a;
  const b = new Float64Array(Math.max(n, a.length * 2, 16));
  b.set(a);
  return b;
}

export class EventStore {
  private n = 0;
  private ids: Float64Array;
  private tickets: Float64Array;
  private ts: Uint32Array;
  private updaters: Float64Array;
  private authors: Float64Array;
  private flags: Uint8Array;

  constructor(
    private readonly seed: number,
    capacity = 0,
  ) {
    this.ids = new Float64Array(capacity);
    this.tickets = new Float64Array(capacity);
    this.ts = new Uint32Array(capacity);
    this.updaters = new Float64Array(capacity);
    this.authors = new Float64Array(capacity);
    this.flags = new Uint8Array(capacity);
  }

  /** Entries the endpoints read (timestamps compared, events serialised): a cost counter for tests. */
  reads = 0;

  get size(): number {
    return this.n;
  }

  /** Bulk load for the generator, which already produces (timestamp, id) order. */
  pushSorted(e: NewEvent): void {
    const i = this.n;
    if (i >= this.ids.length) this.reserve(i + 1);
    this.write(i, e);
    this.n = i + 1;
  }

  /** Highest event id ever stored (new events get ids above it, like Zendesk's growing ids). */
  get maxId(): number {
    return this.highestId;
  }

  private highestId = 0;

  get lastTimestamp(): number {
    return this.n > 0 ? this.ts[this.n - 1]! : 0;
  }

  timestampAt(i: number): number {
    this.reads++;
    return this.ts[i]!;
  }

  idAt(i: number): number {
    return this.ids[i]!;
  }

  /** First index whose timestamp is >= t. */
  lowerBound(t: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First index whose timestamp is > t. */
  upperBound(t: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  summary(i: number): TicketEventSummary {
    const author = this.authors[i]!;
    return {
      id: this.ids[i]!,
      ticket_id: this.tickets[i]!,
      timestamp: this.ts[i]!,
      updater_id: this.updaters[i]!,
      comment_author_id: Number.isNaN(author) ? null : author,
      comment_public: Number.isNaN(author) ? null : (this.flags[i]! & PUBLIC_BIT) !== 0,
    };
  }

  *summaries(): IterableIterator<TicketEventSummary> {
    for (let i = 0; i < this.n; i++) yield this.summary(i);
  }

  /** Adds events anywhere in time, keeping (timestamp, id) order. */
  insert(events: NewEvent[]): void {
    if (events.length === 0) return;
    const sorted = [...events].sort((a, b) => a.timestamp - b.timestamp || a.id - b.id);
    const first = sorted[0];
    const lastIdx = this.n - 1;
    const appendable = this.n === 0 || first!.timestamp > this.ts[lastIdx]! || (first!.timestamp === this.ts[lastIdx] && first!.id > this.ids[lastIdx]!);
    if (appendable) {
      for (const e of sorted) this.pushSorted(e);
      return;
    }
    // Rare path (events back-dated by a test): rebuild the columns by merging.
    const old = this.snapshot();
    const total = this.n + sorted.length;
    this.n = 0;
    this.ids = new Float64Array(total);
    this.tickets = new Float64Array(total);
    this.ts = new Uint32Array(total);
    this.updaters = new Float64Array(total);
    this.authors = new Float64Array(total);
    this.flags = new Uint8Array(total);
    let a = 0;
    let b = 0;
    while (a < old.n || b < sorted.length) {
      const takeOld =
        b >= sorted.length || (a < old.n && (old.ts[a]! < sorted[b]!.timestamp || (old.ts[a] === sorted[b]!.timestamp && old.ids[a]! < sorted[b]!.id)));
      if (takeOld) {
        const i = this.n++;
        this.ids[i] = old.ids[a]!;
        this.tickets[i] = old.tickets[a]!;
        this.ts[i] = old.ts[a]!;
        this.updaters[i] = old.updaters[a]!;
        this.authors[i] = old.authors[a]!;
        this.flags[i] = old.flags[a]!;
        a++;
      } else {
        this.pushSorted(sorted[b++]!);
      }
    }
  }

  /** The event as Zendesk's incremental ticket event export serialises it. */
  toJson(i: number, includeComments: boolean): Record<string, unknown> {
    this.reads++;
    const id = this.ids[i];
    const timestamp = this.ts[i];
    const updaterId = this.updaters[i];
    const author = this.authors[i]!;
    const kind = (this.flags[i]! & KIND_MASK) as EventKind;
    const isPublic = (this.flags[i]! & PUBLIC_BIT) !== 0;
    const hasComment = !Number.isNaN(author);
    const rng = new Prng(hash32(this.seed, 0xe7e7, id!));
    const createdAt = new Date(timestamp! * 1000).toISOString().replace('.000Z', 'Z');
    const via = viaFor(kind, rng);
    const system = kind === EventKind.System ? {} : systemFor(rng);
    const commentFlags = { comment_present: hasComment, comment_public: hasComment && isPublic };

    const children: Record<string, unknown>[] = [];
    switch (kind) {
      case EventKind.TicketCreated:
        children.push({
          id: id! + 1,
          via,
          via_reference_id: null,
          subject: rng.pick(SUBJECTS),
          status: 'new',
          priority: rng.pick(['low', 'normal', 'high', null]),
          event_type: 'Create',
          ...commentFlags,
        });
        break;
      case EventKind.System:
        children.push({
          id: id! + 1,
          via,
          via_reference_id: 360_000_000_000 + rng.int(1, 40),
          subject: 'Request received: {{ticket.title}}',
          body: 'Your request has been received and is being reviewed by our support staff.',
          recipients: [rng.int(1, 1000)],
          event_type: 'Notification',
          ...commentFlags,
        });
        break;
      case EventKind.AgentChange:
        children.push(
          rng.chance(0.5)
            ? { id: id! + 1, via, via_reference_id: null, priority: 'high', event_type: 'Change', previous_value: 'normal', ...commentFlags }
            : { id: id! + 1, via, via_reference_id: null, assignee_id: updaterId, event_type: 'Change', previous_value: null, ...commentFlags },
        );
        break;
      default: {
        const [from, to] =
          kind === EventKind.EndUserReply
            ? ['pending', 'open']
            : rng.pick([
                ['new', 'open'],
                ['open', 'pending'],
                ['open', 'solved'],
              ]);
        children.push({ id: id! + 1, via, via_reference_id: null, status: to, event_type: 'Change', previous_value: from, ...commentFlags });
      }
    }
    if (includeComments && hasComment) {
      const body = rng.pick(COMMENT_BODIES);
      // On comment events `via` is an object, unlike on the audit and its other children (recorded).
      children.push({
        id: id! + 2,
        via: { channel: VIA_CHANNEL[via] ?? 'web', source: { from: {}, to: {}, rel: null } },
        via_reference_id: null,
        type: 'Comment',
        author_id: author,
        body,
        html_body: `<div class="zd-comment" dir="auto">${escapeHtml(body)}<br></div>`,
        plain_body: body,
        public: isPublic,
        attachments: [],
        audit_id: id,
        created_at: createdAt,
        event_type: 'Comment',
      });
    }

    return {
      id,
      ticket_id: this.tickets[i],
      timestamp,
      created_at: createdAt,
      updater_id: updaterId,
      via,
      system,
      metadata: { system, custom: {} },
      event_type: 'Audit',
      child_events: children,
      merged_ticket_ids: [],
    };
  }

  private write(i: number, e: NewEvent): void {
    if (e.id > this.highestId) this.highestId = e.id;
    this.ids[i] = e.id;
    this.tickets[i] = e.ticketId;
    this.ts[i] = e.timestamp;
    this.updaters[i] = e.updaterId;
    this.authors[i] = e.authorId;
    this.flags[i] = (e.kind & KIND_MASK) | (e.isPublic ? PUBLIC_BIT : 0);
  }

  private reserve(n: number): void {
    this.ids = growF64(this.ids, n);
    this.tickets = growF64(this.tickets, n);
    this.updaters = growF64(this.updaters, n);
    this.authors = growF64(this.authors, n);
    if (n > this.ts.length) {
      const ts = new Uint32Array(this.ids.length);
      ts.set(this.ts);
      this.ts = ts;
      const flags = new Uint8Array(this.ids.length);
      flags.set(this.flags);
      this.flags = flags;
    }
  }

  private snapshot() {
    return {
      n: this.n,
      ids: this.ids,
      tickets: this.tickets,
      ts: this.ts,
      updaters: this.updaters,
      authors: this.authors,
      flags: this.flags,
    };
  }
}

const SUBJECTS = ['Cannot log in', 'Refund request', 'Question about my invoice', 'Bug: export fails', 'Feature request'];
const COMMENT_BODIES = [
  'Thanks for reaching out! Could you send a screenshot?',
  'I have escalated this to our engineering team.',
  'Any update on this? It is still broken.',
  'Résumé attached — merci!',
  'Closing this as solved. Reply to reopen.',
  'Internal note: customer is on the legacy plan "Pro", check billing & <notes>.',
];

/** The `via.channel` of a comment for the audit's `via` string. */
const VIA_CHANNEL: Record<string, string> = {
  'Web form': 'web',
  Mail: 'email',
  Chat: 'chat',
  'Help Center': 'web',
  API: 'api',
  Mobile: 'mobile',
};

function viaFor(kind: EventKind, rng: Prng): string {
  switch (kind) {
    case EventKind.System:
      return rng.pick(['Rule', 'Rule', 'Web service', 'Closed ticket']);
    case EventKind.EndUserReply:
    case EventKind.TicketCreated:
      return rng.pick(['Mail', 'Web form', 'Chat', 'Help Center']);
    default:
      return rng.pick(['Web form', 'Web form', 'Web form', 'API', 'Mobile']);
  }
}

function systemFor(rng: Prng): Record<string, unknown> {
  const [location, latitude, longitude] = rng.pick([
    ['Dublin, Ireland', 53.3331, -6.2489],
    ['San Francisco, CA, United States', 37.7749, -122.4194],
    ['Berlin, Germany', 52.52, 13.405],
    ['Tokyo, Japan', 35.6895, 139.6917],
  ] as const);
  return {
    client: rng.pick([
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
      'Zendesk/Mobile iOS',
    ]),
    ip_address: `203.0.113.${rng.int(1, 254)}`,
    location,
    latitude,
    longitude,
  };
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
