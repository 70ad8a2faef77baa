/**
 * Where the ticket-events stream of an integration stands, newest activity first (issue 16): the export pages
 * forward from any `start_time`, so the backfill is cut into windows fetched newest first — the last 7 days
 * (the *head*, which then follows new events for ever), then 7–30 days, then 30–`ACTIVITY_BACKFILL_DAYS` —
 * and the 30-day figures are complete after about a third of a 90-day backfill. Stored as JSON in the
 * stream's checkpoint; a checkpoint from before (a bare `start_time`) reads as a head with nothing pending.
 */

const DAY_S = 86_400;
/** Window edges in days back from the first sync; the last edge is the backfill itself. */
const EDGES_DAYS = [7, 30];

interface BackfillWindow {
  /** Epoch seconds: the window covers [from, to); `at` is how far it got. */
  from: number;
  to: number;
  at: number;
}

export interface EventsPlan {
  v: 2;
  /** Where the head (newest events onward) continues. */
  head: number;
  /** The head reached the end of the stream at least once: everything from `headFrom` to now is in. */
  caughtUp: boolean;
  headFrom: number;
  /** Older windows still to fetch, newest first. */
  pending: BackfillWindow[];
  /** The oldest instant the backfill covers (epoch s). */
  target: number;
  /** When this plan was made (epoch s), for the estimate of when it completes. */
  startedAt?: number;
}

export function freshPlan(nowS: number, backfillDays: number): EventsPlan {
  const edges = [...EDGES_DAYS.filter((d) => d < backfillDays), backfillDays].map((d) => nowS - d * DAY_S);
  const pending: BackfillWindow[] = [];
  for (let i = 1; i < edges.length; i++) pending.push({ from: edges[i]!, to: edges[i - 1]!, at: edges[i]! });
  return { v: 2, head: edges[0]!, caughtUp: false, headFrom: edges[0]!, pending, target: edges.at(-1)!, startedAt: nowS };
}

export function readPlan(saved: string | undefined, nowS: number, backfillDays: number): EventsPlan {
  if (saved === undefined) return freshPlan(nowS, backfillDays);
  if (/^\d+$/.test(saved)) {
    // A checkpoint of the single forward pass: that backfill was complete.
    const head = Number(saved);
    return { v: 2, head, caughtUp: true, headFrom: head, pending: [], target: Math.min(head, nowS - backfillDays * DAY_S) };
  }
  const plan = JSON.parse(saved) as { v?: unknown };
  if (plan.v !== 2) throw new Error('unknown ticket-events checkpoint');
  return plan as EventsPlan;
}

export function writePlan(plan: EventsPlan): string {
  return JSON.stringify(plan);
}

export function planDone(plan: EventsPlan): boolean {
  return plan.caughtUp && plan.pending.length === 0;
}

/** The oldest instant from which every ticket event up to now is stored (null until the head caught up). */
export function coveredSince(plan: EventsPlan): number | null {
  if (!plan.caughtUp) return null;
  return plan.pending.length > 0 ? plan.pending[0]!.to : plan.target;
}

/** Seconds of history still to fetch: the head's way to now (until it caught up) and every pending window's rest. */
export function remainingSpan(plan: EventsPlan, nowS: number): number {
  const head = plan.caughtUp ? 0 : Math.max(0, nowS - plan.head);
  return head + plan.pending.reduce((sum, w) => sum + Math.max(0, w.to - w.at), 0);
}

/** Seconds of history fetched since the plan was made. */
export function fetchedSpan(plan: EventsPlan, nowS: number): number {
  return Math.max(0, nowS - plan.target - remainingSpan(plan, nowS));
}
